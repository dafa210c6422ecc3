"""The positions drill-down (GET /positions) for one coin × cohort, a wallet's book (every coin
of one address: the same query by address, without a coin), and a position's details.

Pushed over the dashboard, which stays alive underneath (its cursor and scroll are untouched).
Rows load lazily: a small first page, then 1,000-row pages fetched in a worker when the view
comes within a screen of the end of what is loaded. At most `MAX_PAGES` pages hold rows; the
pages far from the cursor are dropped and fetched again (by their kept cursor) if revisited.
`S` sorts the rows held (the API only orders by open time): no request, and no paging while sorted.
`s` (side) filters the rows held, without a request either: the API has no side parameter.
`r` reloads from the first page; the rows held stay on screen until it is in, and with its error
if it fails (as the dashboard keeps its panels, marked stale).
The coin × cohort list is kept between openings (a wallet's book is not): opened again it starts
from its new query as a new one would; closed, it cancels the pages on their way and drops every
row it held (a window of up to `MAX_PAGES` pages) but its query's first page (≤ 300 rows) while
the API update that page is of is current: opened again on the same query (coin, cohort, window,
as a new screen opens them) while it still is (state/status, as last read, names it and its next
update is not due), it shows that page in its first frame and asks nothing (a request costs a
token), and the rest pages in from that page's cursor as the view scrolls. Otherwise it starts
empty and asks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Static

from hypertui.api.client import HyperTrackerClient
from hypertui.api.errors import error_line
from hypertui.api.models import Position, PositionsPage, Segment
from hypertui.monitor import export
from hypertui.monitor import format as fmt
from hypertui.monitor.coin_rows import cohort_title
from hypertui.monitor.positions import (
    BOOK_COLUMNS,
    COLUMNS,
    WINDOWS,
    PageWindow,
    PositionQuery,
    SortedRows,
    book_totals,
    complete_address,
    detail_fields,
    next_sort,
    parse_address,
)
from hypertui.ui.screens.drilldown import Clock, DrillDownScreen, Part, drill_down_bindings, status_line
from hypertui.ui.widgets.coin_filter import _without_forbidden
from hypertui.ui.widgets.footer import Footer
from hypertui.ui.widgets.positions_view import PositionsView


def cohort_label(cohorts: list[Segment] | None, segment_id: int | None) -> str:
    if segment_id is None:
        return "all cohorts"
    seg = next((s for s in cohorts or [] if s.id == segment_id), None)
    return cohort_title(seg) if seg else f"cohort {segment_id}"


def first_page_of(window: PageWindow) -> PageWindow:
    """A new window of both sides holding only `window`'s first page (loaded) as it came, its
    next page (by the cursor that page gave) still to fetch: what its first answer alone left."""
    sent = window.pages[0].sent
    assert sent is not None, "the first page is held"
    next_cursor = window.pages[1].cursor if len(window.pages) > 1 else None  # None: it was the last
    first = PageWindow(params=window.params)
    first.begin(0)
    first.loaded(0, PositionsPage(positions=sent, next_cursor=next_cursor), 0)
    return first


def position_cohorts(cohorts: list[Segment] | None, position: Position) -> list[str]:
    """The wallet's two cohorts (size, pnl) as its profile names them."""
    ids = position.profile.segments if position.profile else []
    return [cohort_label(cohorts, sid) for sid in ids]


