import math
from datetime import UTC, datetime, timedelta

import pytest

from hypertui.api.models import StateStatus
from hypertui.monitor import plan
from hypertui.monitor.plan import (
    HEATMAP,
    RISK,
    RISK_MORE,
    STATUS,
    SUMMARY,
    TIMED,
    Request,
    View,
)

NOW = datetime(2026, 3, 4, 8, 30, tzinfo=UTC)
IDS = list(range(1, 17))


def _plan(parts, view, *, summaries_at=None, risk_loaded=0, cadence=False):
    return plan.plan_cycle(
        parts,
        view,
        cohort_ids=IDS,
        summaries_at=summaries_at if summaries_at is not None else dict.fromkeys(IDS, NOW),
        risk_loaded=risk_loaded,
        follow_cadence=cadence,
        now=NOW,
    )


def test_timed_cycle_asks_for_what_is_on_screen_once():
    reqs = _plan(TIMED, View(cohort_id=16))
    assert reqs == sorted(
        [Request("heatmap", ("all",)), Request("liquidation_risk", (16, 0, 100)), Request("summary", (16, "all"))]
    )
    assert len(set(reqs)) == len(reqs)


def test_cadence_adds_state_status():
    assert Request("state_status") in _plan(TIMED, View(cohort_id=16), cadence=True)
    assert Request("state_status") not in _plan(TIMED, View(cohort_id=16), cadence=False)


def test_hidden_panels_are_not_fetched_but_the_heatmap_the_cohort_list_reads_is():
    reqs = _plan(TIMED, View(cohort_id=16, visible=frozenset({SUMMARY})))
    assert [r.kind for r in reqs] == ["heatmap", "summary"]


def test_selecting_a_cohort_fetches_summary_and_risk_only():
    reqs = _plan({SUMMARY, RISK}, View(cohort_id=9, position_age="7d"))
    assert {r.kind for r in reqs} == {"summary", "liquidation_risk"}
    assert Request("summary", (9, "7d")) in reqs


def test_first_cycle_fills_every_missing_cohort_then_one_old_per_cycle():
    reqs = _plan(TIMED, View(cohort_id=16), summaries_at={})
    assert {r.args[0] for r in reqs if r.kind == "summary"} == set(IDS)
    old = {sid: NOW - timedelta(hours=1) for sid in IDS} | {3: NOW - timedelta(hours=2)}
    assert plan.background_summaries(IDS, old, NOW, skip=16) == [3, 1]  # the oldest first, two a cycle
    fresh = dict.fromkeys(IDS, NOW - timedelta(minutes=1))
    assert plan.background_summaries(IDS, fresh, NOW) == []


def test_a_summary_held_of_a_cohort_browsed_to_is_not_refreshed_in_the_background():
    # Only the cohorts asked for (those alert rules read) are kept current; 5 was browsed to once.
    held = {3: NOW - timedelta(hours=1), 5: NOW - timedelta(hours=3)}
    assert plan.background_summaries([3], held, NOW) == [3]
    assert plan.background_summaries([], held, NOW) == []


def test_risk_pages():
    assert plan.risk_requests(4, 0, 1200) == [
        Request("liquidation_risk", (4, 0, 500)),
        Request("liquidation_risk", (4, 500, 500)),
        Request("liquidation_risk", (4, 1000, 200)),
    ]
    more = _plan({RISK_MORE}, View(cohort_id=4, risk_rows=200), risk_loaded=100)
    assert more == [Request("liquidation_risk", (4, 100, 100))]
    # A refresh re-reads every loaded row from offset 0, in as few requests as allowed.
    assert _plan({RISK}, View(cohort_id=4, risk_rows=300)) == [Request("liquidation_risk", (4, 0, 300))]


def test_risk_rules_of_other_cohorts_ask_for_their_risk_with_the_panels_only():
    def plan_with_rules(parts, view):
        return plan.plan_cycle(
            parts, view, cohort_ids=IDS, summaries_at=dict.fromkeys(IDS, NOW), risk_loaded=0,
            follow_cadence=False, now=NOW, rule_risk={3, 16},
        )

    reqs = plan_with_rules(TIMED, View(cohort_id=16))
    # Cohort 3's every coin, once; the selected cohort 16 only the panel's page, which serves its rules.
    assert [r.args for r in reqs if r.kind == "liquidation_risk"] == [(3, 0, 500), (16, 0, 100)]
    assert len(plan_with_rules(TIMED, View(cohort_id=16))) == len(_plan(TIMED, View(cohort_id=16))) + 1
    narrow = plan_with_rules(TIMED, View(cohort_id=16, visible=frozenset({SUMMARY})))
    assert [r.args for r in narrow if r.kind == "liquidation_risk"] == [(3, 0, 500), (16, 0, 500)]  # no panel: for the rules
    # Not with what a key asks for (a cohort chosen, a page of risk rows, the heatmap's window).
    for parts in ({SUMMARY, RISK}, {RISK_MORE}, {HEATMAP}, {STATUS}):
        assert all(r.args[0] != 3 for r in plan_with_rules(parts, View(cohort_id=16, risk_rows=200)) if r.kind == "liquidation_risk")


