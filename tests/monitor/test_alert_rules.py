"""Alert rules: parsing (good and bad), firing once per crossing, re-arming, reading the cache, the log."""

from __future__ import annotations

import tomllib
from datetime import timedelta

import pytest

from hypertui.api.models import RiskItem
from hypertui.monitor.alert_rules import (
    AlertData,
    AlertEvaluator,
    BiasRule,
    LongShareRule,
    RiskRule,
    RuleState,
    TradersRule,
    append_log,
    describe,
    format_value,
    parse_rules,
    risk_cohorts,
    step,
)
from tests.conftest import FROZEN_NOW
from tests.monitor.test_rows import LEGEND, _heatmap, _summary


def rules_of(toml: str):
    return parse_rules(tomllib.loads(toml).get("alerts"))


def rule(**fields):
    rules, problems = parse_rules([fields])
    assert not problems, problems
    return rules[0][1]


# --- parsing -------------------------------------------------------------------------------


def test_every_kind_parses_and_keeps_its_number_in_the_file():
    rules, problems = rules_of(
        """
        [[alerts]]
        kind = "bias"
        cohort = "Smart Money"
        above = 0.6
        [[alerts]]
        kind = "long_share"
        coin = "BTC"
        cohort = "Whale"
        above = 0.7
        [[alerts]]
        kind = "nonsense"
        [[alerts]]
        kind = "liquidation_risk"
        cohort = 5
        below = 10
        hysteresis = 2
        [[alerts]]
        kind = "traders"
        cohort = "Shrimp"
        below = -5
        versus = "start"
        [[alerts]]
        kind = "bias"
        cohort = 9
        sign_change = true
        name = "SM flips"
        """
    )
    assert [(n, type(r)) for n, r in rules] == [
        (1, BiasRule), (2, LongShareRule), (4, RiskRule), (5, TradersRule), (6, BiasRule),
    ]
    assert problems == ["config: [[alerts]] #3 (kind nonsense): kind: 'nonsense' is not one of bias, long_share, liquidation_risk, traders"]
    by_number = dict(rules)
    assert by_number[1].above == 0.6 and by_number[1].margin == 0.02  # the kind's default hysteresis
    assert by_number[4].cohort == 5 and by_number[4].coin is None and by_number[4].margin == 2
    assert by_number[5].versus == "start"
    assert describe(by_number[1]) == "Smart Money bias above +0.60, re-arms below +0.58"
    assert describe(by_number[2]) == "BTC Whale long share above 70.0%, re-arms below 69.0%"
    assert describe(by_number[6]) == "cohort 9 bias changes sign (ignoring ±0.02)"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"cohort": "Whale", "above": 1}, "kind: missing (one of bias, long_share, liquidation_risk, traders)"),
        ({"kind": "bias", "cohort": "Whale"}, "set exactly one of above = N, below = N, or sign_change = true"),
        ({"kind": "bias", "cohort": "X", "above": 1, "below": 0}, "(got above and below)"),
        ({"kind": "traders", "cohort": "X", "above": 1, "sign_change": True}, "sign_change: unknown field"),
        ({"kind": "long_share", "cohort": "Whale", "above": 0.7}, "coin: Field required"),
        ({"kind": "long_share", "coin": "BTC", "cohort": "Whale", "above": 70}, "within 0..1, got 70"),
        ({"kind": "liquidation_risk", "cohort": "Whale", "above": 120}, "within 0..100, got 120"),
        ({"kind": "bias", "cohort": 17, "above": 1}, "cohort id must be 1-16, got 17"),
        ({"kind": "bias", "cohort": " ", "above": 1}, "cohort must not be empty"),
        ({"kind": "bias", "cohort": "X", "above": "high"}, "above: Input should be a valid number"),
        ({"kind": "bias", "cohort": "X", "above": 1, "hysteresis": -1}, "hysteresis: Input should be greater than or equal to 0"),
        ({"kind": "bias", "cohort": "X", "abov": 1}, "abov: unknown field"),
        ({"kind": "traders", "cohort": "X", "above": 1, "versus": "yesterday"}, "versus: Input should be '24h' or 'start'"),
        ({"kind": "bias", "cohort": True, "above": 1}, "(kind bias): cohort: must be a cohort name or an id 1-16"),
        ("bias", "must be a table"),
    ],
)
def test_a_bad_rule_is_reported_with_its_number_and_field(item, message):
    rules, problems = parse_rules([{"kind": "bias", "cohort": "Whale", "above": 0.5}, item])
    assert len(rules) == 1  # the good one is kept
    (problem,) = problems
    assert problem.startswith("config: [[alerts]] #2")
    assert message in problem


