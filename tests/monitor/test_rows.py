from hypertui.api.models import Heatmap, RiskItem, Segment, SegmentSummary
from hypertui.api.text import NAME_MARK
from hypertui.monitor.heat import PALETTES, HeatSort, next_sort
from hypertui.monitor.rows import (
    CohortTotals,
    cohort_totals,
    heatmap_lines,
    risk_lines,
    cohort_groups,
    cohort_line,
    short_name,
    summary_figures,
    top_assets,
    top_assets_note,
)

LEGEND = [
    Segment(id=i, name=n, emoji="x", category=c, criteria=crit)
    for i, n, c, crit in [
        (16, "Shrimp", "size", {"minSize": 0, "maxSize": 250}),
        (1, "Fish", "size", {"minSize": 250, "maxSize": 10000}),
        (7, "Leviathan", "size", {"minSize": 5000000}),
        (8, "Money Printer", "pnl", {"minPnl": 1000000}),
        (15, "Giga-Rekt", "pnl", {"maxPnl": -1000000}),
    ]
]


def _summary(sid=1, traders=1000, ago=900, bias=0.81, top=(), **open_perps):
    return SegmentSummary.model_validate(
        {
            "segment": LEGEND[1].model_dump(by_alias=True) | {"id": sid},
            "summary": {
                "countTraders": traders,
                "countTradersInPosition": 500,
                "perpBias": bias,
                "positionValue": 169578077.1,
                "positionLongValue": 108075482.73,
                "positionShortValue": 61502594.37,
                "exposureRatio": 2.95,
                "activePerpEquity": 57458083.37,
            },
            "openPerpsSummary": {
                "perpBias": bias,
                "exposureRatio": 2.95,
                "countOpenPositions": 1234,
                "countTradersInPosition": 500,
                "countTradersInProfit": 250,
                "totalValue": 169578077.1,
                "totalLongValue": 108075482.73,
                "totalActivePerpEquity": 57458083.37,
                "countAssets": 88,
            } | open_perps,
            "countTraders24HoursAgo": ago,
            "topOpenPerps": list(top),
        }
    )


def test_groups_are_ordered_by_range_not_id():
    groups = cohort_groups(LEGEND)
    assert [(axis, [s.id for s in segs]) for axis, segs in groups] == [("size", [16, 1, 7]), ("pnl", [8, 15])]


def test_cohort_line():
    line = cohort_line(LEGEND[1], CohortTotals(value=2_500_000.0, long_value=1_000_000.0))
    assert (line.value, line.share, line.lean) == ("$2.50M", "40%", "▼")
    assert cohort_line(LEGEND[1], CohortTotals(1000.0, 510.0)).lean == "·"  # within 2 points of 50%: balanced
    assert cohort_line(LEGEND[1], None).value == "…"


def test_a_cohorts_totals_are_its_heatmap_cells_summed_over_every_coin():
    hm = _heatmap([("BTC", 100.0, [(1, 60.0, 0.5), (7, 40.0, 0.25)]), ("ETH", 50.0, [(1, 40.0, 1.0)])])
    totals = cohort_totals(hm)
    assert totals == {1: CohortTotals(100.0, 70.0), 7: CohortTotals(40.0, 10.0)}
    assert totals[1].long_share == 0.7
    assert CohortTotals(0.0, 0.0).long_share is None  # nothing open: no share, not a division by zero


def test_summary_figures_and_change_marks():
    figs = {f.label: f for f in summary_figures(_summary(traders=1000, ago=900))}
    assert figs["Traders"].value == "1,000" and figs["Traders"].change == ""
    assert figs["24 h ago"].value == "900 (+100)"
    assert (figs["Perp bias"].value, figs["Perp bias"].lean) == ("+0.81", "▲")  # the lean beside the number, not in it
    assert figs["In profit"].value == "250 (50%)"
    assert figs["Long/short"].value == "$108M / $61.5M"
    after = {f.label: f for f in summary_figures(_summary(traders=990, bias=0.9), _summary(traders=1000, bias=0.81))}
    assert after["Traders"].change == "↓" and after["Positions"].change == ""
    # A long cohort growing longer: the lean and the change, each with its own glyph (was "+0.90 ▲ ▲").
    assert (after["Perp bias"].lean, after["Perp bias"].change) == ("▲", "↑")


