"""Every use of Textual's private API by the widgets and drill-down screens, each named with why.

Textual (pinned: 8.2.8) may rename or drop any of these in a release without notice. Kept here,
they are found in one place on an upgrade, and tests/ui/test_textual_internals.py fails naming
the attribute that moved (it checks every name in `PRIVATE` on the real classes). Nothing outside
this module reaches for a private Textual name in ui/widgets or ui/screens (the test checks
that too).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import textual.keys as textual_keys
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual._time import get_time  # the parser's clock
from textual._xterm_parser import XTermParser  # the keys' parser of Textual's drivers; textual exports none
from textual.app import App
from textual.binding import BindingsMap
from textual.content import Content
from textual.coordinate import Coordinate
from textual.dom import DOMNode
from textual.driver import Driver
from textual.filter import LineFilter
from textual.geometry import Region, Size
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable, OptionList
from textual.widgets.data_table import ColumnKey, RowKey
from textual.widgets.option_list import Option

__all__ = [
    "PRIVATE",
    "HookedApp",
    "HookedDataTable",
    "HookedScreen",
    "XTermParser",
    "breakpoint_classes",
    "cell_styles",
    "escape_wait_left",
    "has_labelled_rows",
    "hover_cursor_shown",
    "invalidate_row_caches",
    "key_parser",
    "line_filters",
    "merged_bindings",
    "normalized_keys",
    "own_bindings",
    "refresh_options",
    "remove_last_rows",
    "render_cell",
    "render_table_line",
    "replace_one_line_prompt",
    "row_cells",
    "row_index",
    "row_label_width",
    "set_border_text",
    "set_line_filters",
    "show_scrollbars_for",
    "total_row_height",
]

# Each private name used below, on the class that defines it (on an instance: set in __init__).
PRIVATE: dict[Any, tuple[str, ...]] = {
    textual_keys: ("_normalize_key_list",),
    App: (
        "_filters", "_handle_exception", "_background_screens", "_replace_screen", "_screen_stacks", "_prune",
        "_batch_count", "_begin_batch", "_end_batch",
    ),
    Screen: (
        "_get_breakpoint_classes", "_on_timer_update", "_repaint_required", "_layout_required", "_scroll_required",
        "_dirty_widgets",
    ),
    Widget: ("_border_title", "_border_subtitle", "_refresh_scrollbars"),
    DOMNode: ("_merged_bindings", "_bindings"),
    XTermParser: ("_timeout_time",),
    Driver: ("_debug",),
    Option: ("_set_prompt",),
    OptionList: ("_option_render_cache", "_index_to_line", "_heights"),
    DataTable: (
        "_data", "_row_locations", "_row_label_column_width", "_labelled_row_exists", "_total_row_height",
        "_show_hover_cursor", "_update_count", "_get_styles_to_render_cell", "_render_cell", "_render_line",
        "_render_line_in_row", "_update_dimensions", "_require_update_dimensions", "_updated_cells", "_size_updated",
    ),
}

# --- App, screens, bindings (ui/app.py, ui/screens/dashboard.py, ui/keymap.py) ---------------


ReturnType = TypeVar("ReturnType")


class HookedApp(App[ReturnType]):
    """An App told of an error nothing caught before Textual shows it and exits: App has no public
    hook for it, only the private `_handle_exception` every unhandled error goes through.

    And one whose opaque top screen hides the screens under it. Textual's `_background_screens`
    tests the opacity of the screens below the top one, never the top one's, so the screen right
    under an opaque drill-down still counted as showing (`Screen.is_current`): the dashboard kept
    laying out and painting, and each of its repaints repainted the whole drill-down (4 of the coin
    view's 9 frames on opening, 46 of its 106 KB). Only a see-through screen (a modal: help, the
    palette) shows what is under it; a screen back on top is repainted whole by its resume.
    """

    def on_unhandled_error(self, error: Exception) -> None:
        """Override: called before Textual's own handling (which shows the traceback and exits 1)."""

    def _handle_exception(self, error: Exception) -> None:
        self.on_unhandled_error(error)
        super()._handle_exception(error)

    @property
    def _background_screens(self) -> list[Screen[Any]]:
        if self.screen_stack and self.screen.styles.background.a == 1:
            return []
        return super()._background_screens

    async def _replace_screen(self, screen: Screen[Any]) -> Screen[Any]:
        # Textual's, but a popped screen that is not kept is taken apart without the App being
        # refreshed afterwards (its prune's post_mount: `parent.refresh(layout=True)`), which
        # repainted the screen back on top a second time right after its resume had repainted it
        # (a whole dashboard, ~25 KB at 160x45), nor refreshed before (the resume repaints it).
        if self.is_screen_installed(screen) or any(screen in stack for stack in self._screen_stacks.values()):
            return await super()._replace_screen(screen)
        screen.post_message(events.ScreenSuspend())
        self.capture_mouse(None)
        await self._prune(screen, parent=None)
        return screen

    def push_screen(
        self, screen: Screen[Any] | str, callback: Any = None, wait_for_dismiss: bool = False, *, mode: str | None = None
    ) -> Any:
        # Textual's, but with two frames fewer:
        # - a HookedScreen opened for the first time is written once it has mounted: its resume
        #   laid it out and wrote it whole before its widgets had mounted, and its AwaitMount
        #   (`screen.refresh(layout=True)`, ~30 ms later) wrote it whole again (the positions'
        #   first opening: two full frames, 8 + 10 KB at 160x45 headless);
        # - the screen under a see-through one (the dashboard under help) is not repainted whole
        #   on its suspend: the new screen's first frame is whole and draws it, and Textual's
        #   refresh of it, coming a frame or two later, wrote every line again (help: 14 KB).
        #   What changes on it (its footer's keys, a panel's blur) still repaints.
        if wait_for_dismiss:
            return super().push_screen(screen, callback, wait_for_dismiss=True, mode=mode)
        under = self.screen if self.screen_stack else None
        first = isinstance(screen, HookedScreen) and not screen.is_running
        if first:
            self._begin_batch()  # no frame written, of any screen, until it has mounted
        mounted = super().push_screen(screen, callback, mode=mode)
        if under is not None and under in self._background_screens:
            under._repaint_required = False

        async def mounted_then_painted(new: Screen[Any]) -> None:
            try:
                await mounted
            finally:
                self._end_batch()
                new.refresh()  # its update, held by the batch: one frame (HookedScreen)

        if first:
            self.call_next(mounted_then_painted, screen)
        return mounted


