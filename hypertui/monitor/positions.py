"""The positions drill-down without Textual: filters, a bounded window of cursor pages, cells.

`PageWindow` holds the pages of one `/positions` query. Pages are numbered in the order the
cursors chain; each keeps the cursor that fetches it and, once loaded, how many rows it holds,
so row numbers stay put when a far page's rows are dropped to bound memory. A dropped page is
fetched again (with its kept cursor) only if the view comes back to it; a page that is held or
on its way is never asked for twice.

A position is shown once, on the first page that brought it: the server may repeat one across
pages. The side filter is applied here (the API has no side parameter): each page keeps every
row it brought and its count per side, so changing the side re-filters what is held without a
request, and row numbers stay right for pages dropped meanwhile. Paging stops, with `problem`
saying why, when a cursor comes back or a page brings nothing new (cursors that go round, or change while the same rows repeat).

`SortedRows` shows the rows held in another order (value, uPnL, distance to liquidation,
leverage): the API orders by open time only, so a sort covers what is loaded, never more.
"""

from __future__ import annotations

import bisect
import re
import shlex
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypertui.api.models import Position, PositionsPage, iso
from hypertui.monitor import format as fmt

FIRST_PAGE = 300  # small first page: a fast first paint
PAGE = 1000  # the API's maximum afterwards
MAX_PAGES = 10  # pages whose rows are held at once (≈ 10,000 rows, ≈ 25 MiB)
DATA_START = datetime(2025, 4, 4, tzinfo=UTC)

STATUSES = ("open", "closed", "all")
ADDRESS = re.compile(r"0x[0-9a-f]{40}")
ADDRESS_PREFIX = re.compile(r"0x[0-9a-f]{1,39}")
WINDOWS = ("since 2025-04-04", "30d", "7d", "24h")
SIDES = ("all", "long", "short")
WINDOW_SPAN = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


def window_of_age(age: str) -> str:
    """The window (WINDOWS) that holds the positions a position age counts (the heatmap's
    `openedWithin`, the coin view's `positionAge`: all, 24h, 7d, 30d), so a list opened from a
    number lists what it counted: "all" is every position since the data starts, the others
    are the same spans before now."""
    return age if age in WINDOW_SPAN else WINDOWS[0]


@dataclass(frozen=True)
class PositionQuery:
    """What the drill-down asks for; the side is filtered here, the API has no side parameter.
    No coin: one wallet's book, every coin it holds (only ever with an address)."""

    coin: str | None
    segment_id: int | None = None
    status: str = "open"
    window: str = WINDOWS[0]
    side: str = "all"
    address: str | None = None  # one wallet (lowercase 0x + 40 hex), or every wallet

    def cycled(self, name: str) -> PositionQuery:
        options = {"status": STATUSES, "window": WINDOWS, "side": SIDES}[name]
        current = getattr(self, name)
        changes: dict[str, Any] = {name: options[(options.index(current) + 1) % len(options)]}
        return replace(self, **changes)

    def start(self, now: datetime) -> datetime:
        span = WINDOW_SPAN.get(self.window)
        return DATA_START if span is None else now - span

    def api_params(self, now: datetime) -> dict:
        """Keyword arguments for `HyperTrackerClient.positions` (without limit and cursor)."""
        open_ = {"open": True, "closed": False}.get(self.status)
        addresses = (self.address,) if self.address else ()
        return {
            "start": self.start(now),
            "coin": self.coin,
            "segment_id": self.segment_id,
            "open": open_,
            "addresses": addresses,
        }

    @property
    def book(self) -> bool:
        """One wallet across every coin."""
        return self.coin is None

    def describe(self) -> str:
        side = "long + short" if self.side == "all" else f"{self.side} only (filtered here)"
        if self.book:
            wallet = f"every coin of wallet {self.address} (/)"
        else:
            wallet = (f"wallet {short_address(self.address)}" if self.address else "every wallet") + " (/ or w)"
        return f"{self.status} (o) · opened {self.window} (t) · {side} (s) · {wallet}"

    def dump_command(self, params: dict, fmt: str) -> str:
        """The `hypertui dump` line that writes every row of this query (`params`: its pinned
        api_params), for a list too long to page through on screen; both sides (dump has no side)."""
        words = ["hypertui", "dump", "positions", "--all", "--format", fmt, "--start", iso(params["start"])]
        if self.coin is not None:
            words += ["--coin", self.coin]
        if self.segment_id is not None:
            words += ["--segment", str(self.segment_id)]
        if params["open"] is not None:
            words.append("--open" if params["open"] else "--closed")
        for address in params["addresses"]:
            words += ["--address", address]
        return shlex.join(words)


