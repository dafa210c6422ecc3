"""Coins × cohorts of one axis; each cell's colour and glyph follow the long share (or size).

Focused, `s`/`S` ask the app to sort the rows by the cursor's cohort column (the app keeps the
order, so a refresh keeps it too); the sorted column's header carries ▾ or ▴. The cell under the
cursor is told in words (to the `show_detail` it is given, in the cursor's own frame), with the
long/short counts no cell has room for, in forms from the fullest to the shortest (the screen
shows the longest its title has room for).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.message import Message

from hypertui.api.models import Segment
from hypertui.monitor.heat import HeatCell, HeatSort, cell_detail
from hypertui.monitor.rows import HeatLines, short_name
from hypertui.ui.widgets.synced_table import Column, SyncedTable

MIN_CELL, MAX_CELL = 7, 10  # cohort columns widen to use a wide terminal
COIN_WIDTH = 10
TOTAL_WIDTH = 8


@lru_cache(maxsize=128)
def _style(foreground: str, background: str, changed: bool) -> Style:
    return Style(color=foreground, bgcolor=background, bold=changed, underline=changed)


@lru_cache(maxsize=4096)  # a few hundred distinct cells: a refresh reuses them instead of building Text anew
def _cell(cell: HeatCell, changed: bool, width: int) -> Text:
    if not cell.text:
        return Text("", no_wrap=True)
    style = _style(cell.foreground, cell.background, changed)
    text = cell.text
    if len(text) >= width and cell.short:  # "█$5.37M█$11.2M": a space keeps neighbours apart, the glyph the level
        text = cell.short
    return Text(text.center(width), style=style, no_wrap=True, overflow="crop")


@lru_cache(maxsize=1024)  # the same objects each refresh: the table skips unchanged cells by identity
def _coin(coin: str) -> Text:
    return Text(" " + coin, no_wrap=True, overflow="ellipsis")


@lru_cache(maxsize=1024)
def _total(total: str) -> Text:
    return Text(total + " ", justify="right", no_wrap=True)


class HeatmapTable(SyncedTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sort(True)", "Sort by this cohort ▾ (again: by value)", show=False, id="heatmap.sort"),
        Binding("S", "sort(False)", "Sort by this cohort ▴ (again: by value)", show=False, id="heatmap.sort_ascending"),
        # The box's own esc clears it while focused; enter or a drill-down leaves the focus here,
        # the filter still applied. Not taken when there is none (the screen's check_action).
        Binding("escape", "screen.clear_filter", "Clear the coin filter", show=False, id="heatmap.clear_filter"),
    ]

    class SortWanted(Message):
        """`s`/`S`: sort by this cohort's column (None: the coin or value column)."""

        def __init__(self, cohort_id: int | None, descending: bool) -> None:
            self.cohort_id = cohort_id
            self.descending = descending
            super().__init__()

    def __init__(self, show_detail: Callable[[tuple[str, ...]], None]) -> None:
        """`show_detail`: told the cell under the cursor in words (its forms, see cell_detail; none
        when there is no cell), and again at each new width (fitted anew). Called,
        not posted: a message would reach the screen after the cursor's frame is drawn, and the
        title would take a frame (1/60 s) of its own."""
        super().__init__(id="heatmap", cursor_type="cell", header_height=2, cell_padding=0)
        self._show_detail = show_detail
        self._shown: tuple[list[Segment], HeatLines, HeatSort | None] | None = None
        self._detail: tuple[str, ...] = ()

    def _cell_width(self, cohorts: int) -> int:
        room = self.scrollable_content_region.width - COIN_WIDTH - TOTAL_WIDTH
        return max(MIN_CELL, min(MAX_CELL, room // max(cohorts, 1)))

    def on_resize(self) -> None:
        self._detail = ()  # told again: the title has another width to fit it in
        if self._shown:
            self.show(*self._shown)

    def show(self, cohorts: list[Segment], lines: HeatLines, sort: HeatSort | None = None) -> None:
        self._shown = (cohorts, lines, sort)
        width = self._cell_width(len(cohorts))

        def header(s: Segment) -> Text:
            mark = sort.mark if sort is not None and sort.cohort_id == s.id else ""
            return Text(f"{s.emoji}\n{short_name(s.name, width - 1 - len(mark))}{mark}", justify="center")

        columns: list[Column] = [
            ("coin", Text(" Coin"), COIN_WIDTH),
            ("total", Text("Value ".rjust(TOTAL_WIDTH)), TOTAL_WIDTH),
            *((str(s.id), header(s), width) for s in cohorts),
        ]
        self.set_columns(columns)

        def cells(position: int) -> tuple[Text, ...]:
            line = lines[position]
            return (
                _coin(line.coin),
                _total(line.total),
                *(_cell(c, ch, width) for c, ch in zip(line.cells, line.changed, strict=True)),
            )

        self.sync_lazy(lines.coins, cells)  # the coins come without working out any line's cells
        self._tell_detail()  # new figures under the same cursor

    def _tell_detail(self) -> None:
        text: tuple[str, ...] = ()
        if self._shown is not None and 0 <= self.cursor_row < len(self._shown[1]):
            cohorts, lines, _ = self._shown
            sid = self.cursor_cohort
            text = cell_detail(lines.item(self.cursor_row), next((c for c in cohorts if c.id == sid), None))
        if text != self._detail:
            self._detail = text
            self._show_detail(text)

    def watch_cursor_coordinate(self, old: Coordinate, new: Coordinate) -> None:  # DataTable's watcher, then ours
        super().watch_cursor_coordinate(old, new)
        self._tell_detail()

    @property
    def cursor_cohort(self) -> int | None:
        """The cohort of the cursor's column (None: the coin or value column)."""
        columns = list(self.columns)
        key = columns[self.cursor_column].value if 0 <= self.cursor_column < len(columns) else None
        return int(key) if key and key.isdigit() else None

    def action_sort(self, descending: bool) -> None:
        self.post_message(self.SortWanted(self.cursor_cohort, descending))