class HookedScreen(Screen[ReturnType]):
    """A screen that writes a layout and a repaint of the whole screen due together as one frame.

    Textual's update timer lays the screen out and writes its dirty widgets (`_refresh_layout`
    ends in a compositor refresh), then, the whole screen's repaint being due too, writes every
    line again: a kept screen refilled and shown again (new lines: a layout) wrote 41-43 of its lines
    (~8 KB at 160x45) in a frame of their own right before the resume's whole one.
    """

    def _on_timer_update(self) -> None:
        if (
            self._repaint_required
            and (self._layout_required or self._scroll_required)
            and self.is_current
            and not self.app._batch_count
        ):
            self._repaint_required = False
            self._dirty_widgets.add(self)  # the layout's own refresh writes the whole screen
        super()._on_timer_update()


def line_filters(app: App[Any]) -> list[LineFilter]:
    """The filters every line goes through on its way out (NO_COLOR's monochrome is one)."""
    return list(app._filters)


def set_line_filters(app: App[Any], filters: list[LineFilter]) -> None:
    """Replace them before the first frame: App has no public setter."""
    app._filters = filters


def breakpoint_classes(screen: Screen[Any], width: int) -> list[str]:
    """The class Textual's own HORIZONTAL_BREAKPOINTS choose for `width`, without waiting for its Resize."""
    return list(screen._get_breakpoint_classes(width, screen.HORIZONTAL_BREAKPOINTS or []))


def normalized_keys(keys: str) -> str:
    """"?" → "question_mark", spaces dropped: what App.set_keymap does to a keymap's keys."""
    return textual_keys._normalize_key_list(keys)


def merged_bindings(node_class: type[DOMNode]) -> BindingsMap | None:
    """A widget class's bindings with its bases', as Textual merges them (None: not merged yet)."""
    return node_class._merged_bindings


def own_bindings(node: DOMNode) -> BindingsMap:
    """The bindings a mounted node answers to itself (its class's, and any it was given)."""
    return node._bindings


