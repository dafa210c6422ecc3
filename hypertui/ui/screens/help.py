"""`?`: every key, read from the bindings themselves so the list cannot drift from the code."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

EXTRA_KEYS = (  # keys handled by widgets' own built-in bindings
    ("↑ ↓ ← → pgup pgdn home end", "Move in the focused panel"),
    ("enter", "Positions of the coin under the cursor (heatmap, risk, top assets)"),
    ("enter", "On a cohort in the list: its bias history"),
    ("ctrl+p", "Command palette: every action by name"),
)


def _key_label(binding: Binding) -> str:
    return binding.key_display or " / ".join(binding.key.split(","))


def key_table(sections: Iterable[tuple[str, Iterable[Binding]]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for title, bindings in sections:
        table.add_row(Text(title, style="underline"), "")
        for b in bindings:
            if b.description:
                table.add_row(Text(_key_label(b)), Text(b.description))
        table.add_row("", "")
    table.add_row(Text("Everywhere", style="underline"), "")
    for key, what in EXTRA_KEYS:
        table.add_row(Text(key), Text(what))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__(id="help")
        self._sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Keys"
            box.border_subtitle = "escape closes"
            yield Static(key_table(self._sections))
