"""The App: the dashboard screen, key bindings, and the one refresh worker.

Data flows one way: the worker asks the client for what the plan says is on screen, keeps the
models, and hands rows computed by `hypertui.monitor` to the widgets, which update in place.
Keys change what is requested (the `View`) or how cached data is shown; never the network
directly. Refreshes never overlap: a one-shot timer is re-armed when a cycle ends, and a
refresh asked for during a cycle runs right after it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import WorkerFailed

from hypertui.api.client import HyperTrackerClient
from hypertui.api.errors import ApiError, NotFoundError, RateLimitError
from hypertui.api.models import (
    Heatmap,
    LiquidationRiskPage,
    RiskItem,
    Segment,
    SegmentSummary,
    StateStatus,
    ordered_by_range,
)
from hypertui.api.position_age import POSITION_AGES
from hypertui.api.text import one_line
from hypertui.clock import utc_now
from hypertui.monitor import format as fmt
from hypertui.monitor import plan
from hypertui.monitor.alert_rules import AlertData, risk_cohorts, summary_cohorts
from hypertui.monitor.budget import Budget, plan_budget, update_every
from hypertui.monitor.first_requests import FirstRequests
from hypertui.monitor.heat import MODES, HeatSort, next_sort
from hypertui.monitor.plan import (
    ALERT_RISK,
    BACKGROUND,
    HEATMAP,
    IF_UPDATED,
    RISK,
    RISK_MORE,
    STATUS,
    SUMMARY,
    TIMED,
    Request,
    View,
)
from hypertui.monitor.positions import PositionQuery
from hypertui.monitor.rows import (
    AXES,
    CohortTotals,
    cohort_totals,
    heatmap_lines,
    risk_lines,
    segment_groups,
    segment_line,
    summary_figures,
    top_assets,
    top_assets_note,
)
from hypertui.monitor.staleness import Freshness
from hypertui.ui import prefs as preferences
from hypertui.ui.alert_center import AlertCenter
from hypertui.ui.hangup import watch_terminal
from hypertui.ui.keymap import remapped
from hypertui.ui.no_color import replace_monochrome
from hypertui.ui.screens import import_drill_downs
from hypertui.ui.screens.dashboard import DashboardScreen  # the others: imported where opened
from hypertui.ui.signals import Signals
from hypertui.ui.terminal_output import compacting
from hypertui.ui.widgets.cohort_summary import CohortSummary
from hypertui.ui.widgets.coin_filter import CoinFilter
from hypertui.ui.widgets.heatmap import HeatmapTable
from hypertui.ui.widgets.risk_table import RiskTable
from hypertui.ui.widgets.segment_list import SegmentList
from hypertui.ui.widgets.synced_table import SyncedTable

if TYPE_CHECKING:
    from textual.command import Provider

STATUS_TICK = 5.0  # seconds; see on_ready
# Seconds the cursor rests on a cohort before its panels are asked for: moving through the list
# with j/k must not spend a token on every cohort passed over.
SELECTION_REST = 0.3
BROKEN_CYCLE_RETRY = 60.0  # seconds to the next cycle after one that raised: soon, yet not a loop of tracebacks
COLLECTOR_BACK = 3.0  # seconds after the first frame; see on_ready
AGES = POSITION_AGES
# Fastest to slowest; None (auto) follows the data's own cadence, which on the real API is the slowest.
INTERVALS: tuple[float | None, ...] = (5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, None)
# Keys that act on the dashboard: not while a drill-down is on top of it.
DASHBOARD_ONLY = frozenset(
    {"position_age", "axis", "heat_mode", "opened_within", "palette", "filter", "bias_overview", "alert_rule"}
)
PANEL_PARTS = plan.PANELS
LEGEND, INTERNAL = "legend", "internal"  # failure keys besides the plan's parts
# The panel marked stale when a part's refresh fails ("main": all of them).
STALE_PANEL = {
    LEGEND: "main",
    INTERNAL: "main",
    STATUS: "main",
    SUMMARY: "left",
    BACKGROUND: "left",
    RISK: "risk-panel",
    HEATMAP: "heatmap-panel",
    ALERT_RISK: "alert-rules",  # no panel shows it: the status line says what failed
}

log = logging.getLogger("hypertui.ui")


def literal_commands() -> type[Provider]:
    """The palette's provider, imported when the palette first opens (see hypertui.ui.commands)."""
    from hypertui.ui.commands import LiteralCommands

    return LiteralCommands


def _cycle(values: tuple, current: Any, step: int = 1) -> Any:
    return values[(values.index(current) + step) % len(values)]


