"""The positions drill-down: open from the dashboard, lazy paging, bounded memory, details."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypertui.api.errors import NetworkError
from hypertui.api.models import Position, PositionsPage, Profile
from hypertui.monitor import format as fmt
from hypertui.monitor.positions import FIRST_PAGE, MAX_PAGES, PAGE
from hypertui.ui.commands import DashboardCommands
from hypertui.ui.screens.positions import PositionDetail, PositionsScreen
from hypertui.ui.screenshots import settled as settle
from hypertui.ui.widgets.heatmap import HeatmapTable
from hypertui.ui.widgets.positions_view import PositionsView
from hypertui.ui.widgets.risk_table import RiskTable

T0 = datetime(2025, 4, 4, tzinfo=UTC)


class EndlessPositions:
    """Wraps the app's client; `positions` serves a synthetic result of `total` rows, built on demand.

    The cursor is the number of the next row; every call is recorded.
    """

    def __init__(self, inner: Any, total: int = 1_000_000) -> None:
        self._inner = inner
        self.total = total
        self.cursors: list[str | None] = []
        self.error: Exception | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def positions(self, *, limit: int = 1000, next_cursor: str | None = None, coin: str | None = None,
                        segment_id: int | None = None, **_: Any) -> PositionsPage:
        self.cursors.append(next_cursor)
        if self.error is not None:
            raise self.error
        first = int(next_cursor) if next_cursor else 0
        last = min(first + limit, self.total)
        proto = _position(first, coin or "BTC", segment_id or 9)
        rows = [proto.model_copy(update=_varying(i)) for i in range(first, last)]
        return PositionsPage.model_construct(positions=rows, next_cursor=str(last) if last < self.total else None)


def _varying(i: int) -> dict[str, Any]:
    return {"id": f"{i:x}", "address": f"0x{i:040x}", "side": "long" if i % 3 else "short",
            "open_time": T0 + timedelta(seconds=i)}


def _position(i: int, coin: str, segment_id: int) -> Position:
    return Position.model_construct(
        id=f"{i:x}",
        address=f"0x{i:040x}",
        coin=coin,
        side="long" if i % 3 else "short",
        size=1.5,
        entry_price=100.0,
        mark_price=101.0,
        position_value=151.5,
        liquidation_price=80.0,
        unrealized_pnl=1.5,
        funding=-0.1,
        cross_leverage=5.0,
        isolated_leverage=0.0,
        open_time=T0 + timedelta(seconds=i),
        close_time=None,
        profile=Profile.model_construct(address=f"0x{i:040x}", segments=[4, segment_id]),
    )


async def _open_from_heatmap(pilot) -> tuple[str, int]:
    """Put the heatmap cursor on a cohort cell and press enter; (coin, cohort id) chosen."""
    app = pilot.app
    app.dashboard.focus_heatmap()
    await pilot.press("l", "l", "j")  # past the coin and value columns, second coin
    await pilot.pause()
    heat = app.dashboard.query_one(HeatmapTable)
    coin, sid = app.dashboard.heatmap_selection()
    assert sid is not None and heat.cursor_row == 1
    await pilot.press("enter")
    await _loaded(pilot)
    return coin, sid


async def _opened_on_endless(pilot, total: int = 1_000_000) -> EndlessPositions:
    """The dashboard settled, its positions then served by EndlessPositions, and the drill-down
    opened from the heatmap; the recording client."""
    await settle(pilot)
    client = pilot.app.client = EndlessPositions(pilot.app.client, total)
    await _open_from_heatmap(pilot)
    return client


async def _opened_on_the_simulator(pilot) -> tuple[PositionsScreen, PositionsView]:
    """The dashboard settled and the drill-down opened from the heatmap; the screen and its view."""
    await settle(pilot)
    await _open_from_heatmap(pilot)
    screen = pilot.app.screen
    return screen, screen.query_one(PositionsView)


async def _loaded(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_heatmap_cell_to_positions_to_details_and_back(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        heat = app.dashboard.query_one(HeatmapTable)
        coin, sid = await _open_from_heatmap(pilot)
        cursor_before, scroll_before = heat.cursor_coordinate, (heat.scroll_x, heat.scroll_y)
        screen = app.screen
        assert isinstance(screen, PositionsScreen)
        call = next(c for c in reversed(app.client.calls) if c[0] == "positions")
        assert call[2]["coin"] == coin and call[2]["segment_id"] == sid and call[2]["open"] is True
        assert call[2]["limit"] == FIRST_PAGE and call[2]["next_cursor"] is None
        view = screen.query_one(PositionsView)
        assert view.row_count > 0
        rows = [view.window.row(i) for i in range(view.row_count)]
        assert all(p.coin == coin and sid in p.profile.segments for p in rows)
        assert all(p.is_open for p in rows)
        crumb = str(screen.query_one("#positions-crumb").render())
        seg = next(s for s in app.state.cohorts if s.id == sid)
        assert f"Dashboard › {coin} › {seg.emoji} {seg.name} › positions" in crumb
        assert "(all loaded)" in screen.status_text().plain

        await pilot.press("down")
        assert view.cursor == 1
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, PositionDetail) and detail.position == rows[1]
        size_id, pnl_id = rows[1].profile.segments
        names = {s.id: f"{s.emoji} {s.name}" for s in app.state.cohorts}
        assert detail.wallet_cohorts() == [names[size_id], names[pnl_id]]

        await pilot.press("escape")
        assert app.screen is screen and view.cursor == 1
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard
        assert heat.cursor_coordinate == cursor_before
        assert (heat.scroll_x, heat.scroll_y) == scroll_before
        assert app.focused is heat


async def test_filters_restart_paging_and_side_is_filtered_here(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen, view = await _opened_on_the_simulator(pilot)
        all_sides = view.row_count
        await pilot.press("s")  # long only: same request, filtered in the client
        await _loaded(pilot)
        longs = [view.window.row(i) for i in range(view.row_count)]
        assert longs and all(p.side == "long" for p in longs) and len(longs) < all_sides
        assert "filtered here" in str(screen.query_one("#positions-filters").render())
        await pilot.press("o")  # closed
        await _loaded(pilot)
        call = next(c for c in reversed(app.client.calls) if c[0] == "positions")
        assert call[2]["open"] is False and call[2]["next_cursor"] is None
        assert all(not view.window.row(i).is_open for i in range(view.row_count))
        await pilot.press("t")  # opened within 30 days
        await _loaded(pilot)
        call = next(c for c in reversed(app.client.calls) if c[0] == "positions")
        assert call[2]["start"] == app.clock() - timedelta(days=30)

        await pilot.press("t", "t", "t", "o", "s", "s")  # back to all open positions, both sides
        await _loaded(pilot)
        wallet = view.cursor_position.address
        await pilot.press("w")  # only the wallet under the cursor
        await _loaded(pilot)
        call = next(c for c in reversed(app.client.calls) if c[0] == "positions")
        assert call[2]["addresses"] == (wallet,) and view.row_count >= 1
        assert all(view.window.row(i).address == wallet for i in range(view.row_count))
        await pilot.press("slash", *"0xnope", "enter")  # not an address: nothing changes
        await pilot.pause()
        assert screen.filters.address == wallet
        await pilot.press("escape")  # closes the box, not the screen
        await pilot.pause()
        assert app.screen is screen and app.focused is view
        await pilot.press("slash", "ctrl+u", "enter")  # empty: every wallet again
        await _loaded(pilot)
        assert screen.filters.address is None and view.row_count > 1


async def test_the_side_filters_the_rows_held_without_a_request_and_keeps_the_cursor_near(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen, view = await _opened_on_the_simulator(pilot)
        rows = [view.window.row(i) for i in range(view.row_count)]
        short = next(i for i, p in enumerate(rows) if p.side == "short" and i > 5)  # a short far enough down to scroll
        nearest_long = next(p for p in rows[short:] if p.side == "long")
        view.move_to(short)
        asked = len(app.client.calls)
        await pilot.press("s")  # long only
        await _loaded(pilot)
        assert len(app.client.calls) == asked  # nothing asked again
        assert view.cursor_position is nearest_long  # the short under the cursor left: the next long
        await pilot.press("s")  # short only
        await _loaded(pilot)
        assert view.cursor_position.side == "short" and rows.index(view.cursor_position) > rows.index(nearest_long)
        await pilot.press("s")  # both sides again
        await _loaded(pilot)
        assert len(app.client.calls) == asked and view.row_count == len(rows)


async def test_risk_row_and_palette_open_positions_for_the_selected_cohort(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        risk = app.dashboard.query_one(RiskTable)
        risk.focus()
        await pilot.press("j", "enter")
        await _loaded(pilot)
        screen = app.screen
        assert isinstance(screen, PositionsScreen)
        assert (screen.filters.coin, screen.filters.segment_id) == (risk.cursor_key, app.state.view.cohort_id)
        await pilot.press("backspace")
        await pilot.pause()
        assert app.screen is app.dashboard and risk.cursor_row == 1
        titles = [c.title for c in DashboardCommands(app.dashboard).commands()]
        assert any(t.startswith(f"Positions for {risk.cursor_key} × ") for t in titles)
        await pilot.press("ctrl+p")
        await pilot.press(*f"Positions for {risk.cursor_key}")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await _loaded(pilot)
        assert isinstance(app.screen, PositionsScreen) and app.screen.filters.coin == risk.cursor_key


async def test_lazy_paging_never_asks_twice_and_memory_stays_bounded(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        client = await _opened_on_endless(pilot)
        screen = app.screen
        view = screen.query_one(PositionsView)
        # First paint: one small page only, and the next one not until the view gets near its end.
        assert client.cursors == [None] and view.row_count == FIRST_PAGE
        assert "300 loaded · more…" in screen.status_text().plain
        await pilot.press("pagedown")  # still more than a screen away from row 300
        await _loaded(pilot)
        assert client.cursors == [None]
        view.move_to(FIRST_PAGE - view.page_height)  # within a screen of the end: page 2 comes
        await _loaded(pilot)
        assert client.cursors == [None, str(FIRST_PAGE)]
        assert view.row_count == FIRST_PAGE + PAGE
        for _ in range(3):  # staying put asks for nothing
            await pilot.press("down")
        await _loaded(pilot)
        assert len(client.cursors) == 2

        # Far down a million-row result: rows held never exceed the cap.
        while view.row_count < 100_000:
            view.move_to(view.row_count - 1)
            await pilot.pause()  # the view's Moved message starts the worker
            await app.workers.wait_for_complete()
            assert screen.rows_held <= MAX_PAGES * PAGE
        assert len(client.cursors) == len(set(client.cursors))  # no page asked for twice
        assert view.cursor >= 99_000 and view.cursor_position.id == f"{view.cursor:x}"
        assert screen.window.pages[0].rows is None  # the first pages were dropped...
        await pilot.press("home")  # ...and come back, by their kept cursor, when revisited
        await _loaded(pilot)
        assert client.cursors[-1] is None and view.cursor_position.id == "0"
        assert screen.rows_held <= MAX_PAGES * PAGE
        asked = len(client.cursors)
        view.scroll_to(y=50_000, animate=False, immediate=True)  # the wheel: the view moves, the cursor stays
        await _loaded(pilot)
        assert view.window.row(50_000).id == f"{50_000:x}" and view.cursor == 0
        assert len(client.cursors) - asked <= 2 and screen.rows_held <= MAX_PAGES * PAGE


async def test_S_sorts_the_loaded_rows_and_says_so_without_a_request(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen, view = await _opened_on_the_simulator(pilot)
        api_order = [view.window.row(i).id for i in range(view.row_count)]
        n, asked = len(api_order), len(app.client.calls)
        assert n > 2

        def shown(measure) -> list:
            return [measure(view.window.row(i)) for i in range(view.row_count)]

        await pilot.press("S")
        await pilot.pause()
        values = shown(lambda p: p.position_value)
        assert values == sorted(values, reverse=True) and values != [view.window.row(0).position_value] * n
        assert f"sorted by value (largest first) within the {n} loaded" in screen.status_text().plain
        assert "Value▾" in view._header.plain
        await pilot.press("S")
        await pilot.pause()
        pnl = [v for v in shown(lambda p: p.unrealized_pnl) if v is not None]
        assert pnl == sorted(pnl, reverse=True) and "sorted by uPnL" in screen.status_text().plain
        await pilot.press("S")
        await pilot.pause()
        dist = shown(lambda p: p.liquidation_distance)
        known = [d for d in dist if d is not None]
        assert known == sorted(known) and dist[: len(known)] == known and "To liq▴" in view._header.plain
        await pilot.press("S", "S")  # leverage, then the API's order again
        await pilot.pause()
        assert screen.sorted is None and [view.window.row(i).id for i in range(view.row_count)] == api_order
        assert "sorted" not in screen.status_text().plain and "▾" not in view._header.plain
        assert len(app.client.calls) == asked  # sorting asked for nothing


async def test_sorted_rows_do_not_page_until_back_in_the_api_order(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        client = await _opened_on_endless(pilot, total=5000)
        await pilot.press("S", "end")
        await _loaded(pilot)
        view = app.screen.query_one(PositionsView)
        assert client.cursors == [None] and view.row_count == FIRST_PAGE
        assert f"within the {FIRST_PAGE} loaded" in app.screen.status_text().plain
        await pilot.press("S", "S", "S", "S")  # back to the API's order: paging goes on
        await pilot.press("end")
        await _loaded(pilot)
        assert client.cursors == [None, str(FIRST_PAGE)] and view.row_count == FIRST_PAGE + PAGE


async def test_b_opens_the_wallets_book_across_coins_with_its_two_cohorts(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        coin, _ = await _open_from_heatmap(pilot)
        listing = app.screen
        view = listing.query_one(PositionsView)
        wallet = max((view.window.row(i) for i in range(view.row_count)), key=lambda p: p.position_value)
        view.move_to(next(i for i in range(view.row_count) if view.window.row(i) is wallet))
        asked = len(app.client.calls)
        await pilot.press("b")
        await _loaded(pilot)
        book = app.screen
        assert isinstance(book, PositionsScreen) and book is not listing and book.filters.book
        calls = [c for c in app.client.calls[asked:] if c[0] == "positions"]
        assert len(calls) == 1  # one request: by address, no coin, no cohort
        kw = calls[0][2]
        assert (kw["coin"], kw["addresses"], kw["segment_id"], kw["open"]) == (None, (wallet.address,), None, True)
        rows = [book.view.window.row(i) for i in range(book.view.row_count)]
        assert rows and all(p.address == wallet.address and p.is_open for p in rows)
        assert coin in {p.coin for p in rows} and len({p.coin for p in rows}) > 1  # across coins
        value, pnl = sum(p.position_value for p in rows), sum(p.unrealized_pnl or 0 for p in rows)
        assert "(all loaded)" in book.status_text().plain
        assert book.status_text().plain.endswith(f" · value {fmt.money(value)} · uPnL {fmt.signed_money(pnl)}")
        names = {s.id: f"{s.emoji} {s.name}" for s in app.state.cohorts}
        size_id, pnl_id = wallet.profile.segments
        crumb = str(book.query_one("#positions-crumb").render())
        assert f"Dashboard › wallet {wallet.address} › {names[size_id]} · {names[pnl_id]} › book" in crumb
        assert book.view._header.plain.split()[0] == "Coin" and book.view.columns[0][0] == "coin"

        asked = len(app.client.calls)
        await pilot.press("w")  # every wallet of every coin is not a book: nothing is asked
        await pilot.press("slash", "ctrl+u", "enter")
        await _loaded(pilot)
        assert book.filters.address == wallet.address and len(app.client.calls) == asked
        await pilot.press("b")  # the same wallet's book again: not stacked
        await pilot.pause()
        assert app.screen is book
        await pilot.press("escape")  # back to the coin's list, as it was
        await pilot.pause()
        assert app.screen is listing and view.cursor_position is wallet

        await pilot.press("enter")  # from the detail view too
        await pilot.pause()
        assert isinstance(app.screen, PositionDetail)
        await pilot.press("b")
        await _loaded(pilot)
        assert isinstance(app.screen, PositionsScreen) and app.screen.filters.address == wallet.address
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is listing


async def test_the_first_page_is_asked_for_before_the_screen_has_mounted(make_app, monkeypatch):
    asked_by_mount = []
    mount = PositionsScreen.on_mount

    def on_mount(screen: PositionsScreen) -> None:
        asked_by_mount.append(list(screen.app.client.cursors))
        mount(screen)

    monkeypatch.setattr(PositionsScreen, "on_mount", on_mount)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        client = await _opened_on_endless(pilot)
        assert asked_by_mount == [[None]]  # on its way while the screen was built
        assert client.cursors == [None] and app.screen.query_one(PositionsView).row_count == FIRST_PAGE  # not asked twice


async def test_a_failed_page_keeps_the_rows_and_r_retries(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        client = await _opened_on_endless(pilot, total=5000)
        screen = app.screen
        view = screen.query_one(PositionsView)
        client.error = NetworkError("/positions", "cannot connect: connection refused")
        await pilot.press("end")
        await _loaded(pilot)
        assert view.row_count == FIRST_PAGE
        status = screen.status_text().plain
        assert "cannot connect: connection refused" in status and "\n" not in status
        await pilot.press("down", "up")  # moving does not hammer a failing server
        await _loaded(pilot)
        assert len(client.cursors) == 2
        client.error = None
        await pilot.press("r")
        await _loaded(pilot)
        assert view.row_count == FIRST_PAGE + PAGE and screen.error is None


def test_positions_snapshot(snap_compare, make_app):
    async def drill(pilot):
        await settle(pilot)
        await _open_from_heatmap(pilot)
        await pilot.press("down", "down")

    assert snap_compare(make_app(), terminal_size=(160, 45), run_before=drill)


async def test_slash_takes_a_unique_prefix_and_c_copies_the_whole_address(make_app):
    app = make_app()
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # OSC 52 goes to the terminal: record what would be sent
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await _open_from_heatmap(pilot)
        screen = app.screen
        view = screen.query_one(PositionsView)
        wallet = view.cursor_position.address
        loaded = {view.window.row(i).address for i in range(view.row_count)}
        prefix = next(wallet[:n] for n in range(3, 43) if sum(a.startswith(wallet[:n]) for a in loaded) == 1)
        await pilot.press("slash", *prefix[2:], "enter")  # without 0x
        await _loaded(pilot)
        assert screen.filters.address == wallet
        await pilot.press("c")
        assert copied == [wallet]
        await pilot.press("enter")  # the detail view: the whole address, copied with c too
        await pilot.pause()
        assert isinstance(app.screen, PositionDetail)
        values = app.screen.query_one("#position-fields").content.columns[1]._cells
        assert wallet in [value.plain for value in values]  # whole, as one value
        await pilot.press("c")
        assert copied == [wallet, wallet]


async def test_an_export_of_a_partly_loaded_list_says_it_is_partial(make_app, tmp_path):
    from hypertui.ui.screenshots import drained

    app = make_app()
    app.export_dir = str(tmp_path)
    toasts: list[str] = []
    notify = app.notify
    app.notify = lambda message, **kw: (toasts.append(str(message)), notify(message, **kw))[1]
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        app.open_positions(app.state.heatmap.heatmap[0].coin, None)  # the busiest coin, every cohort
        await _loaded(pilot)
        screen = app.screen
        assert not screen.window.done  # more than one page
        await pilot.press("e")
        await drained(pilot)
        (path,) = tmp_path.glob("hypertui-positions-*.csv")
        assert "-partial-" in path.name
        assert any(f"Partial: {screen.window.rows_held:,} of {screen.window.row_count:,}+ positions" in t for t in toasts)
        coin = screen.filters.coin
        assert any(f"hypertui dump positions --all --format csv --start 2025-04-04T00:00:00.000Z --coin {coin} --open" in t for t in toasts)
        await pilot.press("w")  # one wallet: every row loaded
        await _loaded(pilot)
        assert screen.window.done
        await pilot.press("e")
        await drained(pilot)
        assert len([p for p in tmp_path.glob("hypertui-positions-*.csv") if "partial" not in p.name]) == 1


class CursorLoop(EndlessPositions):
    """EndlessPositions whose last page points back to the second page's cursor (A -> B -> A)."""

    async def positions(self, **kw: Any) -> PositionsPage:
        page = await super().positions(**kw)
        if page.next_cursor:
            return page
        return PositionsPage.model_construct(positions=page.positions, next_cursor=str(FIRST_PAGE))