@dataclass
class Page:
    cursor: str | None  # the cursor that fetches this page (None: the first)
    limit: int
    rows: list[Position] | None = None  # the rows shown (the side filter's); None: not loaded yet, or dropped
    count: int = 0  # rows it shows once loaded; kept when dropped
    sent: list[Position] | None = None  # every row it brought, whatever the side; None with `rows`
    sides: Counter[str] = field(default_factory=Counter)  # its rows per side; kept when dropped
    loaded: bool = False  # loaded at least once


@dataclass
class PageWindow:
    """The pages of one query, at most `max_pages` of them holding rows."""

    side: str = "all"  # the rows shown: long, short or all (SIDES)
    first_limit: int = FIRST_PAGE
    limit: int = PAGE
    max_pages: int = MAX_PAGES
    pages: list[Page] = field(default_factory=list)
    done: bool = False  # the last page had no next cursor (or came back empty, or looped)
    problem: str | None = None  # why paging stopped early (a cursor loop), for the status line
    inflight: set[int] = field(default_factory=set)
    fetches: int = 0
    params: dict = field(default_factory=dict)  # the query, fixed for all its pages (e.g. `start`)
    _starts: list[int] = field(default_factory=list)  # first row number of each loaded page
    _total: int = 0
    _first_page: dict[str, int] = field(default_factory=dict)  # position id -> the page that shows it

    def __post_init__(self) -> None:
        if not self.pages:
            self.pages.append(Page(None, self.first_limit))

    # --- what is held ----------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """Rows known (loaded at least once), held or not."""
        return self._total

    @property
    def rows_held(self) -> int:
        return sum(len(p.rows) for p in self.pages if p.rows is not None)

    def held(self) -> list[Position]:
        """The rows held now, in the API's order (pages dropped far from the view: not those)."""
        return [p for page in self.pages if page.rows for p in page.rows]

    @property
    def state(self) -> tuple:
        """Changes whenever what a view of these rows shows may have."""
        return self.row_count, self.fetches, len(self.inflight), self.pages_held, self.side

    @property
    def pages_held(self) -> int:
        return sum(1 for p in self.pages if p.rows is not None)

    @property
    def loading(self) -> bool:
        return bool(self.inflight)

    def locate(self, row: int) -> tuple[int, int] | None:
        """(page number, index in page) of a row number, or None past the end."""
        if row < 0 or not self._starts:
            return None
        i = bisect.bisect_right(self._starts, row) - 1
        while i >= 0 and self.pages[i].count == 0:
            i -= 1
        if i < 0 or not self.pages[i].loaded or row - self._starts[i] >= self.pages[i].count:
            return None
        return i, row - self._starts[i]

    def row(self, row: int) -> Position | None:
        """The position at a row number; None if past the end or its page is dropped."""
        where = self.locate(row)
        if where is None:
            return None
        rows = self.pages[where[0]].rows
        return None if rows is None else rows[where[1]]

    # --- what to fetch ---------------------------------------------------------------------

    def wanted(self, first: int, last: int) -> list[int]:
        """Pages to fetch so rows first..last can be shown: dropped ones in range, or the next one
        if `last` reaches past what is loaded. Never a page held or already on its way."""
        out: list[int] = []
        n = self.row_count
        if n:
            a = self.locate(min(max(first, 0), n - 1))
            b = self.locate(min(max(last, 0), n - 1))
            if a is not None and b is not None:
                for i in range(a[0], b[0] + 1):
                    p = self.pages[i]
                    if p.loaded and p.rows is None and i not in self.inflight:
                        out.append(i)
        tail = len(self.pages) - 1
        if (
            not self.done
            and last >= self.row_count
            and not self.pages[tail].loaded
            and tail not in self.inflight
        ):
            out.append(tail)
        return out

    def begin(self, i: int) -> tuple[str | None, int]:
        """Mark page `i` as on its way; its cursor and limit."""
        assert i not in self.inflight and self.pages[i].rows is None
        self.inflight.add(i)
        self.fetches += 1
        return self.pages[i].cursor, self.pages[i].limit

    def failed(self, i: int) -> None:
        self.inflight.discard(i)

    def loaded(self, i: int, result: PositionsPage, center_row: int, shown: tuple[int, int] | None = None) -> None:
        """Store page `i`; chain the next cursor; drop the pages farthest from `center_row`."""
        self.inflight.discard(i)
        page = self.pages[i]
        # By id, in the order sent; a page fetched again keeps the rows it showed the first time.
        fresh = {p.id: p for p in result.positions if self._first_page.setdefault(p.id, i) == i}
        page.sent = list(fresh.values())
        page.sides = Counter(p.side for p in page.sent)
        page.rows = self._shown(page.sent)
        page.count = len(page.rows)
        first_time = not page.loaded
        page.loaded = True
        if first_time and i == len(self.pages) - 1:
            cursor = result.next_cursor
            if not result.positions or not cursor:
                self.done = True
            elif not fresh or any(p.cursor == cursor for p in self.pages):
                self.done = True
                self.problem = "the server's cursor went round in a loop: stopped"
            else:
                self.pages.append(Page(cursor, self.limit))
        self._reindex()
        self.evict(center_row, shown)

    def evict(self, center_row: int, shown: tuple[int, int] | None = None) -> None:
        """Drop the held pages farthest from `center_row` beyond `max_pages`; never one with a row
        in `shown` (first, last row on screen), so a screen of sparse pages cannot thrash."""
        held = [i for i, p in enumerate(self.pages) if p.rows is not None]
        if len(held) <= self.max_pages:
            return
        where = self.locate(self._clamp(center_row))
        center = where[0] if where else len(self.pages) - 1
        keep: set[int] = set()
        if shown is not None:
            a, b = self.locate(self._clamp(shown[0])), self.locate(self._clamp(shown[1]))
            if a is not None and b is not None:
                keep = set(range(a[0], b[0] + 1))
        droppable = sorted((i for i in held if i not in keep), key=lambda i: abs(i - center), reverse=True)
        for i in droppable[: len(held) - self.max_pages]:
            self.pages[i].rows = self.pages[i].sent = None

    def show_side(self, side: str, row: int) -> int:
        """Show only `side` of the rows (no request: each page kept all it brought). Returns
        the row number now of the row nearest to `row` before: that position if still shown,
        else the next one shown after it in the API's order (the last row past the end)."""
        where = self.locate(self._clamp(row))
        page = self.pages[where[0]] if where is not None else None
        anchor = None
        if where is not None and page is not None and page.rows is not None and page.sent is not None:
            at = page.rows[where[1]]
            anchor = (where[0], next(k for k, p in enumerate(page.sent) if p is at))
        self.side = side
        for page in self.pages:
            if page.loaded:
                page.count = page.sides.total() if side == "all" else page.sides[side]
                if page.sent is not None:
                    page.rows = self._shown(page.sent)
        self._reindex()
        if anchor is None:
            return 0
        i, k = anchor
        sent = self.pages[i].sent
        assert sent is not None  # the anchor's page: its rows were just read
        return self._clamp(self._starts[i] + len(self._shown(sent[:k])))

    def _shown(self, rows: list[Position]) -> list[Position]:
        return rows if self.side == "all" else [p for p in rows if p.side == self.side]

    def _clamp(self, row: int) -> int:
        return min(max(row, 0), max(self.row_count - 1, 0))

    def _reindex(self) -> None:
        starts, total = [], 0
        for p in self.pages:
            starts.append(total)
            if p.loaded:
                total += p.count
        self._starts, self._total = starts, total


