"""Every documented example body of the contract parses into the models."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from hypertui.api.models import (
    BiasHistoryPage,
    Heatmap,
    LiquidationRiskPage,
    PositionBreakdown,
    Segment,
    SegmentMetrics,
    SegmentsBias24h,
    StateStatus,
    ordered_by_range,
)
from hypertui.api.text import clean, one_line

BIAS_HISTORY = """{"segment": {"id": 9, "name": "Smart Money", "category": "pnl", "criteria": {"minPnl": 100000, "maxPnl": 1000000}},
 "nextCursor": null, "positionRecencyTimeframe": "all",
 "start": "2026-03-03T08:10:00.099Z", "end": "2026-03-04T08:10:00.099Z",
 "pageStart": "2026-03-04T08:10:00.075Z", "pageEnd": "2026-03-03T08:10:00.388Z",
 "historySnapshotStructure": ["timestamp", "bias", "exposureRatio", "openValue", "openLongValue", "openShortValue", "activePerpEquity"],
 "history": [["2026-03-04T08:10:00.075Z", 0.81, 2.95, 169578077.10, 108075482.73, 61502594.37, 57458083.37]]}"""

HEATMAP = """{"heatmap": [{"coin": "BTC", "totalValue": 1243320305.98, "totalLongValue": 621660152.99,
  "totalShortValue": 621660152.99, "count": 23755, "countLong": 12046, "countShort": 11709,
  "segments": [{"segmentId": 1, "totalValue": 48211007.3, "totalLongValue": 26530114.9,
    "totalShortValue": 21680892.4, "count": 9120, "countLong": 5102, "countShort": 4018, "bias": 0.5503}]}]}"""

RISK = """{"totalCount": 297, "items": [{"coin": "BTC", "totalValue": 287062584.45,
"riskValue": 50791.19, "percentRisk": 0.02}]}"""

SEGMENT_METRICS = """{"coin": "BTC", "data": [{"segment": {"id": 9, "name": "Smart Money", "category": "pnl", "criteria": {"minPnl": 100000, "maxPnl": 1000000}},
 "metrics": {"columns": ["timestamp", "positionCount", "positionCountLong", "totalPositionValue", "totalPositionValueLong", "bias"], "data":
 [["2026-04-20T09:10:00.000Z", 1320, 802, 61200000.5, 40110000.2, 0.6554]]}}]}"""

BREAKDOWN = """{"coin": "BTC", "timestamp": "2026-04-20T09:10:00.000Z", "data": [{"segment": {"id": 9, "name": "Smart Money", "category": "pnl", "criteria": {"minPnl": 100000, "maxPnl": 1000000}}, "positionCount": 412,
"pastPositionCount": 398, "totalPositionValue": 61200000.5, "totalPositionValueLong": 40110000.2,
"valueCloseToLiquidation": 1200.5, "bias": 0.6264}]}"""


def test_bias_history_example_parses_by_column_name():
    page = BiasHistoryPage.model_validate_json(BIAS_HISTORY)
    (snap,) = page.snapshots
    assert snap.bias == 0.81 and snap.exposure_ratio == 2.95
    assert snap.open_long_value == 108075482.73
    # The contract's own check: bias = (long - short) / active equity.
    assert round((snap.open_long_value - snap.open_short_value) / snap.active_perp_equity, 2) == snap.bias
    assert page.next_cursor is None


def test_columns_are_looked_up_by_name_not_position():
    raw = json.loads(BIAS_HISTORY)
    order = [5, 0, 3, 1, 6, 2, 4]
    raw["historySnapshotStructure"] = [raw["historySnapshotStructure"][i] for i in order]
    raw["history"] = [[row[i] for i in order] for row in raw["history"]]
    raw["historySnapshotStructure"].append("somethingNew")
    raw["history"][0].append(1)
    (snap,) = BiasHistoryPage.model_validate(raw).snapshots
    assert snap.bias == 0.81 and snap.active_perp_equity == 57458083.37


def test_missing_timestamp_column_names_the_column():
    raw = json.loads(BIAS_HISTORY)
    raw["historySnapshotStructure"][0] = "time"
    with pytest.raises(ValidationError, match="timestamp"):
        BiasHistoryPage.model_validate(raw)


def test_heatmap_example_parses():
    row = Heatmap.model_validate_json(HEATMAP).heatmap[0]
    assert row.coin == "BTC" and row.count == row.count_long + row.count_short
    assert row.total_long_value == row.total_short_value == row.total_value / 2
    assert row.cell(1).bias == 0.5503 and row.cell(2) is None


def test_risk_segment_metrics_and_breakdown_examples_parse():
    risk = LiquidationRiskPage.model_validate_json(RISK)
    assert risk.total_count == 297 and risk.items[0].percent_risk == 0.02
    metrics = SegmentMetrics.model_validate_json(SEGMENT_METRICS)
    assert metrics.data[0].rows[0].position_count_long == 802
    breakdown = PositionBreakdown.model_validate_json(BREAKDOWN)
    assert breakdown.data[0].segment.name == "Smart Money" and breakdown.data[0].bias == 0.6264


def test_segment_metrics_tolerate_a_listed_column_rows_omit_when_named():
    # A sibling export lists a `coin` column; we never read by position so extra columns are harmless.
    raw = json.loads(SEGMENT_METRICS)
    raw["data"][0]["metrics"]["columns"].insert(1, "coin")
    raw["data"][0]["metrics"]["data"][0].insert(1, "BTC")
    assert SegmentMetrics.model_validate(raw).data[0].rows[0].bias == 0.6554


def test_bias_24h_guess_shape_parses():
    raw = {"data": [{"segment": {"id": 1, "name": "Fish", "category": "size"},
                     "history": {"columns": ["timestamp", "bias"], "data": [["2026-03-04T08:10:00.075Z", -0.2]]}}]}
    assert SegmentsBias24h.model_validate(raw).data[0].snapshots[0].bias == -0.2


def test_segments_order_by_range_not_id():
    legend = [
        {"id": i, "name": n, "category": "size", "criteria": c}
        for i, n, c in [(1, "Fish", {"minSize": 250, "maxSize": 10000}), (16, "Shrimp", {"minSize": 0, "maxSize": 250}),
                        (7, "Leviathan", {"minSize": 5000000})]
    ] + [
        {"id": 8, "name": "Money Printer", "category": "pnl", "criteria": {"minPnl": 1000000}},
        {"id": 15, "name": "Giga-Rekt", "category": "pnl", "criteria": {"maxPnl": -1000000}},
        {"id": 12, "name": "Exit Liquidity", "category": "pnl", "criteria": {"minPnl": -10000, "maxPnl": 0}},
    ]
    segs = [Segment.model_validate(s) for s in legend]
    assert [s.name for s in ordered_by_range(segs, "size")] == ["Shrimp", "Fish", "Leviathan"]
    assert [s.name for s in ordered_by_range(segs, "pnl")] == ["Money Printer", "Exit Liquidity", "Giga-Rekt"]


def test_unknown_fields_tolerated_and_server_strings_sanitised():
    seg = Segment.model_validate(
        {"id": 1, "name": "Fi\x1b[31msh\u202e", "emoji": "🐟", "category": "size", "brandNew": {"x": 1}}
    )
    assert seg.name == "Fish\ufffd" and seg.name.sent == "Fi\x1b[31msh\u202e"  # shown marked, the sent name kept
    assert "\x1b" not in clean("\x1b]0;pwned\x07title") and clean("\x1b]0;pwned\x07title") == "title"
    assert one_line("a\n\tb  c") == "a b c"
    assert len(clean("x" * 1000)) == 200


@pytest.mark.parametrize("number", ["1e309", "-1e309", "NaN", "Infinity"])
def test_a_number_beyond_float_range_is_rejected_where_it_is(number):
    # json reads 1e309 as inf: kept, it became NaN in every chart and sum it reached.
    with pytest.raises(ValidationError, match="finite number") as info:
        Heatmap.model_validate_json(HEATMAP.replace("0.5503", number))
    assert info.value.errors()[0]["loc"] == ("heatmap", 0, "segments", 0, "bias")
    history = json.loads(BIAS_HISTORY.replace("169578077.10", number))  # a columnar row, by name
    with pytest.raises(ValidationError, match="finite number"):
        BiasHistoryPage.model_validate(history)


def test_the_widest_finite_numbers_are_kept():
    row = Heatmap.model_validate_json(HEATMAP.replace("621660152.99", "1.7e308").replace("0.5503", "-1.7e308")).heatmap[0]
    assert row.total_long_value == 1.7e308 and row.cell(1).bias == -1.7e308


def test_a_time_without_a_zone_is_utc():
    status = StateStatus.model_validate_json('{"lastUpdate": "2026-03-04T08:10:00", "nextUpdate": "2026-03-04T08:40:00Z"}')
    assert status.last_update == datetime(2026, 3, 4, 8, 10, tzinfo=UTC)
    assert status.next_update - status.last_update == timedelta(minutes=30)  # naive - aware raised TypeError
    assert status.model_dump(mode="json")["last_update"] == "2026-03-04T08:10:00.000Z"
