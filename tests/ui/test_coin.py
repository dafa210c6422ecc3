"""The coin view, the bias overview and the e/E export, on the small simulator."""

from __future__ import annotations

import asyncio
import csv
import json

import pytest
from textual.widgets import LoadingIndicator

from hypertui.api.errors import NetworkError
from hypertui.monitor import format as fmt
from hypertui.monitor.coin_rows import position_metric_series
from hypertui.ui.commands import DashboardCommands
from hypertui.ui.screens import coin as coin_screen
from hypertui.ui.screens.bias import BiasOverviewScreen
from hypertui.ui.screens.coin import CoinScreen
from hypertui.ui.screens.dashboard import DashboardScreen
from hypertui.ui.screens.history import HistoryScreen
from hypertui.ui.screens.positions import PositionsScreen, cohort_label
from hypertui.ui.screenshots import drained
from hypertui.ui.screenshots import settled as settle
from hypertui.ui.widgets.chart import Chart, SignedPlot
from hypertui.ui.widgets.footer import Footer
from hypertui.ui.widgets.heatmap import HeatmapTable
from hypertui.ui.widgets.risk_table import RiskTable


@pytest.fixture(autouse=True)
def _no_series_delay(monkeypatch):
    """The cursor's rest before a series is asked for: none, so tests wait only for the worker."""
    monkeypatch.setattr(coin_screen, "SERIES_DELAY", 0.0)


async def _loaded(pilot):
    await settle(pilot)
    await drained(pilot)
    return pilot.app.screen


async def _open_coin(pilot, rank: int = 0) -> CoinScreen:
    """The coin view of the heatmap's `rank`-th coin, loaded."""
    await settle(pilot)
    pilot.app.open_coin(pilot.app.state.heatmap.heatmap[rank].coin)
    screen = await _loaded(pilot)
    assert isinstance(screen, CoinScreen)
    return screen