# --- sorted within what is loaded -------------------------------------------------------------

# Column key -> (label, measure, descending): each sort's most telling end first.
SORTS: dict[str, tuple[str, Callable[[Position], float | None], bool]] = {
    "value": ("value", lambda p: p.position_value, True),
    "pnl": ("uPnL", lambda p: p.unrealized_pnl, True),
    "dist": ("distance to liquidation", lambda p: p.liquidation_distance if p.is_open else None, False),
    "leverage": ("leverage", lambda p: p.leverage[0] if p.leverage else None, True),
}


def next_sort(current: str | None) -> str | None:
    """The sort after `current` (None: the API's order, by open time), round to None again."""
    keys = [None, *SORTS]
    return keys[(keys.index(current) + 1) % len(keys)]


@dataclass(frozen=True)
class SortedRows:
    """The rows a `PageWindow` held when sorted, by one column; rows without that value last.

    A snapshot: nothing is fetched for it, so the order never changes under the cursor."""

    column: str
    rows: list[Position]

    @classmethod
    def of(cls, rows: list[Position], column: str) -> SortedRows:
        _, measure, descending = SORTS[column]
        measured = [(value, p) for p in rows if (value := measure(p)) is not None]
        known = [p for _, p in sorted(measured, key=lambda pair: pair[0], reverse=descending)]  # stable, as by `measure`
        return cls(column, known + [p for p in rows if measure(p) is None])

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def state(self) -> tuple:
        return (self.row_count,)

    def row(self, row: int) -> Position | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def describe(self) -> str:
        label, _, descending = SORTS[self.column]
        end = "largest" if descending else "smallest"
        return f"sorted by {label} ({end} first) within the {fmt.count(self.row_count)} loaded"