class PositionsScreen(DrillDownScreen):
    BINDINGS = drill_down_bindings(
        "positions",
        Binding("o", "cycle('status')", "Open/closed", id="positions.status"),
        Binding("t", "cycle('window')", "Opened within", id="positions.window"),
        Binding("s", "cycle('side')", "Side", id="positions.side"),
        Binding("S", "sort", "Sort the loaded rows", show=False, id="positions.sort"),  # the filters line says so
        Binding("r", "retry", "Retry/reload", id="positions.retry"),
        Binding("w", "wallet", "This wallet", id="positions.wallet"),
        Binding("b", "book", "The wallet's book: every coin", show=False, id="positions.book"),  # the filters line says so
        Binding("slash", "address", "Address", key_display="/", id="positions.address"),
        Binding("c", "copy_address", "Copy address", id="positions.copy_address"),
    )

    def __init__(
        self, client: HyperTrackerClient, clock: Clock, query: PositionQuery, cohort: str, cohorts: list[Segment] | None
    ) -> None:
        """`cohorts`: every cohort, to name a wallet's two (its details, its book)."""
        super().__init__(client, clock, id="book" if query.book else "positions")  # a book opens over a list: ids unique
        self.filters = query
        self.cohort = cohort
        self.cohorts = cohorts
        self.window = self._new_window()
        self.sorted: SortedRows | None = None  # the rows held, in another order (S)
        self.reloading: PageWindow | None = None  # r's new first page, on its way or failed: `window` shown meanwhile
        self.error: str | None = None
        self._shown: dict[str, Text] = {}
        self._book_line: tuple[PageWindow, tuple, str] | None = None  # (window, its state, the book's totals)
        # The query (both sides) and API update (None: not known) the window's first page is of,
        # loaded; None while it is on its way or failed.
        self.held_for: tuple[PositionQuery, datetime | None] | None = None

    def _new_window(self) -> PageWindow:
        return PageWindow(side=self.filters.side)

    def refill(self) -> None:
        """Afresh for `filters`, `cohort` and `cohorts` (set before): no sort, error or address
        box, the cursor and scroll at the top, and the first page: the one held if it is of these
        filters in the API's current update (shown as it is, asked for by nobody), else asked for."""
        self.release()
        if self.held_for is not None and self.held_for[0] != self.filters:
            self._drop_rows()  # release kept it only while its update is current
        box = self.query_one(AddressFilter)
        box.value, box.display = "", False
        self._show_crumb()
        self.view.focus()
        if self.held_for is None:
            self._load_first_page()
        self._show()
        self._fetch_wanted()

    def release(self) -> None:
        """Closed: every row goes but the query's first page, kept (both sides, none sorted)
        while the API update it is of is current; pages on their way are cancelled."""
        window, held = self.window, self.held_for
        self._drop_rows()
        if held is not None and window.pages[0].sent is not None and self.update_is_current(held[1]):
            self.window, self.held_for = first_page_of(window), held
        self.view.show(self.window, "")  # the view lets go of the old window, its cursor and scroll back at the top

    def _load_first_page(self, window: PageWindow | None = None) -> None:
        """`window`'s first page (the one shown's by default), its params pinned now."""
        self._pin_params(window)
        self._load_page(0, window)

    def compose(self) -> ComposeResult:
        # The first page needs nothing from the screen: asked for now, it travels while the
        # screen is built and styled (~30 ms) and often arrives in time for the first frame.
        self._load_first_page()
        yield Static(id="positions-crumb")
        yield Static(id="positions-filters")
        yield AddressFilter()
        yield PositionsView(BOOK_COLUMNS if self.filters.book else COLUMNS, id="positions-view")
        yield Static(id="positions-status")
        yield Footer()

    def _show_crumb(self) -> None:
        f = self.filters
        where = f"wallet {f.address}" if f.book else f.coin
        crumb = Text.assemble(
            ("Dashboard", "dim"), " › ", (where or "", "bold"), " › ", self.cohort, " › ",
            ("book" if f.book else "positions", "bold"),
        )
        self.query_one("#positions-crumb", Static).update(crumb)

    def on_mount(self) -> None:
        self._show_crumb()
        self.view.focus()
        self._show()
        self._fetch_wanted()  # whatever more the view's height needs

    @property
    def view(self) -> PositionsView:
        return self.query_one(PositionsView)

    @property
    def rows_held(self) -> int:
        return self.window.rows_held

    # --- paging ----------------------------------------------------------------------------

    def _fetch_wanted(self) -> None:
        """Start a worker for each page the view needs (none while an error waits for `r`, nor
        while sorted: a sort covers the rows it was given)."""
        if self.error is not None or not self.is_attached or self.sorted is not None or self.closed or self.reloading is not None:
            return
        view = self.view
        first, last = view.visible_rows()
        if view.anchor_row == view.cursor:
            first, last = min(first, view.cursor), max(last, view.cursor)
        ahead = view.page_height  # prefetch: within one screen of the end of what is loaded
        self._pin_params()
        for i in self.window.wanted(first, last + ahead):
            self._load_page(i)
        self._show()

    def _pin_params(self, window: PageWindow | None = None) -> None:
        window = self.window if window is None else window
        if not window.params:  # "24h" means 24 h before the first page, for every page
            window.params = self.filters.api_params(self.clock())

    def _load_page(self, i: int, window: PageWindow | None = None) -> None:
        window = self.window if window is None else window
        cursor, limit = window.begin(i)
        self._load(window, i, cursor, limit)

    # Not exclusive: the pages the view needs load side by side. New filters cancel the group
    # (_restart), and an answer for a window no longer shown is dropped.
    @work(group="positions", exit_on_error=False)
    async def _load(self, window: PageWindow, i: int, cursor: str | None, limit: int) -> None:
        asked_in = self.api_update()
        try:
            page = await self.client.positions(limit=limit, next_cursor=cursor, **window.params)
        except Exception as exc:  # noqa: BLE001 - shown on the status line; the rows stay
            if window is self.window or window is self.reloading:
                window.failed(i)
                self.error = error_line(exc)
                self._show()
            return
        if window is self.reloading:  # a reload's first page: its rows replace those shown
            self.window, self.reloading, self.sorted = window, None, None
        if window is not self.window:
            return  # the filters changed while it was on its way
        window.loaded(i, page, self.view.anchor_row, self.view.visible_rows())
        if i == 0:  # the side is filtered here: the page holds both
            self.held_for = replace(self.filters, side="all"), self.answered_in(asked_in)
        self._show()
        self.call_after_refresh(self._fetch_wanted)  # a filtered-out page may leave the view short

    def on_positions_view_moved(self, event: PositionsView.Moved) -> None:
        event.stop()
        if self.sorted is not None:  # its rows are all in memory; row numbers are not the window's
            return
        self.window.evict(self.view.anchor_row, self.view.visible_rows())
        self._fetch_wanted()

    # --- showing ---------------------------------------------------------------------------

    def _tail(self) -> str:
        w = self.window
        if self.sorted is not None:
            return "end of the loaded rows (S: next order)"
        if self.error is not None:
            return "✗ reload failed: the rows of the last load — r retries" if self.reloading else "✗ page failed — r retries"
        if w.done:
            return w.problem or ("" if w.row_count else "no positions match")
        if w.loading:
            return "⋯ loading…"
        return "⋯ more below"

    def status_text(self) -> Text:
        w = self.window
        n = w.row_count
        if w.done:
            count = f"{fmt.count(n)} position{'' if n == 1 else 's'} ({f'stopped: {w.problem}' if w.problem else 'all loaded'})"
        elif not n:  # never "more…" beside none: paging waits for r or a first page
            count = "loading…" if w.loading else "none loaded"
        else:
            count = f"{fmt.count(n)} loaded · more…"
        held_rows = f" · {fmt.count(w.rows_held)} row{'' if w.rows_held == 1 else 's'} held"
        parts: list[Part] = [f" {count}", (held_rows, "dim")]
        if self.filters.book and w.row_count:
            parts.append(self._book_totals(w))
        if self.sorted is not None:
            parts = [(f" {self.sorted.describe()}", "bold"), " (S) │", *parts]
        reloading = self.reloading is not None and self.error is None
        return status_line(parts, loading=reloading, error=self.error)  # else loading is said by the count

    def _book_totals(self, w: PageWindow) -> str:
        """The book's value and uPnL over the rows held, summed again only when those change (the
        status line is redrawn on every cursor move)."""
        line = self._book_line
        if line is None or line[0] is not w or line[1] != w.state:
            held = w.held()
            text = f" · {book_totals(held)}" + ("" if w.done and len(held) == w.row_count else " (of the rows held)")
            line = self._book_line = (w, w.state, text)
        return line[2]

    def _show(self) -> None:
        if not self.is_attached:
            return
        for where, text in (
            ("#positions-filters", Text(f" {self.filters.describe()} · sort (S) · wallet's book (b)", style="dim")),
            ("#positions-status", self.status_text()),
        ):
            if self._shown.get(where) != text:  # an update relayouts: only when the line changed
                self._shown[where] = text
                self.query_one(where, Static).update(text)
        self.view.show(self.sorted or self.window, self._tail())

    # --- actions ---------------------------------------------------------------------------

    def action_back(self) -> None:
        box = self.query_one(AddressFilter)
        if box.display:  # escape in the address box closes it
            box.display = False
            self.view.focus()
            return
        super().action_back()

    def action_wallet(self) -> None:
        """Only the wallet under the cursor (again: every wallet)."""
        if self.filters.book:
            self.notify("This is one wallet's book: / opens another wallet's", timeout=3)
            return
        if self.filters.address:
            self._set_address(None)
            return
        p = self.view.cursor_position
        if p is not None:
            self._set_address(parse_address(p.address) or p.address)

    def action_address(self) -> None:
        box = self.query_one(AddressFilter)
        box.value = self.filters.address or ""
        box.display = True
        self.call_after_refresh(box.focus)  # after this key is done: it must not be typed into the box

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        address, problem = complete_address(text, self._loaded_addresses()) if text else (None, "")
        if problem:
            self.notify(problem, severity="warning", timeout=3)
            return
        event.input.display = False
        self.view.focus()
        self._set_address(address)

    def _loaded_addresses(self) -> set[str]:
        return {p.address for p in self.window.held()}

    def action_copy_address(self) -> None:
        p = self.view.cursor_position
        if p is not None:
            copy_address(self, p.address)

    def action_book(self) -> None:
        p = self.view.cursor_position
        if p is not None:
            self.open_book(p)

    def open_book(self, position: Position) -> None:
        """Push the book of the position's wallet: its open positions on every coin (one query by
        address, paged like any positions list), titled with its two cohorts."""
        address = parse_address(position.address) or position.address
        shown = next((s for s in reversed(self.app.screen_stack) if isinstance(s, PositionsScreen)), None)
        if shown is not None and shown.filters.book and shown.filters.address == address:
            self.app.notify("This wallet's book is open already", timeout=3)
            return
        cohorts = " · ".join(position_cohorts(self.cohorts, position)) or "cohorts unknown"
        query = PositionQuery(coin=None, address=address)
        self.app.push_screen(PositionsScreen(self.client, self.clock, query, cohorts, self.cohorts))

    def _set_address(self, address: str | None) -> None:
        if address is None and self.filters.book:  # every position of every coin: not a book
            self.notify("A wallet's book needs an address", severity="warning", timeout=3)
            return
        if address != self.filters.address:
            self.filters = replace(self.filters, address=address)
            self._restart()

    def action_cycle(self, name: str) -> None:
        self.filters = self.filters.cycled(name)
        if name == "side":
            self._show_side()
        else:
            self._restart()

    def _show_side(self) -> None:
        """The rows held, filtered to the new side here: nothing is fetched again, and the cursor
        stays on its position or the nearest one after it. Sorted, the new rows show their top."""
        row = self.window.show_side(self.filters.side, self.view.cursor)
        if self.sorted is not None:
            self.sorted, row = SortedRows.of(self.window.held(), self.sorted.column), 0
        self._show()
        self.view.move_to(row)
        self._fetch_wanted()  # fewer rows may leave the view short: the next page, as when scrolling

    def _restart(self) -> None:
        self._drop_rows()
        self._show()
        self._fetch_wanted()

    def _drop_rows(self) -> None:
        """No rows held, none on their way, no error: a new window for the filters."""
        self.workers.cancel_group(self, "positions")
        self.window = self._new_window()
        self.sorted = None  # new rows: in the API's order until sorted again
        self.error = self.reloading = self.held_for = None

    def action_sort(self) -> None:
        """The rows held now in the next order: value, uPnL, distance to liquidation, leverage,
        then the API's (by open time) again, where paging goes on. Nothing is fetched."""
        column = next_sort(self.sorted.column if self.sorted else None)
        self.sorted = SortedRows.of(self.window.held(), column) if column else None
        self._show()
        self._fetch_wanted()

    def action_retry(self) -> None:
        """After a page failed: ask again for it. Otherwise (a reload failed too): reload from the top."""
        if self.error is not None and self.reloading is None:
            self.error = None
            self._fetch_wanted()
        else:
            self._reload()

    def _reload(self) -> None:
        """The list again from its first page (its start pinned anew), the rows held on screen
        until that page is in: its rows replace them then, and a failure leaves them."""
        self.error = None
        self.reloading = self._new_window()
        self._load_first_page(self.reloading)
        self._show()

    @property
    def exports_partial(self) -> bool:
        """Whether the rows held leave some out: more on the server, or pages far away dropped."""
        w = self.window
        return not w.done or len(w.held()) < w.row_count

    def export_tables(self) -> list[export.Table]:
        """The rows held now, in the order on screen (pages far from the cursor may have been
        dropped: not those)."""
        held = self.sorted.rows if self.sorted is not None else self.window.held()
        f = self.filters
        name = " ".join(
            ["positions", f.coin or "book", self.cohort, f.status]
            + ([] if f.window == WINDOWS[0] else [f.window])  # every filter in effect, so two files never look alike
            + ([] if f.side == "all" else [f.side])
            + ([] if self.sorted is None else [f"by {self.sorted.column}"])
            + ([f.address[:10]] if f.address else [])
            + (["partial"] if self.exports_partial else [])
        )
        return [export.Table(name, lambda: [export.api_json(p) for p in held])] if held else []

    def export_note(self, fmt: str) -> str:
        if not self.exports_partial:
            return ""
        # Every row costs a request per 1,000: the command line pages through them into a file.
        w = self.window
        self._pin_params()
        more = "" if w.done else "+"
        return (
            f"Partial: {len(w.held()):,} of {w.row_count:,}{more} positions, the rows held now. Every row, "
            f"a request per 1,000: {self.filters.dump_command(w.params, fmt)} > positions.{fmt}"
        )

    def on_positions_view_selected(self, event: PositionsView.Selected) -> None:
        event.stop()
        self.app.push_screen(PositionDetail(event.position, self.cohorts, self.open_book))


