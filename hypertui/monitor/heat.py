"""Heatmap cell maths: long share → diverging level, glyph and colour; value/count → intensity;
a long share's change against a reference update (points) → diverging level again;
the rows' order when sorted by one cohort's column; and the counts behind the cursor's cell.

Levels are quantised (−4…4) so a cell's style only changes when its band does, which keeps
terminal traffic low, and so the glyph alone carries the information (NO_COLOR, 256 colours).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from hypertui.api.models import HeatmapCell, HeatmapRow, Segment
from hypertui.monitor import format as fmt

GLYPHS = (" ", "░", "▒", "▓", "█")  # intensity, by |level|
# How far each |level|'s colour goes from the neutral towards its side's. Not |level|/4: a quarter
# of the way stays in the neutral's cell of xterm's 256-colour cube, where the lightest long and
# short buckets were one colour. These keep every bucket apart from the neutral and from the
# other side in 256 colours, for the built-in palettes and the shipped themes (tests/monitor/test_heat.py).
LEVEL_MIX = (0.0, 0.35, 0.55, 0.8, 1.0)
# |2·share − 1| band edges, of the whole percent shown: 48-52% reads as balanced, as in the legend
# and the top assets (rows.SHARE_DEAD_ZONE).
SHARE_BANDS = (0.05, 0.2, 0.4, 0.7)
MODES = ("share", "value", "count", "change")
# |change| band edges, in points of long share: under half a point reads as no change (·).
CHANGE_BANDS = (0.5, 2.0, 5.0, 10.0)


@dataclass(frozen=True)
class Palette:
    name: str
    low: str  # short side (share < 0.5)
    neutral: str
    high: str  # long side (share > 0.5); also the value/count scale


PALETTES = (
    Palette("red-green", low="#d73027", neutral="#3a3a3a", high="#1a9850"),
    # Orange↔blue stays distinct for deuteranopia and protanopia.
    Palette("orange-blue", low="#e66101", neutral="#3a3a3a", high="#2c7bb6"),
)


@dataclass(frozen=True)
class HeatCell:
    text: str
    level: int  # −4 (all short) … 0 (balanced) … 4 (all long); 0…4 for value/count
    background: str  # "#rrggbb"
    foreground: str
    short: str = ""  # the same in fewer characters, for a cell too narrow for `text` ("" if none)


def _band(x: float, edges: tuple[float, ...]) -> int:
    return bisect_right(edges, x)  # how many (ascending) edges x has reached; called per heatmap cell


def _mix(a: str, b: str, t: float) -> str:
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True))


def _foreground(background: str) -> str:
    r, g, b = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#ffffff"


@lru_cache(maxsize=64)  # a handful of levels per palette; a heatmap asks thousands of times
def _colours(level: int, end: str, neutral: str) -> tuple[str, str]:
    background = _mix(neutral, end, LEVEL_MIX[abs(level)])
    return background, _foreground(background)


def _cell(text: str, level: int, end: str, palette: Palette, short: str = "") -> HeatCell:
    return HeatCell(text, level, *_colours(level, end, palette.neutral), short)


def share_level(share: float) -> int:
    d = round(2 * share - 1, 9)  # so 0.3 and 0.7 land in mirrored bands despite float error
    return int(math.copysign(_band(abs(d), SHARE_BANDS), d))


def share_cell(share: float, palette: Palette) -> HeatCell:
    """▓▲62%: intensity glyph, direction mark, long share; the glyph and mark read from the
    percent shown, so two cells that say 48% never disagree (one balanced, one short)."""
    percent = f"{share * 100:.0f}"
    return _share_cell(share_level(int(percent) / 100), percent, palette)


@lru_cache(maxsize=2048)  # a few hundred level × percent pairs: a refresh reuses the cells, not rebuilds them
def _share_cell(level: int, percent: str, palette: Palette) -> HeatCell:
    mark = "▲" if level > 0 else "▼" if level < 0 else "·"
    return _cell(f"{GLYPHS[abs(level)]}{mark}{percent}%", level, palette.high if level >= 0 else palette.low, palette)


def change_cell(points: float | None, palette: Palette) -> HeatCell:
    """░▲+3.1: intensity glyph, direction and the signed change in points of long share; · under
    half a point; — where the reference update has no such cell (None)."""
    if points is None:
        return _cell("—", 0, palette.neutral, palette)
    return _change_cell(int(math.copysign(_band(abs(points), CHANGE_BANDS), points)), round(points, 1), palette)


@lru_cache(maxsize=2048)
def _change_cell(level: int, points: float, palette: Palette) -> HeatCell:
    if level == 0:
        return _cell("·", 0, palette.neutral, palette)
    mark = "▲" if level > 0 else "▼"
    end = palette.high if level > 0 else palette.low
    return _cell(f"{GLYPHS[abs(level)]}{mark}{points:+.1f}", level, end, palette, f"{GLYPHS[abs(level)]}{mark}{points:+.0f}")


def magnitude_level(value: float, largest: float) -> int:
    """0…4 on a log scale relative to the largest value shown (values span many decades)."""
    if value <= 0 or largest <= 0:
        return 0
    if largest <= 1:
        return 4
    t = math.log10(max(value, 1)) / math.log10(largest)
    return max(1, min(4, math.ceil(t**4 * 4)))  # ^4: spread the top decades, where the money is


def magnitude_cell(value: float, largest: float, mode: str, palette: Palette) -> HeatCell:
    """░$48.2M or ░9,120; in a narrow cell ░$48M: the glyph stays, the value loses a digit."""
    level = magnitude_level(value, largest)
    shown = fmt.money(value) if mode == "value" else fmt.count(value)
    short = ("$" if mode == "value" else "") + _two_digits(value)
    return _cell(f"{GLYPHS[level]}{shown}", level, palette.high, palette, f"{GLYPHS[level]}{short}")


def _two_digits(value: float) -> str:
    """1.2M, 48M, 510M, 12K, 950: at most four characters below a thousand trillions."""
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if value >= limit * 0.995:  # 999.6K rounds to 1.0M, not 1000K
            scaled = value / limit
            return f"{scaled:.{1 if scaled < 9.95 else 0}f}{suffix}"
    return f"{value:.0f}"


EMPTY = HeatCell("", 0, "", "")  # no position of this cohort on this coin


# --- sorting by a cohort's column -------------------------------------------------------------


@dataclass(frozen=True)
class HeatSort:
    """Rows by one cohort's cell (its long share, value, count or change, as the mode shows)."""

    cohort_id: int
    descending: bool

    @property
    def mark(self) -> str:
        return fmt.sort_mark(self.descending)


