"""A virtual table of positions on Textual's Line API: only the visible lines are ever drawn.

The widget reads rows from a `PageWindow` or, sorted, a `SortedRows` (hypertui.monitor.positions)
and never fetches: when the view moves it posts `Moved` with the rows it shows, and the screen
decides what to load.
A fixed header line, a cursor row, and a tail line (loading / more / end) below the last row.
Server strings become `Text` (never markup).
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from hypertui.api.models import Position
from hypertui.monitor import format as fmt
from hypertui.monitor.positions import COLUMNS, SORTS, Columns, PageWindow, SortedRows, cells
from hypertui.ui.signals import Signals, signals_of

GAP = 1
WIDTH = sum(w for _, _, w, _ in COLUMNS) + GAP * (len(COLUMNS) - 1) + 1  # BOOK_COLUMNS: the same widths
FROZEN = 1 + COLUMNS[0][2] + GAP  # the address (or a book's coin) column stays put when scrolling sideways


def _line(columns: Columns, values: dict[str, str], styles: dict[str, str] | None = None) -> Text:
    text = Text(" ", no_wrap=True, end="")
    for n, (key, _, width, justify) in enumerate(columns):
        value = values.get(key, "")
        if len(value) > width:
            value = value[: width - 1] + "…"
        value = value.rjust(width) if justify == "right" else value.ljust(width)
        text.append(value, (styles or {}).get(key, ""))
        if n < len(columns) - 1:
            text.append(" " * GAP)
    return text


def _header(columns: Columns, sorted_by: str | None) -> Text:
    """The column labels; a sorted column's ends with ▾ or ▴ (in place of its last letter if need be)."""
    labels = {key: label for key, label, _, _ in columns}
    if sorted_by is not None:
        mark = fmt.sort_mark(SORTS[sorted_by][2])
        width = next(w for key, _, w, _ in columns if key == sorted_by)
        labels[sorted_by] = labels[sorted_by][: width - 1] + mark
    return _line(columns, labels)


def _styles(p: Position, signals: Signals) -> dict[str, str]:
    out = {"side": signals.long if p.side == "long" else signals.short}
    if p.unrealized_pnl:
        out["pnl"] = signals.sign(p.unrealized_pnl)
    d = p.liquidation_distance
    if d is not None:
        out["dist"] = signals.risk(2 if d < 0.05 else 1 if d < 0.15 else 0)
    return out