def test_summary_figures_say_the_equity_and_the_positions_per_side_when_sent():
    figs = {f.label: f.value for f in summary_figures(_summary())}
    assert figs["Positions"] == "1,234" and figs["Active equity"] == "$57.5M"  # a 24h-style answer
    assert "Perp equity" not in figs and "  long/short" not in figs
    sent = _summary(totalPerpEquity=80_100_000.0, bySide={"long": {"count": 700, "value": 1.0}, "short": {"count": 534}})
    figs = {f.label: f.value for f in summary_figures(sent)}
    assert figs["  long/short"] == "700 / 534" and figs["Perp equity"] == "$80.1M" and figs["Active equity"] == "$57.5M"
    assert {f.label: f.value for f in summary_figures(_summary(bySide={"long": {"count": 700}}))}["  long/short"] == (
        "700 / —"
    )


def test_a_summary_without_top_assets_says_so():
    hm = _heatmap([("BTC", 100.0, [(1, 40.0, 0.6)])])
    bare = _summary(sid=1)
    assert top_assets_note(bare, top_assets(bare, hm)) == "no top assets in this answer: these are from the heatmap"
    assert top_assets_note(bare, top_assets(bare, None)) == "no top assets in this answer"
    given = _summary(sid=1, top=[{"coin": "HYPE", "totalValue": 10.0}])
    assert top_assets_note(given, top_assets(given, hm)) == ""


def _heatmap(rows):
    return Heatmap.model_validate(
        {
            "heatmap": [
                {
                    "coin": coin,
                    "totalValue": total,
                    "totalLongValue": total / 2,
                    "totalShortValue": total / 2,
                    "count": 10,
                    "segments": [
                        {
                            "segmentId": sid,
                            "totalValue": v,
                            "totalLongValue": v * b,
                            "totalShortValue": v * (1 - b),
                            "count": 3,
                            "bias": b,
                        }
                        for sid, v, b in cells
                    ],
                }
                for coin, total, cells in rows
            ]
        }
    )


def test_top_assets_fall_back_to_the_heatmap():
    hm = _heatmap([("BTC", 100.0, [(1, 40.0, 0.6)]), ("ETH", 300.0, [(1, 80.0, 0.3)]), ("SOL", 50.0, [(2, 5.0, 0.5)])])
    lines = top_assets(_summary(sid=1), hm)
    assert [(a.coin, a.value, a.long_share) for a in lines] == [("ETH", "$80", "30.0%"), ("BTC", "$40", "60.0%")]
    given = _summary(sid=1, top=[{"coin": "HYPE", "totalValue": 10.0, "totalLongValue": 7.5}])
    assert [a.coin for a in top_assets(given, hm)] == ["HYPE"]


def test_heatmap_lines_sort_filter_and_change():
    old = _heatmap([("BTC", 100.0, [(1, 40.0, 0.6)]), ("ETH", 300.0, [(1, 80.0, 0.3)])])
    new = _heatmap([("BTC", 500.0, [(1, 40.0, 0.7)]), ("ETH", 300.0, [(1, 80.0, 0.3), (16, 1.0, 0.5)])])
    lines = heatmap_lines(new, [16, 1], "share", PALETTES[0], previous=old)
    assert [line.coin for line in lines] == ["BTC", "ETH"]
    btc, eth = lines
    assert btc.cells[0].text == "" and btc.cells[1].text == "▓▲70%"
    assert btc.changed == (False, True) and eth.changed == (False, False)
    assert [line.coin for line in heatmap_lines(new, [1], "share", PALETTES[0], "et")] == ["ETH"]
    values = heatmap_lines(new, [1], "value", PALETTES[0])
    assert values[1].cells[0].text.endswith("$80")


def test_heatmap_lines_sorted_by_a_cohort_column_in_the_mode_shown():
    hm = _heatmap([
        ("BTC", 500.0, [(1, 40.0, 0.7), (16, 9.0, 0.2)]),
        ("ETH", 300.0, [(1, 80.0, 0.3)]),
        ("SOL", 200.0, [(16, 5.0, 0.9)]),
        ("HYPE", 100.0, [(1, 60.0, 0.7)]),
    ])
    coins = lambda mode, sort: heatmap_lines(hm, [16, 1], mode, PALETTES[0], sort=sort).coins  # noqa: E731
    assert coins("share", HeatSort(1, True)) == ["BTC", "HYPE", "ETH", "SOL"]  # a tie keeps the order by value
    assert coins("share", HeatSort(1, False)) == ["ETH", "BTC", "HYPE", "SOL"]  # not held: last either way
    assert coins("value", HeatSort(1, True)) == ["ETH", "HYPE", "BTC", "SOL"]
    assert coins("share", HeatSort(16, True)) == ["SOL", "BTC", "ETH", "HYPE"]
    assert coins("share", HeatSort(8, True)) == coins("share", None) == ["BTC", "ETH", "SOL", "HYPE"]  # not shown
    assert heatmap_lines(hm, [16, 1], "share", PALETTES[0], "t", sort=HeatSort(1, False)).coins == ["ETH", "BTC"]


