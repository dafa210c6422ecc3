"""`hypertui record`: the headless recorder, for a server (no UI, no Textual).

At each API update it fetches what the dashboard shows, as the dashboard asks for it (the same
requests, so a dashboard opened beside it on the same store finds them held and spends nothing):
the heatmap and the 24 h bias export, then each cohort's summary, then each cohort's first
page of liquidation risk, as many as the day's token budget allows (monitor/budget.py), and the
legend once a UTC day. The client keeps every answer in the store under its update: that is
the recording (api/recording.py reads it). What the store already holds for the current update
costs nothing, so a restart resumes where the last run left off.

One line per update on stderr; the wait for the next is the dashboard's (`plan.next_delay`:
a little after `nextUpdate`, the late-upstream backoff, the budget's stride). SIGTERM and
SIGINT end it cleanly, between requests or in the middle of them.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import date, datetime, timedelta

from hypertui.api.client import HyperTrackerClient
from hypertui.api.errors import ApiError, AuthError, RateLimitError
from hypertui.api.models import StateStatus
from hypertui.api.requests import Request, send
from hypertui.clock import utc_now
from hypertui.monitor import plan
from hypertui.monitor.budget import Budget, Tier, plan_budget, update_every

log = logging.getLogger("hypertui.record")

# A cycle some of whose requests failed is tried again this soon (what it got is held: only
# the failed ones are asked again), not at the next update.
RETRY_FAILED = 60.0
DASHBOARD = "heatmap and bias"


def recorded_parts(cohort_ids: list[int]) -> list[tuple[str, list[Request]]]:
    """What an update's recording asks for, most important first, as (budget tier, requests):
    one tier per cohort's summary, then per cohort's risk, so the budget keeps as many as it can."""
    parts = [(DASHBOARD, [Request("heatmap", ("all",)), Request("segments_bias_24h")])]
    parts += [(f"summary {sid}", [Request("summary", (sid, "all"))]) for sid in cohort_ids]
    parts += [(f"risk {sid}", plan.risk_requests(sid, 0, plan.RISK_PAGE)) for sid in cohort_ids]
    return parts


def recorded_requests(cohort_ids: list[int], budget: Budget | None) -> list[Request]:
    """The requests of the parts `budget` keeps (None: no daily limit known, all of them)."""
    return [r for tier, requests in recorded_parts(cohort_ids) if budget is None or tier in budget.tiers for r in requests]


def recording_budget(limit: int | None, spent: int, now: datetime, status: StateStatus, cohort_ids: list[int]) -> Budget | None:
    """The day's plan for the parts, as the dashboard's planner makes it (None: no limit known)."""
    if limit is None:
        return None
    tiers = [Tier(name, len(requests), len(requests)) for name, requests in recorded_parts(cohort_ids)]
    return plan_budget(limit, spent, now, update_every(status), tiers)


def _hm(moment: datetime | None) -> str:
    """An update's time: 09:15 (the API's are on the minute), 09:15:02 when it is not (a fast simulator's)."""
    if moment is None:
        return "—"
    return f"{moment:%H:%M:%S}" if moment.second or moment.microsecond else f"{moment:%H:%M}"


def _next_check(now: datetime, delay: float) -> str:
    return f"next check at {now + timedelta(seconds=delay):%H:%M:%S} UTC"


class Recorder:
    """Records each API update once; `record_once` is one check, `run` checks until stopped."""

    def __init__(
        self,
        client: HyperTrackerClient,
        *,
        every: float | None = None,
        clock: Callable[[], datetime] = utc_now,
        say: Callable[[str], None] = log.info,
    ) -> None:
        """`every`: check this often (seconds) instead of following the data's updates."""
        self._client = client
        self._every = every
        self._clock = clock
        self._say = say
        self._recorded: datetime | None = None  # the last update recorded whole
        self._cohort_ids: list[int] = []
        self._legend_day: date | None = None  # the UTC day the legend was last fetched
        self.updates = 0  # recorded this run

    async def run(self, stop: asyncio.Event) -> None:
        """Check, wait, check again, until `stop` is set; a check under way is cancelled then."""
        stopped = asyncio.ensure_future(stop.wait())
        try:
            while True:
                check = asyncio.ensure_future(self.record_once())
                await asyncio.wait({check, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if stopped.done():
                    check.cancel()
                    with suppress(asyncio.CancelledError):
                        await check
                    return
                with suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(stopped), check.result())
                    return
        finally:
            stopped.cancel()

    async def record_once(self) -> float:
        """Record the current update unless it already is; the seconds until the next check."""
        now = self._clock()
        try:
            status = await self._client.state_status()
        except AuthError:
            raise  # a rejected token is not fixed by waiting: the command ends with its line
        except ApiError as exc:
            return self._failed_check(exc, now)
        if status.last_update is not None and status.last_update == self._recorded:
            delay = plan.next_delay(self._every, status, now)
            if status.next_update is not None and now > status.next_update:
                self._say(f"update {_hm(self._recorded)} not followed yet (upstream late); {_next_check(now, delay)}")
            return delay
        legend_failed = await self._fetch_legend(now)
        spent = sum(self._client.tokens_today.values())
        budget = recording_budget(self._client.daily_limit, spent, now, status, self._cohort_ids)
        if budget is not None and budget.exhausted:
            self._say(f"token budget spent ({spent} today): next recording after {budget.reset_at:%H:%M} UTC")
            return plan.next_delay(self._every, status, now, budget=budget)
        requests = recorded_requests(self._cohort_ids, budget)
        results = await asyncio.gather(*(send(self._client, r) for r in requests), return_exceptions=True)
        failed = [r for r in (legend_failed, *results) if isinstance(r, BaseException)]
        if unexpected := next((e for e in failed if not isinstance(e, ApiError)), None):
            raise unexpected
        answers, tokens = len(results) - len(failed) + 1, sum(self._client.tokens_today.values())
        line = f"recorded update {_hm(status.last_update)} · {answers} answers · {tokens} tokens today"
        if budget is not None and (note := budget.note([name for name, _ in recorded_parts(self._cohort_ids)])):
            line += f" · {note}"
        if failed:
            self._say(f"{line} · {len(failed)} failed (first: {failed[0]}); {_next_check(now, RETRY_FAILED)}")
            return RETRY_FAILED
        self._say(line)
        self._recorded = status.last_update
        self.updates += 1
        return plan.next_delay(self._every, status, self._clock(), budget=budget)

    async def _fetch_legend(self, now: datetime) -> ApiError | None:
        """The cohorts, once a UTC day (a new cohort shows up by the next day); on failure the
        last ones are kept, and it is asked again at the next check."""
        if self._legend_day == now.date():
            return None
        try:
            legend = await self._client.segments()
        except ApiError as exc:
            return exc
        self._cohort_ids = sorted(s.id for s in legend)
        self._legend_day = now.date()
        return None

    def _failed_check(self, exc: ApiError, now: datetime) -> float:
        if isinstance(exc, RateLimitError) and exc.daily:
            delay = plan.until_quota_reset(now)
        else:
            retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
            delay = plan.next_delay(self._every, None, now, at_least=retry_after or 0.0)
        self._say(f"status check failed ({exc}); {_next_check(now, delay)}")
        return delay


def _log_to_stderr() -> None:
    """The recorder's lines, and the client's warnings, on stderr with the UTC time (journald keeps them)."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter("%(asctime)s UTC %(message)s", "%Y-%m-%d %H:%M")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger("hypertui")
    root.addHandler(handler)
    root.setLevel(logging.INFO)


async def record(client: HyperTrackerClient, every: float | None) -> int:
    """`hypertui record` until SIGTERM or SIGINT: 0, having said how many updates it recorded."""
    _log_to_stderr()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    recorder = Recorder(client, every=every)
    async with client:
        await recorder.run(stop)
    log.info("stopped: %d update(s) recorded this run", recorder.updates)
    return 0
