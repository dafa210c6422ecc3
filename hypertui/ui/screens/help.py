"""`?`: every key, read from the bindings themselves so the list cannot drift from the code; and
`L`: what each mark means, with the thresholds the rows are built with (also at the end of help).

Both are kept between openings (their Rich tables laid out once: `?` took 170 ms to build and lay
them out on every opening): the keys are fixed at start (the [keys] remaps are read once), and
the legend's marks are drawn again in the new theme's colours when it changes. Help lists the
keys of the screen it is opened on first, then those that work everywhere: each section is a
widget of its own, moved into place on each opening, not drawn again."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.cells import cell_len
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from hypertui.monitor.deltas import FELL, ROSE
from hypertui.monitor.heat import CHANGE_BANDS, GLYPHS
from hypertui.monitor.rows import BIAS_DEAD_ZONE, RISK_HIGH, RISK_WARN, SHARE_DEAD_ZONE
from hypertui.ui.screens.drilldown import KeptScreen
from hypertui.ui.signals import Signals, signals_of
from hypertui.ui.widgets.marks import change_text, lean_text

EVERYWHERE = "Everywhere"  # the section of the keys that work on every screen, listed second
EXTRA_KEYS: dict[str, tuple[tuple[str, str], ...]] = {  # keys handled by widgets' own built-in bindings, by section
    "Dashboard": (
        ("enter", "Positions of the coin under the cursor (heatmap, risk, top assets)"),
        ("enter", "On a cohort in the list: its bias history"),
    ),
    EVERYWHERE: (
        ("↑ ↓ ← → pgup pgdn home end", "Move in the focused panel or list"),
        ("ctrl+p", "Command palette: every action by name"),
    ),
}
MARK_WIDTH = 7  # the widest mark in the legend: "░ ▒ ▓ █"


def _key_label(binding: Binding) -> str:
    return binding.key_display or " / ".join(binding.key.split(","))


def _grid(first_width: int | None = None) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, width=first_width)
    table.add_column()
    return table


def key_rows(title: str, bindings: Iterable[Binding]) -> list[tuple[str, str]]:
    """(key, what it does) for each key of a section, its widgets' built-in keys last."""
    return [(_key_label(b), b.description) for b in bindings if b.description] + list(EXTRA_KEYS.get(title, ()))


def key_table(sections: Iterable[tuple[str, Iterable[Binding]]], key_width: int | None = None) -> Table:
    """The sections one after the other, a blank line between; the keys `key_width` wide (a
    section's own width without)."""
    table = _grid(key_width)
    for i, (title, bindings) in enumerate(sections):
        if i:
            table.add_row("", "")
        table.add_row(Text(title, style="underline"), "")
        for key, what in key_rows(title, bindings):
            table.add_row(Text(key), Text(what))
    return table


def legend(signals: Signals) -> Group:
    """Each mark as the dashboard draws it (the same styles), and what it means."""
    balanced = f"{50 - SHARE_DEAD_ZONE * 100:g}-{50 + SHARE_DEAD_ZONE * 100:g}%"
    sections: list[tuple[str, list[tuple[Text, str]]]] = [
        ("Lean: which side holds more", [
            (Text.assemble(lean_text("▲", signals), " ", lean_text("▼", signals)),
             "net long / net short (bias, long share, heatmap cell)"),
            (lean_text("·", signals), f"balanced: bias within ±{BIAS_DEAD_ZONE:g}, long share {balanced}"),
        ]),
        ("Change since the last refresh", [
            (Text.assemble(change_text(ROSE, signals), " ", change_text(FELL, signals)),
             "rose / fell (blank: unchanged), after the number"),
            (change_text(ROSE, signals, rise_is_danger=True), "liquidation risk rose: more value within reach"),
            (Text("▲62%", style="bold underline"), "a heatmap cell whose value changed"),
        ]),
        ("Liquidation risk", [
            (Text("‼", style=signals.risk(2)), f"{RISK_HIGH:g}% or more of the value within reach of liquidation"),
            (Text("!", style=signals.risk(1)), f"{RISK_WARN:g}% or more"),
        ]),
        ("Heatmap", [
            (Text(" ".join(GLYPHS[1:])), "further from balanced (long share), or bigger (value, count)"),
            (Text("▲+3.1 ·"), f"change mode: long-share move, points (· <{CHANGE_BANDS[0]:g}, — none then)"),
        ]),
        ("Tables and panels", [
            (Text("▾ ▴"), "in a header: sorted by that column, descending / ascending"),
            (Text(" Title ", style="reverse bold"), "the focused panel, which the keys act on (tab moves it)"),
        ]),
    ]
    parts: list[Text | Table] = []
    for title, rows in sections:
        table = _grid(MARK_WIDTH)  # one width in every section, whose titles are lines of their own
        for mark, meaning in rows:
            table.add_row(mark, Text(meaning))
        parts += [*([Text()] if parts else []), Text(title, style="underline"), table]
    return Group(*parts)