def test_the_same_sort_key_again_goes_back_to_the_order_by_value():
    assert next_sort(None, 1, True) == HeatSort(1, True)
    assert next_sort(HeatSort(1, True), 1, True) is None
    assert next_sort(HeatSort(1, True), 1, False) == HeatSort(1, False)
    assert next_sort(HeatSort(1, True), 16, True) == HeatSort(16, True)
    assert next_sort(HeatSort(1, True), None, True) is None  # the coin or value column


def test_heatmap_rows_whose_names_clean_alike_keep_their_own_cells():
    # "\x1b]0;a\x07" and "\x1b]0;b\x07" both clean to "": each row must still show its own cells.
    old = _heatmap([("\x1b]0;a\x07", 200.0, [(1, 40.0, 0.9)]), ("\x1b]0;b\x07", 100.0, [(1, 40.0, 0.1)])])
    new = _heatmap([("\x1b]0;a\x07", 200.0, [(1, 40.0, 0.8)]), ("\x1b]0;b\x07", 100.0, [(1, 40.0, 0.2)])])
    lines = heatmap_lines(new, [1], "share", PALETTES[0], previous=old)
    assert [line.coin for line in lines] == [NAME_MARK, NAME_MARK]  # marked: not an empty name
    assert [line.cells[0].text for line in lines] == ["▓▲80%", "▓▼20%"]
    assert [line.changed for line in lines] == [(False,), (False,)]  # ambiguous: no mark rather than a wrong one

def test_risk_lines_sort_levels_and_marks():
    items = [
        RiskItem(coin="BTC", total_value=100, risk_value=12, percent_risk=12.0),
        RiskItem(coin="eth", total_value=50, risk_value=1, percent_risk=2.0),
        RiskItem(coin="SOL", total_value=10, risk_value=0, percent_risk=0.0),
    ]
    lines = risk_lines(items, None, "percent_risk", True)
    assert [(line.coin, line.level, line.percent_risk) for line in lines] == [
        ("BTC", 2, "‼12.00%"),
        ("eth", 1, "!2.00%"),
        ("SOL", 0, " 0.00%"),
    ]
    assert [line.coin for line in risk_lines(items, None, "coin", False)] == ["BTC", "eth", "SOL"]
    prev = {"BTC": RiskItem(coin="BTC", total_value=90, risk_value=13, percent_risk=12.0)}
    assert risk_lines(items, prev, "total_value", True)[0].changes == ("↑", "↓", "")


def test_short_names_fit_a_heatmap_column():
    assert short_name("Shrimp", 6) == "Shrimp"
    assert short_name("Apex Predator", 6) == "Apex"
    assert short_name("Leviathan", 6) == "Levia…"


def test_heatmap_lines_work_out_a_line_only_when_asked():
    old = _heatmap([("BTC", 100.0, [(1, 40.0, 0.6)]), ("ETH", 300.0, [(1, 80.0, 0.3)])])
    new = _heatmap([("BTC", 500.0, [(1, 40.0, 0.7)]), ("ETH", 300.0, [(1, 80.0, 0.3)]), ("SOL", 9.0, [])])
    lines = heatmap_lines(new, [16, 1], "share", PALETTES[0], previous=old)
    assert lines.coins == ["BTC", "ETH", "SOL"]
    assert lines._lines == {}  # nothing built yet
    assert lines[-1] is lines[len(lines) - 1] and list(lines._lines) == [len(lines) - 1]


def test_risk_lines_work_out_a_line_only_when_asked():
    items = [RiskItem(coin=f"C{i}", total_value=i, risk_value=0, percent_risk=float(i)) for i in range(300)]
    lines = risk_lines(items, None, "percent_risk", True)
    assert lines.coins[:2] == ["C299", "C298"] and len(lines) == 300
    assert lines._lines == {}  # the order is known; no line built yet
    assert lines[1].percent_risk == "‼298.00%" and list(lines._lines) == [1]


def test_a_cohort_line_of_an_older_update_says_how_old():
    summary = CohortTotals(1000.0, 300.0)
    assert cohort_line(LEGEND[1], summary).age == ""
    ages = (20, 45 * 60, 3 * 3600 + 59 * 60, 50 * 86400, 400 * 86400)
    assert [cohort_line(LEGEND[1], summary, seconds).age for seconds in ages] == ["<1m", "45m", "3h", "50d", "99d"]
    assert cohort_line(LEGEND[1], None, 600).age == ""  # nothing held: "…", no age