class PositionsView(ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="positions.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="positions.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="positions.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="positions.page_down"),
        Binding("home", "first", "First", show=False, id="positions.first"),
        Binding("end", "last", "Last loaded", show=False, id="positions.last"),
        Binding("left,h", "scroll_left", "Left", show=False, id="positions.left"),
        Binding("right,l", "scroll_right", "Right", show=False, id="positions.right"),
        Binding("enter", "select", "Details", id="positions.select"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"positions-view--header", "positions-view--cursor", "positions-view--tail"}
    DEFAULT_CSS = """
    PositionsView {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    PositionsView > .positions-view--header {
        text-style: bold;
        background: $panel;
    }
    PositionsView > .positions-view--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    PositionsView:blur > .positions-view--cursor {
        background: $block-cursor-blurred-background;
        text-style: none;
    }
    PositionsView > .positions-view--tail {
        color: $text-muted;
        text-style: italic;
    }
    """

    cursor = reactive(0, always_update=False, repaint=False)

    class Moved(Message):
        """The cursor or the scroll moved: rows first..last are on (or near) screen."""

        def __init__(self, first: int, last: int) -> None:
            self.first = first
            self.last = last
            super().__init__()

    class Selected(Message):
        def __init__(self, position: Position) -> None:
            self.position = position
            super().__init__()

    def __init__(self, columns: Columns = COLUMNS, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns = columns
        self.window: PageWindow | SortedRows | None = None
        self.tail = ""  # what the line under the last row says ("" when there is none)
        self._header = _header(columns, None)
        self._signature: tuple | None = None
        self._lines: dict[tuple[int, bool], tuple[Strip, Style]] = {}  # drawn rows (uncropped), until the data changes

    # --- data --------------------------------------------------------------------------------

    def show(self, window: PageWindow | SortedRows, tail: str) -> None:
        """Point at (new or grown) data; keeps the cursor and scroll unless the window changed."""
        signature = (id(window), tail, *window.state)
        if signature == self._signature:
            return  # nothing new: the cursor moving repaints by itself
        self._signature = signature
        if window is not self.window:
            self.window = window
            self._header = _header(self.columns, window.column if isinstance(window, SortedRows) else None)
            self.cursor = 0
            self.scroll_to(0, 0, animate=False, immediate=True)
        self.tail = tail
        self._lines.clear()
        self.virtual_size = Size(WIDTH, 1 + window.row_count + (1 if tail else 0))
        self.refresh()

    def notify_style_update(self) -> None:
        self._lines.clear()  # focus, blur and theme change the cursor's colours
        super().notify_style_update()

    @property
    def row_count(self) -> int:
        return self.window.row_count if self.window else 0

    @property
    def page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    @property
    def anchor_row(self) -> int:
        """The row the view is about: the cursor if on screen, else the top row (mouse scrolling)."""
        top, bottom = self.visible_rows()
        return self.cursor if top <= self.cursor <= bottom else top

    def visible_rows(self) -> tuple[int, int]:
        top = int(self.scroll_y)
        return top, top + self.page_height - 1

    # --- drawing -----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x = int(self.scroll_x)
        base = self.rich_style
        if y == 0:
            style = self.get_component_rich_style("positions-view--header")
            return self._strip(self._header, base + style, scroll_x, width)
        row = int(self.scroll_y) + y - 1
        n = self.row_count
        if row < n:
            key = (row, row == self.cursor)
            drawn = self._lines.get(key)
            if drawn is None:
                drawn = self._row_strip(row, base)
                if len(self._lines) > 500:
                    self._lines.clear()
                self._lines[key] = drawn
            return self._crop(*drawn, scroll_x, width)
        if row == n and self.tail:
            style = self.get_component_rich_style("positions-view--tail")
            return self._strip(Text(" " + self.tail, no_wrap=True, end=""), base + style, 0, width)
        return Strip.blank(width, base)

    def _row_strip(self, row: int, base: Style) -> tuple[Strip, Style]:
        assert self.window is not None
        p = self.window.row(row)
        if p is None:  # its page was dropped and is on its way again
            text = Text(" ⋯ loading…", no_wrap=True, end="")
            style = self.get_component_rich_style("positions-view--tail")
        else:
            text = _line(self.columns, cells(p), _styles(p, signals_of(self)))
            style = Style()
        if row == self.cursor:
            style = style + self.get_component_rich_style("positions-view--cursor")
        return self._full_strip(text, base + style), base + style

    def _full_strip(self, text: Text, style: Style) -> Strip:
        segments = [Segment(s.text, style + s.style if s.style else style) for s in text.render(self.app.console)]
        return Strip(segments, text.cell_len)

    def _strip(self, text: Text, style: Style, scroll_x: int, width: int) -> Strip:
        return self._crop(self._full_strip(text, style), style, scroll_x, width)

    def _crop(self, strip: Strip, style: Style, scroll_x: int, width: int) -> Strip:
        if scroll_x <= 0 or width <= FROZEN * 2:
            return strip.crop_extend(scroll_x, scroll_x + width, style)
        left = strip.crop_extend(0, FROZEN, style)
        right = strip.crop_extend(FROZEN + scroll_x, scroll_x + width, style)
        return Strip.join([left, right])

    # --- moving ------------------------------------------------------------------------------

    def move_to(self, row: int) -> None:
        """Put the cursor on a row (clamped to the rows known) and scroll it into view."""
        n = self.row_count
        row = max(0, min(row, n - 1)) if n else 0
        self.cursor = row
        top, bottom = self.visible_rows()
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row > bottom:
            self.scroll_to(y=row - self.page_height + 1, animate=False, immediate=True)
        self.refresh()
        self._moved()

    def _moved(self) -> None:
        top, bottom = self.visible_rows()
        first, last = min(top, self.cursor), max(bottom, self.cursor)
        self.post_message(self.Moved(first, last))

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if int(old) != int(new):
            self._moved()

    def action_cursor_up(self) -> None:
        self.move_to(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_to(self.cursor + 1)

    def action_page_up(self) -> None:
        self.move_to(self.cursor - self.page_height)

    def action_page_down(self) -> None:
        self.move_to(self.cursor + self.page_height)

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(self.row_count - 1)

    def action_select(self) -> None:
        if self.window is not None:
            p = self.window.row(self.cursor)
            if p is not None:
                self.post_message(self.Selected(p))

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            row = int(self.scroll_y) + event.y - 1
            if row < self.row_count:
                if row == self.cursor and event.chain > 1:
                    self.action_select()
                self.move_to(row)

    @property
    def cursor_position(self) -> Position | None:
        return self.window.row(self.cursor) if self.window else None
