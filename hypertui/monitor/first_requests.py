"""Which requests the first screen needs, before the dashboard has drawn anything.

The legend goes first, with the heatmap beside it (the cohort list's figures, on screen or
not; it needs no cohort); the legend names the first cohort, whose summary and risk follow at once. Only
planned here: hypertui.api.prefetch sends them (launched before the UI is imported).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hypertui.api.requests import Request
from hypertui.clock import utc_now
from hypertui.monitor import plan
from hypertui.monitor.plan import RISK, SUMMARY, View

if TYPE_CHECKING:
    from hypertui.api.models import Segment


@dataclass(frozen=True)
class FirstScreen:
    """The first screen's requests for the panels in `visible` (a hypertui.api.prefetch.FirstScreenPlan)."""

    visible: frozenset[str]

    def before_legend(self) -> list[Request]:
        return [Request("heatmap", (View(cohort_id=0).opened_within,))]

    def after_legend(self, legend: list[Segment]) -> list[Request]:
        view = plan.first_view(legend, self.visible)
        if view is None:
            return []
        return plan.plan_cycle(
            {SUMMARY, RISK}, view, cohort_ids=(), summaries_at={}, risk_loaded=0, follow_cadence=False, now=utc_now()
        )
