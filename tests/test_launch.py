"""Opening the dashboard: against an API the first requests are out while the UI is imported."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import SecretStr

from hypertui import launch
from hypertui.config import Settings
from hypertui.monitor.plan import PANELS, SUMMARY


class LegendWatch:
    """Stands in for the client: tells a thread when the legend was asked for, never answers."""

    def __init__(self) -> None:
        self.legend_asked = threading.Event()

    async def segments(self) -> Any:
        self.legend_asked.set()
        raise AssertionError("not awaited in this test")

    async def heatmap(self, opened_within: str) -> Any:
        raise AssertionError("not awaited in this test")


@pytest.mark.parametrize(("columns", "panels"), [(160, PANELS), (80, {SUMMARY})])
def test_against_an_api_the_legend_is_asked_for_before_the_ui_is_imported(monkeypatch, columns, panels):
    client, seen = LegendWatch(), {}
    monkeypatch.setattr(launch, "open_client", lambda settings: (client, "api.example"))
    monkeypatch.setattr(launch.shutil, "get_terminal_size", lambda: SimpleNamespace(columns=columns, lines=40))

    def import_ui(name: str) -> Any:  # runs in a thread: the event loop is free to send
        seen["asked while importing"] = client.legend_asked.wait(timeout=30)

        async def run_app(settings: Settings, client: Any, label: str, first: Any) -> int:
            seen["panels"] = first._plan.visible
            first.legend.exception()  # the stand-in's failure, seen
            first.drop_rest()
            return 0

        return SimpleNamespace(run_app=run_app)

    monkeypatch.setattr(launch.importlib, "import_module", import_ui)
    assert launch.run_dashboard(Settings(token=SecretStr("t"))) == 0
    assert seen == {"asked while importing": True, "panels": panels}


def test_the_embedded_simulator_gets_no_head_start(monkeypatch):
    seen = {}

    async def run_app(settings: Settings, client: Any, label: str, first: Any) -> int:
        seen["first"], seen["label"] = first, label
        await client.aclose()
        return 0

    monkeypatch.setattr(launch.importlib, "import_module", lambda name: SimpleNamespace(run_app=run_app))
    assert launch.run_dashboard(Settings()) == 0
    assert seen == {"first": None, "label": "SIMULATOR"}  # its answers cost CPU the import needs
