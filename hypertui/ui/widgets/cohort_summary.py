"""The selected cohort's figures and its top 10 assets, with a note when the answer had none."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

from hypertui.monitor.rows import AssetLine, Figure
from hypertui.ui.signals import Signals, signals_of
from hypertui.ui.textual_internals import set_border_text
from hypertui.ui.widgets.marks import change_text, lean_text
from hypertui.ui.widgets.synced_table import Row, SyncedTable
from hypertui.ui.widgets.text_lines import TextLines


def _figures_text(figures: list[Figure], signals: Signals) -> Text:
    """Label, value, lean and change in aligned columns: what a Rich grid would show, without
    its layout pass on every refresh (a Table re-measures every cell each time it is drawn).

    The lean (perp bias only) and the change each have a column, blank when there is none, so
    the numbers end in the same column whatever marks a row has: `+0.09 ▲ ↑` over `2.30×   `.
    """
    label_width = max((cell_len(f.label) for f in figures), default=0)
    value_width = max((cell_len(f.value) for f in figures), default=0)
    text = Text(no_wrap=True, overflow="ellipsis")  # a line too long is cut, not wrapped into the next
    for i, f in enumerate(figures):
        if i:
            text.append("\n")
        text.append(f.label + " " * (label_width - cell_len(f.label) + 1), "dim")
        text.append(" " * (value_width - cell_len(f.value)) + f.value + " ")
        text.append_text(lean_text(f.lean, signals))
        text.append(" ")
        text.append_text(change_text(f.change, signals))
    return text


class CohortSummary(Vertical):
    def __init__(self) -> None:
        super().__init__(id="summary")
        self._figures_key: tuple | None = None
        self._figures_signals: Signals | None = None  # a new theme recolours the marks
        self._figures_lines = 0  # lines the figures take on screen (0: none drawn yet)
        self._titles: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        yield TextLines(Text("waiting for data…", style="dim"), id="figures")
        table = SyncedTable(id="top-assets", cursor_type="row")
        table.set_columns([("coin", "Top asset", 11), ("value", "Value", 8), ("long", "Long share", 11)])
        yield table
        note = TextLines(id="top-assets-note")
        note.display = False
        yield note

    def waiting(self, reason: str | None) -> None:
        """Before the first data: why there is none yet, when a request failed (a bad token...)."""
        text = Text("waiting for data…", style="dim") if reason is None else Text(f"no data yet: {reason}", style="bold red")
        self._figures_lines = 1
        self.query_one("#figures", TextLines).update(text)

    def show(self, title: str, age: str, figures: list[Figure], assets: list[AssetLine], note: str = "") -> None:
        """`note`: where the top assets come from, when not from the summary ("" hides it)."""
        # Each repaints its border line alone (Textual's setter repaints the whole panel, even if equal).
        shown_title, shown_age = self._titles or (None, None)
        if title != shown_title:
            set_border_text(self, "border_title", Text(title))  # Text: a cohort name is never markup
        if age != shown_age:
            set_border_text(self, "border_subtitle", Text(f"age {age} (a)"))
        self._titles = (title, age)
        signals = signals_of(self)
        key = tuple(figures)
        if (key, signals) != (self._figures_key, self._figures_signals):
            # None held (a cohort just chosen, fetched once the cursor rests): the lines of the
            # figures before, blank, so the top assets do not move up and back down a moment later.
            text = _figures_text(figures, signals) if figures else Text("\n" * max(self._figures_lines - 1, 0))
            lines = text.plain.count("\n") + 1
            # A layout pass repaints the whole screen: only when the figures take more or fewer lines.
            relayout, self._figures_lines = lines != self._figures_lines, lines
            self._figures_key, self._figures_signals = key, signals
            self.query_one("#figures", TextLines).update(text, layout=relayout)
        rows: list[Row] = [
            (
                a.coin,  # the key keeps the name the API sent (a cleaned name shows marked): requests use it
                (
                    Text(a.coin, no_wrap=True, overflow="ellipsis"),
                    Text(a.value, justify="right"),
                    Text.assemble(a.long_share, " ", lean_text(a.lean, signals), justify="right"),
                ),
            )
            for a in assets
        ]
        self.query_one(SyncedTable).sync(rows)
        box = self.query_one("#top-assets-note", TextLines)
        if (str(box.content), box.display) != (note, bool(note)):  # an update relayouts the panel
            box.update(Text(note, style="dim italic"))
            box.display = bool(note)
