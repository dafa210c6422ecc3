"""SVG snapshots of the dashboard (seed 7, small market, frozen clock, fixed sizes).

Update after an intended UI change with `pytest tests/ui --snapshot-update` and look at them.
"""

from __future__ import annotations

import pytest

from hypertui.api.errors import NetworkError
from hypertui.api.store import SnapshotStore
from hypertui.ui.screenshots import drained
from hypertui.ui.screenshots import settled as settle
from tests.ui.test_dashboard_replay import UPDATE, record
from tests.ui.test_dashboard_store import store_app


@pytest.mark.parametrize(
    "size",
    [(160, 45), (80, 24), (200, 60), (130, 35), (200, 50)],
    ids=["live", "narrow", "wide", "two-columns", "both-axes"],
)
def test_dashboard(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=settle)


def test_paused(snap_compare, make_app, clock):
    async def pause(pilot):
        await settle(pilot)
        await pilot.press("p")
        clock.advance(30)
        pilot.app.dashboard._tick()
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(160, 45), run_before=pause)


def test_stale(snap_compare, make_app, clock):
    async def fail(pilot):
        await settle(pilot)
        pilot.app.client.error = NetworkError("/positions/heatmap", "cannot connect: connection refused")
        clock.advance(95)
        await pilot.press("r")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(160, 45), run_before=fail)


def test_narrow_heatmap_filtered_no_color(snap_compare, make_app, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    async def filtered(pilot):
        await settle(pilot)
        await pilot.press("slash", "k")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=filtered)


def test_help(snap_compare, make_app):
    async def help_(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(100, 40), run_before=help_)


@pytest.mark.parametrize("size", [(160, 45), (80, 24)], ids=["wide", "narrow"])
def test_coin_view(snap_compare, make_app, size):
    async def coin(pilot):
        await settle(pilot)
        pilot.app.open_coin("BTC")  # the narrow layout has not fetched the heatmap
        await drained(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=coin)


@pytest.mark.parametrize("size", [(160, 45), (80, 24)], ids=["wide", "narrow"])
def test_bias_overview(snap_compare, make_app, size):
    async def bias(pilot):
        await settle(pilot)
        await pilot.press("b")
        await drained(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=bias)


@pytest.mark.parametrize(
    "keys", [("left_square_bracket",), ("v", "v", "v", "d", "d")], ids=["replay", "change-1h"]
)
def test_recorded_updates(snap_compare, tmp_path, clock, keys):
    """Two updates an hour apart recorded; then the first replayed, or the second's change against it."""
    app = store_app(SnapshotStore(tmp_path / "store.sqlite3"), clock, update_interval=UPDATE)

    async def recorded(pilot):
        await record(pilot, clock, updates=2, every=60 * 60)
        await pilot.press(*keys)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(160, 45), run_before=recorded)
