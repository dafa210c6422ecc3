"""The change views' figures and "since you last looked", on hand-made answers."""

from datetime import UTC, datetime, timedelta

from hypertui.api.models import Heatmap, LiquidationRiskPage, SegmentSummary
from hypertui.monitor.changes import (
    DEFAULT_REFERENCE,
    REFERENCES,
    BandMove,
    CellChange,
    bias_changes,
    cell_changes,
    largest_moves,
    reference_update,
    risk_band_moves,
    sign_flips,
    since_last_looked,
)

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def summary(sid: int, bias: float) -> SegmentSummary:
    figures = {"countTradersInPosition": 1, "perpBias": bias, "positionValue": 1, "positionLongValue": 1,
               "positionShortValue": 0, "exposureRatio": 1, "activePerpEquity": 1}
    opened = {"perpBias": bias, "exposureRatio": 1, "countOpenPositions": 1, "countTradersInPosition": 1,
              "countTradersInProfit": 1, "totalValue": 1, "totalLongValue": 1, "totalActivePerpEquity": 1}
    segment = {"id": sid, "name": f"cohort {sid}", "category": "size"}
    return SegmentSummary.model_validate({"segment": segment, "summary": figures, "openPerpsSummary": opened})


def heatmap(cells: dict[tuple[str, int], tuple[float, float]]) -> Heatmap:
    """(coin, cohort) -> (long share, value)."""
    rows: dict[str, list[dict]] = {}
    for (coin, sid), (share, value) in cells.items():
        rows.setdefault(coin, []).append({"segmentId": sid, "totalValue": value, "totalLongValue": share * value,
                                          "totalShortValue": (1 - share) * value, "count": 1, "bias": share})
    return Heatmap.model_validate({"heatmap": [
        {"coin": coin, "totalValue": 1, "totalLongValue": 1, "totalShortValue": 1, "count": 1, "segments": segs}
        for coin, segs in rows.items()
    ]})


def risk(items: dict[str, float], total: int | None = None) -> LiquidationRiskPage:
    ordered = sorted(items.items(), key=lambda item: -item[1])
    return LiquidationRiskPage.model_validate({
        "totalCount": total if total is not None else len(items),
        "items": [{"coin": c, "totalValue": 100, "riskValue": p, "percentRisk": p} for c, p in ordered],
    })


def test_the_reference_is_the_newest_update_at_or_before_the_time_ago_and_none_when_too_far_back():
    updates = [NOW - timedelta(minutes=15 * i) for i in range(12)]  # the last 2 h 45 min, every 15 min
    assert DEFAULT_REFERENCE == "24h" and list(REFERENCES) == ["1h", "4h", "24h", "7d"]
    assert reference_update(updates, NOW, REFERENCES["1h"]) == NOW - timedelta(hours=1)
    assert reference_update(updates, NOW + timedelta(minutes=10), REFERENCES["1h"]) == NOW - timedelta(hours=1)  # a gap: the one before
    assert reference_update(updates, NOW, REFERENCES["4h"]) is None


def test_each_cohorts_bias_change_leaves_out_a_cohort_held_at_one_update_only():
    now = {1: summary(1, 0.30), 2: summary(2, -0.10), 3: summary(3, 0.5)}
    then = {1: summary(1, 0.10), 2: summary(2, 0.20), 4: summary(4, 0.0)}
    changes = bias_changes(now, then)
    assert changes.keys() == {1, 2} and round(changes[1], 6) == 0.2 and round(changes[2], 6) == -0.3


def test_cell_changes_are_share_and_value_moves_and_the_largest_are_weighted_by_value():
    then = heatmap({("BTC", 1): (0.50, 1000.0), ("BTC", 2): (0.60, 10.0), ("ETH", 1): (0.40, 500.0), ("GONE", 1): (0.5, 9e9)})
    now = heatmap({("BTC", 1): (0.45, 1200.0), ("BTC", 2): (0.10, 10.0), ("ETH", 1): (0.40, 600.0), ("NEW", 1): (0.9, 9e9)})
    changes = cell_changes(now, then)
    assert changes.keys() == {("BTC", 1), ("BTC", 2), ("ETH", 1)}
    btc = changes[("BTC", 1)]
    assert round(btc.share, 6) == -0.05 and btc.value == 200.0 and btc.weight == 1200.0
    # BTC/1 moved 5 points on $1,200 (60), BTC/2 fifty points on $10 (5); ETH/1 did not move.
    assert [key for key, _ in largest_moves(changes)] == [("BTC", 1), ("BTC", 2)]
    assert largest_moves({("A", 1): CellChange(0.1, 0, 10), ("B", 1): CellChange(-0.2, 0, 10)}, count=1) == [(("B", 1), CellChange(-0.2, 0, 10))]


def test_a_sign_flip_is_a_turn_from_long_to_short_or_back_not_a_drift_within_the_neutral_band():
    then = {1: summary(1, 0.30), 2: summary(2, 0.02), 3: summary(3, -0.2), 4: summary(4, 0.3)}
    now = {1: summary(1, -0.10), 2: summary(2, -0.03), 3: summary(3, 0.4), 4: summary(4, 0.01)}
    assert sign_flips(now, then) == [(1, 0.30, -0.10), (3, -0.2, 0.4)]


def test_coins_entering_or_leaving_the_risk_bands_and_an_unknown_one_left_out():
    then = {9: risk({"BTC": 1.0, "ETH": 12.0, "SOL": 3.0}), 5: risk({"X": 50.0})}
    # HYPE was not on the earlier page, which listed every coin: it was below every band then.
    now = {9: risk({"BTC": 2.5, "ETH": 8.0, "SOL": 3.5, "HYPE": 11.0}), 7: risk({"Y": 50.0})}
    assert risk_band_moves(now, then) == [
        BandMove(9, "HYPE", 2.0, True, 11.0),
        BandMove(9, "BTC", 2.0, True, 2.5),
        BandMove(9, "HYPE", 10.0, True, 11.0),
        BandMove(9, "ETH", 10.0, False, 8.0),
    ]  # per band, riskiest first
    # A page of 2 of 300 coins stopping at 20 %: a coin not on it may be anywhere below, so no move is claimed.
    partial = {9: risk({"A": 40.0, "B": 20.0}, total=300)}
    assert risk_band_moves({9: risk({"A": 40.0, "C": 15.0}, total=300)}, partial) == []
    assert risk_band_moves({9: risk({"A": 40.0, "B": 1.0}, total=2)}, partial) == [
        BandMove(9, "B", 2.0, False, 1.0), BandMove(9, "B", 10.0, False, 1.0)
    ]


def test_since_last_looked_gathers_the_three_and_is_empty_when_nothing_moved():
    same = {1: summary(1, 0.3)}
    quiet = since_last_looked((same, same), (heatmap({("BTC", 1): (0.5, 1.0)}),) * 2, ({9: risk({"BTC": 1.0})},) * 2)
    assert quiet.empty
    moved = since_last_looked(({1: summary(1, -0.3)}, same), None, ({9: risk({"BTC": 3.0})}, {9: risk({"BTC": 1.0})}))
    assert moved.flips == [(1, 0.3, -0.3)] and moved.moves == [] and [b.coin for b in moved.bands] == ["BTC"]
