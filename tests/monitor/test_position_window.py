"""The positions page window (pure): chaining cursors, never asking twice, bounded rows, cells."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypertui.api.models import Position, PositionsPage
from hypertui.monitor.format import signed_money
from hypertui.monitor.positions import (
    PageWindow,
    PositionQuery,
    SortedRows,
    cells,
    detail_fields,
    next_sort,
    short_address,
)

T0 = datetime(2025, 4, 4, tzinfo=UTC)


def _page(first: int, n: int, more: bool = True) -> PositionsPage:
    rows = [
        Position(
            id=f"{i:x}", address=f"0x{i:040x}", coin="BTC", side="long" if i % 2 else "short", size=1,
            position_value=10, open_time=T0 + timedelta(seconds=i),
        )
        for i in range(first, first + n)
    ]
    return PositionsPage(positions=rows, next_cursor=str(first + n) if more else None)


def test_pages_chain_by_cursor_and_are_asked_for_once():
    w = PageWindow(first_limit=3, limit=5)
    assert w.wanted(0, 10) == [0]
    assert w.begin(0) == (None, 3)
    assert w.wanted(0, 10) == []  # on its way: not again
    w.loaded(0, _page(0, 3), 0)
    assert w.row_count == 3 and w.row(2).id == "2" and w.row(3) is None
    assert w.wanted(0, 2) == []  # everything shown is there
    assert w.wanted(0, 3) == [1]  # the next page when the view reaches past the end
    assert w.begin(1) == ("3", 5)
    w.loaded(1, _page(3, 5, more=False), 0)
    assert w.done and w.row_count == 8 and w.wanted(0, 100) == []


def test_far_pages_are_dropped_and_fetched_again_by_their_cursor():
    w = PageWindow(first_limit=10, limit=10, max_pages=3)
    for i in range(6):
        _, limit = w.begin(i)
        w.loaded(i, _page(i * 10, limit), center_row=i * 10)
        assert w.pages_held <= 3
    assert w.rows_held == 30 and w.row_count == 60
    assert w.row(5) is None and w.row(55).id == f"{55:x}"  # dropped rows keep their numbers
    assert w.wanted(0, 5) == [0]
    assert w.begin(0) == (None, 10)
    w.loaded(0, _page(0, 10), center_row=0)
    assert w.row(5).id == "5" and w.pages_held == 3 and w.row(55) is None


def test_side_filter_keeps_row_numbers_consistent_and_failed_page_can_be_asked_again():
    q = PositionQuery(coin="BTC", side="long")
    w = PageWindow(side=q.side, first_limit=4, limit=4)
    w.begin(0)
    w.failed(0)
    assert w.wanted(0, 10) == [0]
    w.begin(0)
    w.loaded(0, _page(0, 4), 0)
    assert w.row_count == 2 and all(w.row(i).side == "long" for i in range(2))
    assert "filtered here" in q.describe()
    assert q.cycled("status").status == "closed" and q.cycled("window").start(T0) == T0 - timedelta(days=30)


def _load_next(w: PageWindow, page: PositionsPage) -> None:
    i = len(w.pages) - 1
    w.begin(i)
    w.loaded(i, page, center_row=10**9)  # the view at the end: far pages are the first ones


def test_a_position_repeated_across_pages_is_shown_once_even_after_its_page_is_fetched_again():
    w = PageWindow(first_limit=4, limit=4, max_pages=1)
    _load_next(w, _page(0, 4))
    overlap = _page(2, 4)  # rows 2 and 3 again, then 4 and 5
    _load_next(w, PositionsPage(positions=[*overlap.positions, overlap.positions[-1]], next_cursor=None))
    assert [w.row(n).id for n in range(4, 6)] == ["4", "5"] and w.row_count == 6 and w.problem is None
    assert w.pages[0].rows is None  # dropped, then fetched again: it keeps its own rows
    w.begin(0)
    w.loaded(0, _page(0, 4), center_row=0)
    assert [w.row(n).id for n in range(4)] == ["0", "1", "2", "3"] and w.row_count == 6


def test_cursors_that_go_round_stop_paging_with_a_reason():
    w = PageWindow(first_limit=2, limit=2)
    _load_next(w, PositionsPage(positions=_page(0, 2).positions, next_cursor="A"))
    _load_next(w, PositionsPage(positions=_page(2, 2).positions, next_cursor="B"))
    _load_next(w, PositionsPage(positions=_page(4, 2).positions, next_cursor="A"))  # A -> B -> A
    assert w.done and "loop" in w.problem and w.row_count == 6 and len(w.pages) == 3
    assert w.wanted(0, 100) == []


def test_new_cursors_over_the_same_rows_stop_paging_with_a_reason():
    w = PageWindow(first_limit=2, limit=2)
    for n in range(3):  # rows 0-1, 2-3, then 0-1 again, each time under a new cursor
        _load_next(w, PositionsPage(positions=_page(2 * (n % 2), 2).positions, next_cursor=f"c{n + 1}"))
    assert w.done and "loop" in w.problem and w.row_count == 4 and w.wanted(0, 100) == []


def test_cells_are_compact():
    p = _page(0, 1).positions[0]
    c = cells(p)
    assert c["address"] == short_address(p.address) == "0x0000…0000"
    assert c["closed"] == "—" and c["leverage"] == "—"
    assert signed_money(-0.004) == "$0.00" and signed_money(1234.5) == "+$1.23K"


def test_pages_on_screen_are_never_dropped_even_when_sparse():
    q = PositionQuery(coin="BTC", side="long")
    w = PageWindow(side=q.side, first_limit=2, limit=2, max_pages=2)
    for i in range(5):  # one long per page: five pages for five rows on screen
        w.begin(i)
        w.loaded(i, _page(i * 2, 2), center_row=0, shown=(0, 4))
    assert w.row_count == 5 and w.pages_held == 5
    assert w.wanted(0, 4) == [] and w.wanted(0, 5) == [5]  # nothing on screen is fetched again
    w.evict(4, shown=(4, 4))  # scrolled on: the far ones go
    assert w.pages_held == 2 and w.row(4) is not None


def test_a_closed_position_shows_no_distance_to_liquidation_and_last_seen_values():
    open_ = _page(0, 1).positions[0].model_copy(update={"mark_price": 100.0, "liquidation_price": 90.0, "unrealized_pnl": 5.0})
    closed = open_.model_copy(update={"close_time": T0 + timedelta(days=1)})
    assert cells(open_)["dist"] == "10.0%" and cells(closed)["dist"] == "—"
    labels = dict(detail_fields(closed))
    assert labels["Distance to liquidation"] == "closed"
    assert "Mark price (last seen)" in labels and "Unrealised PnL (last seen)" in labels
    assert "Unrealised PnL" in dict(detail_fields(open_))


def test_a_unique_prefix_of_a_loaded_address_completes_it():
    from hypertui.monitor.positions import complete_address

    loaded = ["0xa9e0" + "1" * 36, "0xa9e0" + "2" * 36, "0xbeef" + "3" * 36]
    assert complete_address("0xBEEF", loaded) == (loaded[2], "")  # any case, as the API wants it: lowercase
    assert complete_address("beef33", loaded) == (loaded[2], "")  # 0x may be left out
    assert complete_address(loaded[0].upper().replace("0X", "0x"), []) == (loaded[0], "")  # a whole one needs none loaded
    address, why = complete_address("0xa9e0", loaded)
    assert address is None and "2 loaded addresses start with 0xa9e0" in why
    address, why = complete_address("0xcafe", loaded)
    assert address is None and "No loaded address starts with 0xcafe" in why
    address, why = complete_address("0x", loaded)
    assert address is None and why.startswith("Type some of the address")  # not "Not an address"
    address, why = complete_address("0xnope", loaded)
    assert address is None and why.startswith("Not an address")


def test_sorted_rows_order_what_was_held_and_put_unknown_values_last():
    def pos(i: int, **kw) -> Position:
        return Position(id=str(i), address=f"0x{i:040x}", coin="BTC", side="long", size=1, open_time=T0, **kw)

    rows = [
        pos(0, position_value=50, unrealized_pnl=-5, mark_price=100, liquidation_price=90, cross_leverage=3),
        pos(1, position_value=900, unrealized_pnl=None, mark_price=100, liquidation_price=None, cross_leverage=20),
        pos(2, position_value=300, unrealized_pnl=40, mark_price=100, liquidation_price=98, isolated_leverage=5),
        pos(3, position_value=10, unrealized_pnl=1, mark_price=100, liquidation_price=50,
            close_time=T0 + timedelta(hours=1)),  # closed: nothing left to liquidate, no leverage
    ]
    order = {key: [p.id for p in SortedRows.of(rows, key).rows] for key in ("value", "pnl", "dist", "leverage")}
    assert order == {
        "value": ["1", "2", "0", "3"],
        "pnl": ["2", "3", "0", "1"],
        "dist": ["2", "0", "1", "3"],  # nearest liquidation first; none known last
        "leverage": ["1", "2", "0", "3"],
    }
    assert SortedRows.of(rows, "pnl").describe() == "sorted by uPnL (largest first) within the 4 loaded"
    assert SortedRows.of(rows, "pnl").row(4) is None and SortedRows.of(rows, "pnl").row(-1) is None
    assert [next_sort(k) for k in (None, "value", "pnl", "dist", "leverage")] == ["value", "pnl", "dist", "leverage", None]


def test_held_lists_the_rows_of_the_pages_held_in_the_api_order():
    w = PageWindow(first_limit=3, limit=3, max_pages=1)
    w.begin(0)
    w.loaded(0, _page(0, 3), 0)
    w.begin(1)
    w.loaded(1, _page(3, 3), 4)  # the first page is dropped
    assert [p.id for p in w.held()] == ["3", "4", "5"] and w.row_count == 6


def test_the_dump_command_of_a_query_pages_through_the_same_rows():
    import shlex

    from hypertui.cli import build_parser
    from hypertui.monitor.positions import PositionQuery

    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    query = PositionQuery("xyz:GOLD", 9, status="closed", window="24h", address="0x" + "ab" * 20)
    line = query.dump_command(query.api_params(now), "json")
    args = build_parser().parse_args(shlex.split(line)[1:])
    assert (args.kind, args.all, args.format, args.coin, args.segment) == ("positions", True, "json", "xyz:GOLD", 9)
    assert (args.open, args.address, args.start) == (False, ["0x" + "ab" * 20], "2026-11-19T12:00:00.000Z")
    assert "--segment" not in PositionQuery("BTC").dump_command(PositionQuery("BTC").api_params(now), "csv")


def test_the_side_is_changed_over_the_rows_held_without_a_request_keeping_the_nearest_row():
    w = PageWindow(first_limit=4, limit=4, max_pages=1)
    _load_next(w, _page(0, 4))
    _load_next(w, _page(4, 4, more=False))  # ids 0-7 (odd ones long); the first page is dropped
    fetches = w.fetches
    assert w.row(6).id == "6" and w.row(6).side == "short"
    assert w.show_side("long", 6) == 3  # its nearest long after it: id 7, the 4th long
    assert w.row_count == 4 and w.row(0) is None and [w.row(n).id for n in (2, 3)] == ["5", "7"]
    assert w.show_side("all", 3) == 7  # and back on id 7
    assert w.row_count == 8 and w.show_side("short", 7) == 3  # past the last short: the last row
    assert w.fetches == fetches and w.wanted(0, 3) == [0]  # only the dropped page, if scrolled back to
