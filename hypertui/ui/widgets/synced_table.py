"""A DataTable that is given all its rows each refresh and touches only the cells that changed.

Rows are held by position, not by key: when coins trade places (the heatmap sorts by value,
risk by percentage) only the rows that moved are repainted, instead of the whole table. The
cursor follows its row's key and the scroll position stays put, so a refresh never yanks the
view. Cells must be `Text` (a plain `str` would be parsed as markup).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.color import Color
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widgets.data_table import ColumnKey, RowKey

from hypertui.ui import textual_internals as internals

Row = tuple[str, Sequence[Text]]  # key (e.g. the coin), cells in column order
Column = tuple[str, str | Text, int]  # key, label, width


def _signature(cell: Text) -> tuple:
    # Text.__eq__ ignores the base style; a recoloured cell must count as changed.
    return cell.plain, str(cell.style), tuple(cell.spans)


def _segments(console: Console, line: Text) -> list[Segment]:
    """`line.render(console)`, for spans in order that do not overlap (what Text.assemble makes)
    without Rich's general stack of styles (20 µs a cell). Unlike Text.render, a Text without
    spans gets its base style too (Rich applies that when it joins lines)."""
    text, null = line.plain, Style.null()
    base = console.get_style(line.style, default=null)
    segments, at = [], 0
    for start, end, style in line.spans:
        if start < at or start > end or end > len(text):
            return list(line.render(console))  # overlapping or out of range: Rich's general way
        if start == end:
            continue
        if start > at:
            segments.append(Segment(text[at:start], base))
        segments.append(Segment(text[start:end], base + console.get_style(style, default=null)))
        at = end
    if at < len(text):
        segments.append(Segment(text[at:], base))
    return segments


def _line_body(console: Console, cell: Text, inner: int) -> list[Segment]:
    """The segments of a one-line cell fitted to `inner` columns, before padding and row styles.

    Most cells fit: they need only the justification Rich's Lines.justify gives them, done here
    on the segments instead of on a copy of the Text (most of the time of a refresh whose every
    value is new). The spaces it adds carry the cell's own style, as Rich's do.
    """
    justify, plain = cell.justify or "default", cell.plain
    if cell.cell_len > inner or "\t" in plain or justify == "full":  # cut, folded or spread: Rich's way
        overflow = cell.overflow or "fold"
        return _segments(console, cell.wrap(console, inner, justify=justify, overflow=overflow, no_wrap=True)[0])
    segments = _segments(console, cell)
    if cell.overflow == "ignore" or justify not in ("left", "right", "center"):  # wrap leaves these as they are
        return segments
    base = console.get_style(cell.style, default=Style.null())
    if justify == "left":
        return [*segments, Segment(" " * (inner - cell.cell_len), base)]
    kept = len(plain.rstrip())
    if kept < len(plain):  # Rich strips trailing whitespace before it pads
        segments = _first_characters(segments, kept)
    room = inner - cell_len(plain[:kept])
    left = room if justify == "right" else room // 2
    return [Segment(" " * left, base), *segments, Segment(" " * (room - left), base)]


def _first_characters(segments: list[Segment], count: int) -> list[Segment]:
    """The segments of the first `count` characters of the text they spell."""
    kept, at = [], 0
    for segment in segments:
        if at >= count:
            break
        text = segment.text
        kept.append(segment if at + len(text) <= count else Segment(text[: count - at], segment.style))
        at += len(text)
    return kept


def _one_line(body: list[Segment], width: int, padding: int, pre: Style, post: Style) -> list[Segment]:
    """The segments Rich would give for Styled(Padding(cell, (0, padding)), pre, post) on one line
    (without the cell's mouse meta, which DataTable puts in `pre`: see _locate_cell), exactly
    `width` columns: Rich crops a line too wide for its padding (overflow="ignore", say) too."""
    inner = max(width - 2 * padding, 0)
    used = sum(segment.cell_length for segment in body)
    if used > inner:
        body, used = Segment.adjust_line_length(body, inner), inner
    segments = [Segment(" " * padding), *body, Segment(" " * max(width - padding - used, 0))]
    # Segment.simplify(Segment.apply_style(segments, pre, post)) in one pass, without its generators.
    line: list[Segment] = []
    for text, style, _ in segments:
        if not text:
            continue
        if pre:
            style = pre + style
        if post:
            style = style + post if style else post
        if line and line[-1].style == style:
            line[-1] = Segment(line[-1].text + text, style)
        else:
            line.append(Segment(text, style))
    return line


def _joined(cells: list[list[Segment]]) -> list[Segment]:
    """`Segment.simplify` of the cells' segments in a row, for cells that are simplified each on its
    own (cached that way): only where two cells meet can styles still repeat."""
    line: list[Segment] = []
    for segments in cells:
        if line and segments and segments[0].style == line[-1].style:
            line[-1] = Segment(line[-1].text + segments[0].text, line[-1].style)
            line.extend(segments[1:])
        else:
            line.extend(segments)
    return line


def _highlighted(location: Coordinate, row: int, columns: int, cursor_type: str) -> list[bool]:
    """Whether each column of a row is highlighted by a cursor at `location` (DataTable's rule)."""
    if cursor_type == "row":
        return [location.row == row] * columns
    if cursor_type == "column":
        return [column == location.column for column in range(columns)]
    if cursor_type == "cell":
        return [location.row == row and column == location.column for column in range(columns)]
    return [False] * columns


@dataclass(frozen=True)
class _Frame:
    """What every line of one repaint shares."""

    style: Style
    header: Style
    background: Color
    widths: list[int]
    spare: int  # columns right of the last cell
    fits: bool  # the cells and the spare are exactly the widget's width: a line needs no cropping
    header_lines: int
    width: int
    plain: bool  # see _plain_layout
    cursor: Coordinate
    hover: Coordinate
    cursor_type: str
    cell_styles: dict[tuple[bool, bool], tuple[Style, Style]]  # a body cell's (cursor, hover) -> styles around it


class SyncedTable(internals.HookedDataTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("h", "cursor_left", "Left", show=False, id="table.left"),
        Binding("l", "cursor_right", "Right", show=False, id="table.right"),
        # DataTable's home/end go to the first/last column: nothing to see with a row cursor.
        Binding("home", "scroll_top", "First", show=False, id="table.first"),
        Binding("end", "scroll_bottom", "Last", show=False, id="table.last"),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None, **kwargs: Any) -> None:
        super().__init__(id=id, classes=classes, zebra_stripes=False, **kwargs)  # DataTable's own, as given
        self._columns_now: list[Column] = []
        self._column_keys: list[ColumnKey] = []
        self._keys: list[str] = []  # the row key shown at each position
        self._signatures: list[list[tuple]] = []  # per position, per column
        self._look: tuple | None = None  # what every cached cell rendering assumed (see render_lines)
        self._extends: dict[tuple, Style] = {}
        # The view to keep over new columns: the cursor's row key, its column, the scroll.
        self._restore: tuple[str | None, int, tuple[float, float]] | None = None
        self._frame: _Frame | None = None  # set while render_lines runs
        self._cells_at: Callable[[int], Sequence[Text]] = lambda position: ()
        self._stale: set[int] = set()  # positions whose cells were not asked for since the last sync
        # Keyed by content alone: a value seen in any row or earlier refresh is not laid out again.
        self._styled: LRUCache[tuple, list[Segment]] = LRUCache(4096)

    @property
    def row_keys(self) -> list[str]:
        return list(self._keys)

    @property
    def cursor_key(self) -> str | None:
        if not 0 <= self.cursor_row < len(self._keys):
            return None
        return self._keys[self.cursor_row]

    def cell_text(self, key: str, column: str) -> Text:
        """The cell shown for row `key` in `column`."""
        position = self._keys.index(key)
        self._materialize((position,), repaint=False)
        return self.get_cell(f"r{position}", column)

    def set_columns(self, columns: list[Column]) -> None:
        """Replace the columns only if they differ; the rows are then rebuilt on the next sync."""
        if columns == self._columns_now:
            return
        cursor_key, scroll = self.cursor_key, (self.scroll_x, self.scroll_y)
        # The cursor's column by its key: clear() puts the cursor on the first column, and new
        # widths (a resize) or a sort mark are the same columns (the same cohort) for the user.
        column = self.cursor_column
        column_key = self._columns_now[column][0] if 0 <= column < len(self._columns_now) else None
        # Forgotten before clear(): it moves the cursor, and DataTable then reads the new cursor's
        # cell, which must not be one still owed from the last sync (its row is gone).
        self._keys, self._signatures, self._stale = [], [], set()
        self.clear(columns=True)
        # DataTable's own key objects: a dict finds an identical key without calling the keys' __eq__.
        self._column_keys = [self.add_column(label, width=width, key=key) for key, label, width in columns]
        self._columns_now = list(columns)
        keys = [key for key, _, _ in columns]
        self._restore = (cursor_key, keys.index(column_key) if column_key in keys else min(column, len(keys) - 1), scroll)

    def _body_cells(self, row_index: int, row_style: Style, cursors: list[bool], hovers: list[bool]) -> list[list[Segment]]:
        """One row's cells (one line each), laid out once per content and look instead of by
        table version: DataTable lays every cell out again, through Rich's Padding and Styled,
        after any `update_cell`. Equal cells anywhere share a layout; no mouse meta (see
        _locate_cell). The focus and theme are the same for a whole frame: render_lines empties
        the cache when they change, so the key holds only what differs from cell to cell."""
        frame = self._frame
        assert frame is not None
        self._materialize((row_index,), repaint=False)  # scrolled into view since the last sync: built now
        data, signatures = internals.row_cells(self, row_index), self._signatures[row_index]
        styled, cells = self._styled, []
        columns = zip(self._column_keys, frame.widths, cursors, hovers, strict=True)
        for column_index, (column, width, cursor, hover) in enumerate(columns):
            cell = data[column]
            if not isinstance(cell, Text) or "\n" in cell.plain:  # not ours to lay out: DataTable's way
                cell_lines = internals.render_cell(self, row_index, column_index, row_style, width, cursor, hover)
                cells.append(list(Segment.simplify(cell_lines[0])))
                continue
            key = (signatures[column_index], row_style, width, cursor, hover, cell.justify, cell.overflow)
            segments = styled.get(key)
            if segments is None:
                component, post = frame.cell_styles[cursor, hover]
                body = _line_body(self.app.console, cell, max(width - 2 * self.cell_padding, 0))
                segments = styled[key] = _one_line(body, width, self.cell_padding, row_style + component, post)
            cells.append(segments)
        return cells

    # Public handlers: Textual runs a class's own before its base's, so DataTable's read the meta.
    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._locate_cell(event)

    def on_click(self, event: events.Click) -> None:
        self._locate_cell(event)

    def _locate_cell(self, event: events.MouseEvent) -> None:
        """Give an event over a body cell the meta that DataTable's own handlers (run next) read.

        DataTable draws each cell with its coordinates as meta; that made every cell's segments
        unique to where it stands (none shared, none merged), for the sake of the mouse alone.
        """
        if "row" in event.style.meta or not self._plain_layout():
            return  # the header, the space right of the cells, DataTable's own drawing
        offset = event.get_content_offset(self)
        if offset is None:
            return
        top = self._header_lines
        scroll_x, scroll_y = self.scroll_offset  # rounded, as the lines were drawn (mid-animation too)
        row, x = offset.y - top + scroll_y, offset.x + scroll_x
        edges = self._edges()
        if offset.y >= top and 0 <= row < len(self._keys) and edges[0] <= x < edges[-1]:
            event.style += Style.from_meta({"row": row, "column": bisect_right(edges, x) - 1})

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._look = None  # a new theme may change only the cursor's colours: lay cells out again

    @property
    def _header_lines(self) -> int:
        return self.header_height if self.show_header else 0

    def _edges(self) -> list[int]:
        """Where each column starts, and where the last one ends, on the table's lines."""
        widths = (column.get_render_width(self) for column in self.ordered_columns)
        return list(accumulate(widths, initial=internals.row_label_width(self)))

    def render_lines(self, crop: Region) -> list[Strip]:
        # DataTable works these out again for every line (the widget style is a walk up the DOM).
        widths = [column.get_render_width(self) for column in self.ordered_columns]
        label_width = internals.row_label_width(self)
        cells_width = sum(widths) + label_width
        style = self.rich_style  # a walk up the DOM
        look = (style, self.get_pseudo_class_state(), self.show_cursor, internals.hover_cursor_shown(self), self.cursor_type,
                self.cell_padding, self.cursor_foreground_priority, self.cursor_background_priority)
        if look != self._look:
            self._look = look
            self._styled.clear()
            self._extends.clear()
        self._frame = _Frame(
            style=style,
            header=self.get_component_styles("datatable--header").rich_style,
            background=self.background_colors[1],
            widths=widths,
            spare=max(0, self.size.width - cells_width),
            fits=label_width == 0 and cells_width <= self.size.width,
            header_lines=self._header_lines,
            width=self.size.width,
            plain=self._plain_layout(),
            cursor=self.cursor_coordinate,
            hover=self.hover_coordinate,
            cursor_type=self.cursor_type,
            cell_styles={
                (cursor, hover): internals.cell_styles(
                    self, header=False, cursor=cursor, hover=hover,
                    css_foreground=self.cursor_foreground_priority == "css",
                    css_background=self.cursor_background_priority == "css",
                )
                for cursor in (False, True)
                for hover in (False, True)
            },
        )
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def _plain_layout(self) -> bool:
        """No row labels, fixed rows/columns or stripes: the layout the per-frame fast path draws."""
        labels = internals.has_labelled_rows(self) and self.show_row_labels
        return not (self.fixed_rows or self.fixed_columns or self.zebra_stripes or labels)

    def render_line(self, y: int) -> Strip:
        frame = self._frame
        if frame is None or not frame.plain:
            return super().render_line(y)
        scroll_x, scroll_y = self.scroll_offset
        width = frame.width
        if y < frame.header_lines:
            return internals.render_table_line(self, y, scroll_x, scroll_x + width, frame.style)
        # A body line, straight from its cells: DataTable's own path looks up the row by key,
        # builds a cache key of seven reactives and caches a line that the next sync invalidates.
        row_index = y - frame.header_lines + scroll_y
        if row_index >= len(self._signatures):
            return Strip.blank(width, frame.style)
        cells = self._row_cells(row_index, 0, frame.style)
        if scroll_x == 0 and frame.fits:  # every cell is as wide as its column: no crop, no measuring
            return Strip(_joined(cells), width)
        line = list(chain.from_iterable(cells))
        return Strip(line).crop(scroll_x, scroll_x + width).adjust_cell_length(width, frame.style).simplify()

    def row_line(
        self, row_key: RowKey, line_no: int, base_style: Style, cursor_location: Coordinate, hover_location: Coordinate
    ) -> tuple[list[list[Segment]], list[list[Segment]]]:
        if self._frame is None or not self._frame.plain:
            return super().row_line(row_key, line_no, base_style, cursor_location, hover_location)
        row_index = internals.row_index(self, row_key)
        return [], self._row_cells(row_index, line_no, self._frame.header if row_index == -1 else base_style)

    def _row_cells(self, row_index: int, line_no: int, row_style: Style) -> list[list[Segment]]:
        """One line of a row (-1: the header) in the plain layout, cell by cell, then the space right of them."""
        frame = self._frame
        assert frame is not None
        cursors = _highlighted(frame.cursor, row_index, len(frame.widths), frame.cursor_type)
        hovers = _highlighted(frame.hover, row_index, len(frame.widths), frame.cursor_type)
        if row_index < 0:  # DataTable's own header cells: labels, with their mouse meta
            cells = [
                internals.render_cell(self, row_index, column_index, row_style, width, cursor, hover)[line_no]
                for column_index, (width, cursor, hover) in enumerate(zip(frame.widths, cursors, hovers, strict=True))
            ]
        else:
            cells = self._body_cells(row_index, row_style, cursors, hovers)
        cells.append([Segment(" " * frame.spare, self._extend_style(row_index, row_style))])
        return cells

    def _extend_style(self, row_index: int, row_style: Style) -> Style:
        """The style of the space right of the last cell, as DataTable draws it."""
        frame = self._frame
        assert frame is not None
        if frame.cursor_type == "row":
            hover = _highlighted(frame.hover, row_index or 0, 1, "row")[0]
            key: tuple = (row_index, row_style, hover, row_index == frame.cursor.row)
        else:
            key = (row_index, row_style)
        style = self._extends.get(key)
        if style is None:
            if frame.cursor_type == "row":
                extend, _ = internals.cell_styles(self, header=row_index == -1, cursor=key[3], hover=key[2])
                extend = row_style + extend
            elif row_style.bgcolor is not None:
                faded = Color.from_rich_color(row_style.bgcolor).blend(frame.background, factor=0.25)
                extend = Style.from_color(color=row_style.color, bgcolor=faded.rich_color)
            else:
                extend = Style.from_color(row_style.color, row_style.bgcolor)
            style = self._extends[key] = extend + Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        return style

    def _refresh_cells(self, cells: list[Coordinate]) -> None:
        """Repaint just these cells (DataTable's refresh_coordinate sums every row above each one),
        neighbours in a row as one region: the compositor joins them anyway, after handling
        each region on its own (a changed heatmap has hundreds)."""
        edges = self._edges()
        top = self._header_lines
        window, scroll = self.window_region, self.scroll_offset
        runs: list[list[int]] = []  # [row, first column, last column]
        for row, column in sorted(cells):
            if not window.y <= top + row < window.bottom:
                continue  # most dirty rows of a long table are out of view
            if runs and runs[-1][0] == row and runs[-1][2] == column - 1:
                runs[-1][2] = column
            else:
                runs.append([row, column, column])
        regions = [Region(edges[first], top + row, edges[last + 1] - edges[first], 1) for row, first, last in runs]
        visible = [region.translate(-scroll) for region in regions if window.overlaps(region)]
        if visible:
            self.refresh(*visible)

    def sync(self, rows: list[Row]) -> None:
        """Show exactly `rows`, in order, repainting only cells whose content changed."""
        self.sync_lazy([key for key, _ in rows], lambda position: rows[position][1])
        self._materialize(range(len(rows)), repaint=True)

    def sync_lazy(self, keys: list[str], cells_at: Callable[[int], Sequence[Text]]) -> None:
        """Show rows `keys`, asking `cells_at(position)` for a row's cells only when it is in view
        (now, or when scrolled to, or read): a long table's refresh builds only what is seen."""
        cursor_key, cursor_column = self._restore[:2] if self._restore else (self.cursor_key, self.cursor_column)
        cursor_row, rows_before = self.cursor_row, len(self._signatures)
        blank = [Text("") for _ in self._columns_now]
        for position in range(len(self._signatures), len(keys)):
            self.add_row(*blank, key=f"r{position}")
            self._signatures.append([_signature(c) for c in blank])
        if len(self._signatures) > len(keys):  # in one step: remove_row renumbers every row left, each time
            internals.remove_last_rows(self, len(self._signatures) - len(keys))
        del self._signatures[len(keys) :]
        if len(keys) != rows_before:  # the new height at once, laid out in this frame (DataTable's on idle: a frame later)
            self.measure_rows([])
        self._keys, self._cells_at, self._stale = list(keys), cells_at, set(range(len(keys)))
        if self._restore:
            self.scroll_to(*self._restore[2], animate=False, immediate=True)
            self._restore = None
        if keys:
            index = keys.index(cursor_key) if cursor_key in keys else min(cursor_row, len(keys) - 1)
            if (index, cursor_column) != (self.cursor_row, self.cursor_column):
                self.move_cursor(row=index, column=cursor_column, scroll=False)
        self._materialize(self._rows_in(self.window_region.y, self.window_region.bottom), repaint=True)

    def _rows_in(self, top: int, bottom: int) -> range:
        """Row positions on the lines [top, bottom) of the table's virtual area (header included)."""
        header = self._header_lines
        return range(max(0, top - header), max(0, bottom - header))  # every row is one line high

    def _materialize(self, positions: Iterable[int], *, repaint: bool) -> None:
        """Ask for the cells of these rows if not yet current; repaint those that changed if asked."""
        stale = self._stale
        positions = [position for position in positions if position in stale] if stale else []
        if not positions:
            return
        column_keys = self._column_keys
        dirty: list[Coordinate] = []
        for position in positions:
            stale.discard(position)
            shown, old = internals.row_cells(self, position), self._signatures[position]
            for i, (column, cell) in enumerate(zip(column_keys, self._cells_at(position), strict=True)):
                if shown[column] is cell:  # callers reuse unchanged cells: no signature to work out
                    continue
                signature = _signature(cell)
                if signature != old[i]:
                    # Not update_cell: it repaints the whole table, and every byte goes to the terminal.
                    shown[column] = cell
                    old[i] = signature
                    dirty.append(Coordinate(position, i))
        if dirty:
            internals.invalidate_row_caches(self)
            if repaint:
                self._refresh_cells(dirty)

    def get_row_at(self, row_index: int) -> list:
        self._materialize((row_index,), repaint=False)
        return super().get_row_at(row_index)

    def measure_rows(self, new_rows: Iterable[RowKey]) -> None:
        # DataTable measures every cell of every new row, for auto-width columns, labels and
        # auto-height rows; sync adds none of those (fixed widths, one unlabelled line per row),
        # and the measuring was most of a first load: a long heatmap's rows arrive all at once.
        new_rows = list(new_rows)
        rows = [self.rows[key] for key in new_rows if key in self.rows]
        if any(c.auto_width for c in self.columns.values()) or any(r.label is not None or r.auto_height for r in rows):
            super().measure_rows(new_rows)  # measures through get_row_at: builds every row
            return
        width = sum(column.get_render_width(self) for column in self.columns.values())
        self.virtual_size = Size(width + internals.row_label_width(self), internals.total_row_height(self) + self._header_lines)
        internals.show_scrollbars_for(self)

    def get_cell_at(self, coordinate: Coordinate) -> object:
        self._materialize((coordinate[0],), repaint=False)
        return super().get_cell_at(coordinate)
