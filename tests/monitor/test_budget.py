"""The daily token budget planner, on a fixed clock: what it fetches at each update, and that a
day planned by it never spends more than the limit."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypertui.api.models import StateStatus
from hypertui.monitor import plan
from hypertui.monitor.budget import (
    DEFAULT_UPDATE_EVERY,
    Tier,
    plan_budget,
    update_every,
)
from hypertui.monitor.plan import (
    BACKGROUND,
    PANELS_TIER,
    RULES_TIER,
    SUMMARIES_TIER,
    SUMMARY,
    TIERS,
    TIMED,
    View,
)

MIDNIGHT = datetime(2026, 3, 4, tzinfo=UTC)
MIN = 60.0


def _tiers(panels=3, listed=1, rules=0, listed_now=None):
    return [
        Tier(PANELS_TIER, panels, panels),
        Tier(SUMMARIES_TIER, listed if listed_now is None else listed_now, listed),
        Tier(RULES_TIER, rules, rules),
    ]


def test_a_budget_with_room_fetches_everything_at_every_update():
    budget = plan_budget(50_000, 0, MIDNIGHT, 15 * MIN, _tiers(rules=2))
    assert (budget.stride, budget.tiers) == (1, frozenset(TIERS))
    assert budget.note(TIERS) is None


def test_the_free_plan_at_a_30_min_cadence_fetches_the_panels_every_hour():
    # 48 updates, 4 tokens each (a status check and 3 panels): 192 > 100, every 2nd: 96.
    budget = plan_budget(100, 0, MIDNIGHT, 30 * MIN, _tiers())
    assert (budget.stride, budget.tiers) == (2, frozenset({PANELS_TIER}))
    assert budget.note(TIERS) == "budget: every 1 h"


def test_a_tight_afternoon_says_every_45_min():
    # 48 updates of 15 min left, 64 tokens: every 2nd would spend 96, every 3rd 64.
    budget = plan_budget(100, 36, MIDNIGHT + timedelta(hours=12), 15 * MIN, _tiers())
    assert budget.stride == 3
    assert budget.note(TIERS) == "budget: every 45 min"


def test_the_rules_summaries_are_given_up_before_the_panels_are_fetched_less_often():
    # 16 updates of 30 min left: panels and list 5 a time (80), the panels alone 4 (64).
    evening = MIDNIGHT + timedelta(hours=16)
    assert plan_budget(100, 20, evening, 30 * MIN, _tiers()).tiers == frozenset(TIERS)
    budget = plan_budget(100, 30, evening, 30 * MIN, _tiers())
    assert (budget.stride, budget.tiers) == (1, frozenset({PANELS_TIER}))
    assert budget.note(TIERS) == "budget: no alert rules' summaries"


def test_the_rules_risk_goes_first():
    evening = MIDNIGHT + timedelta(hours=16)  # 16 updates: 5 a time with the list (80), 7 with 2 rule cohorts (112)
    budget = plan_budget(100, 10, evening, 30 * MIN, _tiers(rules=2))
    assert budget.tiers == frozenset({PANELS_TIER, SUMMARIES_TIER})
    assert budget.note(TIERS) == "budget: no alert rules' risk"


def test_the_first_update_pays_for_the_missing_summaries_once():
    # 8 updates left: 15 missing summaries now, then 1 a time: 1+3+15 + 7*5 = 54 fits in 60,
    # though 8 updates at the first one's price (152) would not.
    budget = plan_budget(100, 40, MIDNIGHT + timedelta(hours=20), 30 * MIN, _tiers(listed_now=15))
    assert budget.tiers == frozenset(TIERS)


def test_a_spent_day_waits_for_midnight_utc():
    now = MIDNIGHT + timedelta(hours=23)
    budget = plan_budget(100, 97, now, 30 * MIN, _tiers())  # 3 left: not a status check and 3 panels
    assert budget.exhausted
    assert budget.delay(None, now) == 3600.0
    assert budget.note(TIERS) == "budget: spent until 00:00 UTC"


def test_the_next_check_is_a_little_after_the_stride_th_update():
    now = MIDNIGHT + timedelta(hours=12, minutes=5)
    status = StateStatus(last_update=now - timedelta(minutes=5), next_update=now + timedelta(minutes=10))
    budget = plan_budget(100, 36, now, update_every(status), _tiers())
    assert budget.stride == 3
    assert budget.delay(status, now) == (10 + 30) * MIN + 10  # the 3rd update from the last, and the grace


def test_the_cadence_is_read_from_the_status_else_the_shortest_documented():
    at = MIDNIGHT + timedelta(hours=9)
    assert update_every(StateStatus(last_update=at, next_update=at + timedelta(minutes=30))) == 30 * MIN
    assert update_every(StateStatus(last_update=at)) == DEFAULT_UPDATE_EVERY
    assert update_every(None) == 15 * MIN


def test_a_day_that_follows_the_planner_never_spends_more_than_the_limit():
    # At each 15-min update: plan, and fetch if this update is the stride's; the first fetch pays
    # for 15 missing summaries. Every cadence of the API (15 and 30 min), from any hour of start.
    for every in (15 * MIN, 30 * MIN):
        for start_hour in (0, 7, 23):
            now, spent, fetches, due = (
                MIDNIGHT + timedelta(hours=start_hour),
                0,
                0,
                None,
            )
            updates = 0
            missing = 15
            while now < MIDNIGHT + timedelta(days=1):
                budget = plan_budget(100, spent, now, every, _tiers(listed_now=missing))
                if due is None or now >= due:
                    if budget.exhausted:
                        break
                    spent += 1 + 3 + (missing or 1 if SUMMARIES_TIER in budget.tiers else 0)
                    missing = 0 if SUMMARIES_TIER in budget.tiers else missing
                    fetches += 1
                    due = now + timedelta(seconds=budget.stride * every)
                now += timedelta(seconds=every)
                updates += 1
            assert spent <= 100, (every, start_hour)
            # Every update while the day has room, else most of the day's tokens used.
            assert fetches == updates or spent > 80, (every, start_hour, fetches, spent)


def test_the_tiers_cost_what_a_cycle_asks_for():
    now = MIDNIGHT + timedelta(hours=9)
    view = View(cohort_id=16)
    held = {sid: now for sid in range(1, 17)}
    tiers = plan.budget_tiers(
        view,
        cohort_ids=range(1, 17),
        summaries_at={},
        rule_cohorts={16, 3, 4},
        rule_due={3},
        now=now,
    )
    # Summary, risk, heatmap; the 15 other cohorts' summaries rules read (the selected one's serves), then 2;
    # the rules' other cohorts (16's risk is the panel's): 1 due now, 2 at each update.
    assert tiers == [
        Tier(PANELS_TIER, 3, 3),
        Tier(SUMMARIES_TIER, 15, 2),
        Tier(RULES_TIER, 1, 2),
    ]
    narrow = replace(view, visible=frozenset({SUMMARY}))
    assert (
        plan.budget_tiers(
            narrow,
            cohort_ids=range(1, 17),
            summaries_at=held,
            rule_cohorts=(),
            rule_due=(),
            now=now,
        )[0].now
        == 2  # the summary, and the heatmap the cohort list reads though the heatmap is not shown
    )


def test_a_budget_without_the_list_drops_the_background_part_and_the_rules_risk():
    tight = plan_budget(100, 30, MIDNIGHT + timedelta(hours=16), 30 * MIN, _tiers())
    assert plan.within_budget(set(TIMED), {3}, tight) == (
        set(TIMED) - {BACKGROUND},
        set(),
    )
    assert plan.within_budget(set(TIMED), {3}, None) == (set(TIMED), {3})
