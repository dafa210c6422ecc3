"""The cohort history drill-down: open from the cohort list, window keys, errors, back."""

from __future__ import annotations

from datetime import timedelta

from hypertui.api.errors import NetworkError
from hypertui.monitor import format as fmt
from hypertui.monitor.scale import EIGHTHS, ZERO_LINE
from hypertui.ui.commands import DashboardCommands
from hypertui.ui.screens.history import HistoryScreen
from hypertui.ui.screenshots import settled as settle
from hypertui.ui.widgets.chart import Chart
from hypertui.ui.widgets.cohort_list import CohortList


async def _loaded(pilot) -> HistoryScreen:
    """Wait for the history load (and any dashboard refresh) to finish; the history screen."""
    await pilot.pause()
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    assert not screen.fetching
    return screen


async def _open(pilot) -> HistoryScreen:
    """Select the second cohort in the list and press enter on it."""
    await settle(pilot)
    await pilot.press("j")  # the list has focus: another cohort than the first
    await settle(pilot)
    await pilot.press("enter")
    return await _loaded(pilot)


def _history_calls(app) -> list[tuple[tuple, dict]]:
    return [(args, kwargs) for name, args, kwargs in app.client.calls if name == "iter_bias_history"]


async def test_enter_on_a_cohort_opens_its_history(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open(pilot)
        sid = app.state.view.cohort_id
        assert screen.segment_id == sid
        (args, kwargs), = _history_calls(app)
        assert args == (sid,)
        assert kwargs["start"] == app.clock() - timedelta(days=7)  # default window
        assert kwargs["recency"] == "all"
        rows = screen.snapshots
        assert len(rows) > 0
        times = [s.timestamp for s in rows]
        assert times == sorted(times, reverse=True)
        assert screen.table.row_count == len(rows)
        # The simulator's newest snapshot is live: it is the dashboard's perp bias.
        assert app.state.summary is not None and app.state.summary.segment.id == sid
        assert abs(rows[0].bias - app.state.summary.open_perps_summary.perp_bias) <= 1e-4
        crumb = str(screen.query_one("#history-crumb").render())
        assert "Dashboard › " in crumb and crumb.endswith("› history")
        # The cursor row's values are readable as numbers.
        assert f"{rows[0].bias:+.4f}" in str(screen.query_one("#history-cursor").render())
        await pilot.press("j")
        await pilot.pause()
        assert screen.cursor_snapshot() is rows[1]
        assert f"{rows[1].bias:+.4f}" in str(screen.query_one("#history-cursor").render())


async def test_window_and_recency_keys_change_the_request(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open(pilot)
        now = app.clock()
        week = len(screen.snapshots)
        await pilot.press("1")
        await _loaded(pilot)
        assert _history_calls(app)[-1][1]["start"] == now - timedelta(hours=24)
        assert screen.window == "24h"
        assert 0 < len(screen.snapshots) < week
        await pilot.press("4")
        await _loaded(pilot)
        assert _history_calls(app)[-1][1]["start"] == now - timedelta(days=60)
        assert len(screen.snapshots) > week
        await pilot.press("t")  # cycles: 60d → 24h
        await _loaded(pilot)
        assert _history_calls(app)[-1][1]["start"] == now - timedelta(hours=24)
        await pilot.press("f")
        await _loaded(pilot)
        assert _history_calls(app)[-1][1]["recency"] == "24h"
        assert screen.recency == "24h"


async def test_error_keeps_the_last_data_and_r_reloads(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open(pilot)
        before = list(screen.snapshots)
        app.client.error = NetworkError("/segments/bias-history", "cannot connect: connection refused")
        await pilot.press("r")
        await _loaded(pilot)
        assert screen.error is not None and "connection refused" in screen.error
        assert screen.snapshots == before
        assert screen.table.row_count == len(before)
        status = str(screen.query_one("#history-status").render())
        assert "connection refused" in status and "\n" not in status
        app.client.error = None
        await pilot.press("r")
        await _loaded(pilot)
        assert screen.error is None
        assert len(screen.snapshots) == len(before)


async def test_escape_returns_to_the_dashboard_as_it_was(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await _open(pilot)
        sid = app.state.view.cohort_id
        await pilot.press("j")  # move in the history table: not the dashboard's list
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.dashboard
        assert app.state.view.cohort_id == sid
        segments = app.dashboard.query_one(CohortList)
        assert segments.highlighted is not None
        assert segments.get_option_at_index(segments.highlighted).id == str(sid)
        await pilot.press("enter")
        await _loaded(pilot)
        await pilot.press("backspace")
        await settle(pilot)
        assert app.screen is app.dashboard and app.state.view.cohort_id == sid


async def test_the_history_leaves_as_the_screen_is_built_and_shows_if_in_before_it_mounts(make_app, answered_before_mount):
    seen_by_mount = answered_before_mount(HistoryScreen, "history", ("iter_bias_history",))
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open(pilot)
        assert seen_by_mount == [["iter_bias_history"]]  # on its way while the screen was built
        assert len(_history_calls(app)) == 1  # not asked twice
        assert screen.snapshots and screen.table.row_count == len(screen.snapshots)
        assert "loading" not in screen.status_text().plain
        assert f"{screen.snapshots[0].bias:+.4f}" in str(screen.query_one("#history-cursor").render())


async def test_palette_command_opens_a_cohorts_history(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        seg = app.state.cohorts[3]
        title = f"History of {seg.name} {seg.emoji}".rstrip()
        command = next(c for c in DashboardCommands(app.dashboard).commands() if c.title == title)
        command.callback()
        screen = await _loaded(pilot)
        assert screen.segment_id == seg.id
        assert len(screen.snapshots) > 0


def test_history_snapshot(snap_compare, make_app):
    async def drill(pilot):
        await _open(pilot)

    assert snap_compare(make_app(), terminal_size=(160, 45), run_before=drill)


async def test_the_bias_chart_is_signed_about_a_zero_line_with_time_ticks(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open(pilot)
        oldest_first = list(reversed(screen.snapshots))
        biases = [s.bias for s in oldest_first]
        bound = max(map(abs, biases))
        chart = screen.query_one("#bias-chart", Chart)
        lines = ["".join(s.text for s in chart.render_line(y)) for y in range(1, chart.size.height)]  # under its label
        gutter = len(fmt.signed(-bound, 4)) + 1
        top, above, below, bottom, ticks = lines
        # ±the largest |bias| at the ends, 0 beside the zero line: the scale reads as numbers.
        assert [line[:gutter].strip() for line in (top, below, bottom)] == [fmt.signed(bound, 4), "0", fmt.signed(-bound, 4)]
        assert min(biases) < 0 < max(biases)  # bars on both sides of the line
        assert set(above[gutter:] + top[gutter:]) - set(EIGHTHS) == set()  # up bars above it
        assert ZERO_LINE in below
        assert "█" in (top if max(biases) == bound else bottom)  # the largest reaches the end
        # The newest snapshot is the last column, on its side of the line.
        newest = oldest_first[-1].bias
        assert (above[-1] != " ") == (newest > 0)
        # Time ticks: a 7-day window is marked by day, from the first snapshot to the last.
        first, last = oldest_first[0].timestamp, oldest_first[-1].timestamp
        assert ticks.split() == [f"{first:%m-%d}", f"{first + (last - first) / 2:%m-%d}", f"{last:%m-%d}", "UTC"]
        # The exposure beside it is drawn over the same time, ticked the same.
        exposure = screen.query_one("#exposure-chart", Chart)
        assert "".join(s.text for s in exposure.render_line(exposure.size.height - 1)).split() == ticks.split()


def _history_asked_since(app, asked: int) -> int:
    """How many history loads the client began after its first `asked` calls."""
    return [name for name, _, _ in app.client.calls[asked:]].count("iter_bias_history")


async def _open_in_a_known_update(pilot) -> HistoryScreen:
    """`_open` once state/status is read: the update known, and not due to change yet."""
    await settle(pilot)
    status = await pilot.app.client.state_status()
    assert status.next_update is not None and pilot.app.clock() < status.next_update
    return await _open(pilot)


async def _reopened(pilot, screen: HistoryScreen) -> int:
    """Close the history, reopen it on its cohort as the dashboard does; the client's calls before."""
    app = pilot.app
    app.pop_screen()
    await pilot.pause()
    asked = len(app.client.calls)
    app.open_history(screen.segment_id)
    assert app.screen is screen
    return asked


async def test_the_history_reopened_on_its_cohort_in_the_same_update_shows_its_snapshots_at_once_asking_nothing(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open_in_a_known_update(pilot)
        held, values = list(screen.snapshots), screen.query_one("#bias-chart", Chart).values
        await pilot.press("j", "j")
        asked = await _reopened(pilot, screen)
        # Shown as it is pushed, before any answer could come: its first frame holds them.
        assert screen.snapshots == held and screen.table.row_count == len(held) and screen.table.cursor_row == 0
        assert screen.query_one("#bias-chart", Chart).values == values and "loading" not in screen.status_text().plain
        await _loaded(pilot)
        assert _history_asked_since(app, asked) == 0


async def test_the_history_reopened_after_the_update_changed_or_on_another_window_asks_again(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open_in_a_known_update(pilot)
        status = await app.client.state_status()
        app.clock.now = status.next_update  # the next update is due: what is held may be of the last
        asked = await _reopened(pilot, screen)
        assert screen.snapshots == [] and screen.fetching  # not the held ones, as a new screen
        await _loaded(pilot)
        assert _history_asked_since(app, asked) == 1
        await app.client.state_status()  # the new update, current again
        await pilot.press("3")  # another window: closed, its snapshots are not kept
        await _loaded(pilot)
        asked = await _reopened(pilot, screen)
        assert screen.window == "7d" and screen.snapshots == []
        await _loaded(pilot)
        assert _history_asked_since(app, asked) == 1