class AddressFilter(Input, inherit_bindings=False):
    """`/`: one wallet's positions (enter applies, empty clears, escape closes)."""

    BINDINGS = _without_forbidden(Input.BINDINGS)

    def __init__(self) -> None:
        super().__init__(placeholder="wallet address 0x…  (enter applies, empty clears)", id="positions-address",
                         select_on_focus=False)
        self.cursor_blink = False


def copy_address(screen: Screen, address: str) -> None:
    """To the terminal's clipboard by OSC 52, which also works over SSH (where the terminal allows it)."""
    screen.app.copy_to_clipboard(address)
    screen.notify(f"Copied {address}", title="Clipboard (OSC 52)", timeout=3, markup=False)


class PositionDetail(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace,q,enter", "dismiss", "Close", id="position.close"),
        Binding("c", "copy_address", "Copy address", id="position.copy_address"),
        Binding("b", "book", "The wallet's book", id="position.book"),
    ]

    def action_copy_address(self) -> None:
        copy_address(self, self.position.address)

    def action_book(self) -> None:
        self.dismiss()
        self.open_book(self.position)

    def __init__(self, position: Position, cohorts: list[Segment] | None, open_book: Callable[[Position], None]) -> None:
        """`open_book`: the positions screen's, which has the client to page through the book with."""
        super().__init__(id="position-detail")
        self.position = position
        self.cohorts = cohorts
        self.open_book = open_book

    def wallet_cohorts(self) -> list[str]:
        return position_cohorts(self.cohorts, self.position)

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim", no_wrap=True)
        table.add_column()
        cohorts = self.wallet_cohorts()
        table.add_row(Text("Cohorts"), Text(" · ".join(cohorts) if cohorts else fmt.DASH, style="bold"))
        for label, value in detail_fields(self.position):
            table.add_row(Text(label), Text(value, overflow="fold"))  # folded, never cut: an address is copied whole
        with VerticalScroll(id="position-box") as box:
            box.border_title = Text(f"{self.position.coin} {self.position.side}")
            box.border_subtitle = "c copies the address · b the wallet's book · escape closes"
            yield Static(table, id="position-fields")