def set_border_text(widget: Widget, which: str, text: Text) -> None:
    """Set `widget`'s "border_title" or "border_subtitle" (`which`) and repaint only the border
    line that holds it. Textual's setter repaints the whole widget: the heatmap panel's title
    changes on every cursor move, and each move repainted its 43 lines (~7 KB at 160x45) in a
    frame of its own for one line."""
    if not widget.size:  # not laid out yet: the whole widget paints anyway
        setattr(widget, which, text)
        return
    content = Content.from_rich_text(text).expand_tabs(4).split()[0]  # what the setter stores
    if which == "border_title":
        widget._border_title = content
    else:
        widget._border_subtitle = content
    offset, outer = widget.content_offset, widget.outer_size
    row = 0 if which == "border_title" else outer.height - 1
    widget.refresh(Region(-offset.x, row - offset.y, outer.width, 1))  # regions are of the content


# --- Keys' input (ui/escape_key.py) ----------------------------------------------------------


def key_parser(driver: Driver) -> XTermParser:
    """A parser of the terminal's input as Textual's drivers make one (with the driver's debug flag)."""
    return XTermParser(driver._debug)


def escape_wait_left(parser: XTermParser) -> float | None:
    """Seconds until `parser` gives up waiting for the rest of a sequence and reports the lone
    esc it holds (None: it holds none). Textual's Linux driver never asks: it ticks the parser
    only after 0.1 s without input."""
    due = parser._timeout_time
    return None if due is None else max(due - get_time(), 0.0)


# --- OptionList (ui/widgets/cohort_list.py) -------------------------------------------------


def replace_one_line_prompt(option_list: OptionList, index: int, prompt: Any) -> None:
    """Give the option at `index` a new one-line prompt and repaint that line alone.

    OptionList's public `replace_option_prompt` drops every option's rendering and line layout,
    so one changed prompt laid out and rendered all 18 cohorts again (measured 20 ms of a 160x45
    refresh). A prompt of one line keeps the layout: only the option's cached strips go.
    """
    option = option_list.get_option_at_index(index)
    option._set_prompt(prompt)
    for cached in [key for key in option_list._option_render_cache.keys() if key[0] is option]:  # noqa: SIM118 - LRUCache is no dict
        option_list._option_render_cache.discard(cached)
    option_list.refresh_lines(option_list._index_to_line[index])


def refresh_options(option_list: OptionList, *indexes: int | None) -> None:
    """Repaint the lines of the options at `indexes` (None: no option) alone: OptionList's
    `highlighted` repaints every line of the list when it moves (the cohort list's 20 at 160x45)."""
    if not option_list.size:  # not laid out yet: the whole list paints anyway
        option_list.refresh()
        return
    for index in indexes:
        if index is not None and index in option_list._index_to_line:
            option_list.refresh_lines(option_list._index_to_line[index], option_list._heights[index])


# --- DataTable (ui/widgets/synced_table.py) --------------------------------------------------
# SyncedTable draws its body lines from cells it lays out once per content, and writes changed
# cells in place: DataTable's public update_cell repaints the whole table, and its own drawing
# lays every cell out again after any change (most of a refresh's time on a long heatmap).


def row_cells(table: DataTable, index: int) -> dict[ColumnKey, Any]:
    """The cells DataTable holds for the row at `index`, to write changed ones in place."""
    key = table._row_locations.get_key(index)
    assert key is not None, index  # a position the table holds
    return table._data[key]


def row_index(table: DataTable, key: RowKey) -> int:
    """The position of the row `key` (-1: no such row, as DataTable's header is drawn)."""
    index = table._row_locations.get(key)
    return -1 if index is None else index


def row_label_width(table: DataTable) -> int:
    """Columns the row labels take left of the cells (0 without labels)."""
    return table._row_label_column_width


def has_labelled_rows(table: DataTable) -> bool:
    return table._labelled_row_exists


def total_row_height(table: DataTable) -> int:
    """Lines of every row, as DataTable keeps the sum on each add and remove."""
    return table._total_row_height


def hover_cursor_shown(table: DataTable) -> bool:
    """Whether the mouse is over the table (DataTable shows a hover cursor only then)."""
    return table._show_hover_cursor


def invalidate_row_caches(table: DataTable) -> None:
    """After cells were written in place: DataTable's row and line caches are keyed by this count."""
    table._update_count += 1


