"""Charts: a titled Sparkline or SignedPlot with its min, max and last value on the line above, a
Sparkline for any finite values, and a SignedPlot of bars about a zero line on a shared scale."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import groupby

from rich.text import Text
from textual import widgets
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.renderables.sparkline import Sparkline as SparklineRenderable
from textual.widget import Widget
from textual.widgets import Static

from hypertui.monitor.scale import Cell, Points, scale_label, signed_bars, symmetric_bound, time_columns, time_ticks
from hypertui.ui.signals import signals_of

LABEL_GAP = "  "  # between a strip's label and its scale: the label's last number is not the scale's


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
        assert isinstance(renderable, SparklineRenderable)  # what Textual's Sparkline draws with
        renderable.data = unit_scaled(renderable.data)
        return renderable


class SignedPlot(Widget):
    """Bars about a zero line on ±`bound` (its own largest |value| unless given, so that plots can
    share one), the bound and 0 in a gutter on the left, the times of its start, middle and end
    (of `span`, or of its points) on its last line with `ticks`. Long and short colours; the
    side of the zero line says the sign without them. One widget of Rich Text, redrawn to size.

    With an `origin`, the bars are of value - origin (a long share about 50 %), and `f` writes the
    gutter's origin ± bound. With a `label_width`, a label left of the first row: a titled strip
    in one widget (a screen of many widgets is slow to open)."""

    DEFAULT_CSS = "SignedPlot { height: 3; }"

    def __init__(
        self,
        *,
        origin: float = 0.0,
        f: Callable[[float], str] | None = None,
        ticks: bool = False,
        label_width: int = 0,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.label_width = label_width
        self.label = Text()
        self.origin = origin
        self.format = f
        self.ticks = ticks
        self.points: Points = []  # about the origin
        self.bound: float | None = None
        self.span: tuple[datetime, datetime] | None = None

    def show(
        self,
        points: Points,
        *,
        bound: float | None = None,
        span: tuple[datetime, datetime] | None = None,
        label: Text | None = None,
    ) -> None:
        """Draw `points` (time, value), on ±`bound` about the origin over `span` where given."""
        self.points = [(t, v - self.origin) for t, v in points] if self.origin else points
        self.bound, self.span = bound, span
        self.label = label or Text()
        self.refresh()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _: self.refresh())  # its long and short colours

    @property
    def scale(self) -> float:
        return self.bound if self.bound is not None else symmetric_bound(v for _, v in self.points)

    @property
    def time_span(self) -> tuple[datetime, datetime] | None:
        if self.span is not None:
            return self.span
        return (self.points[0][0], self.points[-1][0]) if self.points else None

    def _axis(self, offset: float) -> str:
        """The gutter's label of origin + offset: 0 for a zero line, else as `f` writes it."""
        if not (offset or self.origin):
            return "0"
        return scale_label(offset) if self.format is None else self.format(self.origin + offset)

    def render(self) -> Text:
        width, height = self.content_size
        ticks = self.ticks and height != 2  # two rows: the bars and their zero line, not the ticks
        rows = (height - ticks) // 2 * 2  # the zero line sits between two rows
        bound, span = self.scale, self.time_span
        top, zero, bottom = self._axis(bound), self._axis(0.0), self._axis(-bound)
        if self.bound is None and not any(v for _, v in self.points):  # nothing off the line: no scale to read
            top = bottom = ""  # (a long share's would be 150.0% to -50.0%)
        gutter = [top, *[""] * max(rows - 2, 0), bottom][:rows]
        if rows >= 4:
            gutter[rows // 2] = zero  # beside the zero line, the top edge of this row
        gutter_width = max(len(top), len(zero), len(bottom)) + 1  # shown or not: plots on one bound align
        left = self.label_width + len(LABEL_GAP) if self.label_width else 0
        plot_width = max(width - left - gutter_width, 0)
        columns = time_columns(self.points, *span, plot_width) if span else [None] * plot_width
        signals = signals_of(self)
        colour = {"up": signals.long, "down": signals.short, "zero": "dim", "": ""}
        lines = []
        for gutter_label, cells in zip(gutter, signed_bars(columns, bound, rows) if rows else [], strict=False):
            line = Text.assemble((gutter_label.rjust(gutter_width - 1) + " ", "dim"))
            for style, run in groupby(cells, key=lambda cell: _style(cell, colour)):  # a Text span per run
                line.append("".join(cell.glyph for cell in run), style)
            lines.append(line)
        if ticks:
            lines += [Text()] * (height - 1 - len(lines))  # the ticks on the last line
            lines.append(Text(" " * gutter_width + (time_ticks(*span, plot_width) if span else ""), style="dim"))
        if left:
            label = self.label.copy()
            label.truncate(self.label_width, overflow="ellipsis", pad=True)
            lines = [Text.assemble(label if y == 0 else " " * self.label_width, LABEL_GAP, line) for y, line in enumerate(lines)]
        return Text("\n", no_wrap=True, overflow="crop").join(lines)


def _style(cell: Cell, colour: dict[str, str]) -> str:
    return f"{colour[cell.role]} reverse" if cell.inverse else colour[cell.role]


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
    """`show(values)` (oldest first) redraws the line and the label; `f` formats a value. With an
    `origin`, a SignedPlot about it; else a Sparkline (min…max). Given the values' `times`, either
    is drawn in time, a column per equal stretch of it, with the time of its start, middle and
    end under it (without, a Sparkline spreads the values evenly)."""

    def __init__(
        self,
        title: str,
        f: Callable[[float], str],
        *,
        origin: float | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.format = f
        self.origin = origin
        self.values: list[float] = []
        self.times: list[datetime] = []

    def compose(self) -> ComposeResult:
        yield Static(chart_label(self.title, [], self.format), classes="chart-label")
        if self.origin is None:
            yield Sparkline([])
            yield Static(classes="chart-ticks")
        else:
            yield SignedPlot(origin=self.origin, f=self.format, ticks=True)

    def show(self, values: list[float], title: str | None = None, times: Sequence[datetime] = ()) -> None:
        self.values, self.times = values, list(times)
        if title is not None:
            self.title = title
        if self.origin is not None:
            self.query_one(SignedPlot).show(list(zip(self.times, values, strict=True)))
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        """The label, and a Sparkline's bars and ticks, to the width."""
        width = self.content_size.width
        self.query_one(".chart-label", Static).update(chart_label(self.title, self.values, self.format, width))
        if self.origin is not None:
            return
        sparkline, ticks = self.query_one(Sparkline), self.query_one(".chart-ticks", Static)
        ticks.display = bool(self.times) and self.content_size.height > 3  # not at the cost of a second bar row
        if not self.times:
            sparkline.data = self.values
            return
        span = self.times[0], self.times[-1]
        columns = time_columns(list(zip(self.times, self.values, strict=True)), *span, width)
        sparkline.data = [v for v in columns if v is not None]  # one a column: Textual's buckets are columns
        ticks.update(Text(time_ticks(*span, width), style="dim", no_wrap=True))
