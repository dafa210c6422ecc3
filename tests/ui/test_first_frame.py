"""The first frame: the first screen's answers already in when the dashboard is composed (sent
before the UI was imported), or else a restart's recording of the update the API is on, are drawn
in the dashboard's first frame, before the first live cycle has run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual import events

import hypertui.ui.app
from hypertui.api.client import HyperTrackerClient
from hypertui.api.prefetch import Prefetch
from hypertui.api.store import SnapshotStore
from hypertui.monitor.first_requests import FirstScreen
from hypertui.monitor.plan import panels_shown_at
from hypertui.source import SIMULATOR_LABEL, simulator_client
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.screenshots import settled
from hypertui.ui.widgets.heatmap import HeatmapTable
from hypertui.ui.widgets.risk_table import RiskTable
from hypertui.ui.widgets.status_bar import StatusBar
from hypertui.ui.widgets.synced_table import SyncedTable
from tests.test_secrets import TOKEN, sim_server  # noqa: F401 - a fixture: the simulator on a loopback socket
from tests.ui.test_dashboard_store import SIZE, store_app


class FirstFrameApp(HyperTuiApp):
    """Notes what the dashboard holds when the first frame is out: Textual posts Ready right
    after it, and this handler runs before the app's own, which starts the refresh loop."""

    CSS_PATH = str(Path(hypertui.ui.app.__file__).with_name(HyperTuiApp.CSS_PATH))  # Textual reads it beside the subclass
    first_frame: dict | None = None

    def on_ready(self) -> None:
        self.first_frame = {
            "cycles": self.refresh_loop.cycles_done,
            "rows": self.dashboard.query_one(HeatmapTable).row_keys,
            "risk": self.dashboard.query_one(RiskTable).row_keys,
            "assets": self.dashboard.query_one("#top-assets", SyncedTable).row_keys,
            "status": self.dashboard.query_one(StatusBar)._last,  # None: not drawn yet
            "screen": self.export_screenshot(),
        }


async def test_with_the_current_update_recorded_the_first_frame_shows_it(tmp_path, clock):
    path = tmp_path / "store.sqlite3"
    first = store_app(SnapshotStore(path), clock)
    async with first.run_test(size=SIZE) as pilot:
        await settled(pilot)
        recorded_rows = first.dashboard.query_one(HeatmapTable).row_keys
        recorded_at = first.state.heatmap_update
    # The clock not moved: the store holds the update the simulator is on.
    client = simulator_client(seed=7, scale="small", clock=clock, store=SnapshotStore(path))
    prefetch = Prefetch(client, FirstScreen(panels_shown_at(SIZE[0])))  # sent as the launcher sends them for an API
    again = FirstFrameApp(client, SIMULATOR_LABEL, clock=clock, prefetch=prefetch)
    async with again.run_test(size=SIZE):
        pass
    shown = again.first_frame
    assert shown is not None and shown["cycles"] == 0
    assert recorded_rows and shown["rows"] == recorded_rows
    assert shown["status"] is not None and f"data {recorded_at:%H:%M} UTC" in shown["status"].plain
    assert recorded_rows[0] in shown["screen"]  # drawn, not only held


async def all_answered(prefetch: Prefetch, plan: FirstScreen) -> None:
    """Until every request of the first screen is answered, as they are while the UI is imported
    against a nearby API."""
    legend = await prefetch.legend
    wanted = len(plan.before_legend()) + len(plan.after_legend(legend))
    while len(prefetch.answered()) < wanted:
        await asyncio.sleep(0)


@pytest.mark.parametrize("where", ["embedded", "socket"])
async def test_the_answers_in_when_the_dashboard_is_composed_are_in_its_first_frame(where, request, clock):
    if where == "socket":
        client = HyperTrackerClient(request.getfixturevalue("sim_server"), TOKEN, clock=clock)
    else:
        client = simulator_client(seed=7, scale="small", clock=clock)
    plan = FirstScreen(panels_shown_at(SIZE[0]))
    prefetch = Prefetch(client, plan)
    await all_answered(prefetch, plan)
    app = FirstFrameApp(client, SIMULATOR_LABEL, clock=clock, prefetch=prefetch)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        tables = {"rows": HeatmapTable, "risk": RiskTable, "assets": "#top-assets"}  # as FirstFrameApp names them
        after = {name: app.dashboard.query_one(table, SyncedTable).row_keys for name, table in tables.items()}
    shown = app.first_frame
    assert shown is not None and shown["cycles"] == 0
    for name in tables:  # the heatmap, the first cohort's risk and its summary's top assets
        assert after[name] and shown[name] == after[name], name
    assert after["rows"][0] in shown["screen"]  # drawn, not only held
    # The first screen checked: the status bar says when, as after a cycle (what run.py waits for).
    assert shown["status"] is not None and f"updated {clock():%H:%M:%S} UTC" in shown["status"].plain


async def test_the_size_its_own_layout_tells_the_dashboard_lays_nothing_out_again(make_app):
    """Textual's layout tells each widget its new size, the screen too, and Screen's handler takes
    that for the terminal's: the whole screen was laid out and painted again after the first frame."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        frames: list[object] = []
        display = app._display
        app._display = lambda screen, update: (frames.append(update), display(screen, update))  # type: ignore[method-assign]
        size = app.dashboard.size
        app.dashboard.post_message(events.Resize(size, size))  # as the layout posts it
        await settled(pilot)
        assert frames == []
        await pilot.resize_terminal(SIZE[0] - 1, SIZE[1])  # the terminal's: laid out
        assert frames
