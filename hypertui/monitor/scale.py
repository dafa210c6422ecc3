"""Signed chart maths: a scale symmetric about zero that charts share, the columns a time series
fills, the bars those columns make about a zero line, and the time ticks under them.

A per-chart min…max scale makes a move of ±0.02 as tall as one of −0.27…+0.02, and hides where
zero is. Here every bar starts at a zero line and its height is |value| / bound, with the same
bound for every chart that shares it; the glyphs carry the sign (above or below the line), so
the chart reads without colour.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

EIGHTHS = " ▁▂▃▄▅▆▇█"  # a cell filled from its bottom, by eighths
FROM_THE_TOP = {1: "▔", 4: "▀", 8: "█"}  # the cells filled from the top that have a glyph
ZERO_LINE = "▔"  # the top edge of the lower half: where the bars start
Points = list[tuple[datetime, float]]  # (time, value), oldest first: what a chart over time draws
DAY_TICKS_BEYOND = timedelta(days=3)  # longer spans are ticked by day, shorter ones to the minute


@dataclass(frozen=True)
class Cell:
    glyph: str
    role: str  # "up" (above zero), "down" (below), "zero" (the zero line) or "" (blank)
    inverse: bool = False  # a bar hanging part of a cell: `glyph` is the empty part, drawn inverse


BLANK = Cell(" ", "")
ZERO = Cell(ZERO_LINE, "zero")


def symmetric_bound(values: Iterable[float]) -> float:
    """The largest |value| of the finite `values`, or 1.0 where all are zero (or there are none).

    Charts drawn on ±that share one scale, so the same move is the same height on each. Not a
    fixed ±1: perp bias exceeds ±1 with leverage, and a bar past the scale would be clipped."""
    return max((abs(v) for v in values if math.isfinite(v)), default=0.0) or 1.0


def scale_label(value: float) -> str:
    """A bound as the axis shows it: +0.27, -1.5, +1.7e+308 (three digits, any size)."""
    return f"{value:+.3g}"


def time_columns(
    points: Sequence[tuple[datetime, float]], start: datetime, end: datetime, width: int
) -> list[float | None]:
    """What each of `width` columns over start…end shows of `points` (time, value).

    Of the points in a column, the one farthest from zero (a spike is not averaged away); a
    column no point falls in shows the nearest one (each snapshot is as wide as the time it is
    nearest, the first and the last too). Columns before the first point or after the last are
    None: no data. Non-finite values are skipped; points outside start…end land in the first or
    last column."""
    columns: list[float | None] = [None] * width
    span = (end - start).total_seconds()
    for t, value in points:
        if not math.isfinite(value) or width <= 0:
            continue
        at = (t - start).total_seconds() / span * width if span > 0 else 0
        i = min(max(int(at), 0), width - 1)
        current = columns[i]
        if current is None or abs(value) > abs(current):
            columns[i] = value
    hits = [i for i, value in enumerate(columns) if value is not None]
    for before, after in pairwise(hits):
        for i in range(before + 1, after):
            columns[i] = columns[before] if i - before <= after - i else columns[after]
    return columns


def _cell(eighths: int, up: bool, nearest: bool) -> Cell:
    """One cell of a bar `eighths` high (0-8) in that cell, `nearest` the zero line."""
    if up:
        return Cell(EIGHTHS[eighths], "up") if eighths else BLANK
    if eighths in FROM_THE_TOP:
        return Cell(FROM_THE_TOP[eighths], "down")
    if eighths:  # no glyph fills these from the top: the empty bottom part, inverse
        return Cell(EIGHTHS[8 - eighths], "down", inverse=True)
    return ZERO if nearest else BLANK


def signed_bars(columns: Sequence[float | None], bound: float, rows: int) -> list[list[Cell]]:
    """`rows` lines (top first) of bars about a zero line halfway down, one cell per column.

    A value rises |value| / bound of the upper half, or hangs as far into the lower half, by
    eighths of a row; a nonzero one by one eighth at least, so its sign shows: two below zero,
    where one would be the zero line itself. The zero line is the lower half's top edge (▔)
    wherever no bar hangs from it. An odd `rows` is rounded down (a zero line sits between
    rows), to 2 at least."""
    half = max(rows // 2, 1)
    lines: list[list[Cell]] = [[] for _ in range(2 * half)]
    for value in columns:
        share = 0.0 if value is None else min(abs(value) / bound, 1.0)
        up = value is not None and value > 0
        eighths = max(1 if up else 2, round(share * half * 8)) if value else 0
        for away in range(half):  # rows away from the zero line
            fill = min(max(eighths - 8 * away, 0), 8)
            lines[half - 1 - away].append(_cell(fill if up else 0, True, False))
            lines[half + away].append(_cell(0 if up else fill, False, away == 0))
    return lines


def time_ticks(start: datetime, end: datetime, width: int) -> str:
    """A line `width` wide with the time (UTC) of its start, middle and end: MM-DD HH:MM, or day
    marks (MM-DD) over more than three days. The middle one is left out where it does not fit,
    then the end one."""
    form = "%m-%d" if end - start > DAY_TICKS_BEYOND else "%m-%d %H:%M"
    first, middle, last = (f"{t:{form}}" for t in (start, start + (end - start) / 2, end))
    last += " UTC"
    line = first.ljust(width)
    if len(first) + 1 + len(last) > width:
        return line[:width]
    line = line[: width - len(last)] + last
    at = width // 2 - len(middle) // 2
    if at > len(first) and at + len(middle) < width - len(last):
        line = line[:at] + middle + line[at + len(middle) :]
    return line
