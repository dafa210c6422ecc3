"""The first screen's requests, sent the moment there is a client.

The legend goes first, with the heatmap beside it (the cohort list's figures; it needs no
cohort); the legend names the first cohort, whose summary and risk follow at once. Against a
remote API each is a round trip (the first also a TLS handshake): started before the UI is
imported and drawn, they travel while that happens instead of after it. The app's first cycle
takes these answers rather than asking again.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from hypertui.clock import utc_now
from hypertui.monitor import plan
from hypertui.monitor.plan import RISK, SUMMARY, Request, View

if TYPE_CHECKING:
    from hypertui.api.client import HyperTrackerClient
    from hypertui.api.models import Segment


class FirstRequests:
    def __init__(self, client: HyperTrackerClient, visible: frozenset[str]) -> None:
        """Send them now (a running event loop is needed), for the panels in `visible`."""
        self._client = client
        self._visible = visible
        self._sent: dict[Request, asyncio.Future[Any]] = {}
        self.legend: asyncio.Future[list[Segment]] = asyncio.ensure_future(client.segments())
        # On screen or not, the cohort list's figures are the heatmap's; it needs no cohort.
        self._send(Request("heatmap", (View(segment_id=0).opened_within,)))
        self.legend.add_done_callback(self._legend_arrived)

    def _send(self, request: Request) -> None:
        self._sent[request] = asyncio.ensure_future(plan.send(self._client, request))

    def _legend_arrived(self, legend: asyncio.Future[list[Segment]]) -> None:
        if legend.cancelled() or legend.exception() is not None:
            return  # the app's first cycle reports it
        view = plan.first_view(legend.result(), self._visible)
        if view is None:
            return
        cohort = plan.plan_cycle(
            {SUMMARY, RISK}, view, cohort_ids=(), summaries_at={}, risk_loaded=0, follow_cadence=False, now=utc_now()
        )
        for request in cohort:
            self._send(request)

    def take(self, request: Request) -> asyncio.Future[Any] | None:
        """The answer to `request` if it was sent here (once: a second take gets None)."""
        return self._sent.pop(request, None)

    def drop_rest(self) -> None:
        """Cancel what was not taken (the screen opened other than foreseen, the legend failed,
        or the app closed before its first cycle)."""
        for unused in (self.legend, *self._sent.values()):
            unused.cancel()  # a finished one is marked seen instead: its failure is not logged as lost
        self._sent.clear()