async def test_a_cursor_loop_stops_paging_and_the_screen_says_why(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        client = app.client = CursorLoop(app.client, total=FIRST_PAGE + 50)
        await _open_from_heatmap(pilot)
        await pilot.press("end")
        await _loaded(pilot)
        assert client.cursors == [None, str(FIRST_PAGE)]  # the looping cursor is not followed
        view = app.screen.query_one(PositionsView)
        assert view.row_count == FIRST_PAGE + 50 and "loop" in view.tail
        assert f"{FIRST_PAGE + 50} positions (stopped: " in app.screen.status_text().plain


async def test_the_detail_view_shows_the_whole_address_at_80_columns(make_app):
    """The detail view cut the address at 40 characters (0xe64e…545e… at 80x24)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _open_from_heatmap(pilot)
        wallet = app.screen.query_one(PositionsView).cursor_position.address
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PositionDetail)
        shown = "".join(
            "".join(segment.text for segment in app.screen.query_one("#position-fields").render_line(y))
            for y in range(app.screen.query_one("#position-fields").size.height)
        )
        assert wallet in shown


async def test_a_heatmap_cell_opens_its_positions_opened_within_the_window_it_counts(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        app.dashboard.focus_heatmap()
        await pilot.press("w")  # opened within 24h
        await settle(pilot)
        assert app.state.view.opened_within == "24h"
        await pilot.press("l", "l")  # the first cohort's cell of the busiest coin
        await pilot.pause()
        coin, sid = app.dashboard.heatmap_selection()
        counted = next(r for r in app.state.shown_heatmap.heatmap if r.coin == coin).cell(sid).count
        assert counted
        await pilot.press("enter")
        await _loaded(pilot)
        screen = app.screen
        assert isinstance(screen, PositionsScreen) and screen.filters.window == "24h"
        assert "opened 24h (t)" in str(screen.query_one("#positions-filters").render())
        assert screen.window.done and screen.window.row_count == counted  # the rows its number counts


async def test_a_top_asset_opens_its_positions_opened_within_the_position_age_the_summary_counts(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        app.dashboard.query_one("#top-assets").focus()
        await pilot.press("a")  # position age 24h
        await settle(pilot)
        assert app.state.view.position_age == "24h"
        await pilot.press("enter")
        await _loaded(pilot)
        screen = app.screen
        assert isinstance(screen, PositionsScreen) and screen.filters.window == "24h"
        assert "opened 24h (t)" in str(screen.query_one("#positions-filters").render())


async def test_an_export_of_sorted_rows_writes_them_in_the_order_on_screen(make_app, tmp_path):
    import csv

    from hypertui.ui.screenshots import drained

    app = make_app()
    app.export_dir = str(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        screen, view = await _opened_on_the_simulator(pilot)
        await pilot.press("s", "S")  # long only, by value
        await pilot.pause()
        shown = [view.window.row(i).id for i in range(view.row_count)]
        assert screen.sorted is not None and shown != [p.id for p in screen.window.held()]  # not the load order
        await pilot.press("e")
        await drained(pilot)
        (path,) = tmp_path.glob("hypertui-positions-*.csv")
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert [r["id"] for r in rows] == shown and {r["side"] for r in rows} == {"long"}
        assert "-by-value-" in path.name


async def test_a_failed_reload_keeps_the_rows_on_screen_with_the_error_and_r_reloads(make_app):
    from hypertui.api.errors import ServerError

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        app.open_positions(app.state.heatmap.heatmap[0].coin, None)  # the busiest coin, every cohort: pages
        await _loaded(pilot)
        screen, view = app.screen, app.screen.query_one(PositionsView)
        shown = [view.window.row(i).id for i in range(view.row_count)]
        assert len(shown) == FIRST_PAGE and not screen.window.done
        app.client.error = ServerError("/positions", 500)
        await pilot.press("r")
        await _loaded(pilot)
        status = screen.status_text().plain
        assert [view.window.row(i).id for i in range(view.row_count)] == shown  # the last rows, still on screen
        assert status.startswith(" ✗ /positions: server error 500 (r retries)") and f"{FIRST_PAGE} loaded" in status
        await pilot.press("end")  # no paging of the old rows meanwhile: the next r reloads
        await _loaded(pilot)
        assert view.row_count == FIRST_PAGE
        app.client.error = None
        await pilot.press("r")
        await _loaded(pilot)
        assert screen.error is None and screen.reloading is None and view.row_count >= FIRST_PAGE
        app.client.error = ServerError("/positions", 500)
        await pilot.press("t")  # new filters: the old rows are not theirs, none are held
        await _loaded(pilot)
        status = screen.status_text().plain
        assert view.row_count == 0 and "none loaded" in status and "more…" not in status


def _positions_asked_since(app, asked: int) -> int:
    """How many pages of positions the client was asked for after its first `asked` calls."""
    return [name for name, *_ in app.client.calls[asked:]].count("positions")


async def _opened_in_a_known_update(pilot) -> PositionsScreen:
    """The first coin's positions in every cohort (a few pages) opened as the dashboard opens
    them, loaded, once state/status is read: the update known, and not due to change yet."""
    app = pilot.app
    await settle(pilot)
    status = await app.client.state_status()
    assert status.next_update is not None and app.clock() < status.next_update
    app.open_positions(app.state.heatmap.heatmap[0].coin, None)
    await _loaded(pilot)
    assert isinstance(app.screen, PositionsScreen)
    return app.screen


async def _closed(pilot) -> None:
    pilot.app.pop_screen()
    await pilot.pause()


async def _reopened(pilot, screen: PositionsScreen, segment_id: int | None = None) -> int:
    """Close the list (if open), reopen it on the first coin in cohort `segment_id` (None: every
    cohort, as it was opened); the client's calls before."""
    if pilot.app.screen is screen:
        await _closed(pilot)
    asked = len(pilot.app.client.calls)
    pilot.app.open_positions(pilot.app.state.heatmap.heatmap[0].coin, segment_id)
    assert pilot.app.screen is screen
    return asked


async def test_the_list_reopened_on_its_query_in_the_same_update_shows_its_first_page_at_once_asking_nothing(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _opened_in_a_known_update(pilot)
        first = [p.id for p in screen.window.pages[0].sent]
        assert 0 < len(first) <= FIRST_PAGE
        await pilot.press("end")  # the next pages in
        await _loaded(pilot)
        assert len(screen.window.pages) > 2
        next_cursor = screen.window.pages[1].cursor
        await pilot.press("s", "S")  # filtered to one side and sorted at close: neither is kept
        await _loaded(pilot)
        asked = await _reopened(pilot, screen)
        # Shown as it is pushed, before any answer could come: its first frame holds them.
        assert [p.id for p in screen.window.held()] == first and screen.view.row_count == len(first)
        assert screen.sorted is None and screen.filters.side == "all" and screen.view.cursor == 0
        assert screen.view.window is screen.window and "loading" not in screen.status_text().plain
        assert screen.window.pages[1].cursor == next_cursor and not screen.window.pages[1].loaded
        await _loaded(pilot)
        assert _positions_asked_since(app, asked) == 0
        await pilot.press("end")  # the rest pages in from the first page's cursor
        await _loaded(pilot)
        assert _positions_asked_since(app, asked) >= 1 and screen.window.pages[1].loaded


async def test_the_list_closed_keeps_its_first_page_only_and_reopened_after_the_update_or_on_another_query_asks(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _opened_in_a_known_update(pilot)
        await pilot.press("end")
        await _loaded(pilot)
        await _closed(pilot)
        assert screen.rows_held == len(screen.window.pages[0].rows) <= FIRST_PAGE and screen.view.window is screen.window
        status = await app.client.state_status()
        app.clock.now = status.next_update  # the next update is due: the page held may be of the last
        asked = await _reopened(pilot, screen)
        assert screen.view.row_count == 0 and screen.window.loading  # nothing of the old, as a new screen
        await _loaded(pilot)
        assert _positions_asked_since(app, asked) == 1 and screen.held_for is not None
        await app.client.state_status()  # the new update, current again
        asked = await _reopened(pilot, screen, app.state.cohorts[0].id)  # another query: one cohort
        assert screen.view.row_count == 0 and screen.window.loading
        await _loaded(pilot)
        assert _positions_asked_since(app, asked) == 1
