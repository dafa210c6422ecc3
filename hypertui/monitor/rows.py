"""What each panel shows, as plain values computed from API models (no Textual here).

Widgets turn these rows into styled cells. Three marks, one meaning each: a lean (▲ long,
▼ short, · balanced), a change since the previous refresh (↑ ↓, in a column of its own so
numbers line up with or without one), and a table's sort (▾ ▴, in its header only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Generic, TypeVar

from hypertui.api.models import (
    Heatmap,
    HeatmapCell,
    HeatmapRow,
    RiskItem,
    Segment,
    SegmentSummary,
    ordered_by_range,
)
from hypertui.monitor import deltas
from hypertui.monitor import format as fmt
from hypertui.monitor.heat import (
    CHANGE_BANDS,
    EMPTY,
    HeatCell,
    HeatSort,
    Palette,
    change_cell,
    magnitude_cell,
    share_cell,
    sort_rows,
)

AXES = ("size", "pnl")
BIAS_DEAD_ZONE = 0.05  # |perp bias| below this reads as neutral (·)
SHARE_DEAD_ZONE = 0.02  # a long share within 2 points of 50% reads as balanced (·), as in the heatmap

# --- cohort list ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortLine:
    id: int
    emoji: str
    name: str
    value: str  # open value on every coin
    share: str  # long share of that value, as the heatmap's cells say it (54%)
    lean: str  # ▲ net long, ▼ net short, · balanced, blank if unknown
    age: str = ""  # how old its figures are, when of an API update older than the current one


def cohort_groups(segments: list[Segment]) -> list[tuple[str, list[Segment]]]:
    """The two axes, each ordered by range (never by id)."""
    return [(axis, ordered_by_range(segments, axis)) for axis in AXES]


@dataclass(frozen=True)
class CohortTotals:
    """A cohort's open positions on every coin: what its heatmap cells add up to."""

    value: float
    long_value: float

    @property
    def long_share(self) -> float | None:
        return self.long_value / self.value if self.value > 0 else None


def cohort_totals(heatmap: Heatmap) -> dict[int, CohortTotals]:
    """Every cohort's open value and long value, summed over the heatmap's coins.

    The heatmap is one request for every cohort; a cohort's own summary carries the same two
    figures (openPerpsSummary totalValue, totalLongValue) but costs a token per cohort: 16 for
    a list that the heatmap makes current at every update for nothing more.
    """
    value: dict[int, float] = {}
    long_value: dict[int, float] = {}
    for row in heatmap.heatmap:
        for cell in row.segments:
            value[cell.segment_id] = value.get(cell.segment_id, 0.0) + cell.total_value
            long_value[cell.segment_id] = long_value.get(cell.segment_id, 0.0) + cell.total_long_value
    return {sid: CohortTotals(value[sid], long_value[sid]) for sid in value}


def cohort_line(
    segment: Segment,
    totals: CohortTotals | None,
    age: float | None = None,
    reference: dict[int, CohortTotals] | None = None,
) -> CohortLine:
    """A cohort's row: its open value and long share (from the heatmap; None: not fetched yet,
    or the cohort holds nothing). `age`: seconds since the update the figures are of, when that
    is not the current one (None: current): the row says how old it is rather than pass for current.
    `reference`: the totals of a change view's reference update: the long share's change in
    points against it instead (— for a cohort it did not hold)."""
    if totals is None:
        return CohortLine(segment.id, segment.emoji, segment.name, "…", "", "")
    share = totals.long_share
    if reference is not None:
        then = reference[segment.id].long_share if segment.id in reference else None
        points = None if share is None or then is None else round((share - then) * 100, 1) + 0.0  # + 0.0: no "-0.0"
        shown = fmt.DASH if points is None else f"{points:+.1f}"
        lean = fmt.direction(points, CHANGE_BANDS[0])
    else:
        shown = fmt.DASH if share is None else f"{share * 100:.0f}%"
        lean = fmt.direction(None if share is None else share - 0.5, SHARE_DEAD_ZONE)
    return CohortLine(
        segment.id, segment.emoji, segment.name, fmt.money(totals.value), shown, lean, "" if age is None else coarse_age(age)
    )


