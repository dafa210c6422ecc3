"""The coin view's rows and series and the bias overview's strips, from API models."""

from __future__ import annotations

from hypertui.api.models import PositionBreakdown, PositionMetric, SegmentMetrics, SegmentsBias24h
from hypertui.monitor.coin_rows import bias_strips, breakdown_lines, metric_series, metric_totals, position_metric_series


def seg(sid: int, name: str, category: str, low: float) -> dict:
    key = "minSize" if category == "size" else "minPnl"
    return {"id": sid, "name": name, "emoji": "", "category": category, "criteria": {key: low}}


SHRIMP, FISH, SMART, REKT = seg(16, "Shrimp", "size", 0), seg(1, "Fish", "size", 250), seg(9, "Smart", "pnl", 1e5), seg(13, "Rekt", "pnl", -1e5)


def test_breakdown_lines_order_by_range_and_compute_changes():
    breakdown = PositionBreakdown.model_validate({"data": [
        {"segment": SMART, "positionCount": 10, "pastPositionCount": 12, "totalPositionValue": 1000.0,
         "valueCloseToLiquidation": 150.0, "bias": 0.7, "pastTotalPositionValue": 800.0},
        {"segment": FISH, "positionCount": 5, "totalPositionValue": 0.0, "bias": 0.5},
        {"segment": SHRIMP, "positionCount": 3, "pastPositionCount": 3, "totalPositionValue": 50.0, "bias": 0.3,
         "pastTotalPositionValue": 50.01},
        {"segment": REKT, "positionCount": 1, "pastPositionCount": 0, "totalPositionValue": 20.0,
         "valueCloseToLiquidation": 0.1},
    ]})
    lines = breakdown_lines(breakdown)
    assert [line.segment_id for line in lines] == [16, 1, 9, 13]  # size by range (Shrimp first), then pnl
    shrimp, fish, smart, rekt = lines
    assert (smart.positions_change, smart.positions_trend) == ("-2", -1)
    assert (smart.value_change, smart.value_trend) == ("+25.0%", 1)
    assert (smart.long_share, smart.lean) == ("70.0%", "▲")
    assert (smart.near_liq, smart.near_liq_share, smart.near_level) == ("$150", "15.0%", 2)
    assert (shrimp.positions_change, shrimp.positions_trend, shrimp.lean) == ("0", 0, "▼")
    assert shrimp.value_change == "0.0%"  # -0.02 %: no "-0.0%"
    assert (fish.positions_change, fish.value_change, fish.near_liq_share, fish.lean) == ("—", "—", "—", "·")
    assert (rekt.positions_change, rekt.near_level, rekt.long_share) == ("+1", 0, "—")


def _values(series: dict) -> dict:
    return {key: [v for _, v in points] for key, points in series.items()}


def test_series_read_oldest_first_and_skip_gaps():
    metrics = SegmentMetrics.model_validate({"data": [{"segment": SMART, "metrics": {
        "columns": ["timestamp", "positionCount", "totalPositionValue", "bias"],
        "data": [["2026-03-04T09:10:00.000Z", 3, 30.0, 0.6], ["2026-03-03T21:10:00.000Z", 2, None, 0.5],
                 ["2026-03-03T09:10:00.000Z", 1, 10.0, 0.4]],
    }}]})
    series = metric_series(metrics.data[0].rows)
    assert _values(series) == {"positions": [1, 2, 3], "value": [10.0, 30.0], "long": [0.4, 0.5, 0.6]}
    assert [f"{t:%d %H}" for t, _ in series["value"]] == ["03 09", "04 09"]  # each value at its own time
    rows = [PositionMetric.model_validate({"createdAt": f"2026-03-04T0{h}:00:00.000Z", "positionCount": h,
                                           "totalPositionValue": 100.0, "totalPositionValueLong": 10.0 * h}) for h in (3, 1, 2)]
    series = position_metric_series(rows)
    assert _values(series) == {"positions": [1, 2, 3], "value": [100.0] * 3, "long": [0.1, 0.2, 0.3]}
    assert [t.hour for t, _ in series["long"]] == [1, 2, 3]
    assert position_metric_series([]) == {"positions": [], "value": [], "long": []}


def _metric(hour: int, **totals) -> PositionMetric:
    return PositionMetric.model_validate({"createdAt": f"2026-03-04T0{hour}:00:00.000Z", "positionCount": 1,
                                          "totalPositionValue": 100.0, **totals})


def test_metric_totals_are_the_newest_rows_with_the_upnl_change_over_what_is_held():
    rows = [_metric(3, totalUnrealizedPnl=-1500.0, totalFunding=25.0), _metric(1, totalUnrealizedPnl=500.0),
            _metric(2, totalUnrealizedPnl=0.0, totalFunding=-3.0)]  # newest first as sent, or not: by time
    totals = metric_totals(rows)
    assert (totals.pnl, totals.pnl_sign, totals.funding, totals.funding_sign) == ("-$1.50K", -1, "+$25.00", 1)
    assert (totals.pnl_change, totals.pnl_change_sign) == ("-$2.00K", -1)
    one = metric_totals([_metric(1, totalFunding=-3.0)])  # no uPnL sent, one row: no change
    assert (one.pnl, one.pnl_change, one.funding) == ("—", "", "-$3.00")
    assert metric_totals([_metric(1)]) is None and metric_totals([]) is None  # neither total: nothing to say


def test_bias_strips_one_per_cohort_size_then_pnl():
    cols = ["timestamp", "bias", "exposureRatio", "openValue", "openLongValue", "openShortValue", "activePerpEquity"]

    def series(s: dict, biases: list[float | None]) -> dict:
        data = [[f"2026-03-0{4 - i}T08:10:00.000Z", b, 1, 1, 1, 1, 1] for i, b in enumerate(biases)]  # newest first
        return {"segment": s, "history": {"columns": cols, "data": data}}

    data = SegmentsBias24h.model_validate({"data": [series(SMART, [0.3, None, -0.1]), series(FISH, []), series(SHRIMP, [0.05])]})
    strips = bias_strips(data)
    assert [(s.segment_id, s.category) for s in strips] == [(16, "size"), (1, "size"), (9, "pnl")]
    smart = strips[2]
    assert smart.values == [-0.1, 0.3] and (smart.last, smart.low, smart.high) == ("+0.30", "-0.10", "+0.30")
    assert strips[1].values == [] and strips[1].last == "—"
