"""UI fixtures: the small simulator (seed 7) behind the frozen `clock` of tests/conftest.py."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime

import pytest

from hypertui.ui import screenshots
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.prefs import Preferences


@pytest.fixture
def make_app(clock: Callable[[], datetime]) -> Callable[..., HyperTuiApp]:
    def make(*, refresh: float | None = 15.0, scale: str = "small", prefs: Preferences = Preferences()) -> HyperTuiApp:
        return screenshots.make_app(scale=scale, clock=clock, refresh=refresh, prefs=prefs)

    return make


@pytest.fixture
def answered_before_mount(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[list[str]]]:
    """Make a drill-down screen class wait in on_mount for its `group` workers to finish, so their
    answers are in before it has mounted; returns what the client had been asked (of `asked`)
    each time on_mount began."""

    def patch(screen_class: type, group: str, asked: tuple[str, ...]) -> list[list[str]]:
        seen: list[list[str]] = []
        mount = screen_class.on_mount

        async def on_mount(screen) -> None:  # noqa: ANN001 - a screen of screen_class
            seen.append([name for name, _, _ in screen.app.client.calls if name in asked])
            for worker in [w for w in screen.app.workers if w.node is screen and w.group == group]:
                await worker.wait()
            if inspect.iscoroutinefunction(mount):
                await mount(screen)
            else:
                mount(screen)

        monkeypatch.setattr(screen_class, "on_mount", on_mount)
        return seen

    return patch


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """One rerun for pilot tests, recorded in the report (R).

    test_hostile failed once in five full runs on a loaded 2-core machine and never alone. A
    likely cause was found and fixed (the 1 s status tick firing while the app closed, after
    its status bar was gone: test_the_status_tick_after_the_dashboard_is_torn_down_is_harmless);
    the rerun stays until full runs on CI show no R. A regression still fails both runs.
    """
    for item in items:
        if item.nodeid.startswith("tests/ui/"):  # node ids are relative to the project root
            item.add_marker(pytest.mark.flaky(reruns=1))
