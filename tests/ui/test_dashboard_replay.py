"""Time travel on the dashboard: `[` `]` `{` `}` `G` through the updates its store recorded
(hypertui.monitor.replay), every panel of the recorded update while live refreshes go on
recording underneath; and the change mode (`v`, `d`), each cell against an earlier update."""

from __future__ import annotations

import asyncio
import json

from hypertui.api.recording import Recording
from hypertui.api.store import SnapshotStore, normalised_params, update_key
from hypertui.monitor import format as fmt
from hypertui.monitor.plan import IF_UPDATED, TIMED
from hypertui.monitor.replay import NOT_RECORDED
from hypertui.monitor.rows import cohort_totals
from hypertui.ui.screens.since import SinceScreen
from hypertui.ui.screenshots import settled
from hypertui.ui.widgets.cohort_list import CohortList
from hypertui.ui.widgets.heatmap import HeatmapTable
from hypertui.ui.widgets.risk_table import RiskTable
from tests.ui.test_alerts_screen import toasts
from tests.ui.test_dashboard_store import SIZE, status_line, store_app

UPDATE = 15 * 60.0  # the simulator's cadence in these tests: one update per 20 minutes advanced


async def record(pilot, clock, updates: int = 3, every: float = 20 * 60) -> list:
    """`updates` API updates recorded by the dashboard's own refreshes, `every` seconds apart;
    their times, oldest first."""
    app = pilot.app
    await settled(pilot)
    for _ in range(updates - 1):
        clock.advance(every)
        app.refresh_loop.request_refresh(TIMED | {IF_UPDATED})
        await settled(pilot)
    return sorted(u.at for u in Recording(app.client.store).updates())


def shown_cell(app, coin: str, sid: int) -> str:
    """The text of the heatmap's cell on screen for coin × cohort."""
    table = app.dashboard.query_one(HeatmapTable)
    row = table.row_keys.index(coin)
    column = [c.value for c in table.columns].index(str(sid))
    return table.get_cell_at((row, column)).plain.strip()


def heatmap_subtitle(app) -> str:
    return str(app.dashboard.query_one("#heatmap-panel").border_subtitle)


def a_cell_that_moved(recording: Recording, then, now) -> tuple[str, int, float]:
    """(coin, cohort, long share then) of a cell whose shown percent differs between the updates."""
    before, after = recording.dashboard_at(then).heatmap, recording.dashboard_at(now).heatmap
    shares = {(row.coin, c.segment_id): c.bias for row in after.heatmap for c in row.segments}
    return next(
        (row.coin, c.segment_id, c.bias)
        for row in before.heatmap
        for c in row.segments
        if (row.coin, c.segment_id) in shares and f"{c.bias:.0%}" != f"{shares[row.coin, c.segment_id]:.0%}"
    )


async def test_stepping_back_shows_the_recorded_update_and_past_the_newest_is_live(tmp_path, clock):
    app = store_app(SnapshotStore(tmp_path / "store.sqlite3"), clock, update_interval=UPDATE)
    async with app.run_test(size=SIZE) as pilot:
        first, second, live = await record(pilot, clock)
        coin, sid, share = a_cell_that_moved(Recording(app.client.store), second, live)
        shown_live = shown_cell(app, coin, sid)
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.dashboard.replay.at == second
        assert shown_cell(app, coin, sid).endswith(f"{share * 100:.0f}%") and shown_cell(app, coin, sid) != shown_live
        assert f" REPLAY {second:%Y-%m-%d %H:%M} UTC " in status_line(app)
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.dashboard.replay.at == first
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert app.dashboard.replay.at == second
        await pilot.press("right_square_bracket")  # the newest recorded is the update live shows: live again
        await pilot.pause()
        assert app.dashboard.replay is None and "REPLAY" not in status_line(app)
        assert shown_cell(app, coin, sid) == shown_live


async def test_a_refresh_while_replaying_keeps_the_replayed_panels_and_records_the_update(tmp_path, clock):
    app = store_app(SnapshotStore(tmp_path / "store.sqlite3"), clock, update_interval=UPDATE)
    async with app.run_test(size=SIZE) as pilot:
        _, second, live = await record(pilot, clock)
        coin, sid, _ = a_cell_that_moved(Recording(app.client.store), second, live)
        await pilot.press("left_square_bracket")
        await pilot.pause()
        replayed = shown_cell(app, coin, sid)
        clock.advance(20 * 60)
        app.refresh_loop.request_refresh(TIMED | {IF_UPDATED})
        await settled(pilot)
        newest = max(u.at for u in Recording(app.client.store).updates())
        assert newest > live and app.state.heatmap_update == newest  # the live state went on underneath
        assert app.dashboard.replay.at == second and shown_cell(app, coin, sid) == replayed
        assert "REPLAY" in status_line(app)
        await pilot.press("G")
        await pilot.pause()
        assert app.dashboard.replay is None