class HyperTuiApp(App[int], inherit_bindings=False):
    """The live dashboard. `refresh=None` follows the data's cadence (`state/status`)."""

    CSS_PATH = "hypertui.tcss"
    TITLE = "hypertui"
    COMMANDS = {literal_commands}  # instead of Textual's, which reads cohort and coin names as markup
    DASHBOARD_ONLY = DASHBOARD_ONLY  # for the keymap check: these keys do nothing over a drill-down
    # No ctrl+a/s/q/h/j/k/l: terminals, tmux and screen own those.
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("p", "pause", "Pause", id="pause"),
        Binding("a", "position_age", "Age filter", id="position_age"),
        Binding("x", "axis", "Axis", id="heatmap_axis"),
        Binding("v", "heat_mode", "Mode", id="heatmap_mode"),
        Binding("w", "opened_within", "Opened within", show=False, id="opened_within"),
        Binding("c", "palette", "Colour-blind palette", show=False, id="palette"),
        Binding("slash", "filter", "Filter coins", key_display="/", id="filter"),
        Binding("b", "bias_overview", "Bias overview", show=False, id="bias_overview"),
        Binding("exclamation_mark", "alerts", "Alerts", key_display="!", show=False, id="alerts"),
        Binding("A", "alert_rule", "New alert rule (heatmap cell, risk row)", show=False, id="alert_rule"),
        # The risk table owns s/S when focused; from any other panel but the heatmap (its own) they sort it too.
        Binding("s", "sort_risk", "Sort risk table", show=False, id="sort_risk"),
        Binding("S", "sort_risk_reverse", "Reverse risk sort", show=False, id="sort_risk_reverse"),
        Binding("plus,equals_sign", "slower", "Slower refresh", key_display="+", show=False, id="slower"),
        Binding("minus", "faster", "Faster refresh", key_display="-", show=False, id="faster"),
        Binding("ctrl+c", "quit", show=False, id="quit_ctrl_c"),
    ]

    def __init__(
        self,
        client: HyperTrackerClient,
        source_label: str,
        *,
        refresh: float | None = 15.0,
        clock: Callable[[], datetime] = utc_now,
        export_dir: str | None = None,
        alerts: AlertCenter | None = None,
        prefs: preferences.Preferences = preferences.Preferences(),
        first_requests: FirstRequests | None = None,
    ) -> None:
        """`first_requests`: the first screen's, already sent (else sent when the screen is up)."""
        super().__init__()
        self.alerts = alerts or AlertCenter()
        self._filters = replace_monochrome(self._filters)  # NO_COLOR: keep red text readable
        self.client = client
        self.source_label = source_label
        self.clock = clock
        self.interval = refresh
        self.export_dir = export_dir  # None: Downloads/hypertui (hypertui.monitor.export.default_dir)
        self.paused = False
        # What the user asked for: the View drives requests; the rest only how data is shown.
        self.view: View | None = None
        self.axis = AXES[0]
        self.heat_mode = MODES[0]
        self.palette_index = 0
        self.coin_filter = ""
        self.heat_sort: HeatSort | None = None  # None: by value
        self.risk_sort: tuple[str, bool] = ("percent_risk", True)
        # The last good data, and the previous refresh of the same thing (for ↑↓ change marks).
        self.segments: list[Segment] | None = None
        # Every cohort's "all" summary held (alert rules read them; the selected one's is also its panel's).
        self.list_summaries: dict[int, SegmentSummary] = {}
        self.summaries_at: dict[int, datetime] = {}
        self.summary: SegmentSummary | None = None
        self._prev_summary: SegmentSummary | None = None
        self.risk_items: list[RiskItem] = []
        self.risk_total = 0
        self._risk_for: int | None = None
        self._prev_risk: dict[str, RiskItem] | None = None
        self.rule_risk: dict[int, list[RiskItem]] = {}  # each cohort's first risk rows last fetched (alert rules)
        self._risk_update: dict[int, datetime | None] = {}  # cohort -> the lastUpdate its risk was fetched under
        self._risk_first_page: LiquidationRiskPage | None = None
        self.heatmap: Heatmap | None = None
        self._heatmap_for: str | None = None
        self._heatmap_update: datetime | None = None  # the lastUpdate the heatmap was fetched under
        self._heatmap_at: datetime | None = None
        self._cohort_totals: dict[int, CohortTotals] = {}  # the cohort list's figures, from the heatmap
        self._prev_heatmap: Heatmap | None = None
        self.status: StateStatus | None = None
        self.status_missing = False  # state/status answered 404: timed refreshes (plan.cadence)
        # The refresh loop.
        self._busy = False
        self._pending: set[str] = set()
        self._timer: Timer | None = None
        self.selection_rest = SELECTION_REST
        self._selection_timer: Timer | None = None  # runs while the cursor has not rested on a cohort
        self._last_ok: datetime | None = None
        self._failures: dict[str, str] = {}  # part -> one-line error of its last attempt
        self._wait_at_least = 0.0  # from a 429's retry-after
        self._next_at: datetime | None = None
        self.token_budget: Budget | None = None  # the day's, as last planned (None: no daily limit known)
        self._timed_no = 0  # full-screen cycles started
        self._fetched_in: dict[str, int] = {}  # part -> full-screen cycle it was last fetched in
        self._panels_as_of: datetime | None = None  # the state/status lastUpdate the panels show
        self._panels_at: datetime | None = None  # when they were last all fetched
        self.cycles_done = 0
        self._heap_frozen = False
        self._first_requests = first_requests
        self.dashboard = DashboardScreen()
        self.prefs = prefs
        self.signals = Signals()  # the theme's, from watch_theme
        self._prefs_problems = preferences.apply_preferences(self, prefs)  # sets the theme

    # --- lifecycle ------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        return self.dashboard

    def get_driver_class(self) -> type[Driver]:
        return compacting(super().get_driver_class())  # same screen, fewer bytes (terminal_output)

    def refresh_css(self, animate: bool = True) -> None:
        # The theme set in __init__ queues a refresh before any screen exists: its re-parse of
        # every stylesheet would be thrown away (~10-20 ms of the start). The new variables are
        # all the first parse needs.
        if not self.screen_stack:
            self.stylesheet.set_variables(self.get_css_variables())
            return
        super().refresh_css(animate)

    def on_ready(self) -> None:  # the dashboard is composed: start ticking and fetching
        # Ages show whole minutes and the next check a clock time, so nothing needs a 1 s tick:
        # every 5 s an age turns over at most 5 s late, and an idle app costs what htop does.
        self.set_interval(STATUS_TICK, self._tick)
        # The collector comes back after the first cycle is drawn (_settle_heap), or at the latest
        # now + COLLECTOR_BACK: a server that accepts and never answers holds that cycle ~85 s.
        self.set_timer(COLLECTOR_BACK, self._collector_back)
        self._render_status()
        # What is on screen first; the summaries the alert rules read of other cohorts right after.
        self.request_refresh(TIMED - {BACKGROUND})
        self._pending.add(BACKGROUND)
        watch_terminal(self)
        if self.alerts.problems:
            self.notify("Press ! to see which and why", title="Invalid alert rules skipped", severity="error", timeout=10)
        preferences.start(self, self._prefs_problems)

    def _handle_exception(self, error: Exception) -> None:
        # A bug nothing caught: Textual shows its traceback and exits with return code 1. The log
        # keeps the traceback too, for after the screen is gone (see exit_code): a worker's error
        # comes wrapped in WorkerFailed, which was never raised and has none.
        log.critical("unhandled error: the dashboard stops", exc_info=error.error if isinstance(error, WorkerFailed) else error)
        super()._handle_exception(error)

    async def on_unmount(self) -> None:
        if self._first_requests is not None:  # closed before the first cycle took them
            self._first_requests.drop_rest()
        await self.client.aclose()

    @property
    def refreshing(self) -> bool:
        """A cycle is running or queued, or a cohort chosen waits to be fetched (tests wait for
        this to turn False)."""
        return self._busy or bool(self._pending) or self._selection_timer is not None

    @property
    def last_error(self) -> str | None:
        """The newest unresolved failure, one line (None when everything is current)."""
        if not self._failures:
            return None
        newest = one_line(next(reversed(self._failures.values())))
        more = len(set(self._failures.values())) - 1  # one dropped network is one error, not four
        return newest + (f" (+{more} more)" if more else "")

    def freshness(self) -> Freshness:
        return Freshness(self._last_ok, self.last_error, self._next_at, self._busy, self.paused)

    # --- the refresh loop -----------------------------------------------------------------

    def request_refresh(self, parts: Iterable[str]) -> None:
        """Run a cycle for `parts` now, or right after the running one (never two at once)."""
        parts = set(parts)
        if self._pending and (IF_UPDATED in parts) != (IF_UPDATED in self._pending):
            parts.discard(IF_UPDATED)  # joined with an unconditional refresh: unconditional
            self._pending.discard(IF_UPDATED)
        self._pending |= parts
        if self._busy or not self._pending:
            return
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        parts, self._pending = self._pending, set()
        self._busy = True
        self.run_worker(self._run_cycle(parts), name="refresh", group="refresh", exit_on_error=False)
        self._render_status()  # after: should drawing raise, the cycle is under way all the same

    async def _run_cycle(self, parts: set[str]) -> None:
        failed: dict[str, BaseException] = {}
        succeeded: set[str] = set()
        first = None
        try:
            if self.segments is None:
                first = self._first_requests or FirstRequests(self.client, self.dashboard.visible_panels() & PANEL_PARTS)
                self._first_requests = None
                try:
                    self._set_legend(await first.legend)
                except ApiError as exc:
                    failed[LEGEND] = exc
                    return
                succeeded.add(LEGEND)
                parts = parts | (TIMED - {BACKGROUND})  # nothing was on screen yet: fill it
                if self.client.status is not None:  # read for the store's look-ups: not asked twice
                    self.status = self.client.status
                    parts.discard(STATUS)
            assert self.view is not None
            as_of = None  # the update the panels will show, when known before they are asked for
            if IF_UPDATED in parts and not self.status_missing:
                parts, as_of = await self._unless_current(parts, failed, succeeded)
            if parts >= PANEL_PARTS:
                self._timed_no += 1
            visible = frozenset(self.dashboard.visible_panels() & PANEL_PARTS)
            self.view = replace(self.view, visible=visible)
            now = self.clock()
            # With a daily limit known, the list and the rules' risk only as far as the day's tokens go.
            rule_cohorts = self._rule_cohorts()
            rule_due = plan.rule_risk_due(rule_cohorts, self._risk_update, self._last_update)
            parts, rule_risk = plan.within_budget(parts, rule_due, self._plan_budget(now, rule_cohorts, rule_due))
            requests = plan.plan_cycle(
                parts,
                self.view,
                cohort_ids=self._summary_rule_cohorts(),
                summaries_at=self.summaries_at,
                risk_loaded=len(self.risk_items) if self._risk_for == self.view.segment_id else 0,
                rule_risk=rule_risk,
                follow_cadence=self.cadence is None,
                now=now,
            )
            # Attributed now: the selection may change while the requests are out, and a failed
            # summary of the cohort that *was* selected must not linger as a background failure.
            answers = {
                asyncio.ensure_future((first.take(r) if first else None) or plan.send(self.client, r)): (r, self._part(r))
                for r in requests
            }
            self._draw_answers({}, {LEGEND} & succeeded, succeeded, failed)
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
            self._render_segments()  # an update that came without a new heatmap ages the list
            if parts >= PANEL_PARTS and not PANEL_PARTS & failed.keys():
                self._panels_as_of, self._panels_at = as_of, self.clock()
            succeeded.add(INTERNAL)
        except Exception as exc:  # noqa: BLE001 - a bug must not take the last good data off screen
            log.error("refresh failed", exc_info=exc)
            failed[INTERNAL] = exc
        finally:
            if first is not None:
                first.drop_rest()
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
        """Into the model cache, and onto the screen, what `done` brought (and `changed` besides)."""
        with self.batch_update():
            for answer, (request, part) in done.items():
                error = asyncio.CancelledError() if answer.cancelled() else answer.exception()
                if error is not None:
                    failed[part] = error
                else:
                    succeeded.add(part)
                    if self._apply(request, answer.result()):
                        changed.add(part)
            if changed:
                self._render_changed(changed)

    async def _unless_current(
        self, parts: set[str], failed: dict, succeeded: set[str]
    ) -> tuple[set[str], datetime | None]:
        """`parts` without the panels if `state/status` says they show the latest update; and
        that update (asked before the panels, so they cannot be older than it)."""
        try:
            self.status = await self.client.state_status()
        except ApiError as exc:  # unknown: refresh as asked
            failed[STATUS] = exc
            return parts - {IF_UPDATED, STATUS}, None
        succeeded.add(STATUS)
        last_update = self.status.last_update
        current = plan.panels_current(last_update, self._panels_as_of, self._panels_at, self.clock())
        if current and not PANEL_PARTS & self._failures.keys():
            return parts & {BACKGROUND}, None  # the rules' summaries still age out on their own
        return parts - {IF_UPDATED, STATUS}, last_update

    def _part(self, request: Request) -> str:
        """Which part of the dashboard a request serves (errors are kept per part)."""
        assert self.view is not None
        if request.kind == "summary":
            return SUMMARY if request.args == (self.view.segment_id, self.view.position_age) else BACKGROUND
        if request.kind == "liquidation_risk" and request.args[0] != self.view.segment_id:
            return ALERT_RISK
        return {"state_status": STATUS, "liquidation_risk": RISK, "heatmap": HEATMAP}[request.kind]

    def _rule_cohorts(self) -> frozenset[int]:
        """The cohorts whose liquidation risk the alert rules read."""
        return risk_cohorts(self.alerts.evaluator.rules, self.segments or [])

    def _summary_rule_cohorts(self) -> frozenset[int]:
        """The cohorts whose summary the alert rules read: the only summaries fetched besides the
        selected cohort's (the list's figures come from the heatmap)."""
        return summary_cohorts(self.alerts.evaluator.rules, self.segments or [])

    def _plan_budget(
        self, now: datetime, rule_cohorts: frozenset[int] | None = None, rule_due: set[int] | None = None
    ) -> Budget | None:
        """The day's token budget from `now` on (hypertui.monitor.budget); None while no daily
        limit is known (config daily_tokens, or a daily 429's): then everything, as asked. The
        rules' cohorts and those due, when the caller has worked them out already."""
        limit = self.client.daily_limit
        if limit is None or self.view is None:
            return None
        if rule_cohorts is None:
            rule_cohorts = self._rule_cohorts()
        if rule_due is None:
            rule_due = plan.rule_risk_due(rule_cohorts, self._risk_update, self._last_update)
        tiers = plan.budget_tiers(
            self.view,
            cohort_ids=self._summary_rule_cohorts(),
            summaries_at=self.summaries_at,
            rule_cohorts=rule_cohorts,
            rule_due=rule_due,
            now=now,
        )
        return plan_budget(limit, self.client.tokens_spent_today, now, update_every(self.status), tiers)

    @property
    def cadence(self) -> float | None:
        """Seconds between automatic refreshes; None follows the data (`state/status`)."""
        return plan.cadence(self.interval, self.status_missing)

    @property
    def _last_update(self) -> datetime | None:
        """The data's latest update as `state/status` last said (None: not known)."""
        return self.status.last_update if self.status is not None else None

    def _finish_cycle(self, succeeded: set[str], failed: dict[str, BaseException]) -> None:
        self._busy = False  # first: should the rest raise, _finish_broken_cycle knows no cycle runs
        if isinstance(failed.get(STATUS), NotFoundError):  # an optional endpoint: not a failure
            del failed[STATUS]
            succeeded.add(STATUS)
            self.status_missing = True
        for part in succeeded:
            self._failures.pop(part, None)
        self._wait_at_least = 0.0
        for part, exc in failed.items():
            self._fail(part, exc)
            if isinstance(exc, RateLimitError):
                wait = plan.until_quota_reset(self.clock()) if exc.daily else exc.retry_after or 60.0
                self._wait_at_least = max(self._wait_at_least, wait)
        if not self._failures:
            self._last_ok = self.clock()
        if self.segments is None:  # nothing on screen yet: the panel says why, not just the status bar
            for summary in self.dashboard.query(CohortSummary):  # none once the app is closing
                summary.waiting(self.last_error)
        self.cycles_done += 1
        if not self._heap_frozen and (self.segments is not None or not gc.isenabled()):
            if self.segments is not None:
                self.call_after_refresh(import_drill_downs)  # 15-20 ms, not on a first Enter
            self.call_after_refresh(self._settle_heap)  # offline, once: not a full collection per retry
        if self._pending:
            self.request_refresh(())
        else:
            self._arm_timer()
        self._render_segments()  # a new update ages the rows not fetched in it
        self._render_status()

    def _fail(self, part: str, exc: BaseException) -> None:
        """Keep `part`'s failure as the newest, one line for the status bar."""
        self._failures.pop(part, None)  # re-insert: the newest failure is the one shown
        self._failures[part] = str(exc) if isinstance(exc, ApiError) else f"internal error: {type(exc).__name__}: {exc}"

    def _finish_broken_cycle(self, exc: Exception) -> None:
        """The end of a cycle raised (a bug): log it, show it (status bar, STALE), and make sure a
        next cycle comes: else the loop ends there, with "next" in the past and nothing said."""
        log.error("refresh cycle could not finish", exc_info=exc)
        self._fail(INTERNAL, exc)
        # _finish_cycle cleared _busy first: set again, it is the next cycle's, whose worker runs.
        if self._timer is None and not self._busy and not self.paused:
            self._start_timer(BROKEN_CYCLE_RETRY, self.clock())
        self._render_status()

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
        self._heap_frozen = self.segments is not None
        # A refresh allocates tens of thousands of short-lived objects: collecting every
        # 10,000 instead of 700 lets most die first (gc callbacks: ~5 -> ~3 ms per refresh).
        gc.set_threshold(10_000, 10, 10)
        gc.enable()  # the command line turns it off for start-up

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.paused or self._busy:
            self._next_at = None
            return
        now = self.clock()
        self.token_budget = self._plan_budget(now)
        delay = plan.next_delay(self.cadence, self.status, now, at_least=self._wait_at_least, budget=self.token_budget)
        self._start_timer(delay, now)

    def _start_timer(self, delay: float, now: datetime) -> None:
        self._next_at = now + timedelta(seconds=delay)
        self._timer = self.set_timer(delay, lambda: self.request_refresh(TIMED | {IF_UPDATED}), name="refresh-timer")

    # --- results into the model cache -----------------------------------------------------

    def _set_legend(self, segments: list[Segment]) -> None:
        view = plan.first_view(segments, PANEL_PARTS)
        if view is None:  # not kept: the next cycle asks for the legend again
            raise ApiError("/segments", "the cohort legend is empty")
        self.segments = segments
        self.view = view
        lines = {s.id: segment_line(s, None) for s in segments}
        self.dashboard.query_one(SegmentList).set_groups(segment_groups(segments), lines, self.view.segment_id)

    def _apply(self, request: Request, result: Any) -> bool:
        """Keep `result`; whether what the screen shows changed.

        The client hands back the very same object for an unchanged answer: then nothing is
        redrawn, and the ↑↓ marks keep showing the last real change.
        """
        view = self.view
        assert view is not None
        now = self.clock()
        if request.kind == "state_status":
            self.status = result
            return False
        if request.kind == "summary":
            sid, age = request.args
            changed = False
            if age == "all":
                changed = self.list_summaries.get(sid) is not result
                self.list_summaries[sid] = result
                self.summaries_at[sid] = now
            if (sid, age) == (view.segment_id, view.position_age):
                self._fetched_in[SUMMARY] = self._timed_no
                if result is self.summary:
                    return False
                same = self.summary is not None and self.summary.segment.id == sid
                self._prev_summary = self.summary if same else None
                self.summary = result
                changed = True
            return changed
        if request.kind == "liquidation_risk":
            sid, offset, _ = request.args
            if offset == 0:  # kept for alert rules, whichever cohort is selected later, with its update
                self.rule_risk[sid] = list(result.items)
                self._risk_update[sid] = self._last_update
            if sid != view.segment_id:
                return False
            self._fetched_in[RISK] = self._timed_no
            if offset == 0:
                if self._risk_for == sid and result is self._risk_first_page:
                    return False
                self._prev_risk = {i.coin: i for i in self.risk_items} if self._risk_for == sid else None
                self.risk_items = list(result.items)
                self._risk_first_page = result
            else:
                have = {i.coin for i in self.risk_items}
                self.risk_items += [i for i in result.items if i.coin not in have]
            self._risk_for = sid
            self.risk_total = result.total_count
            return True
        if request.kind == "heatmap":
            (within,) = request.args
            if within != view.opened_within:
                return False
            self._fetched_in[HEATMAP] = self._timed_no
            if self._heatmap_for == within and result is self.heatmap:
                return False
            self._prev_heatmap = self.heatmap if self._heatmap_for == within else None
            self.heatmap = result
            self._heatmap_for = within
            self._heatmap_update, self._heatmap_at = self._last_update, now
            self._cohort_totals = cohort_totals(result)
            return True
        return False

    def alert_data(self) -> AlertData:
        """What the alert rules read: the cache (and the risk of the rules' other cohorts)."""
        risk: dict[int, list[RiskItem]] = dict(self.rule_risk)
        if self._risk_for is not None:
            risk[self._risk_for] = self.risk_items
        return AlertData(
            segments=self.segments or [],
            summaries=self.list_summaries,  # positionAge=all, every cohort
            heatmap=self.heatmap if self._heatmap_for == "all" else None,
            risk=risk,
        )

    def _check_alerts(self) -> None:
        """Evaluate the alert rules on what is cached now."""
        self.alerts.check(self, self.alert_data(), self.clock())
        from hypertui.ui.screens.alerts import AlertsScreen

        if isinstance(self.screen, AlertsScreen):
            self.screen.show()

    # --- rendering (cached data → widgets) ------------------------------------------------

    def _render_all(self) -> None:
        self._render_segments()
        self._render_summary()
        self._render_risk()
        self._render_heatmap()

    def _render_changed(self, parts: set[str]) -> None:
        if LEGEND in parts:
            self._render_all()
            return
        if HEATMAP in parts:
            self._render_segments()  # the list's figures are the heatmap's
        if parts & {SUMMARY, HEATMAP}:
            self._render_summary()  # top assets come from the heatmap
        if RISK in parts:
            self._render_risk()
        if HEATMAP in parts:
            self._render_heatmap()

    def _render_segments(self) -> None:
        if self.segments is None:
            return
        age = self._list_age()
        lines = {s.id: segment_line(s, self._cohort_totals.get(s.id), age) for s in self.segments}
        self.dashboard.query_one(SegmentList).update_lines(lines)
        within = self._heatmap_for or "all"
        self.dashboard.set_title("segments", "Cohorts · value, long share" + ("" if within == "all" else f" · opened {within}"))

    def _list_age(self) -> float | None:
        """Seconds since the update the list's figures (the heatmap's) are of, when that is not
        the current update (None: current, or nothing held): the budget may fetch the panels
        only every few updates, and the list says so rather than pass for current."""
        current = self._last_update
        if self._heatmap_at is None or current is None or self._heatmap_update == current:
            return None
        return (self.clock() - self._heatmap_at).total_seconds()

    def _segment(self, sid: int) -> Segment | None:
        return next((s for s in self.segments or [] if s.id == sid), None)

    def _cohort_title(self) -> str | None:
        """The selected cohort as its panels' titles name it ("🦐 Shrimp"); None before the legend."""
        seg = self._segment(self.view.segment_id) if self.view else None
        return f"{seg.emoji} {seg.name}" if seg else None

    def _render_summary(self) -> None:
        if self.view is None:
            return
        title = self._cohort_title() or "Cohort"
        s = self.summary
        if s is None or s.segment.id != self.view.segment_id:
            self.dashboard.query_one(CohortSummary).show(title, self.view.position_age, [], [])
            return
        assets = top_assets(s, self.heatmap)
        self.dashboard.query_one(CohortSummary).show(
            title, self.view.position_age, summary_figures(s, self._prev_summary), assets, top_assets_note(s, assets)
        )

    def _render_risk(self) -> None:
        if self.view is None:
            return
        current = self._risk_for == self.view.segment_id
        items = self.risk_items if current else []
        column, descending = self.risk_sort
        lines = risk_lines(items, self._prev_risk if current else None, column, descending)
        table = self.dashboard.query_one(RiskTable)
        table.show(lines, self.risk_total if current else 0, column, descending)
        # Named: in the narrow layout's Risk tab no other panel says whose risk this is.
        cohort = self._cohort_title()
        self.dashboard.set_title("risk-panel", f"Liquidation risk · {cohort}" if cohort else "Liquidation risk")
        self.dashboard.set_subtitle("risk-panel", table.describe())

    def _render_heatmap(self) -> None:
        if self.segments is None:
            return
        # Wide enough for both axes side by side: x swaps which comes first.
        axes = sorted(AXES, key=lambda axis: axis != self.axis) if self.dashboard.both_axes else [self.axis]
        cohorts = [c for axis in axes for c in ordered_by_range(self.segments, axis)]
        heatmap = self.heatmap if self._heatmap_for == (self.view.opened_within if self.view else None) else None
        lines = heatmap_lines(
            heatmap,
            [c.id for c in cohorts],
            self.heat_mode,
            self.signals.palettes()[self.palette_index],
            self.coin_filter,
            self._prev_heatmap,
            self.heat_sort,
        )
        self.dashboard.query_one(HeatmapTable).show(cohorts, lines, self.heat_sort)
        within = self.view.opened_within if self.view else "all"
        if heatmap is not None and heatmap.unfiltered:
            within += " unavailable here, all shown"
        shown = "long share" if self.heat_mode == "share" else self.heat_mode
        filt = f" · filter “{self.coin_filter}”" if self.coin_filter else ""
        keys = " | ".join(axes) + (" (x swaps)" if len(axes) > 1 else " (x)")
        self.dashboard.set_subtitle(
            "heatmap-panel",
            f"{keys} · {shown} (v) · opened {within} (w) · {self.signals.palettes()[self.palette_index].name} (c){filt}",
        )

    def _render_status(self) -> None:
        screen = self.dashboard
        bar = screen.status_bar
        if not bar.is_attached:  # closing: the status tick can outlive the dashboard's widgets
            return
        freshness = self.freshness()
        bar.show(
            source=self.source_label,
            freshness=freshness,
            now=self.clock(),
            tokens=sum(self.client.tokens_today.values()),
            daily_limit=self.client.daily_limit,
            interval=self.cadence,
            notes=self._status_notes(),
            status=self.status,
            desk_tokens=self.client.desk_tokens,
            shared_down=self.client.shared_cache_down,
        )
        screen.set_stale({STALE_PANEL[part] for part in self._failures})

    def _status_notes(self) -> list[str]:
        """What the server could not do, so the screen does not look better served than it is."""
        notes = ["no state/status: timed refresh"] if self.status_missing else []
        if self.token_budget is not None and (note := self.token_budget.note(plan.TIERS)):
            notes.append(note)
        if self.client.store.problem:  # the store is given up: each answer costs a token again after a restart
            notes.append(self.client.store.problem)
        if dropped := self.client.rows_dropped:  # models.RowTolerant: the rest of those answers is shown
            notes.append(f"{fmt.count(dropped)} bad row{'' if dropped == 1 else 's'} dropped")
        return notes

    def _tick(self) -> None:
        self._render_status()
        # The rows' ages (only the prompts whose text changed are redrawn); none while closing,
        # when the list may be gone before the tick stops.
        if self.dashboard.query(SegmentList):
            self._render_segments()

    # --- messages from the dashboard ------------------------------------------------------

    def on_segment_list_chosen(self, message: SegmentList.Chosen) -> None:
        if self.view is None or message.segment_id == self.view.segment_id:
            return
        self.view = replace(self.view, segment_id=message.segment_id, risk_rows=plan.RISK_PAGE)
        # Show what is known at once (the list's own summary), then fetch.
        cached = self.list_summaries.get(message.segment_id) if self.view.position_age == "all" else None
        self.summary, self._prev_summary = cached, None
        self._render_summary()
        self._render_risk()
        if self._selection_timer is not None:
            self._selection_timer.stop()
        self._selection_timer = self.set_timer(self.selection_rest, self._selection_rested, name="selection-rest")

    def _selection_rested(self) -> None:
        """The cursor stayed on a cohort: its panels now (from the store if held for this update)."""
        self._selection_timer = None
        self.request_refresh({SUMMARY, RISK})

    def action_sort_risk(self) -> None:
        self.dashboard.query_one(RiskTable).action_sort()

    def action_sort_risk_reverse(self) -> None:
        self.dashboard.query_one(RiskTable).action_sort_reverse()

    def on_risk_table_sort_changed(self, message: RiskTable.SortChanged) -> None:
        self.risk_sort = (message.column, message.descending)
        if self.view is not None and len(self.risk_items) < self.risk_total:
            # Sort every coin the cohort holds, not just the first page.
            self.view = replace(self.view, risk_rows=max(self.view.risk_rows, self.risk_total))
            self.request_refresh({RISK_MORE})
        self._render_risk()
        table = self.dashboard.query_one(RiskTable)
        table.move_cursor(row=0)  # the top of the new order is what was asked for
        table.scroll_home(animate=False)

    def on_risk_table_more_wanted(self, _: RiskTable.MoreWanted) -> None:
        if self.view is None or self.view.risk_rows > len(self.risk_items):
            return  # a page is already on its way
        self.view = replace(self.view, risk_rows=self.view.risk_rows + plan.RISK_PAGE)
        self.request_refresh({RISK_MORE})

    def on_heatmap_table_sort_wanted(self, message: HeatmapTable.SortWanted) -> None:
        self.heat_sort = next_sort(self.heat_sort, message.cohort_id, message.descending)
        table = self.dashboard.query_one(HeatmapTable)
        column = table.cursor_column  # new headers (the mark) put it back on the first column
        self._render_heatmap()
        table.move_cursor(row=0, column=column)  # the top of the new order, in the sorted column

    @on(CoinFilter.Changed, "#coin-filter")  # not the command palette's input, which bubbles here too
    def _coin_filter_changed(self, event: CoinFilter.Changed) -> None:
        self.coin_filter = event.value.strip()
        self._render_heatmap()

    def on_dashboard_screen_layout_changed(self, message: DashboardScreen.LayoutChanged) -> None:
        self._render_heatmap()  # one axis or both
        self.on_dashboard_screen_page_changed(message)

    def on_dashboard_screen_page_changed(self, _: DashboardScreen.PageChanged) -> None:
        """Another page or layout: fetch a panel that comes into view if its data is not current."""
        if self.view is None:
            return
        current = {
            SUMMARY: self.summary is not None and self.summary.segment.id == self.view.segment_id,
            RISK: self._risk_for == self.view.segment_id,
            HEATMAP: self._heatmap_for == self.view.opened_within,
        }
        visible = self.dashboard.visible_panels() & PANEL_PARTS
        stale = {p for p in visible if not current[p] or self._fetched_in.get(p, -1) < self._timed_no}
        if stale:
            self.request_refresh(stale)

    def on_dashboard_screen_positions_wanted(self, message: DashboardScreen.PositionsWanted) -> None:
        sid = message.segment_id
        if sid is None and not message.all_cohorts:
            sid = self.view.segment_id if self.view else None
        self.open_positions(message.coin, sid)

    def open_positions(self, coin: str, segment_id: int | None) -> None:
        """Push the positions drill-down for coin × cohort over the (living) dashboard."""
        from hypertui.ui.screens.positions import PositionsScreen, cohort_label

        query = PositionQuery(coin=coin, segment_id=segment_id)
        self._push_drill_down(PositionsScreen(self.client, self.clock, query, cohort_label(self.segments, segment_id), self.segments))

    def on_dashboard_screen_history_wanted(self, message: DashboardScreen.HistoryWanted) -> None:
        self.open_history(message.segment_id)

    def open_history(self, segment_id: int) -> None:
        """Push the cohort's bias history over the (living) dashboard."""
        from hypertui.ui.screens.history import HistoryScreen
        from hypertui.ui.screens.positions import cohort_label

        self._push_drill_down(HistoryScreen(self.client, self.clock, segment_id, cohort_label(self.segments, segment_id)))

    def on_dashboard_screen_coin_wanted(self, message: DashboardScreen.CoinWanted) -> None:
        self.open_coin(message.coin)

    def open_coin(self, coin: str) -> None:
        """Push the coin view (breakdown by cohort, cohort series) over the (living) dashboard."""
        from hypertui.ui.screens.coin import CoinScreen

        self._push_drill_down(CoinScreen(self.client, self.clock, coin, self.segments))

    def open_bias_overview(self) -> None:
        """Push every cohort's bias over the last ~72 h."""
        from hypertui.ui.screens.bias import BiasOverviewScreen

        if not isinstance(self.screen, BiasOverviewScreen):
            self.push_screen(BiasOverviewScreen(self.client, self.clock))

    def _push_drill_down(self, screen: Screen) -> None:
        """Push `screen`, replacing a drill-down of the same kind on top (the palette can open one
        from another), so escape always leads back towards the dashboard."""
        if type(self.screen) is type(screen):
            self.pop_screen()
        self.push_screen(screen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.DASHBOARD_ONLY and self.screen is not self.dashboard)

    # --- actions --------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.request_refresh(TIMED)

    def action_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            self._arm_timer()  # stops it
        else:
            self.request_refresh(TIMED)
        self._render_status()

    def action_position_age(self) -> None:
        if self.view is None:
            return
        self.view = replace(self.view, position_age=_cycle(AGES, self.view.position_age))
        self.summary = self.list_summaries.get(self.view.segment_id) if self.view.position_age == "all" else None
        self._prev_summary = None
        self._render_summary()
        self.request_refresh({SUMMARY})

    def action_opened_within(self) -> None:
        if self.view is None:
            return
        self.view = replace(self.view, opened_within=_cycle(AGES, self.view.opened_within))
        self._render_heatmap()
        self.request_refresh({HEATMAP})

    def action_axis(self) -> None:
        self.axis = _cycle(AXES, self.axis)
        self._render_heatmap()

    def action_heat_mode(self) -> None:
        self.heat_mode = _cycle(MODES, self.heat_mode)
        self._render_heatmap()

    def action_palette(self) -> None:
        self.palette_index = (self.palette_index + 1) % len(self.signals.palettes())
        self._render_heatmap()

    def watch_theme(self) -> None:
        self.signals = Signals.of(self.current_theme.variables)
        self.palette_index = 0  # the theme chooses the heatmap palette
        if self.is_running:  # chosen in the app: the first theme is set before it runs
            self._render_all()
            preferences.remember_theme(self, self.theme)

    def action_filter(self) -> None:
        self.dashboard.open_filter()

    def action_bias_overview(self) -> None:
        self.open_bias_overview()

    def _step_interval(self, step: int) -> None:
        """One step faster or slower, stopping at either end (no wrap from 5 s round to auto)."""
        current = INTERVALS.index(self.interval if self.interval in INTERVALS else 15.0)
        index = min(max(current + step, 0), len(INTERVALS) - 1)
        end = "" if index != current else " (the slowest)" if step > 0 else " (the fastest)"
        self.interval = INTERVALS[index]
        if not self._busy:
            self._arm_timer()
        self._render_status()
        every = "with the data's updates" if self.interval is None else f"every {fmt.interval(self.interval)}"
        self.notify(f"Refresh {every}{end}", timeout=2)

    def action_slower(self) -> None:
        self._step_interval(1)

    def action_faster(self) -> None:
        self._step_interval(-1)

    def action_alerts(self) -> None:
        from hypertui.ui.screens.alerts import AlertsScreen

        if not isinstance(self.screen, AlertsScreen):
            self.push_screen(AlertsScreen(self.alerts))

    def action_alert_rule(self) -> None:
        from hypertui.ui.screens.alert_form import open_alert_form

        open_alert_form(self)

    def action_help(self) -> None:
        from hypertui.ui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.key_sections()))

    def key_sections(self) -> list[tuple[str, list[Binding]]]:
        """The bindings by where they work, with the keys in effect (after the [keys] remaps)."""
        from hypertui.ui.screens.alerts import AlertsScreen
        from hypertui.ui.screens.bias import BiasOverviewScreen
        from hypertui.ui.screens.coin import CoinScreen
        from hypertui.ui.screens.history import HistoryScreen
        from hypertui.ui.screens.positions import PositionsScreen

        sections = [
            ("Dashboard", [b for b in self.BINDINGS if isinstance(b, Binding)]),
            ("Panels", list(DashboardScreen.BINDINGS)),  # type: ignore[arg-type]
            ("Lists and tables", list(SyncedTable.BINDINGS)),  # type: ignore[arg-type]
            ("Heatmap", list(HeatmapTable.BINDINGS)),  # type: ignore[arg-type]
            ("Coin filter", [b for b in CoinFilter.BINDINGS if isinstance(b, Binding) and b.id == "filter.clear"]),
            ("Positions", list(PositionsScreen.BINDINGS)),  # type: ignore[arg-type]
            ("Cohort history", list(HistoryScreen.BINDINGS)),  # type: ignore[arg-type]
            ("Coin view", list(CoinScreen.BINDINGS)),  # type: ignore[arg-type]
            ("Bias overview", list(BiasOverviewScreen.BINDINGS)),  # type: ignore[arg-type]
            ("Alerts", list(AlertsScreen.BINDINGS)),  # type: ignore[arg-type]
        ]
        return [(title, remapped(bindings, self.prefs.keys)) for title, bindings in sections]

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own commands, then every hypertui action by name (run where its key works)."""
        yield from super().get_system_commands(screen)
        if screen is not self.dashboard:
            return  # a drill-down on top: its own keys are in its footer
        yield from self._positions_commands()
        yield from self._cohort_commands()
        yield from self._coin_commands()
        owners: list[tuple[Any, list[Binding]]] = [
            (self, [b for b in self.BINDINGS if isinstance(b, Binding) and b.action != "quit"]),
            (self.dashboard, list(DashboardScreen.BINDINGS)),  # type: ignore[arg-type]
        ]
        for owner, bindings in owners:
            for binding in remapped(bindings, self.prefs.keys):
                if binding.description:
                    yield SystemCommand(
                        binding.description,
                        f"key: {binding.key_display or binding.key}",
                        partial(owner.run_action, binding.action),
                    )

    def _cohort_commands(self) -> Iterable[SystemCommand]:
        """"Cohort: Whale 🐋" for each cohort, so one can be chosen by typing its name."""
        segment_list = self.dashboard.query_one(SegmentList)
        for _, segments in segment_groups(self.segments or []):
            for seg in segments:
                yield SystemCommand(
                    f"Cohort: {seg.name} {seg.emoji}".rstrip(),  # name first: the palette lists commands by title
                    f"{seg.category} cohort: its summary, top assets and liquidation risk",
                    partial(segment_list.select, seg.id),
                )
        for _, segments in segment_groups(self.segments or []):
            for seg in segments:
                yield SystemCommand(
                    f"History of {seg.name} {seg.emoji}".rstrip(),
                    "perp bias and exposure over time (GET /segments/{id}/bias-history)",
                    partial(self.open_history, seg.id),
                )

    def _coin_commands(self) -> Iterable[SystemCommand]:
        """"Coin: BTC" for every coin in the heatmap (biggest first), then the top assets' and the risk
        table's (the narrow layout fetches only the page on screen): any coin's view by name."""
        rows = sorted(self.heatmap.heatmap, key=lambda r: r.total_value, reverse=True) if self.heatmap else []
        top = self.summary.top_open_perps if self.summary else []
        for coin in dict.fromkeys([*(r.coin for r in rows), *(a.coin for a in top), *(i.coin for i in self.risk_items)]):
            yield SystemCommand(
                f"Coin: {coin}",
                "breakdown by cohort and cohort series (position-breakdown-by-cohort, segment-metrics)",
                partial(self.open_coin, coin),
            )

    def _positions_commands(self) -> Iterable[SystemCommand]:
        """"Positions for <coin> × <cohort>" for what the heatmap and risk cursors are on."""
        from hypertui.ui.screens.positions import cohort_label

        if self.segments is None or self.view is None:
            return
        seen: set[tuple[str, int | None]] = set()
        picks: list[tuple[str, int | None]] = []
        chosen = self.dashboard.heatmap_selection()
        if chosen is not None:
            picks.append(chosen)
        risk = self.dashboard.query_one(RiskTable)
        if risk.cursor_key is not None:
            picks.append((risk.cursor_key, self.view.segment_id))
        top = self.dashboard.query_one("#top-assets", SyncedTable)
        if 0 <= top.cursor_row < len(top.row_keys):
            picks.append((top.row_keys[top.cursor_row], self.view.segment_id))
        for coin, sid in picks:
            if (coin, sid) in seen:
                continue
            seen.add((coin, sid))
            yield SystemCommand(
                f"Positions for {coin} × {cohort_label(self.segments, sid)}",
                "open the positions drill-down (GET /positions)",
                partial(self.open_positions, coin, sid),
            )


async def run_app(settings: Any, client: HyperTrackerClient, label: str, first_requests: FirstRequests | None) -> int:
    """Open the dashboard for `settings` (hypertui.config.Settings) on `client`; the exit code."""
    refresh = settings.refresh
    if refresh is None and settings.uses_simulator:
        refresh = settings.sim_update_interval
    from hypertui.monitor.alert_rules import alerts_log_path

    alerts = AlertCenter(settings.alerts, settings.alert_problems, alerts_log_path(), settings.config_file)
    prefs = preferences.from_settings(settings)
    app = HyperTuiApp(client, label, refresh=refresh, export_dir=settings.export_dir, alerts=alerts, prefs=prefs, first_requests=first_requests)
    return exit_code(app, await app.run_async())


def exit_code(app: HyperTuiApp, result: int | None) -> int:
    """The process's exit code for an app that has stopped with `result`: that (a hang-up's 129),
    or 0, unless an unhandled exception stopped it: Textual keeps that in `return_code`, apart."""
    if app.return_code:
        from hypertui.config import log_path

        print(f"hypertui: stopped by an internal error; the traceback is in {log_path()}", file=sys.stderr)
        return app.return_code
    return result or 0
