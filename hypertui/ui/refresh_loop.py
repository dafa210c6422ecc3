"""The dashboard's one refresh loop: cycles of requests, fed by the client, filling the state.

A cycle asks the client for what the plan says is on screen (hypertui.monitor.plan), within the
day's token budget, and keeps each answer in the DashboardState as it arrives; the screen then
draws the parts that changed. Refreshes never overlap: a one-shot timer is re-armed when a cycle
ends, and a refresh asked for during a cycle runs right after it. Failures are kept per part,
for the status bar and the panels' stale marks. The garbage collector is tuned here too: it is
the loop's allocations that it would otherwise walk.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from textual.timer import Timer

from hypertui.api.client import HyperTrackerClient
from hypertui.api.errors import ApiError, NotFoundError, RateLimitError
from hypertui.api.prefetch import Prefetch
from hypertui.api.requests import Request, send
from hypertui.api.text import one_line
from hypertui.monitor import plan
from hypertui.monitor.alert_rules import risk_cohorts, summary_cohorts
from hypertui.monitor.budget import Budget, plan_budget, update_every
from hypertui.monitor.dashboard_state import DashboardState
from hypertui.monitor.first_requests import FirstScreen
from hypertui.monitor.plan import BACKGROUND, IF_UPDATED, PANELS, RISK, STATUS, SUMMARY, TIMED
from hypertui.monitor.staleness import Freshness
from hypertui.ui.screens import import_drill_downs

if TYPE_CHECKING:
    from hypertui.ui.alert_center import AlertCenter
    from hypertui.ui.app import HyperTuiApp
    from hypertui.ui.screens.dashboard import DashboardScreen

BROKEN_CYCLE_RETRY = 60.0  # seconds to the next cycle after one that raised: soon, yet not a loop of tracebacks
COLLECTOR_BACK = 3.0  # seconds after the first frame; see start
# Seconds the cursor rests on a cohort before its panels are asked for: moving through the list
# with j/k must not spend a token on every cohort passed over.
SELECTION_REST = 0.3
LEGEND, INTERNAL = "legend", "internal"  # failure keys besides the plan's parts

log = logging.getLogger("hypertui.ui")


class RefreshLoop:
    """Cycles for the dashboard `screen`, which draws what they bring. `interval=None` follows
    the data's cadence (`state/status`)."""

    def __init__(
        self,
        screen: DashboardScreen,
        client: HyperTrackerClient,
        state: DashboardState,
        *,
        clock: Callable[[], datetime],
        interval: float | None,
        prefetch: Prefetch | None = None,
    ) -> None:
        """`prefetch`: the first screen's requests, already sent (else sent in the first cycle)."""
        self.screen = screen
        self.client = client
        self.state = state
        self.clock = clock
        self.interval = interval
        self.paused = False
        self.cycles_done = 0
        self.token_budget: Budget | None = None  # the day's, as last planned (None: no daily limit known)
        self.next_at: datetime | None = None
        self.timer: Timer | None = None
        self.failures: dict[str, str] = {}  # part -> one-line error of its last attempt
        self.panels_as_of: datetime | None = None  # the state/status lastUpdate the panels show
        self._panels_at: datetime | None = None  # when they were last all fetched
        self._busy = False
        self._pending: set[str] = set()
        self._if_stale: set[str] = set()  # panels to fetch after the running cycle, if it leaves them stale
        self._last_ok: datetime | None = None
        self._wait_at_least = 0.0  # from a 429's retry-after
        self._heap_frozen = False
        self._prefetch = prefetch
        self.selection_rest = SELECTION_REST
        self._selection_timer: Timer | None = None  # runs while the cursor has not rested on a cohort

    def start(self) -> None:
        """What is on screen first; the summaries alert rules read of other cohorts in a cycle right after."""
        # The collector comes back after the first cycle is drawn (_settle_heap), or at the latest
        # now + COLLECTOR_BACK: a server that accepts and never answers holds that cycle ~85 s.
        self.screen.set_timer(COLLECTOR_BACK, self._collector_back)
        self.request_refresh(TIMED - {BACKGROUND})
        self._pending.add(BACKGROUND)

    def draw_prefetched(self) -> bool:
        """Before the first frame: the first screen's answers already in (sent before the UI was
        imported: hypertui.launch) kept and drawn, so that frame shows them; whether the legend
        was. The first cycle takes the same answers again: nothing changes, nothing is redrawn,
        and it waits only for those still on their way."""
        prefetch = self._prefetch
        legend = prefetch.legend_in() if prefetch is not None else None
        if prefetch is None or legend is None:
            return False
        state = self.state
        try:
            state.set_legend(legend, PANELS)
        except ApiError:  # the first cycle reports it
            return False
        if self.client.status is not None:  # the update the answers are of, as the first cycle reads it
            state.status = self.client.status
        state.fill_from(prefetch.answered(), self.clock())
        if prefetch.all_answered:  # the first screen checked, as a cycle would have: the status bar says when
            self._last_ok = self.clock()
        self.screen.draw_held()
        return True

    def close(self) -> None:
        if self._prefetch is not None:  # closed before the first cycle took them
            self._prefetch.drop_rest()

    @property
    def alerts(self) -> AlertCenter:
        """The app's alert rules (the alerts screen and the rule form change them too)."""
        return cast("HyperTuiApp", self.screen.app).alerts

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def refreshing(self) -> bool:
        """A cycle is running or queued, or a cohort chosen waits to be fetched (tests wait for
        this to turn False)."""
        return self._busy or bool(self._pending) or self._selection_timer is not None

    @property
    def last_error(self) -> str | None:
        """The newest unresolved failure, one line (None when everything is current)."""
        if not self.failures:
            return None
        newest = one_line(next(reversed(self.failures.values())))
        more = len(set(self.failures.values())) - 1  # one dropped network is one error, not four
        return newest + (f" (+{more} more)" if more else "")

    def freshness(self) -> Freshness:
        return Freshness(self._last_ok, self.last_error, self.next_at, self._busy, self.paused)

    @property
    def cadence(self) -> float | None:
        """Seconds between automatic refreshes; None follows the data (`state/status`)."""
        return plan.cadence(self.interval, self.state.status_missing)

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            self.arm_timer()  # stops it
        else:
            self.request_refresh(TIMED)

    def set_interval(self, interval: float | None) -> None:
        self.interval = interval
        if not self._busy:
            self.arm_timer()

    def cohort_chosen(self) -> None:
        """Another cohort selected: its panels once the cursor has rested on it."""
        if self._selection_timer is not None:
            self._selection_timer.stop()
        self._selection_timer = self.screen.set_timer(self.selection_rest, self._selection_rested, name="selection-rest")

    def _selection_rested(self) -> None:
        """The cursor stayed on a cohort: its panels now (from the store if held for this update)."""
        self._selection_timer = None
        self.request_refresh({SUMMARY, RISK})

    # --- cycles -------------------------------------------------------------------------------

    def request_refresh(self, parts: Iterable[str]) -> None:
        """Run a cycle for `parts` now, or right after the running one (never two at once)."""
        if not self.screen.is_attached:  # the app is exiting: the cycle's coroutine would never run
            return
        parts = set(parts)
        if self._pending and (IF_UPDATED in parts) != (IF_UPDATED in self._pending):
            parts.discard(IF_UPDATED)  # joined with an unconditional refresh: unconditional
            self._pending.discard(IF_UPDATED)
        self._pending |= parts
        if self._busy or not self._pending:
            return
        if self.timer is not None:
            self.timer.stop()
            self.timer = None
        parts, self._pending = self._pending, set()
        self._busy = True
        self.screen.run_worker(self._run_cycle(parts), name="refresh", group="refresh", exit_on_error=False)
        self.screen.draw_status()  # after: should drawing raise, the cycle is under way all the same

    def refresh_if_stale(self, panels: Iterable[str]) -> None:
        """Fetch those of `panels` whose data is not current: now, or once the running cycle is
        done and only if it did not bring them (a page or layout change while the first cycle's
        answers were on their way asked for them again)."""
        if self._busy:
            self._if_stale |= set(panels)
            return
        stale = self.state.stale_panels(panels)
        if stale:
            self.request_refresh(stale)

    async def _run_cycle(self, parts: set[str]) -> None:
        state = self.state
        failed: dict[str, BaseException] = {}
        succeeded: set[str] = set()
        prefetch = None
        try:
            drawn: set[str] = set()  # what the cycle drew before its answers: a new legend
            # A warm start's legend is the recording's: asked as at a cold one. One drawn before
            # the first frame (draw_prefetched) is still the first cycle's to take.
            if self._prefetch is not None or state.cohorts is None or state.warm:
                prefetch = self._prefetch or Prefetch(self.client, FirstScreen(self.screen.visible_panels() & PANELS))
                self._prefetch = None
                try:
                    legend = await prefetch.legend
                    if legend is not state.cohorts:
                        state.set_legend(legend, PANELS)
                        self.screen.draw_legend()
                        drawn.add(LEGEND)
                except ApiError as exc:
                    failed[LEGEND] = exc
                    return
                succeeded.add(LEGEND)
                parts = parts | (TIMED - {BACKGROUND})  # nothing was on screen yet: fill it
                if self.client.status is not None:  # read for the store's look-ups: not asked twice
                    state.status = self.client.status
                    parts.discard(STATUS)
            assert state.view is not None
            as_of = None  # the update the panels will show, when known before they are asked for
            if IF_UPDATED in parts and not state.status_missing:
                parts, as_of = await self._unless_current(parts, failed, succeeded)
            if parts >= PANELS:
                state.full_cycles += 1
            state.view = replace(state.view, visible=frozenset(self.screen.visible_panels() & PANELS))
            now = self.clock()
            # With a daily limit known, the list and the rules' risk only as far as the day's tokens go.
            rule_cohorts = self._rule_cohorts()
            rule_due = plan.rule_risk_due(rule_cohorts, state.risk_update, state.last_update)
            parts, rule_risk = plan.within_budget(parts, rule_due, self._plan_budget(now, rule_cohorts, rule_due))
            requests = plan.plan_cycle(
                parts,
                state.view,
                cohort_ids=self._summary_rule_cohorts(),
                summaries_at=state.summaries_at,
                risk_loaded=len(state.risk_items) if state.risk_current else 0,
                rule_risk=rule_risk,
                follow_cadence=self.cadence is None,
                now=now,
            )
            # Attributed now: the selection may change while the requests are out, and a failed
            # summary of the cohort that *was* selected must not linger as a background failure.
            answers = {
                asyncio.ensure_future((prefetch.take(r) if prefetch else None) or send(self.client, r)): (r, state.part(r))
                for r in requests
            }
            self._draw_answers({}, drawn, succeeded, failed)
            pending = set(answers)
            try:
                # Each answer drawn as it arrives: a slow one (up to the client's deadline) must
                # not hold the panels whose answers are in.
                while pending:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    self._draw_answers({a: answers[a] for a in done}, set(), succeeded, failed)
            finally:
                for answer in pending:  # the cycle was cancelled (the app is closing)
                    answer.cancel()
            self._check_alerts()
            if parts >= PANELS and not PANELS & failed.keys():
                self.panels_as_of, self._panels_at = as_of, self.clock()
            succeeded.add(INTERNAL)
        except Exception as exc:
            log.error("refresh failed", exc_info=exc)
            failed[INTERNAL] = exc
        finally:
            if prefetch is not None:
                prefetch.drop_rest()
            try:
                self._finish_cycle(succeeded - failed.keys(), failed)
            except Exception as exc:  # noqa: BLE001 - nor stop the refresh loop
                self._finish_broken_cycle(exc)

    def _draw_answers(
        self,
        done: dict[asyncio.Future[Any], tuple[Request, str]],
        changed: set[str],
        succeeded: set[str],
        failed: dict[str, BaseException],
    ) -> None:
        """Into the state, and onto the screen, what `done` brought (and `changed` besides)."""
        with self.screen.app.batch_update():
            for answer, (request, part) in done.items():
                error = asyncio.CancelledError() if answer.cancelled() else answer.exception()
                if error is not None:
                    failed[part] = error
                else:
                    succeeded.add(part)
                    if self.state.apply(request, answer.result(), self.clock()):
                        changed.add(part)
            if changed:
                self.screen.draw(changed)

    async def _unless_current(
        self, parts: set[str], failed: dict, succeeded: set[str]
    ) -> tuple[set[str], datetime | None]:
        """`parts` without the panels if `state/status` says they show the latest update; and
        that update (asked before the panels, so they cannot be older than it)."""
        try:
            self.state.status = await self.client.state_status()
        except ApiError as exc:  # unknown: refresh as asked
            failed[STATUS] = exc
            return parts - {IF_UPDATED, STATUS}, None
        succeeded.add(STATUS)
        last_update = self.state.last_update
        current = plan.panels_current(last_update, self.panels_as_of, self._panels_at, self.clock())
        if current and not PANELS & self.failures.keys():
            return parts & {BACKGROUND}, None  # the rules' summaries still age out on their own
        return parts - {IF_UPDATED, STATUS}, last_update

    def _rule_cohorts(self) -> frozenset[int]:
        """The cohorts whose liquidation risk the alert rules read."""
        return risk_cohorts(self.alerts.evaluator.rules, self.state.cohorts or [])

    def _summary_rule_cohorts(self) -> frozenset[int]:
        """The cohorts whose summary the alert rules read: the only summaries fetched besides the
        selected cohort's (the list's figures come from the heatmap)."""
        return summary_cohorts(self.alerts.evaluator.rules, self.state.cohorts or [])

    def _plan_budget(
        self, now: datetime, rule_cohorts: frozenset[int] | None = None, rule_due: set[int] | None = None
    ) -> Budget | None:
        """The day's token budget from `now` on (hypertui.monitor.budget); None while no daily
        limit is known (config daily_tokens, or a daily 429's): then everything, as asked. The
        rules' cohorts and those due, when the caller has worked them out already."""
        state = self.state
        limit = self.client.daily_limit
        if limit is None or state.view is None:
            return None
        if rule_cohorts is None:
            rule_cohorts = self._rule_cohorts()
        if rule_due is None:
            rule_due = plan.rule_risk_due(rule_cohorts, state.risk_update, state.last_update)
        tiers = plan.budget_tiers(
            state.view,
            cohort_ids=self._summary_rule_cohorts(),
            summaries_at=state.summaries_at,
            rule_cohorts=rule_cohorts,
            rule_due=rule_due,
            now=now,
        )
        return plan_budget(limit, self.client.tokens_spent_today, now, update_every(state.status), tiers)

    def _check_alerts(self) -> None:
        """Evaluate the alert rules on what is held now."""
        app = self.screen.app
        self.alerts.check(app, self.state.alert_data(), self.clock())
        from hypertui.ui.screens.alerts import AlertsScreen

        if isinstance(app.screen, AlertsScreen):
            app.screen.show()

    def _finish_cycle(self, succeeded: set[str], failed: dict[str, BaseException]) -> None:
        self._busy = False  # first: should the rest raise, _finish_broken_cycle knows no cycle runs
        if isinstance(failed.get(STATUS), NotFoundError):  # an optional endpoint: not a failure
            del failed[STATUS]
            succeeded.add(STATUS)
            self.state.status_missing = True
        for part in succeeded:
            self.failures.pop(part, None)
        self._wait_at_least = 0.0
        for part, exc in failed.items():
            self._fail(part, exc)
            if isinstance(exc, RateLimitError):
                wait = plan.until_quota_reset(self.clock()) if exc.daily else exc.retry_after or 60.0
                self._wait_at_least = max(self._wait_at_least, wait)
        if not self.failures:
            self._last_ok = self.clock()
        if self.state.cohorts is None:  # nothing on screen yet: the panel says why, not just the status bar
            self.screen.show_waiting(self.last_error)
        self.cycles_done += 1
        if not self._heap_frozen and (self.state.cohorts is not None or not gc.isenabled()):
            app = self.screen.app
            if self.state.cohorts is not None:
                app.call_after_refresh(import_drill_downs)  # 15-20 ms, not on a first Enter
            app.call_after_refresh(self._settle_heap)  # offline, once: not a full collection per retry
        if self._if_stale and self.state.view is not None:
            self._pending |= self.state.stale_panels(self._if_stale)
        self._if_stale = set()
        if self._pending:
            self.request_refresh(())
        else:
            self.arm_timer()
        self.screen.draw_list()  # a new update ages the rows not fetched in it
        self.screen.draw_status()
        self.screen.look_back()

    def _fail(self, part: str, exc: BaseException) -> None:
        """Keep `part`'s failure as the newest, one line for the status bar."""
        self.failures.pop(part, None)  # re-insert: the newest failure is the one shown
        self.failures[part] = str(exc) if isinstance(exc, ApiError) else f"internal error: {type(exc).__name__}: {exc}"

    def _finish_broken_cycle(self, exc: Exception) -> None:
        """The end of a cycle raised (a bug): log it, show it (status bar, STALE), and make sure a
        next cycle comes: else the loop ends there, with "next" in the past and nothing said."""
        log.error("refresh cycle could not finish", exc_info=exc)
        self._fail(INTERNAL, exc)
        # _finish_cycle cleared _busy first: set again, it is the next cycle's, whose worker runs.
        if self.timer is None and not self._busy and not self.paused:
            self._start_timer(BROKEN_CYCLE_RETRY, self.clock())
        self.screen.draw_status()

    # --- the garbage collector --------------------------------------------------------------

    def _collector_back(self) -> None:
        if not gc.isenabled():
            self._settle_heap()

    def _settle_heap(self) -> None:
        """After a cycle's screen is drawn: collect once, freeze what is left, collect from then on."""
        # What start-up built (modules, widgets, an embedded market) lives all session: a full
        # collection walked ~0.5 million such objects, 0.3 s of main thread every few dozen
        # refreshes. Frozen, collections look only at what came later. Until data has arrived
        # (offline start), what the first data builds is still to come: settle again then.
        gc.unfreeze()  # an earlier app in this process (tests): its garbage goes too
        gc.collect()
        gc.freeze()
        self._heap_frozen = self.state.cohorts is not None
        # A refresh allocates tens of thousands of short-lived objects: collecting every
        # 10,000 instead of 700 lets most die first (gc callbacks: ~5 -> ~3 ms per refresh).
        gc.set_threshold(10_000, 10, 10)
        gc.enable()  # the command line turns it off for start-up

    # --- the timer ----------------------------------------------------------------------------

    def arm_timer(self) -> None:
        if self.timer is not None:
            self.timer.stop()
            self.timer = None
        if self.paused or self._busy:
            self.next_at = None
            return
        now = self.clock()
        self.token_budget = self._plan_budget(now)
        delay = plan.next_delay(self.cadence, self.state.status, now, at_least=self._wait_at_least, budget=self.token_budget)
        self._start_timer(delay, now)

    def _start_timer(self, delay: float, now: datetime) -> None:
        self.next_at = now + timedelta(seconds=delay)
        self.timer = self.screen.set_timer(delay, lambda: self.request_refresh(TIMED | {IF_UPDATED}), name="refresh-timer")