def test_alerts_must_be_an_array_of_tables():
    assert parse_rules({"kind": "bias"}) == ([], ["config: alerts must be a list of [[alerts]] tables"])
    assert parse_rules(None) == ([], [])


def test_an_invalid_rule_in_the_config_file_is_a_warning_not_an_error(tmp_path):
    from hypertui.config import load_settings

    path = tmp_path / "c.toml"
    path.write_text('[[alerts]]\nkind = "bias"\ncohort = "Whale"\nabove = 0.5\n[[alerts]]\nkind = "bias"\n')
    settings = load_settings(env={}, path=path)
    assert [n for n, _ in settings.alerts] == [1]
    assert settings.alert_problems == ("config: [[alerts]] #2 (kind bias): cohort: Field required",)
    assert settings.alert_problems[0] in settings.warnings


# --- firing once per crossing ------------------------------------------------------------------


def fires(r, values):
    """The indices of `values` at which the rule fires."""
    state = RuleState()
    return [i for i, v in enumerate(values) if step(r, state, v) is not None]


def test_above_fires_once_per_crossing_and_rearms_past_the_hysteresis():
    r = rule(kind="bias", cohort="X", above=0.6)  # re-arms below 0.58
    values = [0.5, 0.65, 0.7, 0.61, 0.59, 0.61, 0.57, 0.62, 0.62]
    assert fires(r, values) == [1, 7]


def test_below_mirrors_above():
    r = rule(kind="liquidation_risk", cohort="X", below=10)  # re-arms above 11
    assert fires(r, [12, 9, 8, 10.5, 9, 11.5, 9.9]) == [1, 6]


def test_zero_hysteresis_rearms_as_soon_as_it_is_back():
    r = rule(kind="bias", cohort="X", above=0.6, hysteresis=0)
    assert fires(r, [0.61, 0.6, 0.61, 0.59, 0.61]) == [0, 4]  # 0.6 is not past the level


def test_first_observation_beyond_the_level_fires_once():
    r = rule(kind="bias", cohort="X", above=0.6)
    state = RuleState()
    assert step(r, state, 0.7) == "is above +0.60 (when first seen)"
    assert [step(r, state, v) for v in (0.7, 0.8)] == [None, None]
    assert step(r, state, 0.5) is None and step(r, state, 0.65) == "rose above +0.60"


def test_sign_change_fires_on_each_flip_outside_the_dead_zone():
    r = rule(kind="bias", cohort="X", sign_change=True)  # dead zone ±0.02
    values = [0.01, 0.1, -0.01, 0.015, -0.1, -0.2, 0.3, 0.01, -0.01, 0.25]
    assert fires(r, values) == [4, 6]
    state = RuleState()
    assert [step(r, state, v) for v in (0.1, -0.1, 0.1)] == [None, "turned negative", "turned positive"]


# --- reading the cached data -------------------------------------------------------------------

FISH, LEVIATHAN = LEGEND[1], LEGEND[2]  # ids 1 and 7


def evaluate_all(evaluator, datas):
    return [[a.text for a in evaluator.evaluate(d, FROZEN_NOW + timedelta(minutes=i))] for i, d in enumerate(datas)]