# --- cells ------------------------------------------------------------------------------------

Columns = tuple[tuple[str, str, int, str], ...]  # key, label, width, justify
COLUMNS: Columns = (
    ("address", "Address", 13, "left"),
    ("side", "Side", 5, "left"),
    ("size", "Size", 10, "right"),
    ("value", "Value", 8, "right"),
    ("entry", "Entry", 10, "right"),
    ("mark", "Mark", 10, "right"),
    ("liq", "Liq. price", 10, "right"),
    ("dist", "To liq.", 7, "right"),
    ("pnl", "uPnL", 8, "right"),
    ("funding", "Funding", 8, "right"),
    ("leverage", "Leverage", 12, "left"),
    ("opened", "Opened", 16, "left"),
    ("closed", "Closed", 16, "left"),
)


# A wallet's book: one address, many coins; the coin takes the address's place.
BOOK_COLUMNS: Columns = (("coin", "Coin", 13, "left"), *COLUMNS[1:])


def short_address(address: str) -> str:
    return address if len(address) <= 13 else f"{address[:6]}…{address[-4:]}"


def leverage(p: Position) -> str:
    lev = p.leverage
    if lev is None:
        return fmt.DASH
    x, kind = lev
    return f"{x:g}× {kind}"


def when(value: datetime | None) -> str:
    return fmt.DASH if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def distance(p: Position) -> str:
    d = p.liquidation_distance
    return fmt.percent(None if d is None else d * 100)


