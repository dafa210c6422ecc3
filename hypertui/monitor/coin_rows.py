"""The coin view and the bias overview as plain values (no Textual here).

The coin view: a coin's breakdown by cohort (position-breakdown-by-cohort), each cohort's
12-hourly history (segment-metrics) and one cohort's per-update series (position-metrics),
with its latest unrealised PnL and funding on the coin.
The bias overview: every cohort's perp bias over the last ~72 h (segments-bias-charts-data-24h).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from hypertui.api.models import (
    CoinCohortBreakdown,
    PositionBreakdown,
    PositionMetric,
    Segment,
    SegmentMetricRow,
    SegmentsBias24h,
    ordered_by_range,
)
from hypertui.monitor import format as fmt
from hypertui.monitor.rows import AXES, SHARE_DEAD_ZONE, risk_level
from hypertui.monitor.scale import Points


def cohort_title(segment: Segment) -> str:
    return f"{segment.emoji} {segment.name}".strip()


def by_range(items: Sequence[CoinCohortBreakdown]) -> list[CoinCohortBreakdown]:
    """Size cohorts by range, then pnl cohorts by range (never by id, never summed across axes)."""
    order = {s.id: i for axis in AXES for i, s in enumerate(ordered_by_range([c.segment for c in items], axis))}
    return sorted(items, key=lambda c: (AXES.index(c.segment.category), order[c.segment.id]))


# --- the breakdown table ----------------------------------------------------------------------


@dataclass(frozen=True)
class BreakdownLine:
    segment_id: int
    cohort: str
    positions: str
    positions_change: str  # against 24 h ago
    positions_trend: int  # sign of that change: 1, -1, 0 (unknown or none)
    value: str
    value_change: str  # percent against 24 h ago, when the server sends the past value
    value_trend: int
    long_share: str
    lean: str  # ▲ long-heavy, ▼ short-heavy, · neutral
    near_liq: str  # value within reach of liquidation
    near_liq_share: str  # that as a share of the cohort's value on the coin
    near_level: int  # 0 calm, 1 warn, 2 high (as the risk table)


def _sign(value: float | None) -> int:
    return 0 if not value else 1 if value > 0 else -1


def breakdown_line(c: CoinCohortBreakdown) -> BreakdownLine:
    count_change = None if c.past_position_count is None else c.position_count - c.past_position_count
    value_change = None
    if c.past_total_position_value:
        value_change = (c.total_position_value / c.past_total_position_value - 1) * 100
    near_share = None
    if c.value_close_to_liquidation is not None and c.total_position_value:
        near_share = 100 * c.value_close_to_liquidation / c.total_position_value
    return BreakdownLine(
        segment_id=c.segment.id,
        cohort=cohort_title(c.segment),
        positions=fmt.count(c.position_count),
        positions_change=fmt.signed_count(count_change),
        positions_trend=_sign(count_change),
        value=fmt.money(c.total_position_value),
        value_change=fmt.DASH if value_change is None else f"{fmt.signed(value_change, 1)}%",
        value_trend=_sign(value_change),
        long_share=fmt.long_share(c.bias),
        lean=fmt.direction(None if c.bias is None else c.bias - 0.5, SHARE_DEAD_ZONE),
        near_liq=fmt.money(c.value_close_to_liquidation),
        near_liq_share=fmt.percent(near_share),
        near_level=0 if near_share is None else risk_level(near_share),
    )


def breakdown_lines(breakdown: PositionBreakdown) -> list[BreakdownLine]:
    return [breakdown_line(c) for c in by_range(breakdown.data)]


# --- series -----------------------------------------------------------------------------------

# (key, chart title, value format) of the three series each chart row shows.
SERIES: tuple[tuple[str, str, Callable[[float], str]], ...] = (
    ("positions", "Positions", fmt.count),
    ("value", "Value", fmt.money),
    ("long", "Long share", fmt.long_share),
)




def _series(points: list[tuple[datetime, float | None, float | None, float | None]]) -> dict[str, Points]:
    """Each series' (time, value) points; a missing value is skipped, not drawn as 0."""
    return {key: [(t, v) for t, *values in points if (v := values[i]) is not None] for i, (key, _, _) in enumerate(SERIES)}


def metric_series(rows: Sequence[SegmentMetricRow]) -> dict[str, Points]:
    """A cohort's segment-metrics rows (newest first, as sent) as series, oldest first."""
    ordered = sorted(rows, key=lambda r: r.timestamp)
    return _series([(r.timestamp, r.position_count, r.total_position_value, r.bias) for r in ordered])


def position_metric_series(rows: Sequence[PositionMetric]) -> dict[str, Points]:
    """A coin × cohort's position-metrics rows as series, oldest first."""
    ordered = sorted(rows, key=lambda r: r.created_at)
    return _series([(r.created_at, r.position_count, r.total_position_value, r.long_share) for r in ordered])


@dataclass(frozen=True)
class MetricTotals:
    """A coin × cohort's money at the latest update: is the cohort making or losing it here?"""

    pnl: str  # totalUnrealizedPnl
    pnl_sign: int
    pnl_change: str  # since the oldest row held ("" when unknown)
    pnl_change_sign: int
    funding: str  # totalFunding
    funding_sign: int


def metric_totals(rows: Sequence[PositionMetric]) -> MetricTotals | None:
    """From the newest position-metrics row; None when the server sent neither total."""
    ordered = sorted(rows, key=lambda r: r.created_at)
    if not ordered or (ordered[-1].total_unrealized_pnl is None and ordered[-1].total_funding is None):
        return None
    first, last = ordered[0], ordered[-1]
    change = None
    if len(ordered) > 1 and first.total_unrealized_pnl is not None and last.total_unrealized_pnl is not None:
        change = last.total_unrealized_pnl - first.total_unrealized_pnl
    return MetricTotals(
        pnl=fmt.signed_money(last.total_unrealized_pnl),
        pnl_sign=_sign(last.total_unrealized_pnl),
        pnl_change="" if change is None else fmt.signed_money(change),
        pnl_change_sign=_sign(change),
        funding=fmt.signed_money(last.total_funding),
        funding_sign=_sign(last.total_funding),
    )


# --- the bias overview ------------------------------------------------------------------------


@dataclass(frozen=True)
class BiasStrip:
    segment_id: int
    category: str
    cohort: str
    values: list[float]  # perp bias, oldest first
    times: list[datetime]  # of each value
    last: str
    low: str
    high: str


def bias_strips(data: SegmentsBias24h) -> list[BiasStrip]:
    """One strip per cohort in the export: size cohorts by range, then pnl cohorts."""
    series = {s.segment.id: s for s in data.data}  # an id sent twice: the last one
    out = []
    for axis in AXES:
        for seg in ordered_by_range([s.segment for s in series.values()], axis):
            snaps = sorted(series[seg.id].snapshots, key=lambda s: s.timestamp)
            points = [(s.timestamp, s.bias) for s in snaps if s.bias is not None]
            values = [v for _, v in points]
            out.append(
                BiasStrip(
                    seg.id,
                    seg.category,
                    cohort_title(seg),
                    values,
                    [t for t, _ in points],
                    fmt.signed(values[-1] if values else None),
                    fmt.signed(min(values, default=None)),
                    fmt.signed(max(values, default=None)),
                )
            )
    return out
