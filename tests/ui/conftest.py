"""UI fixtures: the small simulator (seed 7) behind the frozen `clock` of tests/conftest.py."""

from __future__ import annotations

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