def cells(p: Position) -> dict[str, str]:
    return {
        "address": short_address(p.address),
        "coin": p.coin,
        "side": p.side,
        "size": fmt.amount(p.size),
        "value": fmt.money(p.position_value),
        "entry": fmt.price(p.entry_price),
        "mark": fmt.price(p.mark_price),
        "liq": fmt.price(p.liquidation_price),
        "dist": distance(p) if p.is_open else fmt.DASH,  # nothing left to liquidate
        "pnl": fmt.signed_money(p.unrealized_pnl),
        "funding": fmt.signed_money(p.funding),
        "leverage": leverage(p),
        "opened": when(p.open_time),
        "closed": when(p.close_time),
    }


def book_totals(rows: list[Position]) -> str:
    """A wallet's book in one line: open value and unrealised PnL of the rows given."""
    value = sum(p.position_value for p in rows)
    pnl = sum(p.unrealized_pnl or 0.0 for p in rows)
    return f"value {fmt.money(value)} · uPnL {fmt.signed_money(pnl)}"


def detail_fields(p: Position) -> list[tuple[str, str]]:
    """Every field of the position, labelled, for the detail view."""
    lev = p.leverage
    # A closed position keeps the values of its last update: say so rather than call them live.
    last = "" if p.is_open else " (last seen)"
    return [
        ("Id", p.id),
        ("Address", p.address),
        ("Coin", p.coin),
        ("Dex", p.dex or fmt.DASH),
        ("Side", p.side),
        ("Size", f"{p.size:,.{p.sz_decimals if p.sz_decimals is not None else 6}f}"),
        ("Position value", fmt.money(p.position_value) + f"  ({p.position_value:,.2f})"),
        ("Entry price", fmt.price(p.entry_price)),
        ("Mark price" + last, fmt.price(p.mark_price)),
        ("Mid price", fmt.price(p.mid_price)),
        ("Premium price", fmt.price(p.premium_price)),
        ("Liquidation price", fmt.price(p.liquidation_price)),
        ("Distance to liquidation", distance(p) if p.is_open else "closed"),
        ("Unrealised PnL" + last, fmt.signed_money(p.unrealized_pnl)),
        ("Funding", fmt.signed_money(p.funding)),
        ("Leverage", leverage(p) if lev else fmt.DASH),
        ("Cross leverage", fmt.ratio(p.cross_leverage, 1)),
        ("Isolated leverage", fmt.ratio(p.isolated_leverage, 1)),
        ("Max leverage", fmt.ratio(p.max_leverage, 1)),
        ("Asset max leverage", fmt.ratio(p.asset_max_leverage, 1)),
        ("Size decimals", fmt.DASH if p.sz_decimals is None else str(p.sz_decimals)),
        ("Opened", when(p.open_time)),
        ("Closed", when(p.close_time) if p.close_time else "open"),
        ("Created", when(p.created_at)),
        ("Updated", when(p.updated_at)),
    ]


def parse_address(text: str) -> str | None:
    """A wallet address as the API wants it (lowercase), or None if `text` is not one."""
    value = text.strip().lower()
    return value if ADDRESS.fullmatch(value) else None


def complete_address(text: str, loaded: Iterable[str]) -> tuple[str | None, str]:
    """What `/` was given, as an address: a whole one, or the one loaded address that starts with
    it (with or without 0x). Returns (address, "") or (None, why not, for the user)."""
    if address := parse_address(text):
        return address, ""
    prefix = text.strip().lower()
    prefix = prefix if prefix.startswith("0x") else "0x" + prefix
    if prefix == "0x":
        return None, "Type some of the address after 0x (a prefix that only one loaded address has)"
    if not ADDRESS_PREFIX.fullmatch(prefix):
        return None, "Not an address: 0x and up to 40 hex digits"
    matches = {a for a in (parse_address(a) for a in loaded) if a and a.startswith(prefix)}
    if len(matches) == 1:
        return matches.pop(), ""
    if matches:
        return None, f"{len(matches)} loaded addresses start with {prefix}: type more of it"
    return None, f"No loaded address starts with {prefix}: type the whole address"