def remove_last_rows(table: DataTable, count: int) -> None:
    """Remove the table's last `count` rows in one step, leaving it as `remove_row` on each would.

    DataTable's remove_row renumbers every row left and revalidates the cursor on each call: a
    table emptied from its end cost rows² steps (j onto a cohort whose risk is not fetched yet
    emptied the risk table's 200 rows in ~25 ms, most of the key's time).
    """
    total = table.row_count
    for index in range(total - count, total):
        key = table._row_locations.get_key(index)
        assert key is not None, index
        del table._row_locations[key]
        del table.rows[key]
        del table._data[key]
    # Cells changed with update_cell in a removed row: their widths are no longer measured.
    table._updated_cells = {cell for cell in table._updated_cells if cell.row_key in table.rows}
    table._require_update_dimensions = True
    table._update_count += 1  # before the cursor is checked against the rows left
    table.cursor_coordinate = table.cursor_coordinate
    table.hover_coordinate = table.hover_coordinate
    table.check_idle()
    table.refresh(layout=True)


def show_scrollbars_for(widget: Widget) -> None:
    """Show or hide the widget's scrollbars for its virtual size now, before the layout its new
    size asks for: Textual decides during that layout, and a scrollbar shown or hidden then asks
    for another, a frame later (the risk table emptied by j: its 41 lines in a frame of their own)."""
    widget._refresh_scrollbars()


def cell_styles(
    table: DataTable, *, header: bool, cursor: bool, hover: bool, css_foreground: bool = False, css_background: bool = False
) -> tuple[Style, Style]:
    """The styles around a body or header cell (before, after its content), as DataTable draws it."""
    return table._get_styles_to_render_cell(
        header, False, False, hover, cursor, table.show_cursor, table._show_hover_cursor, css_foreground, css_background
    )


def render_cell(
    table: DataTable, row: int, column: int, style: Style, width: int, cursor: bool, hover: bool
) -> list[list[Segment]]:
    """A cell's lines drawn DataTable's way (its header labels, cells that are not one-line Text)."""
    return DataTable._render_cell(table, row, column, style, width, cursor, hover)


def render_table_line(table: DataTable, y: int, x1: int, x2: int, style: Style) -> Strip:
    """Line `y` of the table (the header, say) cropped to [x1, x2), drawn DataTable's way."""
    return DataTable._render_line(table, y, x1, x2, style)


class HookedDataTable(DataTable):
    """DataTable with two of its private steps handed to public methods a subclass overrides.

    `row_line`: one line of a row, as fixed and scrollable cells (DataTable's caches it per
    table version; SyncedTable draws it from cells laid out once per content).
    `measure_rows`: DataTable measures every cell of new rows (for auto widths, labels and
    heights); SyncedTable's fixed-width one-line rows need none of it.
    And its scrollbars repainted only when they may have changed (see `_size_updated`).
    """

    def _render_line_in_row(
        self, row_key: RowKey, line_no: int, base_style: Style, cursor_location: Coordinate, hover_location: Coordinate
    ) -> tuple[list[list[Segment]], list[list[Segment]]]:
        return self.row_line(row_key, line_no, base_style, cursor_location, hover_location)

    def row_line(
        self, row_key: RowKey, line_no: int, base_style: Style, cursor_location: Coordinate, hover_location: Coordinate
    ) -> tuple[list[list[Segment]], list[list[Segment]]]:
        return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        self.measure_rows(new_rows)

    scrollbars_sized_for: tuple[Size, Size, Size] | None = None

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        # Every layout of the screen calls ScrollView's with the compositor's virtual size, the
        # table's region (a DataTable has no children), never the table's own (its rows): so
        # each layout anywhere (another table's rows, a line more in a panel) repainted every
        # scrolled table's scrollbars, and posted it a Resize, in frames of their own (j in the
        # cohort list: the heatmap's and top assets' 41 lines twice, 6 KB at 160x45). Passed on
        # only when the table's size, rows or container changed since.
        seen = (size, self.virtual_size, container_size)
        if seen == self.scrollbars_sized_for:
            return False
        self.scrollbars_sized_for = seen
        return super()._size_updated(size, virtual_size, container_size, layout)

    def measure_rows(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
