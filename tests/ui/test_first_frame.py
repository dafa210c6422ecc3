"""The first frame with a recording: a restart while the store holds the update the API is on
draws that update in the dashboard's first frame, before the first live cycle has run."""

from __future__ import annotations

from pathlib import Path

import hypertui.ui.app
from hypertui.api.prefetch import Prefetch
from hypertui.api.store import SnapshotStore
from hypertui.monitor.first_requests import FirstScreen
from hypertui.monitor.plan import panels_shown_at
from hypertui.source import SIMULATOR_LABEL, simulator_client
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.screenshots import settled
from hypertui.ui.widgets.heatmap import HeatmapTable
from hypertui.ui.widgets.status_bar import StatusBar
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