def _crumb(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


def _csv(path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _toasts(app) -> list:
    return list(app._notifications)


async def test_dashboard_coin_view_positions_and_back_keep_cursors(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        app.dashboard.focus_heatmap()
        await pilot.press("j", "j", "l")
        heat = app.dashboard.query_one(HeatmapTable)
        heat_cursor = heat.cursor_coordinate
        coin, _ = app.dashboard.heatmap_selection()
        await pilot.press("i")
        screen = await _loaded(pilot)
        assert isinstance(screen, CoinScreen) and screen.coin == coin
        assert _crumb(screen, "#coin-crumb").strip() == f"Dashboard › {coin}"
        await pilot.press("j", "j")
        screen = await _loaded(pilot)
        sid = screen.cohort_id
        assert screen.table.cursor_row == 2
        await pilot.press("enter")
        positions = await _loaded(pilot)
        assert isinstance(positions, PositionsScreen)
        assert (positions.filters.coin, positions.filters.segment_id) == (coin, sid)
        seg = next(s for s in app.state.cohorts if s.id == sid)
        assert _crumb(positions, "#positions-crumb").strip() == f"Dashboard › {coin} › {seg.emoji} {seg.name} › positions"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and screen.table.cursor_row == 2 and screen.cohort_id == sid
        await pilot.press("p")  # the same drill-down by key
        assert isinstance(await _loaded(pilot), PositionsScreen)
        await pilot.press("backspace")
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.dashboard
        assert heat.cursor_coordinate == heat_cursor
        assert app.dashboard.focused is heat


async def test_breakdown_shows_what_the_client_returns(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open_coin(pilot, 1)
        coin = screen.coin
        expected = await app.client.position_breakdown(coin)
        table = screen.table
        assert sorted(table.row_keys) == sorted(str(c.segment.id) for c in expected.data)
        for c in expected.data:
            key = str(c.segment.id)
            assert table.cell_text(key, "positions").plain.strip() == fmt.count(c.position_count)
            assert table.cell_text(key, "value").plain.strip() == fmt.money(c.total_position_value)
            assert table.cell_text(key, "long").plain.startswith(fmt.long_share(c.bias).rjust(5))
            assert table.cell_text(key, "near").plain.strip() == fmt.money(c.value_close_to_liquidation)
            change = c.position_count - c.past_position_count
            assert table.cell_text(key, "positions_change").plain.strip() == fmt.signed_count(change)
        # Size cohorts by range first, then pnl: the table never mixes the axes.
        categories = [next(c.segment.category for c in expected.data if str(c.segment.id) == k) for k in table.row_keys]
        assert categories == sorted(categories, key=lambda c: c != "size")


async def test_cursor_cohort_series_come_from_position_metrics(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open_coin(pilot, 0)
        coin = screen.coin
        await pilot.press("j")
        screen = await _loaded(pilot)
        sid = screen.cohort_id
        calls = [args for name, args, _ in app.client.calls if name == "iter_position_metrics"]
        assert calls[-1] == (coin, sid)
        rows = screen.series[(sid, "7d", "all")]
        assert rows
        assert screen.query_one("#series-positions", Chart).values == [v for _, v in position_metric_series(rows)["positions"]]
        metrics = next(c for c in screen.metrics.data if c.segment.id == sid)
        # segment-metrics rows come newest first; the chart reads oldest first.
        assert screen.query_one("#metrics-value", Chart).values == [r.total_position_value for r in reversed(metrics.rows)]
        # Back to the first cohort: its series is held, nothing is asked again.
        before = len(app.client.calls)
        await pilot.press("k")
        await _loaded(pilot)
        assert len(app.client.calls) == before
        # The age key asks every endpoint again with that age.
        await pilot.press("f")
        await _loaded(pilot)
        names = {name: args for name, args, _ in app.client.calls[before:]}
        assert names["position_breakdown"] == (coin, "24h") and names["segment_metrics"] == (coin, "24h")
        assert [kw["recency"] for name, _, kw in app.client.calls[before:] if name == "iter_position_metrics"] == ["24h"]


async def test_the_series_title_says_the_cohorts_latest_upnl_and_funding_on_the_coin(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open_coin(pilot, 0)
        rows = screen.series[(screen.cohort_id, "7d", "all")]
        newest, oldest = max(rows, key=lambda r: r.created_at), min(rows, key=lambda r: r.created_at)
        title = _crumb(screen, "#series-title")
        change = fmt.signed_money(newest.total_unrealized_pnl - oldest.total_unrealized_pnl)
        assert f"uPnL {fmt.signed_money(newest.total_unrealized_pnl)} ({change} over 7d)" in title
        assert f"funding {fmt.signed_money(newest.total_funding)}" in title
        assert [name for name, _, _ in app.client.calls].count("iter_position_metrics") == 1  # no request of its own


async def test_the_filters_line_names_the_series_window_on_screen_held_or_fetched(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open_coin(pilot, 0)
        for window in ("30d", "24h", "7d", "30d"):  # the last two held: shown without a request
            await pilot.press("t")
            await _loaded(pilot)
            assert f"every update, last {window} " in _crumb(screen, "#series-title")
            assert f"cohort series over {window} (t)" in _crumb(screen, "#coin-filters")
        assert [name for name, _, _ in app.client.calls].count("iter_position_metrics") == 3


async def test_failure_keeps_the_table_and_r_retries(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open_coin(pilot)
        keys = screen.table.row_keys
        app.client.error = NetworkError("/exports/coins", "cannot connect: connection refused")
        await pilot.press("r")
        await _loaded(pilot)
        assert screen.table.row_keys == keys
        status = str(screen.query_one("#coin-status").render())
        assert "connection refused" in status and "\n" not in status
        app.client.error = None
        await pilot.press("r")
        await _loaded(pilot)
        assert not screen.errors


async def test_palette_coin_command_opens_any_coin(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        titles = [c.title for c in DashboardCommands(app.dashboard).commands() if c.title.startswith("Coin: ")]
        assert len(titles) == len(app.state.heatmap.heatmap)
        coin = sorted(app.state.heatmap.heatmap, key=lambda r: r.total_value)[0].coin  # the smallest
        command = next(c for c in DashboardCommands(app.dashboard).commands() if c.title == f"Coin: {coin}")
        command.callback()
        screen = await _loaded(pilot)
        assert isinstance(screen, CoinScreen) and screen.coin == coin


async def test_i_opens_the_coin_under_the_risk_cursor(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        risk = app.dashboard.query_one(RiskTable)
        risk.focus()
        await pilot.press("j")
        await pilot.press("i")
        screen = await _loaded(pilot)
        assert isinstance(screen, CoinScreen) and screen.coin == risk.row_keys[1]


async def test_i_asks_for_the_coin_view_on_the_heatmap_cells_cohort_else_the_selected_one(make_app):
    app = make_app()
    wanted: dict[int, DashboardScreen.CoinWanted] = {}  # by identity: the hook sees a message at each node it reaches

    def hook(message):
        if isinstance(message, DashboardScreen.CoinWanted):
            wanted.setdefault(id(message), message)

    async with app.run_test(size=(160, 45), message_hook=hook) as pilot:
        await settle(pilot)
        app.dashboard.focus_heatmap()
        await pilot.press("j", "l", "l", "l", "l", "l")  # the second coin, a cohort's column past the first
        coin, cell_cohort = app.dashboard.heatmap_selection()
        selected = app.state.view.cohort_id
        assert cell_cohort is not None and cell_cohort != selected
        await pilot.press("i")
        screen = await _loaded(pilot)
        assert screen.cohort_id == cell_cohort  # the cursor on the cell's cohort, not the first row's
        await pilot.press("escape")
        await settle(pilot)
        risk = app.dashboard.query_one(RiskTable)
        risk.focus()
        await pilot.press("i")
        await _loaded(pilot)
        assert [(m.coin, m.segment_id) for m in wanted.values()] == [(coin, cell_cohort), (risk.row_keys[0], selected)]


async def test_the_coin_view_opens_with_its_cursor_on_the_cohort_it_is_opened_for(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open_coin(pilot, 0)
        app.pop_screen()
        await pilot.pause()
        coin = app.state.heatmap.heatmap[1].coin
        for rank in (3, 5):  # another coin (its breakdown not held: placed when it comes), then the same
            sid = int(screen.table.row_keys[rank])
            app.open_coin(coin, sid)
            await _loaded(pilot)
            assert screen.coin == coin and screen.cohort_id == sid
            assert (sid, "7d", "all") in screen.series
            assert f"{cohort_label(app.state.cohorts, sid)} on {coin}" in _crumb(screen, "#series-title")
            await pilot.press("j")  # from then on the cursor is the user's: a reload leaves it there
            await pilot.press("r")
            await _loaded(pilot)
            assert screen.table.cursor_row == rank + 1
            app.pop_screen()
            await pilot.pause()


async def test_the_coin_views_answers_leave_as_it_is_built_and_show_if_in_before_it_mounts(make_app, answered_before_mount):
    asked = ("position_breakdown", "segment_metrics")
    seen_by_mount = answered_before_mount(CoinScreen, "coin", asked)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open_coin(pilot)
        assert seen_by_mount == [list(asked)]  # on their way while the screen was built
        assert [name for name, _, _ in app.client.calls if name in asked] == list(asked)  # not asked twice
        assert screen.breakdown is not None and screen.table.row_count == len(screen.breakdown.data) > 0
        assert (screen.cohort_id, screen.window, screen.age) in screen.series  # the cursor cohort's series followed
        assert "loading" not in screen.status_text().plain


async def test_the_bias_overviews_answer_leaves_as_it_is_built_and_shows_if_in_before_it_mounts(make_app, answered_before_mount):
    seen_by_mount = answered_before_mount(BiasOverviewScreen, "bias", ("segments_bias_24h",))
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        screen = await _loaded(pilot)
        assert seen_by_mount == [["segments_bias_24h"]]
        assert sorted(w.id for w in screen.query(".bias-strip")) == sorted(f"bias-{s.id}" for s in app.state.cohorts)
        assert "loading" not in str(screen.query_one("#bias-status").render())


async def _open_bias(pilot) -> BiasOverviewScreen:
    """The bias overview opened from the dashboard by its key, loaded."""
    await settle(pilot)
    await pilot.press("b")
    screen = await _loaded(pilot)
    assert isinstance(screen, BiasOverviewScreen)
    return screen


async def test_bias_overview_lists_every_cohort(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open_bias(pilot)
        shown = [w.id for w in screen.query(".bias-strip")]
        assert sorted(shown) == sorted(f"bias-{s.id}" for s in app.state.cohorts)
        data = await app.client.segments_bias_24h()
        whale = next(s for s in data.data if s.segment.id == app.state.cohorts[0].id)
        last = max(whale.snapshots, key=lambda s: s.timestamp).bias
        label = screen.query_one(f"#bias-{whale.segment.id}", SignedPlot).label.plain
        assert f"last {fmt.signed(last)}" in label
        await pilot.press("r")  # reload: the same strips, updated in place
        await _loaded(pilot)
        assert [w.id for w in screen.query(".bias-strip")] == shown
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.dashboard


async def test_the_bias_overview_reloaded_with_the_same_export_keeps_its_strips_and_repaints_none(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open_bias(pilot)
        strips = list(screen.query(".bias-strip"))
        drawn: list[str | None] = []
        for strip in strips:
            render = strip.render

            def counted(strip=strip, render=render):
                drawn.append(strip.id)
                return render()

            strip.render = counted
        await pilot.press("r")  # the market has not moved: the same export comes back
        await _loaded(pilot)
        assert [name for name, _, _ in app.client.calls].count("segments_bias_24h") == 2
        assert list(screen.query(".bias-strip")) == strips  # the same widgets, not mounted anew
        assert drawn == []


async def test_the_bias_overview_reopened_in_the_same_update_shows_its_strips_asking_nothing(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await app.client.state_status()  # the update is known, and not due to change yet
        screen = await _open_bias(pilot)
        strips = list(screen.query(".bias-strip"))
        app.pop_screen()
        await pilot.pause()
        asked = len(app.client.calls)
        app.open_bias_overview()
        await _loaded(pilot)
        assert app.screen is screen and list(screen.query(".bias-strip")) == strips
        assert [name for name, _, _ in app.client.calls[asked:] if name == "segments_bias_24h"] == []
        assert "loading" not in str(screen.query_one("#bias-status").render())


async def test_the_bias_overview_reopens_scrolled_to_the_top(make_app):
    app = make_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await _open_bias(pilot)
        strips = screen.query_one("#bias-strips")
        await pilot.press("end")
        await settle(pilot)
        assert strips.scroll_y == strips.max_scroll_y > 0
        await pilot.press("escape")
        await settle(pilot)
        app.open_bias_overview()
        assert app.screen is screen and strips.scroll_y == 0  # in its first frame, as a new one's
        await _loaded(pilot)
        assert strips.scroll_y == 0


async def test_export_coin_view_writes_its_tables(make_app, tmp_path):
    app = make_app()
    app.export_dir = str(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open_coin(pilot, 0)
        coin = screen.coin
        await pilot.press("e")
        await drained(pilot)
        files = sorted(tmp_path.iterdir())
        assert [f.name for f in files] == sorted(
            f"hypertui-coin-{coin}-{what}-20261120-120000.csv"
            for what in ("breakdown-all", "segment-metrics-all", f"{app.state.cohorts[0].name}-position-metrics-7d-all")
        )
        breakdown = _csv(next(f for f in files if "breakdown" in f.name))
        assert sorted(r["segmentId"] for r in breakdown) == sorted(screen.table.row_keys)
        for r in breakdown:
            assert screen.table.cell_text(r["segmentId"], "positions").plain.strip() == fmt.count(int(r["positionCount"]))
        toast = _toasts(app)[-1]
        assert str(tmp_path) in toast.message and "(16 rows)" in toast.message


async def test_export_positions_history_and_bias(make_app, tmp_path, monkeypatch):
    monkeypatch.setattr("hypertui.ui.export_key.default_dir", lambda: tmp_path / "default")
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        coin = app.state.heatmap.heatmap[0].coin
        app.open_positions(coin, app.state.view.cohort_id)
        screen = await _loaded(pilot)
        await pilot.press("e")
        await drained(pilot)
        (path,) = (tmp_path / "default").glob("hypertui-positions-*.csv")
        rows = _csv(path)
        window = screen.window
        assert [r["id"] for r in rows] == [window.row(i).id for i in range(window.row_count)]
        assert {r["coin"] for r in rows} == {coin}
        await pilot.press("t")  # another window: its export must not look like the first
        await _loaded(pilot)
        await pilot.press("e")
        await drained(pilot)
        assert len(list((tmp_path / "default").glob(f"hypertui-positions-{coin}-*-open-30d-*.csv"))) == 1
        await pilot.press("escape")
        await settle(pilot)

        app.open_history(app.state.view.cohort_id)
        history = await _loaded(pilot)
        assert isinstance(history, HistoryScreen)
        await pilot.press("E")
        await drained(pilot)
        (path,) = (tmp_path / "default").glob("hypertui-history-*.json")
        data = json.loads(path.read_text(encoding="utf-8"))
        assert [d["timestamp"] for d in data] == [s.model_dump(mode="json")["timestamp"] for s in history.snapshots]
        assert [d["bias"] for d in data] == [s.bias for s in history.snapshots]
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("b")
        bias = await _loaded(pilot)
        await pilot.press("e")
        await pilot.press("e")  # twice in the same second: a second file, never an overwrite
        await drained(pilot)
        paths = sorted((tmp_path / "default").glob("hypertui-bias-*.csv"))
        assert [p.name for p in paths] == [
            "hypertui-bias-72h-every-cohort-20261120-120000-2.csv",
            "hypertui-bias-72h-every-cohort-20261120-120000.csv",
        ]
        rows = _csv(paths[1])
        assert len(rows) == sum(len(s.snapshots) for s in bias.data.data)
        assert {int(r["segmentId"]) for r in rows} == {s.id for s in app.state.cohorts}


async def test_export_failure_is_a_toast(make_app, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    app = make_app()
    app.export_dir = str(blocker / "sub")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await _loaded(pilot)
        await pilot.press("e")
        await drained(pilot)
        toast = _toasts(app)[-1]
        assert toast.severity == "error" and toast.title == "Export failed"
        assert str(blocker) in toast.message


@pytest.mark.parametrize(
    ("open_screen", "endpoint"),
    [
        (lambda app: app.open_coin(app.state.heatmap.heatmap[0].coin), "position_breakdown"),
        (lambda app: app.open_bias_overview(), "segments_bias_24h"),
        (lambda app: app.open_history(app.state.view.cohort_id), "iter_bias_history"),
    ],
)
async def test_a_slow_first_load_leaves_the_screen_readable(make_app, open_screen, endpoint):
    """While a drill-down waits for the API its crumb, status line and footer stay on screen
    (a screen's own `loading` would cover them all with Textual's loading indicator)."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        gate = asyncio.Event()
        inner = getattr(app.client, endpoint)
        if endpoint.startswith("iter_"):

            def held(*args, **kwargs):
                async def pages():
                    await gate.wait()
                    async for page in inner(*args, **kwargs):
                        yield page

                return pages()
        else:

            async def held(*args, **kwargs):
                await gate.wait()
                return await inner(*args, **kwargs)

        setattr(app.client, endpoint, held)
        open_screen(app)
        await pilot.pause()
        screen = app.screen
        assert screen.fetching and not screen.loading
        assert not screen.query(LoadingIndicator)
        assert screen.query_one(Footer).display
        labels = [chart._lines()[0].text for chart in screen.query(Chart)]  # none in the bias overview
        assert all("⋯ loading…" in label and "no data" not in label for label in labels)
        gate.set()
        await _loaded(pilot)
        assert not screen.fetching
        assert not any("loading" in chart._lines()[0].text for chart in screen.query(Chart))


async def test_an_age_the_server_cannot_filter_by_is_said_not_shown_as_filtered(docs_only_client, clock):
    """A docs-only server has no `-24h` exports and ignores position-metrics' recency: the coin
    view says so instead of labelling every position's figures "24h"."""
    from hypertui.source import SIMULATOR_LABEL
    from hypertui.testing import FaultyClient
    from hypertui.ui.app import HyperTuiApp

    app = HyperTuiApp(FaultyClient(docs_only_client()), SIMULATOR_LABEL, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open_coin(pilot)
        assert "unavailable" not in _crumb(screen, "#coin-filters")
        await pilot.press("f")  # position age 24h
        await drained(pilot)
        assert screen.breakdown.unfiltered and screen.metrics.unfiltered
        assert "24h unavailable on this server: every position shown" in _crumb(screen, "#coin-filters")
        assert "24h unavailable on this server: every position" in _crumb(screen, "#series-title")
        assert screen.errors == {}
        names = [table.name for table in screen.export_tables()]
        assert len(names) == 3 and all(name.endswith(" all") for name in names)  # files not named "24h"


COIN_ENDPOINTS = {"position_breakdown", "segment_metrics", "iter_position_metrics"}


async def test_the_coin_view_reopens_with_its_table_scrolled_to_the_top(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_coin(pilot)
        table = screen.table
        await pilot.press("end")
        await _loaded(pilot)
        assert table.scroll_y == table.max_scroll_y > 0
        await pilot.press("escape")
        await settle(pilot)
        app.open_coin(screen.coin)
        await _loaded(pilot)
        assert app.screen is screen and table.cursor_row == 0 and table.scroll_y == 0


async def test_the_coin_view_reopened_on_its_coin_in_the_same_update_shows_what_it_holds_at_once_asking_nothing(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        status = await app.client.state_status()  # the update is known, and not due to change yet
        assert status.next_update is not None and app.clock() < status.next_update
        screen = await _open_coin(pilot)
        coin, keys, sid = screen.coin, screen.table.row_keys, screen.cohort_id
        series = screen.query_one("#series-value", Chart).values
        await pilot.press("j")  # another cohort's series held too; the reopening goes back to the first
        await _loaded(pilot)
        app.pop_screen()
        await pilot.pause()
        asked = len(app.client.calls)
        app.open_coin(coin)
        # Shown as it is pushed, before any answer could come: its first frame holds it.
        assert screen.table.row_keys == keys and screen.cohort_id == sid
        assert screen.query_one("#series-value", Chart).values == series and "loading" not in screen.status_text().plain
        await _loaded(pilot)
        assert not [name for name, _, _ in app.client.calls[asked:] if name in COIN_ENDPOINTS]  # the server would answer the same


async def test_the_coin_view_reopened_on_its_coin_shows_it_at_once_and_the_same_answers_repaint_no_chart(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open_coin(pilot)  # no state/status read: the update is not known
        coin, keys = screen.coin, screen.table.row_keys
        charts = list(screen.query(Chart))
        drawn = [chart.render_line(1) for chart in charts]  # each chart's kept lines
        app.pop_screen()
        await pilot.pause()
        asked = len(app.client.calls)
        app.open_coin(coin)
        assert screen.table.row_keys == keys and screen.breakdown is not None  # held until the answers replace it
        await _loaded(pilot)
        assert {name for name, _, _ in app.client.calls[asked:]} >= COIN_ENDPOINTS
        assert all(a is b for a, b in zip((chart.render_line(1) for chart in charts), drawn, strict=True))  # not drawn again


async def test_p_opens_the_cohorts_positions_on_the_position_age_the_breakdown_counts(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open_coin(pilot)
        await pilot.press("f")  # position age 24h
        await _loaded(pilot)
        assert screen.age == "24h" and not screen.breakdown.unfiltered
        counted = next(c for c in screen.breakdown.data if str(c.segment.id) == screen.table.cursor_key)
        await pilot.press("p")
        positions = await _loaded(pilot)
        assert isinstance(positions, PositionsScreen) and positions.filters.window == "24h"
        assert counted.position_count and positions.window.done and positions.window.row_count == counted.position_count