def test_bias_reads_the_background_summaries_and_waits_for_them():
    ev = AlertEvaluator([(1, rule(kind="bias", cohort="fish", above=0.5))])
    datas = [
        AlertData(),
        AlertData(cohorts=LEGEND),
        AlertData(cohorts=LEGEND, summaries={1: _summary(sid=1, bias=0.4)}),
        AlertData(cohorts=LEGEND, summaries={}),  # not cached this time: the state is kept
        AlertData(cohorts=LEGEND, summaries={1: _summary(sid=1, bias=0.55)}),
        AlertData(cohorts=LEGEND, summaries={1: _summary(sid=1, bias=0.56)}),
    ]
    fired = []
    missing = []
    for i, data in enumerate(datas):
        fired.append([a.text for a in ev.evaluate(data, FROZEN_NOW + timedelta(minutes=i))])
        missing.append(ev.states[1].reading.missing)
    assert fired == [[], [], [], [], ["x Fish perp bias +0.55 rose above +0.50"], []]
    assert missing[:4] == [
        "the cohort legend is not loaded yet",
        "the cohort's summary is not fetched yet",
        None,
        "the cohort's summary is not fetched yet",
    ]
    assert ev.states[1].fired_at == FROZEN_NOW + timedelta(minutes=4)
    unknown = AlertEvaluator([(3, rule(kind="bias", cohort="Dolphin", above=0.5))])
    unknown.evaluate(AlertData(cohorts=LEGEND), FROZEN_NOW)
    assert unknown.states[3].reading.missing == "no cohort 'Dolphin' in the legend"


def test_long_share_reads_the_heatmap_cell():
    ev = AlertEvaluator([(2, rule(kind="long_share", coin="btc", cohort=7, below=0.4, name="Leviathans short BTC"))])
    hm = _heatmap([("BTC", 100.0, [(7, 40.0, 0.35), (1, 10.0, 0.6)]), ("ETH", 50.0, [(1, 5.0, 0.5)])])
    assert evaluate_all(ev, [AlertData(cohorts=LEGEND), AlertData(cohorts=LEGEND, heatmap=hm)]) == [
        [], ["Leviathans short BTC 35.0% is below 40.0% (when first seen)"]
    ]
    eth = AlertEvaluator([(1, rule(kind="long_share", coin="ETH", cohort=7, above=0.5))])
    eth.evaluate(AlertData(cohorts=LEGEND, heatmap=hm), FROZEN_NOW)
    assert eth.states[1].reading.missing == "Leviathan holds no ETH"


def test_risk_is_read_from_the_rule_cohorts_rows_once_fetched():
    items = [RiskItem(coin="BTC", total_value=100, risk_value=30, percent_risk=30.0),
             RiskItem(coin="ETH", total_value=100, risk_value=5, percent_risk=5.0)]
    ev = AlertEvaluator([
        (1, rule(kind="liquidation_risk", cohort="Fish", above=20)),
        (2, rule(kind="liquidation_risk", cohort="Fish", coin="ETH", above=20)),
        (3, rule(kind="liquidation_risk", cohort="Fish", coin="SOL", above=20)),
    ])
    ev.evaluate(AlertData(cohorts=LEGEND, risk={7: items}), FROZEN_NOW)
    assert ev.states[1].reading.missing == "the cohort's liquidation risk is not fetched yet (once per data update)"
    fired = ev.evaluate(AlertData(cohorts=LEGEND, risk={7: [], 1: items}), FROZEN_NOW)
    assert [a.text for a in fired] == ["x Fish liquidation risk 30.00% is above 20.00% (when first seen)"]
    assert ev.states[2].reading.value == 5.0 and ev.states[2].armed is True
    assert ev.states[3].reading.missing == "SOL is not among the 2 risk rows loaded"


def test_the_cohorts_whose_risk_rules_read_are_found_by_name_or_id():
    rules = [
        (1, rule(kind="liquidation_risk", cohort="fish", above=20)),
        (2, rule(kind="liquidation_risk", cohort=7, coin="ETH", below=5)),
        (3, rule(kind="liquidation_risk", cohort="Nobody", above=20)),  # not in the legend: nothing to fetch
        (4, rule(kind="bias", cohort="Shrimp", above=0.5)),  # not a risk rule
        (5, rule(kind="liquidation_risk", cohort=1, above=30)),  # the same cohort as #1: fetched once
    ]
    assert risk_cohorts(rules, LEGEND) == {1, 7}
    assert risk_cohorts(rules, []) == set()  # before the legend


def test_a_rule_added_while_running_keeps_its_number_unless_taken():
    ev = AlertEvaluator([(1, rule(kind="bias", cohort="Fish", above=0.5)), (2, rule(kind="bias", cohort="Fish", below=-0.5))])
    ev.states[1].armed = False
    added = rule(kind="liquidation_risk", cohort="Fish", above=20)
    assert ev.add(3, added) == 3 and ev.rules[-1] == (3, added) and ev.states[3].armed is None  # nothing read yet
    assert ev.add(2, added) == 4  # #2 was taken out of the file since it was read: a number of its own
    assert ev.states[1].armed is False and len(ev.states) == len(ev.rules) == 4