async def test_a_panel_not_recorded_at_the_update_says_so(tmp_path, clock):
    app = store_app(SnapshotStore(tmp_path / "store.sqlite3"), clock, update_interval=UPDATE)
    async with app.run_test(size=SIZE) as pilot:
        await record(pilot, clock, updates=2)
        await pilot.press("a")  # an age the recorder does not keep: the summary of 'all' only
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.dashboard.replay is not None
        assert str(app.dashboard.query_one("#top-assets-note").render()).strip() == NOT_RECORDED


async def test_with_nothing_recorded_before_the_live_update_the_key_says_so_in_one_line(clock):
    app = store_app(SnapshotStore(), clock, update_interval=UPDATE)  # the first update only
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled(pilot)
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.dashboard.replay is None
        assert toasts(app) == ["Nothing recorded before the update shown"]


async def test_the_simulators_session_in_memory_steps_back_through_its_own_updates(clock):
    app = store_app(SnapshotStore(), clock, update_interval=UPDATE)  # as the embedded simulator's
    async with app.run_test(size=SIZE) as pilot:
        _, second, live = await record(pilot, clock)
        coin, sid, share = a_cell_that_moved(Recording(app.client.store), second, live)
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.dashboard.replay.at == second
        assert shown_cell(app, coin, sid).endswith(f"{share * 100:.0f}%")
        assert app.dashboard.query_one(RiskTable).row_count > 0  # the cohort's risk, as shown then


async def test_a_drill_down_opened_while_replaying_says_its_positions_are_live(tmp_path, clock):
    app = store_app(SnapshotStore(tmp_path / "store.sqlite3"), clock, update_interval=UPDATE)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        first, _ = await record(pilot, clock, updates=2)
        await pilot.press("left_square_bracket")
        await pilot.pause()
        app.dashboard.focus_heatmap()
        await pilot.press("enter")
        await pilot.pause()
        assert f"Positions are LIVE, not of the replayed {first:%Y-%m-%d %H:%M} UTC" in toasts(app)


def changes_by_hand(recording: Recording, then, now, sid: int) -> dict[str, float]:
    """Each coin's change of cohort `sid`'s long share, in points, from `then` to `now`."""
    before = {row.coin: row.cell(sid) for row in recording.dashboard_at(then).heatmap.heatmap}
    return {
        row.coin: (row.cell(sid).bias - before[row.coin].bias) * 100
        for row in recording.dashboard_at(now).heatmap.heatmap
        if row.cell(sid) is not None and before.get(row.coin) is not None
    }


async def test_the_change_mode_shows_each_cells_change_against_the_reference_and_sorts_by_it(tmp_path, clock):
    app = store_app(SnapshotStore(tmp_path / "store.sqlite3"), clock, update_interval=UPDATE)
    async with app.run_test(size=SIZE) as pilot:
        then, now = await record(pilot, clock, updates=2, every=60 * 60)
        await pilot.press("v", "v", "v")  # share, value, count, change
        await pilot.pause()
        assert app.state.heat_mode == "change"
        table = app.dashboard.query_one(HeatmapTable)
        sid = int([c.value for c in table.columns][2])  # the first cohort's column
        assert shown_cell(app, table.row_keys[0], sid) == "—"  # nothing recorded 24 h before
        assert "change: nothing recorded 24h before (d)" in heatmap_subtitle(app)
        await pilot.press("d", "d")  # 24h, 7d, 1h
        await pilot.pause()
        assert f"change vs {then:%Y-%m-%d %H:%M} UTC, 1h before (d)" in heatmap_subtitle(app)
        by_hand = changes_by_hand(Recording(app.client.store), then, now, sid)
        coin, points = max(by_hand.items(), key=lambda item: abs(item[1]))
        assert abs(points) >= 0.5
        assert shown_cell(app, coin, sid).endswith(f"{'▲' if points > 0 else '▼'}{points:+.1f}")
        table.focus()
        table.move_cursor(row=0, column=2)
        await pilot.press("s")
        await pilot.pause()
        order = [c for c in table.row_keys if c in by_hand]
        assert order == sorted(by_hand, key=lambda c: -by_hand[c])  # by the change, largest first
        recording = Recording(app.client.store)
        before, after = (cohort_totals(recording.dashboard_at(at).heatmap) for at in (then, now))
        moved = {c: (after[c].long_share - before[c].long_share) * 100 for c in after if c in before}
        cohort = max(moved, key=lambda c: abs(moved[c]))  # the list: each cohort's change too
        assert f" {moved[cohort]:+.1f}" in app.dashboard.query_one(CohortList)._prompts[str(cohort)].plain