def test_a_rule_cohorts_risk_is_due_once_per_data_update():
    update = NOW - timedelta(minutes=3)
    fetched = {3: update, 5: update - timedelta(minutes=15), 6: None}
    assert plan.rule_risk_due({3, 5, 6, 7}, fetched, update) == {5, 6, 7}  # older, unknown, never fetched
    assert plan.rule_risk_due({3}, fetched, update + timedelta(minutes=15)) == {3}  # the next update
    assert plan.rule_risk_due({3, 5}, fetched, None) == {3, 5}  # no update known: with every panel fetch


def test_heatmap_filter_is_a_request_parameter():
    assert _plan({HEATMAP}, View(cohort_id=1, opened_within="7d")) == [Request("heatmap", ("7d",))]


def test_next_delay_follows_the_data_cadence():
    assert plan.next_delay(15.0, None, NOW) == 15.0
    due = StateStatus(next_update=NOW + timedelta(minutes=12))
    assert plan.next_delay(None, due, NOW) == 12 * 60 + 10
    overdue = StateStatus(next_update=NOW - timedelta(minutes=3))
    assert plan.next_delay(None, overdue, NOW) == 5 * 60  # late: see the backoff test
    far = StateStatus(next_update=NOW + timedelta(hours=5))
    assert plan.next_delay(None, far, NOW) == 30 * 60
    assert plan.next_delay(None, None, NOW) == 60.0


def test_a_late_upstream_is_checked_after_1_2_5_10_then_every_30_minutes():
    late = StateStatus(next_update=NOW)
    now, waits = NOW + timedelta(seconds=10), []  # the first check: just after nextUpdate
    for _ in range(7):
        wait = plan.next_delay(None, late, now)
        waits.append(wait / 60)
        now += timedelta(seconds=wait)
    assert waits == [1, 2, 5, 10, 30, 30, 30]
    assert plan.next_delay(None, late, NOW - timedelta(seconds=5)) == 30.0  # not late yet: a little after it


def test_panels_are_current_only_for_the_same_update_and_not_for_ever():
    from hypertui.monitor.plan import PANELS_MAX_AGE, panels_current

    update = NOW - timedelta(minutes=3)
    assert panels_current(update, update, NOW, NOW)
    assert not panels_current(update + timedelta(minutes=1), update, NOW, NOW)  # updated since
    assert not panels_current(None, None, NOW, NOW)  # the status does not say: fetch
    assert not panels_current(update, update, NOW - timedelta(seconds=PANELS_MAX_AGE), NOW)  # too long ago


def test_a_fixed_interval_waits_for_the_announced_update_checking_once_a_minute():
    due = StateStatus(next_update=NOW + timedelta(minutes=12))
    assert plan.next_delay(2.0, due, NOW) == 60.0  # not 360 requests for nothing
    soon = StateStatus(next_update=NOW + timedelta(seconds=25))
    assert plan.next_delay(2.0, soon, NOW) == 25.0
    overdue = StateStatus(next_update=NOW - timedelta(seconds=5))
    assert plan.next_delay(2.0, overdue, NOW) == 2.0  # from the announced time on, the interval asked for
    assert plan.next_delay(300.0, due, NOW) == 300.0  # never more often than asked
    assert plan.next_delay(2.0, StateStatus(), NOW) == 2.0  # no announcement: the interval


def test_without_state_status_the_data_cadence_becomes_a_timed_refresh():
    assert plan.cadence(None, status_missing=False) is None  # follow the data
    assert plan.cadence(None, status_missing=True) == plan.NO_STATUS_INTERVAL
    assert plan.cadence(15.0, status_missing=True) == 15.0  # an interval the user chose stays


@pytest.mark.parametrize("retry_after", [math.inf, 8.7e13, 1e300])
def test_no_retry_after_puts_the_next_cycle_beyond_a_day(retry_after):
    # timedelta holds ~8.6e13 s at most: past it, arming the timer raised and the loop stopped.
    for interval in (15.0, None):
        delay = plan.next_delay(interval, None, NOW, at_least=retry_after)
        assert delay == plan.LONGEST_DELAY == 24 * 60 * 60
        assert NOW + timedelta(seconds=delay) == NOW + timedelta(days=1)


def test_a_retry_after_waits_longer_than_the_cadence_and_no_less():
    due = StateStatus(next_update=NOW + timedelta(minutes=12))
    assert plan.next_delay(None, due, NOW, at_least=25.0) == 12 * 60 + 10  # the cadence is later
    assert plan.next_delay(15.0, None, NOW, at_least=90.0) == 90.0
    assert plan.next_delay(15.0, None, NOW, at_least=math.nan) == 15.0  # "Retry-After: nan" says nothing
    assert plan.next_delay(1e20, None, NOW) == plan.LONGEST_DELAY  # an interval from a config file too
