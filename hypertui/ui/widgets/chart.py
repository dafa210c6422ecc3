"""A titled Textual Sparkline with its min, max and last value on the line above."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static


def chart_label(title: str, values: list[float], f: Callable[[float], str], width: int = 0) -> Text:
    """'Perp bias  last +0.12  min -0.30  max +0.41', or where that is wider than `width`
    'Perp bias +0.12 (-0.30…+0.41)', so the range survives a narrow terminal."""
    if not values:
        return Text.assemble((title, "bold"), "  ", ("no data", "dim"), no_wrap=True, overflow="ellipsis")
    last, low, high = f(values[-1]), f(min(values)), f(max(values))
    label = Text.assemble(  # the last value first: it survives a narrow terminal's ellipsis
        (title, "bold"),
        "  ", ("last", "dim"), " ", (last, "bold"),
        "  ", ("min", "dim"), " ", low,
        "  ", ("max", "dim"), " ", high,
        no_wrap=True, overflow="ellipsis",
    )
    if width and label.cell_len > width:
        label = Text.assemble(
            (title, "bold"), " ", (last, "bold"), " ", (f"({low}…{high})", "dim"), no_wrap=True, overflow="ellipsis"
        )
    return label


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
        self._label()

    def on_resize(self) -> None:
        self._label()

    def _label(self) -> None:
        self.query_one(Static).update(chart_label(self.title, self.values, self.format, self.size.width))
