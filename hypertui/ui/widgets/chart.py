"""Charts: a Chart of one widget, its title with the last, min and max value on the line above a
sparkline of any finite values or a signed plot of bars about a zero line; and the signed plot
as a widget of its own, the bias overview's strips on a shared scale."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import groupby
from typing import ClassVar

from rich.text import Text
from textual.color import Color
from textual.geometry import Size
from textual.renderables.sparkline import Sparkline as SparklineRenderable
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget

from hypertui.monitor.scale import Cell, Points, scale_label, signed_bars, symmetric_bound, time_columns, time_ticks
from hypertui.ui.signals import Signals, signals_of

LABEL_GAP = "  "  # between a strip's label and its scale: the label's last number is not the scale's
NO_DATA = "no data"  # a chart label with no values, none on their way
LOADING = "⋯ loading…"  # with none yet, on their way (as the status lines say it)


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


def sparkline(values: Sequence[float], width: int, height: int, min_color: Color, max_color: Color) -> SparklineRenderable:
    """Textual's Sparkline of `values` (one a column when as many as `width`), scaled onto 0…1
    (see unit_scaled), from `min_color` for the lowest to `max_color` for the highest."""
    return SparklineRenderable(
        unit_scaled(values), width=width, height=height, min_color=min_color.rich_color, max_color=max_color.rich_color
    )


def signed_plot(
    points: Points,
    width: int,
    height: int,
    signals: Signals,
    *,
    bound: float | None = None,
    span: tuple[datetime, datetime] | None = None,
    origin: float = 0.0,
    f: Callable[[float], str] | None = None,
    ticks: bool = False,
) -> list[Text]:
    """The lines of bars about a zero line of `points` (time, value about `origin`) on ±`bound`
    (their own largest |value| unless given, so that plots can share one), the bound and 0 in a
    gutter on the left, the times of the start, middle and end (of `span`, or of the points) on
    the last line with `ticks`. Long and short colours; the side of the zero line says the sign
    without them. `f` writes the gutter's origin ± bound."""
    ticks = ticks and height != 2  # two rows: the bars and their zero line, not the ticks
    rows = (height - ticks) // 2 * 2  # the zero line sits between two rows
    scale = bound if bound is not None else symmetric_bound(v for _, v in points)
    if span is None and points:
        span = points[0][0], points[-1][0]

    def axis(offset: float) -> str:
        """The gutter's label of origin + offset: 0 for a zero line, else as `f` writes it."""
        if not (offset or origin):
            return "0"
        return scale_label(offset) if f is None else f(origin + offset)

    top, zero, bottom = axis(scale), axis(0.0), axis(-scale)
    if bound is None and not any(v for _, v in points):  # nothing off the line: no scale to read
        top = bottom = ""  # (a long share's would be 150.0% to -50.0%)
    gutter = [top, *[""] * max(rows - 2, 0), bottom][:rows]
    if rows >= 4:
        gutter[rows // 2] = zero  # beside the zero line, the top edge of this row
    gutter_width = max(len(top), len(zero), len(bottom)) + 1  # shown or not: plots on one bound align
    plot_width = max(width - gutter_width, 0)
    columns = time_columns(points, *span, plot_width) if span else [None] * plot_width
    colour = {"up": signals.long, "down": signals.short, "zero": "dim", "": ""}
    lines = []
    for gutter_label, cells in zip(gutter, signed_bars(columns, scale, rows) if rows else [], strict=False):
        line = Text.assemble((gutter_label.rjust(gutter_width - 1) + " ", "dim"))
        for style, run in groupby(cells, key=lambda cell: _style(cell, colour)):  # a Text span per run
            line.append("".join(cell.glyph for cell in run), style)
        lines.append(line)
    if ticks:
        lines += [Text()] * (height - 1 - len(lines))  # the ticks on the last line
        lines.append(Text(" " * gutter_width + (time_ticks(*span, plot_width) if span else ""), style="dim"))
    return lines


class SignedPlot(Widget):
    """A signed_plot of its points to its size; with a `label_width`, a label left of the first
    row: a titled strip in one widget (a screen of many widgets is slow to open)."""

    DEFAULT_CSS = "SignedPlot { height: 3; }"

    def __init__(
        self,
        *,
        ticks: bool = False,
        label_width: int = 0,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.label_width = label_width
        self.label = Text()
        self.ticks = ticks
        self.points: Points = []
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
        """Draw `points` (time, value), on ±`bound` about zero over `span` where given; a repaint
        only when any of them changed."""
        label = label or Text()
        if (points, bound, span, _look(label)) == (self.points, self.bound, self.span, _look(self.label)):
            return
        self.points, self.bound, self.span, self.label = points, bound, span, label
        self.refresh()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _: self.refresh())  # its long and short colours

    def render(self) -> Text:
        width, height = self.content_size
        left = self.label_width + len(LABEL_GAP) if self.label_width else 0
        lines = signed_plot(
            self.points, max(width - left, 0), height, signals_of(self), bound=self.bound, span=self.span, ticks=self.ticks
        )
        if left:
            label = self.label.copy()
            label.truncate(self.label_width, overflow="ellipsis", pad=True)
            lines = [Text.assemble(label if y == 0 else " " * self.label_width, LABEL_GAP, line) for y, line in enumerate(lines)]
        return Text("\n", no_wrap=True, overflow="crop").join(lines)


def _look(text: Text) -> tuple:
    """What a Text shows: its characters and styles (Text's == leaves its base style out)."""
    return text.plain, text.style, text.spans


def _style(cell: Cell, colour: dict[str, str]) -> str:
    return f"{colour[cell.role]} reverse" if cell.inverse else colour[cell.role]


def chart_label(title: str, values: list[float], f: Callable[[float], str], width: int = 0, empty: str = NO_DATA) -> Text:
    """'Perp bias  last +0.12  min -0.30  max +0.41', or where that is wider than `width`
    'Perp bias +0.12 (-0.30…+0.41)', so the range survives a narrow terminal; without values,
    'Perp bias  ' and `empty` (why there are none: no data, or loading)."""
    if not values:
        return Text.assemble((title, "bold"), "  ", (empty, "dim"), no_wrap=True, overflow="ellipsis")
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


class Chart(Widget):
    """`show(values)` (oldest first) draws the values and a label of their last, min and max; `f`
    formats a value. With an `origin`, a signed_plot about it; else a sparkline (min…max). Given
    the values' `times`, either is drawn in time, a column per equal stretch of it, with the time
    of its start, middle and end under it (without, a sparkline spreads the values evenly).

    One widget on Textual's Line API: its label line, plot lines and ticks line are drawn as
    strips once for a size, data and theme, and kept (a screen of child widgets is slower to open
    and repaint: the coin view's six charts were 18 widgets). Each line is drawn as the Static,
    Sparkline and plot widgets it replaces drew it, so the pixels are theirs."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"chart--min-color", "chart--max-color"}
    DEFAULT_CSS = """
    Chart {
        width: 1fr;
        height: 1fr;
    }
    Chart > .chart--max-color {
        color: $primary;
    }
    Chart > .chart--min-color {
        color: $primary 30%;
    }
    """  # a sparkline's colours: Textual's Sparkline's

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
        self.empty = NO_DATA  # the label without values
        self._strips: tuple[Size, list[Strip]] | None = None  # drawn for that size; dropped when anything else changes

    def show(
        self, values: list[float], title: str | None = None, times: Sequence[datetime] = (), *, loading: bool = False
    ) -> None:
        """Draw `values` (at `times`, where given) under `title` (the chart's own without); with
        none, the label says `loading` (values on their way) or no data. A repaint only when one
        of them changed."""
        title = self.title if title is None else title
        empty = LOADING if loading and not values else NO_DATA  # values shown: their label, loading or not
        if (values, list(times), title, empty) == (self.values, self.times, self.title, self.empty):
            return
        self.values, self.times, self.title, self.empty = values, list(times), title, empty
        self._redraw()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _: self._redraw())  # a plot's long and short colours

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips = None

    def _redraw(self) -> None:
        self._strips = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        strips = self._lines()
        return strips[y] if y < len(strips) else Strip.blank(self.size.width, self.visual_style.rich_style)

    def _lines(self) -> list[Strip]:
        size = self.size
        if self._strips is None or self._strips[0] != size:
            self._strips = size, self._draw(*size)
        return self._strips[1]

    def _draw(self, width: int, height: int) -> list[Strip]:
        """The label line, then the plot; a sparkline's time ticks on the last line where there
        are times and a second row of bars is left above them."""
        lines = self._strips_of(chart_label(self.title, self.values, self.format, width, self.empty), width, 1)
        rows = height - 1
        if self.origin is not None:
            about = [(t, v - self.origin) for t, v in zip(self.times, self.values, strict=True)]
            plot = signed_plot(about, width, rows, signals_of(self), origin=self.origin, f=self.format, ticks=True)
            return lines + self._strips_of(Text("\n", no_wrap=True, overflow="crop").join(plot), width, rows)
        span = (self.times[0], self.times[-1]) if self.times else None
        ticks = span is not None and height > 3  # not at the cost of a second bar row
        # In time, one value a column: Textual's buckets are columns.
        values = self.values
        if span is not None:
            points = list(zip(self.times, self.values, strict=True))
            values = [v for v in time_columns(points, *span, width) if v is not None]
        _, base = self.background_colors
        bars = sparkline(
            values, width, rows - ticks,
            base + self.get_component_styles("chart--min-color").color,
            base + self.get_component_styles("chart--max-color").color,
        )
        lines += self._strips_of(bars, width, rows - ticks)
        if span is not None and ticks:
            lines += self._strips_of(Text(time_ticks(*span, width), style="dim", no_wrap=True), width, 1)
        return lines

    def _strips_of(self, renderable: Text | SparklineRenderable, width: int, height: int) -> list[Strip]:
        """`renderable` drawn `height` lines high as a widget of this one's style would draw it."""
        if height <= 0:
            return []
        strips = Visual.to_strips(self, visualize(self, renderable), width, height, self.visual_style)
        return strips + [Strip.blank(width, self.visual_style.rich_style)] * (height - len(strips))
