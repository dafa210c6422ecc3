"""A titled Textual Sparkline with its min, max and last value on the line above."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static


def chart_label(title: str, values: list[float], f: Callable[[float], str]) -> Text:
    if not values:
        return Text.assemble((title, "bold"), "  ", ("no data", "dim"), no_wrap=True, overflow="ellipsis")
    return Text.assemble(  # the last value first: it survives a narrow terminal's ellipsis
        (title, "bold"),
        "  ", ("last", "dim"), " ", (f(values[-1]), "bold"),
        "  ", ("min", "dim"), " ", f(min(values)),
        "  ", ("max", "dim"), " ", f(max(values)),
        no_wrap=True, overflow="ellipsis",
    )


class Chart(Vertical):
    """`show(values)` (oldest first) redraws the line and the label; `f` formats a value."""

    def __init__(self, title: str, f: Callable[[float], str], *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.format = f
        self.values: list[float] = []

    def compose(self) -> ComposeResult:
        yield Static(chart_label(self.title, [], self.format))
        yield Sparkline([])

    def show(self, values: list[float], title: str | None = None) -> None:
        self.values = values
        if title is not None:
            self.title = title
        self.query_one(Sparkline).data = values
        self.query_one(Static).update(chart_label(self.title, values, self.format))
