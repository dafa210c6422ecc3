"""A titled Sparkline with its min, max and last value on the line above, and a Sparkline for any
finite values."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from rich.text import Text
from textual import widgets
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.renderables.sparkline import Sparkline as SparklineRenderable
from textual.widgets import Static


def unit_scaled(values: Sequence[float]) -> list[float]:
    """The finite `values` moved and scaled onto 0…1 (min…max): the same bars and colours in a
    Sparkline.

    Textual's divides by max - min, which overflows to inf past the largest float (-1.7e308 and
    1.7e308), and inf / inf is NaN: the widget raised as it was drawn, and took the screen down.
    The models reject non-finite numbers, but a ratio of two finite ones (a long share) can be inf.
    """
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return []
    low, high = min(values), max(values)
    if math.isinf(high - low):  # halved, the range fits (a subnormal may lose a bit no bar shows)
        values, low, high = [v / 2 for v in values], low / 2, high / 2
    extent = high - low or 1.0  # nonzero for any two distinct floats, subnormals too
    return [(v - low) / extent for v in values]


class Sparkline(widgets.Sparkline):
    """Textual's Sparkline, drawn from its values scaled onto 0…1 (see unit_scaled)."""

    def render(self) -> SparklineRenderable:
        renderable = super().render()
        renderable.data = unit_scaled(renderable.data)
        return renderable


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
