"""The dashboard's requests as data, and the one place that sends them.

The presentation layer (hypertui.monitor.plan) decides which requests a cycle makes and hands
back `Request` values; only `send` turns one into a client call. A kind is one of the client's
methods, named once here, so a misspelt kind is a type error rather than an AttributeError in
the middle of a cycle.
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from hypertui.api.client import HyperTrackerClient

RequestKind = Literal["state_status", "summary", "liquidation_risk", "heatmap", "segments_bias_24h"]
REQUEST_KINDS: tuple[RequestKind, ...] = get_args(RequestKind)


@dataclass(frozen=True, order=True)
class Request:
    """One API call: hashable, so a cycle never holds the same one twice.

    `args`, by kind: summary (cohort id, position age); liquidation_risk (cohort id, offset,
    limit); heatmap (opened within); state_status and segments_bias_24h (the recorder's) none.
    """

    kind: RequestKind
    args: tuple = ()

    def __post_init__(self) -> None:
        if self.kind not in REQUEST_KINDS:
            raise ValueError(f"no such request kind: {self.kind!r} (one of {', '.join(REQUEST_KINDS)})")


def send(client: HyperTrackerClient, request: Request) -> Coroutine[Any, Any, Any]:
    """The client call that answers `request`."""
    match request.kind:
        case "state_status":
            return client.state_status()
        case "summary":
            segment_id, position_age = request.args
            return client.summary(segment_id, position_age)
        case "liquidation_risk":
            segment_id, offset, limit = request.args
            return client.liquidation_risk(segment_id, offset=offset, limit=limit)
        case "heatmap":
            (opened_within,) = request.args
            return client.heatmap(opened_within)
        case "segments_bias_24h":
            return client.segments_bias_24h()