def coarse_age(seconds: float) -> str:
    """An age in at most 3 cells, its largest unit only (<1m, 45m, 3h, 2d), for the list's narrow rows."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "<1m"
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 24 * 60:
        return f"{minutes // 60}h"
    return f"{min(minutes // (24 * 60), 99)}d"


def short_name(name: str, width: int = 7) -> str:
    """A column header: the name if it fits, else its first word, else cut with an ellipsis."""
    if len(name) <= width:
        return name
    first = name.split()[0] if name.split() else name
    return first if len(first) <= width else name[: width - 1] + "…"


# --- cohort summary -------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    change: str = ""  # ↑↓ against the previous refresh
    lean: str = ""  # ▲▼· for the perp bias, beside the number rather than in it


def _figures_values(s: SegmentSummary) -> dict[str, float | None]:
    o = s.open_perps_summary
    return {
        "traders": s.summary.count_traders,
        "in_position": o.count_traders_in_position,
        "in_profit": o.count_traders_in_profit,
        "bias": o.perp_bias,
        "exposure": o.exposure_ratio,
        "total": o.total_value,
        "positions": o.count_open_positions,
        "assets": o.count_assets,
    }


def summary_figures(s: SegmentSummary, previous: SegmentSummary | None = None) -> list[Figure]:
    """The selected cohort's figures; `previous` is the last refresh of the same cohort and age."""
    o = s.open_perps_summary
    now = _figures_values(s)
    directions = deltas.changes(_figures_values(previous) if previous else None, now)
    ago = s.traders_24h_ago
    traders = s.summary.count_traders
    traders_change = None if ago is None or traders is None else traders - ago
    in_profit = fmt.count(o.count_traders_in_profit)
    if o.count_traders_in_position:
        in_profit += f" ({o.count_traders_in_profit / o.count_traders_in_position:.0%})"
    # Each value on a line of its own, short enough for the panel's 36 columns at every scale.
    per_side = []
    if o.by_side is not None and (o.by_side.long or o.by_side.short):  # [guess] fields: only when sent
        long, short = (side.count if side else None for side in (o.by_side.long, o.by_side.short))
        per_side = [Figure("  long/short", f"{fmt.count(long)} / {fmt.count(short)}")]
    equity = [] if o.total_perp_equity is None else [Figure("Perp equity", fmt.money(o.total_perp_equity))]  # not in 24h/7d/30d

    def fig(label: str, key: str, text: str, lean: str = "") -> Figure:
        return Figure(label, text, deltas.mark(directions[key]), lean)

    return [
        fig("Traders", "traders", fmt.count(now["traders"])),
        Figure("24 h ago", f"{fmt.count(ago)} ({fmt.signed_count(traders_change)})"),
        fig("In position", "in_position", fmt.count(o.count_traders_in_position)),
        fig("In profit", "in_profit", in_profit),
        fig("Perp bias", "bias", fmt.signed(o.perp_bias), fmt.direction(o.perp_bias, BIAS_DEAD_ZONE)),
        fig("Exposure", "exposure", fmt.ratio(o.exposure_ratio) + "×"),
        Figure("Long/short", f"{fmt.money(o.total_long_value)} / {fmt.money(o.total_short_value)}"),
        fig("Open value", "total", fmt.money(o.total_value)),
        fig("Positions", "positions", fmt.count(o.count_open_positions)),
        *per_side,
        fig("Assets held", "assets", fmt.count(o.count_assets)),
        *equity,
        Figure("Active equity", fmt.money(o.total_active_perp_equity)),
    ]


@dataclass(frozen=True)
class AssetLine:
    coin: str
    value: str
    long_share: str
    lean: str  # ▲ long-heavy, ▼ short-heavy, · balanced


def top_assets(s: SegmentSummary, heatmap: Heatmap | None, limit: int = 10) -> list[AssetLine]:
    """The cohort's biggest coins: from the summary, or from the heatmap if the summary has none."""
    pairs: list[tuple[str, float, float | None]] = [(a.coin, a.total_value, a.long_share) for a in s.top_open_perps]
    if not pairs and heatmap is not None:
        sid = s.segment.id
        for row in heatmap.heatmap:
            cell = row.cell(sid)
            if cell is not None and cell.total_value > 0:
                pairs.append((row.coin, cell.total_value, cell.bias))
    pairs.sort(key=lambda p: p[1], reverse=True)
    return [
        AssetLine(
            coin,
            fmt.money(value),
            fmt.long_share(share),
            fmt.direction(None if share is None else share - 0.5, SHARE_DEAD_ZONE),
        )
        for coin, value, share in pairs[:limit]
    ]