def next_sort(current: HeatSort | None, cohort_id: int | None, descending: bool) -> HeatSort | None:
    """`s` (descending) or `S` (ascending) on a column: sort by it; the same key on the same
    column again, or on the coin or value column, goes back to the default order (by value)."""
    wanted = None if cohort_id is None else HeatSort(cohort_id, descending)
    return None if wanted == current else wanted


def sort_rows(
    rows: list[HeatmapRow], sort: HeatSort, measure: Callable[[HeatmapRow, HeatmapCell], float | None]
) -> list[HeatmapRow]:
    """`rows` (ordered by value) by the cohort's measure; ties keep the order by value, and coins
    the cohort holds no position in (or with no measure: no cell to compare with) come last
    whichever the direction."""
    measured = [(row, None if (cell := row.cell(sort.cohort_id)) is None else measure(row, cell)) for row in rows]
    held = [(m, row) for row, m in measured if m is not None]
    held.sort(key=lambda pair: pair[0], reverse=sort.descending)  # stable, reversed or not
    return [row for _, row in held] + [row for row, m in measured if m is None]


# --- the cursor's cell in words ------------------------------------------------------------------


def _positions(count: int) -> str:
    return f"{fmt.count(count)} position{'' if count == 1 else 's'}"


def _split(long: int | None, short: int | None) -> str:
    return f" ({fmt.count(long)} long / {fmt.count(short)} short)" if long is not None or short is not None else ""


def cell_detail(row: HeatmapRow, cohort: Segment | None) -> tuple[str, ...]:
    """What the cell under the cursor stands for, with the long/short counts no cell has room for:
    the coin's totals (coin or value column), or one cohort's positions and values on it.

    In forms from the fullest to the shortest, each without a whole part of the one before (the
    values, then the long/short split, then the count), so a narrow title shows the longest that
    fits rather than a figure cut in the middle."""
    if cohort is None:
        name, count, split = row.coin, row.count, _split(row.count_long, row.count_short)
        value = fmt.money(row.total_value)
    else:
        name = f"{row.coin} × " + " ".join(filter(None, (cohort.emoji, cohort.name)))
        cell = row.cell(cohort.id)
        if cell is None:
            return (f"{name}: no position",)
        count, split = cell.count, _split(cell.count_long, cell.count_short)
        value = f"{fmt.money(cell.total_long_value)} long / {fmt.money(cell.total_short_value)} short"
    positions = f"{name}: {_positions(count)}"
    return tuple(dict.fromkeys((f"{positions}{split} · {value}", f"{positions}{split}", positions, name)))
