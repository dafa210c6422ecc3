"""The first screen's requests, sent the moment there is a client.

Against a remote API each request is a round trip (the first also a TLS handshake): started
before the UI is imported and drawn, they travel while that happens instead of after it. Which
requests they are is the presentation layer's to say (hypertui.monitor.first_requests, a
`FirstScreenPlan`): those needing no cohort go with the legend, the rest when it names the
first cohort. The dashboard's first cycle takes these answers rather than asking again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from hypertui.api.requests import Request, send

if TYPE_CHECKING:
    from hypertui.api.client import HyperTrackerClient
    from hypertui.api.models import Segment


class FirstScreenPlan(Protocol):
    def before_legend(self) -> Iterable[Request]:
        """The requests that need no cohort: sent with the legend."""
        ...

    def after_legend(self, legend: list[Segment]) -> Iterable[Request]:
        """The requests for the cohort the legend opens on (none for an empty legend)."""
        ...


class Prefetch:
    def __init__(self, client: HyperTrackerClient, first_screen: FirstScreenPlan) -> None:
        """Send the legend and `first_screen`'s requests now (a running event loop is needed)."""
        self._client = client
        self._plan = first_screen
        self._sent: dict[Request, asyncio.Future[Any]] = {}
        self._all_sent = False  # the requests after the legend too
        self.legend: asyncio.Future[list[Segment]] = asyncio.ensure_future(client.segments())
        self._send(first_screen.before_legend())
        self.legend.add_done_callback(self._legend_arrived)

    def _send(self, requests: Iterable[Request]) -> None:
        for request in requests:
            self._sent[request] = asyncio.ensure_future(send(self._client, request))

    def _legend_arrived(self, legend: asyncio.Future[list[Segment]]) -> None:
        if legend.cancelled() or legend.exception() is not None:
            return  # the dashboard's first cycle reports it
        self._send(self._plan.after_legend(legend.result()))
        self._all_sent = True

    def legend_in(self) -> list[Segment] | None:
        """The legend if it is in (None: still on its way, or failed)."""
        return self.legend.result() if _answered(self.legend) else None

    def answered(self) -> list[tuple[Request, Any]]:
        """The answers already in, (request, result), each still to be taken: those that came
        while the UI was imported can be drawn before its first frame."""
        return [(r, a.result()) for r, a in self._sent.items() if _answered(a)]

    @property
    def all_answered(self) -> bool:
        """The legend and every request sent with and after it answered, none failed: the first screen is in."""
        return self._all_sent and all(_answered(a) for a in self._sent.values())

    def take(self, request: Request) -> asyncio.Future[Any] | None:
        """The answer to `request` if it was sent here (once: a second take gets None)."""
        return self._sent.pop(request, None)

    def drop_rest(self) -> None:
        """Cancel what was not taken (the screen opened other than foreseen, the legend failed,
        or the app closed before its first cycle)."""
        for unused in (self.legend, *self._sent.values()):
            unused.cancel()  # a finished one is marked seen instead: its failure is not logged as lost
        self._sent.clear()


def _answered(request: asyncio.Future[Any]) -> bool:
    return request.done() and not request.cancelled() and request.exception() is None
