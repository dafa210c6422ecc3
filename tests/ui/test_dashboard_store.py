"""The dashboard on the snapshot store: what a restart within an update costs, the tokens on the
status bar and the daily budget they follow, the cohort list's rows of older updates, and a
store that cannot be used said in one line while the dashboard works."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from hypertui.api.client import HyperTrackerClient
from hypertui.api.store import SnapshotStore
from hypertui.clock import FrozenClock
from hypertui.monitor.plan import IF_UPDATED, TIMED
from hypertui.monitor.rows import coarse_age, cohort_groups
from hypertui.sim import Market, create_app
from hypertui.source import SIM_BASE_URL, SIMULATOR_LABEL, SIMULATOR_TOKEN, InProcessTransport, simulator_client
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.screenshots import settled
from hypertui.ui.widgets.cohort_list import CohortList
from hypertui.ui.widgets.heatmap import HeatmapTable
from hypertui.ui.widgets.status_bar import StatusBar

SIZE = (200, 45)  # wide enough for the status line's notes in full


def store_app(
    store: SnapshotStore, clock: FrozenClock, *, daily_tokens: int | None = None, update_interval: float = 15.0
) -> HyperTuiApp:
    client = simulator_client(
        seed=7, scale="small", clock=clock, store=store, daily_tokens=daily_tokens, update_interval=update_interval
    )
    return HyperTuiApp(client, SIMULATOR_LABEL, clock=clock)


def spent(app: HyperTuiApp) -> int:
    return sum(app.client.tokens_today.values())


def status_line(app: HyperTuiApp) -> str:
    return app.dashboard.query_one(StatusBar)._last.plain


def assert_working(app: HyperTuiApp) -> None:
    assert app.state.summary is not None and app.state.risk_items and app.refresh_loop.last_error is None
    assert app.dashboard.query_one(HeatmapTable).row_count > 0


async def test_a_restart_within_an_update_spends_only_the_status_check(tmp_path, clock):
    path = tmp_path / "store.sqlite3"
    first = store_app(SnapshotStore(path), clock)
    async with first.run_test(size=SIZE) as pilot:
        await settled(pilot)
        cold = spent(first)
        assert first.client.tokens_today["/hypertracker/state/status"] == 1  # asked once, not again by the first cycle
    again = store_app(SnapshotStore(path), clock)
    async with again.run_test(size=SIZE) as pilot:
        await settled(pilot)
        assert spent(again) == cold + 1
        assert again.client.requests_made == 1
        assert_working(again)
        assert f"tokens today {cold + 1}" in status_line(again)


async def test_the_status_bar_counts_tokens_not_downloads_against_the_daily_limit(tmp_path, clock):
    app = store_app(SnapshotStore(tmp_path / "store.sqlite3"), clock, daily_tokens=100)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        tokens = spent(app)
        assert app.client.requests_made > tokens  # each summary's download cost a request, not a token
        assert status_line(app).endswith(f"│ tokens today {tokens}/100")


def _corrupt(path: Path) -> SnapshotStore:
    path.write_bytes(b"\x00garbage" * 512)
    return SnapshotStore(path)


def _parent_is_a_file(path: Path) -> SnapshotStore:
    path.parent.joinpath("data").write_text("a file where the folder should be")
    return SnapshotStore(path.parent / "data" / path.name)


def _read_only(path: Path) -> SnapshotStore:
    if os.geteuid() == 0:
        pytest.skip("root writes into a read-only folder")
    path.parent.joinpath("data").mkdir(mode=0o500)
    return SnapshotStore(path.parent / "data" / path.name)


def _full_disk(path: Path) -> SnapshotStore:
    store = SnapshotStore(path)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # not one page more: the first answer fills it
    return store


@pytest.mark.parametrize(
    ("make_store", "says"),
    [
        (_corrupt, "store: was corrupt: moved aside to store.sqlite3.corrupt-"),
        (_parent_is_a_file, "store: not writable here, kept in memory this session"),
        (_read_only, "store: not writable here, kept in memory this session"),
        (_full_disk, "store: the disk is full; kept in memory from now on"),
    ],
)
async def test_a_store_that_cannot_be_used_says_so_in_one_line_and_the_dashboard_works(tmp_path, clock, make_store, says):
    app = store_app(make_store(tmp_path / "store.sqlite3"), clock)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        assert_working(app)
        assert f"⚠ {says}" in status_line(app)


async def test_browsing_eight_cohorts_quickly_spends_at_most_two_tokens(tmp_path, clock):
    """The panels are asked for where the cursor rests, and the summaries the list was filled
    with at start come from the store."""
    app = store_app(SnapshotStore(tmp_path / "store.sqlite3"), clock)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        before = spent(app)
        app.dashboard.query_one(CohortList).focus()
        app.refresh_loop.selection_rest = 3600  # keys come faster than the cursor rests (no wall clock in a test)
        await pilot.press(*"j" * 7)
        await pilot.pause()
        assert spent(app) == before
        app.refresh_loop.selection_rest = 0.01  # the eighth: the cursor rests there
        await pilot.press("j")
        await settled(pilot)
        eighth = [s.id for _, group in cohort_groups(app.state.cohorts) for s in group][8]  # in the list's order
        assert app.state.view.cohort_id == app.state.summary.segment.id == app.state.risk_for == eighth
        assert spent(app) - before <= 2
        assert app.client.tokens_today.get(f"/segments/{eighth}/summary") == 1  # asked at start, not again


async def test_the_status_bar_shows_the_datas_own_time_and_late_only_when_a_check_past_its_threshold_found_it(clock):
    """LATE showed once the clock passed the threshold, checked or not: paused, the app asked
    nothing and called the API late. The market here keeps its own clock, frozen: its update
    never comes, and the check past the threshold (unpaused) finds it late."""
    market = Market(seed=7, scale="small", clock=FrozenClock(clock()), update_interval=30 * 60)  # the live API's cadence
    client = HyperTrackerClient(
        SIM_BASE_URL, SIMULATOR_TOKEN, transport=InProcessTransport(lambda: create_app(market)),
        store=SnapshotStore(), clock=clock,
    )  # fmt: skip
    app = HyperTuiApp(client, SIMULATOR_LABEL, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        data = app.state.status.last_update
        assert f"│ data {data:%H:%M} UTC │ updated" in status_line(app)
        await pilot.press("p")
        await pilot.pause()
        clock.now = app.state.status.next_update_threshold + timedelta(days=1)  # paused a day: nothing asked
        app.dashboard.draw_status()
        assert f"PAUSED  │ data {data:%Y-%m-%d %H:%M} UTC, 1d01h ago │ updated" in status_line(app)
        await pilot.press("p")  # unpaused, it asks at once: a day past the threshold, the same update
        await settled(pilot)
        assert app.state.status.last_update == data
        assert f"│ LATE · data {data:%Y-%m-%d %H:%M} UTC │" in status_line(app)


async def test_with_a_daily_limit_the_dashboard_follows_the_budget(tmp_path, clock):
    # Noon on the Free plan at a 15-min cadence: 48 updates left and 95 tokens after the first
    # screen; 4 a fetch (the status check and 3 panels): every 3rd update (64), not the list's 15.
    app = store_app(SnapshotStore(tmp_path / "store.sqlite3"), clock, daily_tokens=100, update_interval=15 * 60.0)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        first = spent(app)
        assert first == 5  # legend, status, summary, risk, heatmap: no other cohort's summary
        assert "budget: every 45 min" in status_line(app)
        assert app.refresh_loop.next_at == app.state.status.next_update + timedelta(minutes=30, seconds=10)
        for _ in range(2):  # the timer's cycle at the update the budget allows, planned again after it
            clock.now = app.refresh_loop.next_at
            app.refresh_loop.request_refresh(TIMED | {IF_UPDATED})
            await settled(pilot)
            assert app.state.summary is not None and app.refresh_loop.panels_as_of == app.state.status.last_update
            stride = app.refresh_loop.token_budget.stride  # 3, then 2: 87 tokens for 42 updates fit every 2nd
            assert stride > 1
            assert app.refresh_loop.next_at == app.state.status.next_update + timedelta(minutes=15 * (stride - 1), seconds=10)
        assert spent(app) == first + 2 * 4
        assert "budget: every 30 min" in status_line(app)


async def test_the_list_marks_each_row_of_an_older_update_dim_with_its_age(tmp_path, clock):
    app = store_app(SnapshotStore(tmp_path / "store.sqlite3"), clock, update_interval=15 * 60.0)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        listed = app.dashboard.query_one(CohortList)
        assert not any(prompt.style for prompt in listed._prompts.values())  # all of the update shown
        started = app.state.status.last_update
        clock.advance(20 * 60)  # the next update has come, and only the status check has seen it
        app.refresh_loop.request_refresh({IF_UPDATED})  # the status check alone: the panels are not asked for
        await settled(pilot)
        assert app.state.status.last_update > started
        age = f" {coarse_age((clock.now - started).total_seconds()):>3}"
        for sid, prompt in listed._prompts.items():
            assert prompt.style == "dim" and prompt.plain.endswith(age), sid
        app.refresh_loop.request_refresh(TIMED | {IF_UPDATED})  # one heatmap brings every row to the update
        await settled(pilot)
        assert not any(prompt.style or prompt.plain.endswith(age) for prompt in listed._prompts.values())
