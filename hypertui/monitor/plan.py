"""The refresh plan: which requests one cycle makes, and when the next cycle starts.

Quota matters (100 requests a day on the free plan), so a cycle asks only for what is on
screen and what the user's last key changed; the cohort legend is fetched once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from hypertui.api.models import Segment, StateStatus, ordered_by_range
from hypertui.api.requests import Request
from hypertui.monitor.budget import Budget, Tier, next_reset
from hypertui.monitor.rows import AXES

RISK_PAGE = 100  # rows per "load more" page of the liquidation-risk table
RISK_REQUEST_MAX = 500  # the API's limit per request
# The summaries of cohorts other than the selected one that alert rules read (bias, traders):
# every missing one in the first cycle, then only the oldest, once they are this old, two per
# cycle. (The cohort list needs none: its figures are the heatmap's.)
BACKGROUND_MAX_AGE = 15 * 60.0
BACKGROUND_REFRESH_PER_CYCLE = 2

# Parts of the dashboard a cycle can refresh.
STATUS, SUMMARY, BACKGROUND, RISK, RISK_MORE, HEATMAP = (
    "status",
    "summary",
    "background",
    "risk",
    "risk_more",
    "heatmap",
)
# Not asked for as a part: the liquidation risk of cohorts other than the selected one that alert
# rules read, fetched with the panels (see plan_cycle). Failures are kept under this name.
ALERT_RISK = "alert_risk"
TIMED = frozenset({STATUS, SUMMARY, BACKGROUND, RISK, HEATMAP})
PANELS = frozenset({SUMMARY, RISK, HEATMAP})  # the parts that are panels (the rest: the list, the status)
# From this many columns the dashboard shows every panel; narrower, one page at a time, the
# cohorts' (list and summary) first. Up to THREE_COLUMNS the risk table sits under the heatmap
# (beside it, the heatmap would lose a quarter of its cohorts); from there on, beside it; from
# BOTH_AXES_COLUMNS the heatmap has the width for both axes' cohorts, and the risk table goes
# back under it.
WIDE_COLUMNS = 120
THREE_COLUMNS = 150
BOTH_AXES_COLUMNS = 200
# Not a part: a timed cycle that asks `state/status` first and skips the panels when the data
# has not been updated since they were fetched (data changes every 15-30 min; each request
# costs quota). A refresh the user asks for is never skipped.
IF_UPDATED = "if_updated"


# The budget's tiers (hypertui.monitor.budget), most important first: the panels on screen (with
# the heatmap, which the cohort list reads), the summaries alert rules read, then the risk of the
# cohorts that alert rules read.
PANELS_TIER, SUMMARIES_TIER, RULES_TIER = "panels", "alert rules' summaries", "alert rules' risk"
TIERS = (PANELS_TIER, SUMMARIES_TIER, RULES_TIER)


@dataclass(frozen=True)
class View:
    """What the user has asked to see; keys change this, and the plan follows."""

    cohort_id: int
    position_age: str = "all"
    opened_within: str = "all"
    risk_rows: int = RISK_PAGE  # rows of the risk table wanted (grows as the user scrolls)
    visible: frozenset[str] = PANELS  # panels on screen


def panels_shown_at(columns: int) -> frozenset[str]:
    """The panels on screen when the dashboard opens this many columns wide."""
    return PANELS if columns >= WIDE_COLUMNS else frozenset({SUMMARY})


def first_view(legend: list[Segment], visible: frozenset[str]) -> View | None:
    """What the dashboard opens on: the first cohort of the size axis (None: an empty legend)."""
    first = ordered_by_range(legend, AXES[0]) or legend
    return View(cohort_id=first[0].id, visible=visible) if first else None


def plan_cycle(
    parts: Iterable[str],
    view: View,
    *,
    cohort_ids: Iterable[int],
    summaries_at: Mapping[int, datetime],
    risk_loaded: int,
    follow_cadence: bool,
    now: datetime,
    rule_risk: Iterable[int] = (),
) -> list[Request]:
    """The requests for `parts`, minus what is not on screen; deduplicated, in a stable order.

    `rule_risk`: the cohorts whose liquidation risk alert rules read and that are due
    (`rule_risk_due`), asked for only in a cycle that fetches every panel: never more often
    than the panels themselves.
    """
    parts = set(parts)
    wanted: set[Request] = set()
    if STATUS in parts and follow_cadence:
        wanted.add(Request("state_status"))
    if SUMMARY in parts and SUMMARY in view.visible:
        wanted.add(Request("summary", (view.cohort_id, view.position_age)))
    if BACKGROUND in parts:
        # The selected cohort's own "all" summary, if it is being fetched anyway, serves the list.
        selected_all = view.position_age == "all" and SUMMARY in parts and SUMMARY in view.visible
        skip = view.cohort_id if selected_all else None
        for sid in background_summaries(cohort_ids, summaries_at, now, skip=skip):
            wanted.add(Request("summary", (sid, "all")))
    if RISK in view.visible:
        if RISK in parts:
            wanted.update(risk_requests(view.cohort_id, 0, max(view.risk_rows, RISK_PAGE)))
        elif RISK_MORE in parts and view.risk_rows > risk_loaded:
            wanted.update(risk_requests(view.cohort_id, risk_loaded, view.risk_rows - risk_loaded))
    if HEATMAP in parts:  # on screen or not, the cohort list's figures are the heatmap's
        wanted.add(Request("heatmap", (view.opened_within,)))
    if parts >= PANELS:
        shown = view.cohort_id if RISK in view.visible else None  # the panel's own rows serve it
        # Every coin in one request (the API sends at most 500; a cohort holds ~300): a rule's coin
        # far down the list is there too.
        wanted.update(Request("liquidation_risk", (sid, 0, RISK_REQUEST_MAX)) for sid in set(rule_risk) - {shown})
    return sorted(wanted)


def budget_tiers(
    view: View,
    *,
    cohort_ids: Iterable[int],
    summaries_at: Mapping[int, datetime],
    rule_cohorts: Iterable[int],
    rule_due: Iterable[int],
    now: datetime,
) -> list[Tier]:
    """What a full cycle costs, tier by tier (TIERS), now and at each later update: the costs
    the budget planner weighs. `rule_cohorts`: every cohort alert rules read the risk of;
    `rule_due`: those not of the latest update (rule_risk_due)."""

    def cost(parts: Iterable[str]) -> int:
        asked = plan_cycle(
            parts, view, cohort_ids=cohort_ids, summaries_at=summaries_at, risk_loaded=0, follow_cadence=False, now=now
        )
        return len(asked)

    panels = cost(PANELS)
    listed = cost(PANELS | {BACKGROUND}) - panels  # the selected cohort's own summary serves the list
    others = set(rule_cohorts) - ({view.cohort_id} if RISK in view.visible else set())
    return [
        Tier(PANELS_TIER, panels, panels),
        Tier(SUMMARIES_TIER, listed, min(BACKGROUND_REFRESH_PER_CYCLE, len(set(cohort_ids) - {view.cohort_id}))),
        Tier(RULES_TIER, len(others & set(rule_due)), len(others)),
    ]


def within_budget(parts: set[str], rule_risk: set[int], budget: Budget | None) -> tuple[set[str], set[int]]:
    """`parts` and the alert rules' cohorts to fetch, without the tiers `budget` leaves out
    (None: no daily limit known, everything)."""
    if budget is None:
        return parts, rule_risk
    return (
        parts if SUMMARIES_TIER in budget.tiers else parts - {BACKGROUND},
        rule_risk if RULES_TIER in budget.tiers else set(),
    )


# The longest wait before a cycle: the daily quota resets within it, so no answer justifies more.
# A server's `Retry-After: inf` (or 1e14 s) overflowed timedelta and stopped the refresh loop.
LONGEST_DELAY = 24 * 60 * 60.0
PANELS_MAX_AGE = 5 * 60.0  # ...but the panels are fetched at least this often, whatever the status says
# `state/status` is not one of the ten documented endpoints: a server may answer 404. Without it
# the data's cadence is unknown, so "follow the data" becomes a refresh this often.
NO_STATUS_INTERVAL = PANELS_MAX_AGE
# An upstream late past its nextUpdate is checked again after 1, 2, 5, 10, then every 30 minutes:
# each check costs a token, and a fixed 30 s spent 2,880 a day on one that stayed late.
LATE_BACKOFF = (60.0, 120.0, 300.0, 600.0, 1800.0)


def cadence(interval: float | None, status_missing: bool) -> float | None:
    """Seconds between automatic cycles, None to follow the data (which needs `state/status`)."""
    return NO_STATUS_INTERVAL if interval is None and status_missing else interval


def panels_current(
    last_update: datetime | None, panels_as_of: datetime | None, fetched_at: datetime | None, now: datetime
) -> bool:
    """Whether the panels already show the data of the latest update (unknown: no)."""
    if last_update is None or last_update != panels_as_of or fetched_at is None:
        return False
    return (now - fetched_at).total_seconds() < PANELS_MAX_AGE


def rule_risk_due(
    cohorts: Iterable[int], fetched_for: Mapping[int, datetime | None], last_update: datetime | None
) -> set[int]:
    """The cohorts (of alert rules) whose liquidation risk is not of the data's latest update.

    `fetched_for`: the `lastUpdate` each cohort's risk was fetched under. Once per update, then
    (every 15-30 min on the live API: 48-96 requests a day per cohort), each request a token,
    even when the panels are fetched again for their age (PANELS_MAX_AGE) or a key. With no
    update known (no `state/status`), every cycle that fetches the panels.
    """
    return {sid for sid in cohorts if last_update is None or fetched_for.get(sid) != last_update}


def risk_requests(segment_id: int, offset: int, rows: int) -> list[Request]:
    """Offset pages covering `rows` rows from `offset`, at most 500 per request."""
    out = []
    while rows > 0:
        limit = min(rows, RISK_REQUEST_MAX)
        out.append(Request("liquidation_risk", (segment_id, offset, limit)))
        offset += limit
        rows -= limit
    return out


def background_summaries(
    cohort_ids: Iterable[int],
    summaries_at: Mapping[int, datetime],
    now: datetime,
    *,
    skip: int | None = None,
    refresh_per_cycle: int = BACKGROUND_REFRESH_PER_CYCLE,
    max_age: float = BACKGROUND_MAX_AGE,
) -> list[int]:
    """Of `cohort_ids`, those whose summary is missing (all of them), else the oldest of those
    too old. A summary held of another cohort (one browsed to) is not refreshed here."""
    wanted = [sid for sid in cohort_ids if sid != skip]
    never = [sid for sid in wanted if sid not in summaries_at]
    if never:
        return never
    old = sorted((summaries_at[sid], sid) for sid in wanted if (now - summaries_at[sid]).total_seconds() >= max_age)
    return [sid for _, sid in old[:refresh_per_cycle]]


def next_delay(
    interval: float | None,
    status: StateStatus | None,
    now: datetime,
    *,
    at_least: float = 0.0,
    grace: float = 10.0,
    floor: float = 30.0,
    ceiling: float = 30 * 60.0,
    early_check: float = 60.0,
    budget: Budget | None = None,
) -> float:
    """Seconds until the next automatic cycle.

    A fixed interval is kept from `nextUpdate` on; before it, checking more often than once per
    `early_check` seconds finds nothing new and only spends quota (100 requests a day on the free
    plan: three minutes at 2 s). Without an interval follow the data: a little after `nextUpdate`,
    never sooner than `floor` nor later than `ceiling`; an overdue update is checked for with
    the LATE_BACKOFF steps.
    Never sooner than `at_least` (a 429's Retry-After) either, nor than the next update the day's
    token `budget` allows (None: no daily limit known), and never later than LONGEST_DELAY
    whatever those say.
    """
    if interval is not None:
        if status is None or status.next_update is None:
            delay = interval
        else:
            delay = max(interval, min((status.next_update - now).total_seconds(), early_check))
    elif status is None or status.next_update is None:
        delay = floor * 2
    else:
        until = (status.next_update - now).total_seconds()
        delay = min(ceiling, max(floor, until + grace)) if until + grace > 0 else late_backoff(-until)
    if budget is not None:
        delay = max(delay, budget.delay(status, now, grace=grace))
    return min(max(delay, at_least), LONGEST_DELAY)


def late_backoff(late: float) -> float:
    """Seconds to the next check of an upstream `late` seconds past its nextUpdate: the
    LATE_BACKOFF step that lateness has reached (checked 10 s late: 1 min; then 70 s late: 2 min;
    ...), so the steps follow from the status alone, with no count of checks to keep."""
    elapsed = 0.0
    for step in LATE_BACKOFF:
        elapsed += step
        if late < elapsed:
            return step
    return LATE_BACKOFF[-1]


def until_quota_reset(now: datetime, *, floor: float = 60.0) -> float:
    """Seconds until a daily quota can have reset: the next UTC midnight (at least `floor`)."""
    return max(floor, (next_reset(now) - now).total_seconds())
