"""Liquidation risk of the selected cohort's assets: sortable, coloured by threshold, paged."""

from __future__ import annotations

from functools import lru_cache

from rich.text import Text
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable

from hypertui.monitor import format as fmt
from hypertui.monitor.rows import RISK_COLUMNS, RISK_RISE_IS_DANGER, RiskLines
from hypertui.ui.signals import Signals, signals_of
from hypertui.ui.widgets.marks import change_text
from hypertui.ui.widgets.synced_table import SyncedTable

LABELS = {"coin": "Coin", "total_value": "Value", "risk_value": "At risk", "percent_risk": "% risk"}
WIDTHS = {"coin": 9, "total_value": 7, "risk_value": 7, "percent_risk": 9}
LOAD_AHEAD = 5  # ask for the next page this many rows before the end


@lru_cache(maxsize=1024)  # the same objects each refresh: the table skips unchanged cells by identity
def _coin(coin: str, style: str) -> Text:
    return Text(coin, style=style, no_wrap=True, overflow="ellipsis")


@lru_cache(maxsize=4096)
def _value(value: str, style: str, change: str, rise_is_danger: bool, signals: Signals) -> Text:
    return Text.assemble((value, style), change_text(change, signals, rise_is_danger), justify="right")


class RiskTable(SyncedTable):
    """Sorted by the app's `s`/`S` keys (from any panel) or a header click."""

    class SortChanged(Message):
        def __init__(self, column: str, descending: bool) -> None:
            self.column = column
            self.descending = descending
            super().__init__()

    class MoreWanted(Message):
        """The cursor is near the last loaded row and the server has more."""

    def __init__(self) -> None:
        super().__init__(id="risk", cursor_type="row")
        self.sort_column = "percent_risk"
        self.descending = True
        self._total = 0

    def show(self, lines: RiskLines, total: int, column: str, descending: bool) -> None:
        self.sort_column, self.descending, self._total = column, descending, total
        arrow = fmt.sort_mark(descending)
        self.set_columns([(c, LABELS[c] + (arrow if c == column else ""), WIDTHS[c]) for c in RISK_COLUMNS])
        signals = signals_of(self)

        def cells(position: int) -> tuple[Text, ...]:
            line = lines[position]
            style = signals.risk(line.level)
            values = (line.total_value, line.risk_value, line.percent_risk)
            return (
                _coin(line.coin, style),
                *(
                    _value(v, style, change, c in RISK_RISE_IS_DANGER, signals)
                    for c, v, change in zip(RISK_COLUMNS[1:], values, line.changes, strict=True)
                ),
            )

        # Hundreds of rows may be loaded; only those in view are built now, the rest when seen.
        self.sync_lazy(lines.coins, cells)

    def describe(self) -> str:
        """What the panel title should say: rows loaded and the sort."""
        return f"{self.row_count} of {self._total} · sort {LABELS[self.sort_column]} (s/S)"

    def _request_sort(self, column: str, descending: bool) -> None:
        self.post_message(self.SortChanged(column, descending))

    def action_sort(self) -> None:
        nxt = RISK_COLUMNS[(RISK_COLUMNS.index(self.sort_column) + 1) % len(RISK_COLUMNS)]
        self._request_sort(nxt, nxt != "coin")

    def action_sort_reverse(self) -> None:
        self._request_sort(self.sort_column, not self.descending)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = str(event.column_key.value)
        same = column == self.sort_column
        self._request_sort(column, not self.descending if same else column != "coin")

    def _near_end(self, row: int) -> None:
        if self.row_count and row >= self.row_count - LOAD_AHEAD and self.row_count < self._total:
            self.post_message(self.MoreWanted())

    def watch_cursor_coordinate(self, old: Coordinate, new: Coordinate) -> None:  # DataTable's watcher, then ours
        super().watch_cursor_coordinate(old, new)
        if old != new:  # the watcher also fires, unchanged, on every add_row
            self._near_end(new.row)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new > old:  # the mouse wheel moves the view, not the cursor
            self._near_end(int(new) + self.scrollable_content_region.height - self.header_height)
