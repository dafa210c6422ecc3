"""The selected cohort's figures and its top 10 assets."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from hypertui.monitor.rows import AssetLine, Figure
from hypertui.ui.signals import Signals, signals_of
from hypertui.ui.widgets.marks import mark_text
from hypertui.ui.widgets.synced_table import SyncedTable


class CohortSummary(Vertical):
    def __init__(self) -> None:
        super().__init__(id="summary")
        self._figures_key: tuple | None = None
        self._figures_signals: Signals | None = None  # a new theme recolours the marks
        self._titles: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("waiting for data…", style="dim"), id="figures")
        table = SyncedTable(id="top-assets", cursor_type="row")
        table.set_columns([("coin", "Top asset", 11), ("value", "Value", 8), ("long", "Long share", 11)])
        yield table

    def waiting(self, reason: str | None) -> None:
        """Before the first data: why there is none yet, when a request failed (a bad token...)."""
        text = Text("waiting for data…", style="dim") if reason is None else Text(f"no data yet: {reason}", style="bold red")
        self.query_one("#figures", Static).update(text)

    def show(self, title: str, age: str, figures: list[Figure], assets: list[AssetLine]) -> None:
        if (title, age) != self._titles:  # setting a border title repaints the panel, even if equal
            self._titles = (title, age)
            self.border_title = Text(title)  # Text: a cohort name is never markup
            self.border_subtitle = f"age {age} (a)"
        signals = signals_of(self)
        key = tuple(figures)
        if (key, signals) != (self._figures_key, self._figures_signals):
            # A layout pass repaints the whole screen: only when the figures take more or fewer lines.
            relayout = self._figures_key is None or len(key) != len(self._figures_key)
            self._figures_key, self._figures_signals = key, signals
            grid = Table.grid(padding=(0, 1))
            grid.add_column(style="dim", no_wrap=True)
            grid.add_column(justify="right", no_wrap=True)
            grid.add_column(width=1)
            for f in figures:
                grid.add_row(f.label, Text(f.value), mark_text(f.mark, signals))
            self.query_one("#figures", Static).update(grid, layout=relayout)
        rows = [
            (
                str(rank),
                (
                    Text(a.coin, no_wrap=True, overflow="ellipsis"),
                    Text(a.value, justify="right"),
                    Text.assemble(a.long_share, " ", mark_text(a.mark, signals), justify="right"),
                ),
            )
            for rank, a in enumerate(assets)
        ]
        self.query_one(SyncedTable).sync(rows)
