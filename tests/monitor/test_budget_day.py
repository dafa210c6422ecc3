"""A simulated day on the Free plan: the refresh plan and the budget planner, as the dashboard's
timed cycles use them, on the real client and the in-process simulator with its daily quota of
100, behind a frozen clock the test moves from one timer to the next (no wall-clock waits)."""

from datetime import UTC, datetime, timedelta

from hypertui.api.client import HyperTrackerClient
from hypertui.api.errors import RateLimitError
from hypertui.api.models import StateStatus
from hypertui.api.requests import send
from hypertui.api.store import SnapshotStore
from hypertui.clock import FrozenClock
from hypertui.monitor import plan
from hypertui.monitor.budget import Budget, next_reset, plan_budget, update_every
from hypertui.monitor.plan import PANELS, TIMED, View
from hypertui.sim import Market, create_app
from hypertui.source import SIM_BASE_URL, SIMULATOR_TOKEN, InProcessTransport

FREE = 100
START = datetime(2026, 11, 20, 0, 0, 30, tzinfo=UTC)


def _client(clock: FrozenClock) -> HyperTrackerClient:
    market = Market(seed=7, scale="small", clock=clock, update_interval=15 * 60.0)
    return HyperTrackerClient(
        SIM_BASE_URL,
        SIMULATOR_TOKEN,
        transport=InProcessTransport(lambda: create_app(market, daily_quota=FREE)),
        store=SnapshotStore(),
        daily_tokens=FREE,
        clock=clock,
    )


def _spent(client: HyperTrackerClient) -> int:
    return sum(client.tokens_today.values())


def _budget(
    client: HyperTrackerClient, view: View, ids: list[int], summaries_at: dict, status: StateStatus, now: datetime
) -> Budget:
    """As the dashboard plans it (HyperTuiApp._plan_budget), with no alert rules."""
    tiers = plan.budget_tiers(view, cohort_ids=ids, summaries_at=summaries_at, rule_cohorts=(), rule_due=(), now=now)
    return plan_budget(FREE, _spent(client), now, update_every(status), tiers)


async def test_a_free_day_never_meets_the_daily_quota_and_refreshes_as_often_as_it_allows():
    clock = FrozenClock(START)
    client = _client(clock)
    legend = await client.segments()
    ids = [s.id for s in legend]
    view = plan.first_view(legend, PANELS)
    summaries_at: dict[int, datetime] = {}
    shown: list[datetime] = []  # the API updates the panels were fetched at
    midnight = next_reset(START)
    while True:
        # A timed cycle: the status check, then what the budget keeps of the panels and the list.
        now = clock()
        status = await client.state_status()
        parts, _ = plan.within_budget(set(TIMED), set(), _budget(client, view, ids, summaries_at, status, now))
        asked = plan.plan_cycle(parts, view, cohort_ids=ids, summaries_at=summaries_at, risk_loaded=0, follow_cadence=False, now=now)
        for request in asked:
            await send(client, request)
            if request.kind == "summary":
                summaries_at[request.args[0]] = now
        shown.append(status.last_update)
        # The timer, armed as HyperTuiApp._arm_timer arms it (auto cadence).
        budget = _budget(client, view, ids, summaries_at, status, now)
        delay = plan.next_delay(None, status, now, budget=budget)
        if now + timedelta(seconds=delay) >= midnight:
            break
        clock.advance(delay)
    counted = _spent(client)
    assert counted <= FREE
    assert len(set(shown)) == len(shown)  # every timed cycle brought a new update
    # Fetched through the day, not spent by the morning: at least 22 of the 24 refreshes that
    # 98 tokens buy at 4 each (a status check, 3 panels), the last one in the evening.
    assert len(shown) >= 22 and shown[-1] >= START.replace(hour=21)
    # Every token counted: the simulator's quota refuses exactly what the client has not counted.
    extra = 0
    try:
        while extra <= FREE:
            await client.state_status()
            extra += 1
    except RateLimitError as exc:
        assert exc.daily and exc.limit == FREE
    assert counted + extra == FREE
    await client.aclose()