def top_assets_note(s: SegmentSummary, assets: list[AssetLine]) -> str:
    """Why the list is what it is when the summary sent no top assets (a [guess] field)."""
    if s.top_open_perps:
        return ""
    return "no top assets in this answer: these are from the heatmap" if assets else "no top assets in this answer"


# --- lines built when asked for -------------------------------------------------------------

Line = TypeVar("Line")
Item = TypeVar("Item")


class LazyLines(Sequence[Line], Generic[Item, Line]):
    """A panel's lines in order, each worked out from its item when first asked for.

    A table asks for the lines it paints: a heatmap has ~200 coins and a screen shows ~40, a
    risk table may hold hundreds of loaded rows, so a refresh builds only the lines in view.
    """

    def __init__(self, items: list[Item], coins: list[str]) -> None:
        self._items = items
        self._lines: dict[int, Line] = {}
        self.coins = coins  # each line's key, without building the line

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> Line:  # type: ignore[override]  # no slices asked for
        index = range(len(self))[index]  # negative indices; IndexError past the end
        line = self._lines.get(index)
        if line is None:
            line = self._lines[index] = self._line(self._items[index])
        return line

    def item(self, index: int) -> Item:
        """The model line `index` is worked out from."""
        return self._items[index]

    def _line(self, item: Item) -> Line:
        raise NotImplementedError


# --- liquidation risk -----------------------------------------------------------------------

RISK_COLUMNS = ("coin", "total_value", "risk_value", "percent_risk")
RISK_WARN, RISK_HIGH = 2.0, 10.0  # percent of the value within reach of liquidation
# Columns where a rise is bad news: more value within reach of liquidation (its ↑ shows as danger).
RISK_RISE_IS_DANGER = frozenset({"risk_value", "percent_risk"})


@dataclass(frozen=True)
class RiskLine:
    coin: str
    total_value: str
    risk_value: str
    percent_risk: str
    level: int  # 0 calm, 1 warn, 2 high
    changes: tuple[str, str, str]  # ↑↓ for total, at risk, %


def risk_level(percent_risk: float) -> int:
    return 2 if percent_risk >= RISK_HIGH else 1 if percent_risk >= RISK_WARN else 0


class RiskLines(LazyLines[RiskItem, RiskLine]):
    def __init__(self, ordered: list[RiskItem], previous: dict[str, RiskItem] | None) -> None:
        super().__init__(ordered, [item.coin for item in ordered])
        self._previous = previous or {}

    def _line(self, item: RiskItem) -> RiskLine:
        old = self._previous.get(item.coin)
        changes = tuple(deltas.mark(deltas.change(getattr(old, c) if old else None, getattr(item, c))) for c in RISK_COLUMNS[1:])
        level = risk_level(item.percent_risk)
        flag = "‼" if level == 2 else "!" if level == 1 else " "
        return RiskLine(
            item.coin,
            fmt.money(item.total_value),
            fmt.money(item.risk_value),
            f"{flag}{fmt.percent(item.percent_risk, 2)}",
            level,
            changes,  # type: ignore[arg-type]
        )


def risk_lines(items: list[RiskItem], previous: dict[str, RiskItem] | None, column: str, descending: bool) -> RiskLines:
    """Rows sorted by `column`; changes against the previous refresh of the same cohort."""
    key = (lambda i: i.coin.casefold()) if column == "coin" else (lambda i: getattr(i, column))
    return RiskLines(sorted(items, key=key, reverse=descending), previous)


# --- heatmap --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatLine:
    coin: str
    total: str
    cells: tuple[HeatCell, ...]
    changed: tuple[bool, ...]  # the cell's value differs from the previous refresh


_MEASURE = {"share": attrgetter("bias"), "value": attrgetter("total_value"), "count": attrgetter("count")}
Measure = Callable[[HeatmapRow, HeatmapCell], float | None]