class _ScrollingBox(ModalScreen[None], KeptScreen[None]):  # Textual takes the CSS of the first base
    """A modal of one VerticalScroll that j/k scroll, as they move in every list and table, whose
    legend (`.legend`, if it shows one) follows the theme."""

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _: self._show_legend())

    def _show_legend(self) -> None:
        for box in self.query(".legend").results(Static):
            box.update(legend(signals_of(self)))

    def refill(self) -> None:
        self.query_one(VerticalScroll).scroll_home(animate=False, immediate=True)  # as a new one opens

    def action_scroll_box(self, lines: int) -> None:
        self.query_one(VerticalScroll).scroll_relative(y=lines, animate=False)


def _scroll_keys(screen: str) -> list[Binding]:
    return [
        Binding("j", "scroll_box(1)", "Down", show=False, id=f"{screen}.down"),
        Binding("k", "scroll_box(-1)", "Up", show=False, id=f"{screen}.up"),
    ]


class HelpScreen(_ScrollingBox):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close help", id="help.close"),
        *_scroll_keys("help"),
    ]
    DEFAULT_CSS = ".help-keys { margin-bottom: 1; }"

    def __init__(self, sections: list[tuple[str, list[Binding]]], first: str | None = None) -> None:
        """`first`: the title of the section listed first, the keys of the screen help is opened
        on (set again before each opening); the one that works everywhere comes second."""
        super().__init__(id="help")
        self._sections = sections
        self.first = first

    def ordered(self) -> list[str]:
        """The section titles in the order listed: `first`, everywhere's, then the others as given."""
        titles = [title for title, _ in self._sections]
        return sorted(titles, key=lambda title: (title != self.first, title != EVERYWHERE))  # stable: the rest as given

    def compose(self) -> ComposeResult:
        width = max(cell_len(key) for title, bindings in self._sections for key, _ in key_rows(title, bindings))
        tables = {title: key_table([(title, bindings)], width) for title, bindings in self._sections}
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Keys, then marks"
            box.border_subtitle = "escape closes"
            for title in self.ordered():
                yield Static(tables[title], name=title, classes="help-keys")
            yield Static(legend(signals_of(self)), id="help-legend", classes="legend")

    def refill(self) -> None:
        box = self.query_one(VerticalScroll)
        shown = {section.name: section for section in self.query(".help-keys").results(Static)}
        for i, title in enumerate(self.ordered()):  # moved, not drawn again
            if box.children[i] is not shown[title]:
                box.move_child(shown[title], before=i)
        super().refill()


class LegendScreen(_ScrollingBox):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,L", "dismiss", "Close the legend", id="legend.close"),
        *_scroll_keys("legend"),
    ]

    def __init__(self) -> None:
        super().__init__(id="legend")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="legend-box") as box:
            box.border_title = "What the marks mean"
            box.border_subtitle = "escape closes · ? for keys"
            yield Static(legend(signals_of(self)), classes="legend")
