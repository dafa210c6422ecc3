"""What the dashboard shows, apart from how it is drawn: the models, and what the user chose.

Any source fills it, one answer at a time (`apply`) or a batch (`fill_from`): the live client's
answers in the refresh loop today, a recording's later. Each model is kept with what it is of
(the cohort, the window, the API update it was fetched under) and the one it replaced (for the
↑↓ change marks). Keys change the selections here; the screen draws from what is held, and the
plan reads `view` to know what to ask for next. No Textual: tests build one by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from hypertui.api.errors import ApiError
from hypertui.api.models import Heatmap, LiquidationRiskPage, RiskItem, Segment, SegmentSummary, StateStatus
from hypertui.api.position_age import POSITION_AGES
from hypertui.api.requests import Request
from hypertui.monitor import plan
from hypertui.monitor.alert_rules import AlertData
from hypertui.monitor.changes import DEFAULT_REFERENCE, REFERENCES
from hypertui.monitor.heat import MODES, HeatSort, next_sort
from hypertui.monitor.plan import ALERT_RISK, BACKGROUND, HEATMAP, PANELS, RISK, STATUS, SUMMARY, View
from hypertui.monitor.rows import AXES, CohortTotals, cohort_totals

T = TypeVar("T")
# What the user chose (and the legend it is chosen from): a replayed update is shown with these.
SELECTIONS = ("view", "axis", "heat_mode", "reference", "palette_index", "coin_filter", "heat_sort", "risk_sort", "cohorts")


def cycle(values: tuple[T, ...], current: T, step: int = 1) -> T:
    """The value `step` after `current` in `values`, round from the end to the start."""
    return values[(values.index(current) + step) % len(values)]


@dataclass
class DashboardState:
    """The dashboard's models and selections. `view` is None until the legend is in."""

    # What the user asked for: the View drives requests; the rest only how data is shown.
    view: View | None = None
    axis: str = AXES[0]
    heat_mode: str = MODES[0]
    reference: str = DEFAULT_REFERENCE  # how far back the change mode compares (changes.REFERENCES)
    palette_index: int = 0  # into the theme's palettes (hypertui.ui.signals)
    coin_filter: str = ""
    heat_sort: HeatSort | None = None  # None: by value
    risk_sort: tuple[str, bool] = ("percent_risk", True)
    # The last good data, and the previous answer for the same thing (for ↑↓ change marks).
    cohorts: list[Segment] | None = None
    status: StateStatus | None = None
    status_missing: bool = False  # state/status answered 404: timed refreshes (plan.cadence)
    # Every cohort's "all" summary held (alert rules read them; the selected one's is also its panel's).
    list_summaries: dict[int, SegmentSummary] = field(default_factory=dict)  # positionAge=all, by cohort
    summaries_at: dict[int, datetime] = field(default_factory=dict)  # when each was fetched
    summary: SegmentSummary | None = None  # the selected cohort's, at the selected position age
    prev_summary: SegmentSummary | None = None
    risk_items: list[RiskItem] = field(default_factory=list)
    risk_total: int = 0
    risk_for: int | None = None  # the cohort risk_items are of
    prev_risk: dict[str, RiskItem] | None = None
    risk_first_page: LiquidationRiskPage | None = None
    rule_risk: dict[int, list[RiskItem]] = field(default_factory=dict)  # each cohort's first risk rows (alert rules)
    risk_update: dict[int, datetime | None] = field(default_factory=dict)  # the lastUpdate each cohort's risk is of
    heatmap: Heatmap | None = None
    heatmap_for: str | None = None  # the opened-within window the heatmap is of
    prev_heatmap: Heatmap | None = None
    heatmap_update: datetime | None = None  # the lastUpdate the heatmap was fetched under
    heatmap_at: datetime | None = None  # when
    cohort_totals: dict[int, CohortTotals] = field(default_factory=dict)  # the cohort list's figures, from the heatmap
    warm: bool = False  # the panels hold a recorded update (warm_start) until a live heatmap comes
    # Which full-screen cycle each panel was last fetched in (a page coming into view refetches
    # a panel not fetched in the latest).
    full_cycles: int = 0
    fetched_in: dict[str, int] = field(default_factory=dict)

    @property
    def last_update(self) -> datetime | None:
        """The data's latest update as `state/status` last said (None: not known)."""
        return self.status.last_update if self.status is not None else None

    # --- filling ----------------------------------------------------------------------------

    def set_legend(self, segments: list[Segment], visible: frozenset[str] = PANELS) -> None:
        """The cohort legend: the first cohort is selected. An empty one is not kept (ApiError)."""
        view = plan.first_view(segments, visible)
        if view is None:  # the next cycle asks for the legend again
            raise ApiError("/segments", "the cohort legend is empty")
        self.cohorts = segments
        self.view = view

    def fill_from(self, answers: Iterable[tuple[Request, Any]], now: datetime) -> set[str]:
        """Keep every answer (request, result) of one update, the status first (the others are of
        the update it names), then in order; the parts whose screen changed."""
        ordered = sorted(answers, key=lambda answer: answer[0].kind != "state_status")
        return {self.part(request) for request, result in ordered if self.apply(request, result, now)}

    def selections(self) -> tuple:
        return tuple(getattr(self, name) for name in SELECTIONS)

    def recorded(self, answers: Iterable[tuple[Request, Any]], at: datetime) -> DashboardState:
        """A state with this one's selections holding only `answers` (a recorded update's, at `at`)."""
        other = DashboardState(**{name: getattr(self, name) for name in SELECTIONS})
        other.fill_from(answers, at)
        return other

    def warm_start(self, legend: list[Segment], answers: Iterable[tuple[Request, Any]], at: datetime) -> None:
        """Before any live answer: the newest recorded update (`at`), its rows aged from then on."""
        self.set_legend(legend)
        self.fill_from(answers, at)
        self.warm = True

    def apply(self, request: Request, result: Any, now: datetime) -> bool:
        """Keep `result`, fetched at `now`; whether what the screen shows changed.

        A client hands back the very same object for an unchanged answer: then nothing is
        redrawn, and the ↑↓ marks keep showing the last real change.
        """
        view = self.view
        assert view is not None
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
            if (sid, age) == (view.cohort_id, view.position_age):
                self.fetched_in[SUMMARY] = self.full_cycles
                if result is self.summary:
                    return False
                same = self.summary is not None and self.summary.segment.id == sid
                self.prev_summary = self.summary if same else None
                self.summary = result
                changed = True
            return changed
        if request.kind == "liquidation_risk":
            sid, offset, _ = request.args
            if offset == 0:  # kept for alert rules, whichever cohort is selected later, with its update
                self.rule_risk[sid] = list(result.items)
                self.risk_update[sid] = self.last_update
            if sid != view.cohort_id:
                return False
            self.fetched_in[RISK] = self.full_cycles
            if offset == 0:
                if self.risk_for == sid and result is self.risk_first_page:
                    return False
                self.prev_risk = {i.coin: i for i in self.risk_items} if self.risk_for == sid else None
                self.risk_items = list(result.items)
                self.risk_first_page = result
            else:
                have = {i.coin for i in self.risk_items}
                self.risk_items += [i for i in result.items if i.coin not in have]
            self.risk_for = sid
            self.risk_total = result.total_count
            return True
        if request.kind == "heatmap":
            (within,) = request.args
            if within != view.opened_within:
                return False
            self.fetched_in[HEATMAP] = self.full_cycles
            if self.heatmap_for == within and result is self.heatmap:
                return False
            self.prev_heatmap = self.heatmap if self.heatmap_for == within else None
            self.heatmap = result
            self.heatmap_for = within
            self.heatmap_update, self.heatmap_at = self.last_update, now
            self.cohort_totals = cohort_totals(result)
            self.warm = False
            return True
        return False

    def part(self, request: Request) -> str:
        """Which part of the dashboard a request serves (the plan's parts; errors are kept per part)."""
        assert self.view is not None
        if request.kind == "summary":
            return SUMMARY if request.args == (self.view.cohort_id, self.view.position_age) else BACKGROUND
        if request.kind == "liquidation_risk" and request.args[0] != self.view.cohort_id:
            return ALERT_RISK
        return {"state_status": STATUS, "liquidation_risk": RISK, "heatmap": HEATMAP}[request.kind]

    # --- what is shown ------------------------------------------------------------------------

    def segment(self, sid: int) -> Segment | None:
        return next((s for s in self.cohorts or [] if s.id == sid), None)

    def cohort_title(self) -> str | None:
        """The selected cohort as its panels' titles name it ("🦐 Shrimp"); None before the legend."""
        seg = self.segment(self.view.cohort_id) if self.view else None
        return f"{seg.emoji} {seg.name}" if seg else None

    def list_age(self, now: datetime) -> float | None:
        """Seconds since the update the cohort list's figures (the heatmap's) are of, when that is
        not the current update (None: current, or nothing held): the budget may fetch the panels
        only every few updates, and the list says so rather than pass for current. A warm start's
        rows are aged too: nothing live has said yet which update is current."""
        current = self.last_update
        if self.heatmap_at is None or current is None or (self.heatmap_update == current and not self.warm):
            return None
        return (now - self.heatmap_at).total_seconds()

    @property
    def shown_summary(self) -> SegmentSummary | None:
        """The summary of the selected cohort, if held (another cohort's is not shown)."""
        s = self.summary
        return s if s is not None and self.view is not None and s.segment.id == self.view.cohort_id else None

    @property
    def risk_current(self) -> bool:
        """Whether the risk rows held are the selected cohort's."""
        return self.view is not None and self.risk_for == self.view.cohort_id

    @property
    def shown_heatmap(self) -> Heatmap | None:
        """The heatmap of the selected window, if held."""
        return self.heatmap if self.heatmap_for == (self.view.opened_within if self.view else None) else None

    def stale_panels(self, visible: Iterable[str]) -> set[str]:
        """The panels among `visible` not of the selections, or not fetched in the latest full cycle."""
        assert self.view is not None
        current = {SUMMARY: self.shown_summary is not None, RISK: self.risk_current, HEATMAP: self.shown_heatmap is not None}
        return {p for p in visible if not current[p] or self.fetched_in.get(p, -1) < self.full_cycles}

    def alert_data(self) -> AlertData:
        """What the alert rules read: the models held (and the risk of the rules' other cohorts)."""
        risk: dict[int, list[RiskItem]] = dict(self.rule_risk)
        if self.risk_for is not None:
            risk[self.risk_for] = self.risk_items
        return AlertData(
            cohorts=self.cohorts or [],
            summaries=self.list_summaries,  # positionAge=all, every cohort
            heatmap=self.heatmap if self.heatmap_for == "all" else None,
            risk=risk,
        )

    # --- selections -----------------------------------------------------------------------------

    def select_cohort(self, sid: int) -> bool:
        """Select cohort `sid`, showing its list summary at once if that is what the panel wants;
        whether that is a change (its panels are then to be fetched)."""
        if self.view is None or sid == self.view.cohort_id:
            return False
        self.view = replace(self.view, cohort_id=sid, risk_rows=plan.RISK_PAGE)
        self.summary = self.list_summaries.get(sid) if self.view.position_age == "all" else None
        self.prev_summary = None
        return True

    def next_position_age(self) -> None:
        """The summary's next position age ("all" shows the list's summary until fetched)."""
        assert self.view is not None
        self.view = replace(self.view, position_age=cycle(POSITION_AGES, self.view.position_age))
        self.summary = self.list_summaries.get(self.view.cohort_id) if self.view.position_age == "all" else None
        self.prev_summary = None

    def next_opened_within(self) -> None:
        assert self.view is not None
        self.view = replace(self.view, opened_within=cycle(POSITION_AGES, self.view.opened_within))

    def next_reference(self) -> None:
        self.reference = cycle(tuple(REFERENCES), self.reference)

    def sort_heatmap(self, cohort_id: int | None, descending: bool) -> None:
        self.heat_sort = next_sort(self.heat_sort, cohort_id, descending)

    def sort_risk(self, column: str, descending: bool) -> bool:
        """Sort the risk rows; whether the rest of the cohort's rows are wanted for it (so the
        sort is over every coin the cohort holds, not just the first page)."""
        self.risk_sort = (column, descending)
        if self.view is None or len(self.risk_items) >= self.risk_total:
            return False
        self.view = replace(self.view, risk_rows=max(self.view.risk_rows, self.risk_total))
        return True

    def more_risk(self) -> bool:
        """One more page of risk rows wanted; False when a page is already on its way."""
        if self.view is None or self.view.risk_rows > len(self.risk_items):
            return False
        self.view = replace(self.view, risk_rows=self.view.risk_rows + plan.RISK_PAGE)
        return True