def test_traders_change_vs_24h_ago_or_vs_the_first_count_seen():
    ev = AlertEvaluator([
        (1, rule(kind="traders", cohort="Fish", above=10)),
        (2, rule(kind="traders", cohort="Fish", below=-5, versus="start")),
    ])
    datas = [AlertData(cohorts=LEGEND, summaries={1: _summary(sid=1, traders=t, ago=1000)}) for t in (1050, 1120, 990)]
    assert evaluate_all(ev, datas) == [
        [],
        ["x Fish traders +12.0% rose above +10.0%"],
        ["x Fish traders -5.7% fell below -5.0%"],  # 990 vs 1050 first seen
    ]
    no_base = AlertEvaluator([(1, rule(kind="traders", cohort="Fish", above=10))])
    no_base.evaluate(AlertData(cohorts=LEGEND, summaries={1: _summary(sid=1, ago=None)}), FROZEN_NOW)
    assert no_base.states[1].reading.missing.startswith("the API sent no trader count of 24 h ago")


def test_each_alert_is_one_log_line(tmp_path):
    ev = AlertEvaluator([(4, rule(kind="bias", cohort="Fish", above=0.5))])
    alerts = ev.evaluate(AlertData(cohorts=LEGEND, summaries={1: _summary(sid=1, bias=0.8)}), FROZEN_NOW)
    path = tmp_path / "state" / "alerts.log"
    append_log(path, alerts)
    append_log(path, alerts)
    line = "2026-11-20T12:00:00.000Z\t#4\tbias\tx Fish perp bias +0.80 is above +0.50 (when first seen)\n"
    assert path.read_text(encoding="utf-8") == line * 2


def test_a_value_never_reads_the_same_as_the_level_it_crossed():
    r = rule(kind="bias", cohort="X", above=0.6)
    state = RuleState()
    assert step(r, state, 0.6004) == "is above +0.6000 (when first seen)"
    assert format_value(r, 0.6004) == "+0.6004" and format_value(r, 0.6049) == "+0.605"
    assert format_value(r, 0.6) == "+0.60" and format_value(r, 0.7) == "+0.70"
    fine = rule(kind="long_share", cohort="X", coin="BTC", above=0.455, hysteresis=0.001)
    assert format_value(fine, 0.4) == "40.0%" and format_value(fine, 0.45549) == "45.55%"
    assert describe(fine) == "BTC X long share above 45.5%, re-arms below 45.4%"


def test_a_traders_change_that_rounds_to_zero_reads_0_not_minus_0():
    r = rule(kind="traders", cohort="X", below=-5)
    assert format_value(r, -0.001, 1) == "0.0%"  # not "-0.0%": no fall that is not there
    assert format_value(r, -5.25, 1) == "-5.2%" and format_value(r, 3.0, 1) == "+3.0%"


def test_a_level_near_the_end_of_its_range_can_still_rearm():
    r = rule(kind="liquidation_risk", cohort="X", above=1)  # default 1 point would re-arm below 0 %
    assert r.margin == 0.5
    assert fires(r, [0.0, 2.0, 0.4, 2.0]) == [1, 3]


def test_a_rule_made_in_the_app_fires_on_the_next_crossing_not_as_first_seen():
    """A rule made with A at the value shown fired at the next refresh "(when first seen)"."""
    ev = AlertEvaluator([])
    ev.evaluate(AlertData(cohorts=LEGEND, summaries={1: _summary(sid=1, bias=0.5)}), FROZEN_NOW)  # the value shown
    ev.add(1, rule(kind="bias", cohort="Fish", above=0.5))  # at the level: armed
    ev.add(2, rule(kind="bias", cohort="Fish", above=0.4))  # already past it: fires as first seen
    datas = [AlertData(cohorts=LEGEND, summaries={1: _summary(sid=1, bias=0.51)})]
    assert evaluate_all(ev, datas) == [["x Fish perp bias +0.51 rose above +0.50", "x Fish perp bias +0.51 is above +0.40 (when first seen)"]]