def _measure(mode: str, reference_rows: dict[str, HeatmapRow]) -> Measure:
    """What a cell shows, as a number (None: nothing to show, a change with no reference cell)."""
    if mode != "change":
        figure = _MEASURE[mode]
        return lambda _, cell: figure(cell)

    def change(row: HeatmapRow, cell: HeatmapCell) -> float | None:
        then = reference_rows[row.coin].cell(cell.segment_id) if row.coin in reference_rows else None
        return None if then is None else (cell.bias - then.bias) * 100  # points of long share

    return change


def _rows_by_coin(heatmap: Heatmap) -> dict[str, HeatmapRow]:
    """Rows by coin name, leaving out names that occur twice (two coins whose names clean alike)."""
    seen: dict[str, HeatmapRow] = {}
    twice: set[str] = set()
    for row in heatmap.heatmap:
        if row.coin in seen:
            twice.add(row.coin)
        seen[row.coin] = row
    return {coin: row for coin, row in seen.items() if coin not in twice}


class HeatLines(LazyLines[HeatmapRow, HeatLine]):
    def __init__(
        self, rows: list[HeatmapRow], cohort_ids: list[int], mode: str, palette: Palette, largest: float,
        prev_rows: dict[str, HeatmapRow], measure: Measure,
    ) -> None:
        super().__init__(rows, [row.coin for row in rows])
        self._cohort_ids, self._mode, self._palette = cohort_ids, mode, palette
        self._largest, self._prev_rows, self._measure = largest, prev_rows, measure

    def _cell(self, value: float | None) -> HeatCell:
        if self._mode == "change":
            return change_cell(value, self._palette)
        assert value is not None  # only a change lacks a figure
        if self._mode == "share":
            return share_cell(value, self._palette)
        return magnitude_cell(value, self._largest, self._mode, self._palette)

    def _line(self, row: HeatmapRow) -> HeatLine:
        measure = self._measure
        mine = row.by_segment
        before = self._prev_rows[row.coin].by_segment if row.coin in self._prev_rows else {}
        cells, changed = [], []
        for sid in self._cohort_ids:
            cell = mine.get(sid)
            if cell is None:
                cells.append(EMPTY)
                changed.append(False)
                continue
            value = measure(row, cell)
            cells.append(self._cell(value))
            old = before.get(sid)  # a change view is a change already: no mark for the last refresh's on it
            changed.append(self._mode != "change" and old is not None and deltas.change(measure(row, old), value) != deltas.SAME)
        return HeatLine(row.coin, fmt.money(row.total_value), tuple(cells), tuple(changed))


def heatmap_lines(
    heatmap: Heatmap | None,
    cohort_ids: list[int],
    mode: str,
    palette: Palette,
    name_filter: str = "",
    previous: Heatmap | None = None,
    sort: HeatSort | None = None,
    reference: Heatmap | None = None,
) -> HeatLines:
    """Coins by total value (or by a shown cohort's column: `sort`), filtered by name
    (case-insensitive substring), one cell per cohort; none while there is no heatmap. In the
    change mode each cell is its long share's change against `reference` (an earlier update)."""
    rows = sorted(heatmap.heatmap if heatmap else [], key=lambda r: r.total_value, reverse=True)
    # The value/count scale is set by the whole axis, so filtering does not recolour cells.
    largest = 0.0
    if mode in ("value", "count"):
        largest = max((_MEASURE[mode](c) for r in rows for sid in cohort_ids if (c := r.cell(sid))), default=0.0)
    needle = name_filter.casefold()
    # A row's own cells come from the row itself; the previous refresh is matched by coin name,
    # so a name that is not unique (hostile names can clean to the same text) gets no change mark.
    unique = _rows_by_coin(heatmap) if heatmap else {}
    prev_rows = {coin: row for coin, row in (_rows_by_coin(previous) if previous else {}).items() if coin in unique}
    shown = [row for row in rows if not needle or needle in row.coin.casefold()]
    measure = _measure(mode, _rows_by_coin(reference) if reference else {})
    if sort is not None and sort.cohort_id in cohort_ids:  # a cohort of the other axis: by value
        shown = sort_rows(shown, sort, measure)
    return HeatLines(shown, cohort_ids, mode, palette, largest, prev_rows, measure)