def turn_recorded_bias(store: SnapshotStore, sid: int, at) -> float:
    """Rewrite the summary of cohort `sid` recorded at `at` with its perp bias the other way round
    (as if it had been short, or long, then); the bias written."""
    path = f"/segments/{sid}/summary"
    _, body = Recording(store).body(path, [], at)
    answer = json.loads(body)
    answer["openPerpsSummary"]["perpBias"] *= -1
    store.keep(path, normalised_params([]), update_key(at), at, json.dumps(answer).encode())
    return answer["openPerpsSummary"]["perpBias"]


async def test_the_next_session_opens_on_what_moved_since_the_last_one(tmp_path, clock):
    path = tmp_path / "store.sqlite3"
    first = store_app(SnapshotStore(path), clock, update_interval=UPDATE)
    async with first.run_test(size=SIZE) as pilot:
        (before,) = await record(pilot, clock, updates=1)
        sid = first.state.view.cohort_id
        cohort = first.state.segment(sid)
    then = turn_recorded_bias(SnapshotStore(path), sid, before)
    assert abs(then) >= 0.05  # not within the neutral band: a turn, not a drift
    clock.advance(2 * 60 * 60)
    again = store_app(SnapshotStore(path), clock, update_interval=UPDATE)
    async with again.run_test(size=SIZE) as pilot:
        await settled(pilot)
        now = again.state.list_summaries[sid].open_perps_summary.perp_bias
        assert now * then < 0 and abs(now) >= 0.05  # the simulator kept its side: against the rewritten one, a turn
        assert isinstance(again.screen, SinceScreen)
        shown = "\n".join(line.plain for line in again.screen.query_one("#since-box Static").content.renderables)
        side = "long" if now > 0 else "short"
        assert f"{cohort.emoji} {cohort.name} turned {side}: perp bias {fmt.signed(then)} → {fmt.signed(now)}" in shown
        await pilot.press("escape")
        await pilot.pause()
        assert again.screen is again.dashboard
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(again.screen, SinceScreen)


async def test_a_warm_start_draws_the_newest_recorded_update_aged_until_live_data_replaces_it(tmp_path, clock):
    path = tmp_path / "store.sqlite3"
    first = store_app(SnapshotStore(path), clock, update_interval=UPDATE)
    async with first.run_test(size=SIZE) as pilot:
        (recorded,) = await record(pilot, clock, updates=1)
        recorded_rows = first.dashboard.query_one(HeatmapTable).row_keys
    clock.advance(2 * 60 * 60)
    again = store_app(SnapshotStore(path), clock, update_interval=UPDATE)
    legend, arrived = again.client.segments, asyncio.Event()

    async def held_back():  # no live answer is used before the legend's
        await arrived.wait()
        return await legend()

    again.client.segments = held_back
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.refresh_loop.cycles_done == 0 and again.state.warm
        assert again.dashboard.query_one(HeatmapTable).row_keys == recorded_rows
        prompts = again.dashboard.query_one(CohortList)._prompts.values()
        assert prompts and all(p.style == "dim" and p.plain.endswith("  2h") for p in prompts)
        assert f"data {recorded:%H:%M} UTC, 2h00m ago" in status_line(again)
        arrived.set()
        await settled(pilot)
        assert not again.state.warm and again.state.heatmap_update > recorded
        assert not any(p.style for p in again.dashboard.query_one(CohortList)._prompts.values())


async def test_an_update_whose_status_alone_was_checked_is_stepped_over(tmp_path, clock):
    app = store_app(SnapshotStore(tmp_path / "store.sqlite3"), clock, update_interval=UPDATE)
    async with app.run_test(size=SIZE) as pilot:
        (first,) = await record(pilot, clock, updates=1)
        clock.advance(20 * 60)
        app.refresh_loop.request_refresh({IF_UPDATED})  # the status check alone, as the day's budget may do
        await settled(pilot)
        checked = app.state.status.last_update
        clock.advance(20 * 60)
        app.refresh_loop.request_refresh(TIMED | {IF_UPDATED})
        await settled(pilot)
        assert checked in {u.at for u in Recording(app.client.store).updates()}  # recorded, with nothing to show
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.dashboard.replay.at == first
