"""The dashboard's state without Textual: filled from a whole update's answers (as a recording
will fill it), each model kept with what it is of, and the selections the keys change."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hypertui.api.errors import ApiError
from hypertui.api.requests import Request, send
from hypertui.monitor import plan
from hypertui.monitor.dashboard_state import DashboardState
from hypertui.monitor.plan import ALERT_RISK, BACKGROUND, HEATMAP, PANELS, RISK, STATUS, SUMMARY, TIMED
from hypertui.source import simulator_client


@pytest.fixture
async def client(clock):
    client = simulator_client(seed=7, scale="small", clock=clock)
    yield client
    await client.aclose()


async def _answers(client, requests):
    return [(request, await send(client, request)) for request in requests]


async def _update(client, state, now):
    """One whole update's requests for what `state` shows, and their answers, as a cycle plans them."""
    requests = plan.plan_cycle(
        TIMED, state.view, cohort_ids=[s.id for s in state.cohorts], summaries_at=state.summaries_at,
        risk_loaded=0, follow_cadence=True, now=now,
    )  # fmt: skip
    return await _answers(client, requests)


async def test_a_whole_update_fills_every_panel_each_model_with_what_it_is_of(client, clock):
    state = DashboardState()
    state.set_legend(await client.segments())
    first = state.view.cohort_id
    changed = state.fill_from(await _update(client, state, clock()), clock())
    assert changed == {SUMMARY, BACKGROUND, RISK, HEATMAP}  # the status is no panel: nothing to redraw
    assert state.status is not None and state.last_update == state.status.last_update
    assert state.shown_summary is state.summary and state.summary.segment.id == first
    assert state.risk_current and len(state.risk_items) == min(state.risk_total, plan.RISK_PAGE)
    assert state.shown_heatmap is state.heatmap and state.heatmap_for == "all"
    assert set(state.list_summaries) == {s.id for s in state.cohorts}  # every cohort asked for (as rules would)
    assert set(state.cohort_totals) == {s.id for s in state.cohorts}  # the list's figures, from the heatmap
    assert state.heatmap_update == state.last_update
    assert state.list_age(clock()) is None  # of the current update: no age shown
    assert state.cohort_title() == f"{state.segment(first).emoji} {state.segment(first).name}"
    data = state.alert_data()
    assert data.heatmap is state.heatmap and data.risk[first] == state.risk_items and data.summaries == state.list_summaries


async def test_the_same_answers_again_change_nothing_and_keep_the_change_marks(client, clock):
    state = DashboardState()
    state.set_legend(await client.segments())
    answers = await _update(client, state, clock())
    state.fill_from(answers, clock())
    heatmap = state.heatmap
    assert state.fill_from(answers, clock()) == set()  # the very objects: nothing to redraw
    assert state.heatmap is heatmap and state.prev_heatmap is None and state.prev_summary is None


async def test_a_new_update_keeps_the_one_before_for_the_marks_and_ages_the_list_until_its_heatmap(client, clock):
    state = DashboardState()
    state.set_legend(await client.segments())
    state.fill_from(await _update(client, state, clock()), clock())
    before = state.heatmap
    clock.advance(15 * 60)
    status = plan.plan_cycle({STATUS}, state.view, cohort_ids=(), summaries_at={}, risk_loaded=0, follow_cadence=True, now=clock())
    state.fill_from(await _answers(client, status), clock())
    assert state.list_age(clock()) == pytest.approx(15 * 60, abs=60)  # the heatmap is of the update before
    panels = plan.plan_cycle(PANELS, state.view, cohort_ids=(), summaries_at={}, risk_loaded=0, follow_cadence=True, now=clock())
    assert state.fill_from(await _answers(client, panels), clock()) == {SUMMARY, RISK, HEATMAP}
    assert state.prev_heatmap is before and state.heatmap is not before
    assert state.list_age(clock()) is None  # its heatmap is of this update


async def test_answers_for_what_is_no_longer_selected_are_kept_but_not_shown(client, clock):
    state = DashboardState()
    state.set_legend(await client.segments())
    whale = state.cohorts[-1].id
    answers = await _answers(client, [Request("summary", (whale, "all")), Request("liquidation_risk", (whale, 0, 500))])
    assert [state.part(request) for request, _ in answers] == [BACKGROUND, ALERT_RISK]
    assert state.fill_from(answers, clock()) == {BACKGROUND}  # the list's row; no panel of Shrimp's changed
    assert state.summary is None and not state.risk_current and whale in state.rule_risk
    assert state.select_cohort(whale) and state.view.cohort_id == whale
    assert state.shown_summary is state.list_summaries[whale]  # shown at once, before any fetch
    assert state.stale_panels(PANELS) == set(PANELS)  # its risk and the heatmap were never fetched for it
    assert not state.select_cohort(whale)  # already selected: nothing to fetch
    state.next_position_age()
    assert state.view.position_age == "24h" and state.summary is None  # the list's "all" summary is not the 24h one
    heatmap = await _answers(client, [Request("heatmap", ("7d",))])
    assert not state.fill_from(heatmap, clock()) and state.heatmap is None  # not the window shown


async def test_sorting_the_risk_table_wants_every_row_of_the_cohort(client, clock):
    state = DashboardState()
    state.set_legend(await client.segments())
    state.fill_from(await _answers(client, plan.risk_requests(state.view.cohort_id, 0, 10)), clock())
    assert len(state.risk_items) == 10 < state.risk_total  # a first page of 10 of the cohort's coins
    assert state.sort_risk("coin", False) and state.view.risk_rows >= state.risk_total
    assert state.risk_sort == ("coin", False)
    assert not state.more_risk()  # the rows asked for are not all in yet


def test_an_empty_legend_is_not_kept():
    state = DashboardState()
    with pytest.raises(ApiError, match="legend is empty"):
        state.set_legend([])
    assert state.cohorts is None and state.view is None


def test_a_status_before_any_update_leaves_list_ages_unknown(clock):
    state = DashboardState()
    assert state.last_update is None and state.list_age(clock() + timedelta(hours=1)) is None
