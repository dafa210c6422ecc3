"""`hypertui dump`: one endpoint's validated data on stdout, as JSON (API field names) or CSV."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypertui.api.client import HyperTrackerClient
from hypertui.api.models import BiasSnapshot, Position, PositionMetric
from hypertui.monitor.export import (
    Output,
    api_json,
    bias_24h_records,
    breakdown_records,
    heatmap_records,
    model_columns,
    segment_metric_records,
    snapshot_json,
)
from hypertui.monitor.positions import DATA_START

KINDS = (
    "segments",
    "summary",
    "positions",
    "bias-history",
    "breakdown",
    "segment-metrics",
    "position-metrics",
    "heatmap",
    "liquidation-risk",
    "bias-24h",
    "status",
    "tokens",
)


def _say(message: str) -> None:
    print(f"hypertui: {message}", file=sys.stderr)


async def run_dump(client: HyperTrackerClient, args: Any, out: Output, say: Callable[[str], None] = _say) -> None:
    """Fetch what `args.kind` names and write it; `say` gets hints for stderr. Raises ApiError on failure."""
    kind = args.kind
    if kind == "segments":
        segs = [api_json(s) for s in await client.segments()]
        out.document(segs, segs)
    elif kind == "summary":
        summary = api_json(await client.summary(args.segment, args.position_age))
        out.document(summary, [summary])  # one row per top asset, the cohort's figures on each
    elif kind == "positions":
        await out.stream_array(_positions(client, args, say), model_columns(Position))
    elif kind == "bias-history":
        await out.stream_array(_bias_history(client, args), model_columns(BiasSnapshot))
    elif kind == "breakdown":
        breakdown = await client.position_breakdown(args.coin, args.position_age)
        out.document(api_json(breakdown), breakdown_records(breakdown))
    elif kind == "segment-metrics":
        metrics = await client.segment_metrics(args.coin, args.position_age)
        out.document(api_json(metrics), segment_metric_records(metrics))
    elif kind == "position-metrics":
        await out.stream_array(_position_metrics(client, args), model_columns(PositionMetric))
    elif kind == "heatmap":
        heatmap = await client.heatmap(args.opened_within)
        out.document(api_json(heatmap), heatmap_records(heatmap))
    elif kind == "liquidation-risk":
        page = api_json(await client.liquidation_risk(args.segment, offset=args.offset, limit=args.limit))
        out.document(page, [{**item, "totalCount": page["totalCount"]} for item in page["items"]])
    elif kind == "bias-24h":
        data = await client.segments_bias_24h()
        out.document(api_json(data), bias_24h_records(data))
    elif kind == "status":
        status = api_json(await client.state_status())
        out.document(status, [status])
    elif kind == "tokens":  # asks the API nothing: what the store counted
        spent = client.tokens_today
        # The store counts per API (base URL): the simulator's and a real server's are apart.
        totals = {"api": client.base_url, "total": sum(spent.values()), "byEndpoint": spent}
        out.document(totals, [{"api": client.base_url, "endpoint": e, "tokens": n} for e, n in spent.items()])
    else:  # argparse only lets KINDS through
        raise ValueError(f"unknown dump kind {kind!r}")


def default_start(days: float = 1.0) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def positions_start(args: Any) -> datetime:
    """`start` is required and filters on opening time: `--open` means open now, so every opening
    time the API has (since DATA_START); otherwise the last 24 h."""
    return args.start or (DATA_START if args.open is True else default_start())


def nothing_matched(args: Any) -> list[str]:
    """Why a positions query may have matched nothing, for stderr (stdout stays the data: [])."""
    hints = []
    if args.start is None and args.open is not True:
        hints.append("only positions opened in the last 24 h were asked for: --start for earlier ones, --open for every open one")
    if args.coin:
        hints.append(f"no positions of coin {args.coin!r}: coin names are case-sensitive (BTC, kPEPE, xyz:GOLD)")
    if args.address:
        hints.append("no positions of " + ", ".join(args.address) + " in that window")
    return hints or ["no positions matched"]


async def _positions(client: HyperTrackerClient, args: Any, say: Callable[[str], None]) -> AsyncIterator[dict[str, Any]]:
    remaining = None if args.all else args.limit
    page_size = 1000 if remaining is None else max(1, min(1000, remaining))
    found = False
    pages = client.iter_positions(
        page_size=page_size,
        start=positions_start(args),
        end=args.end,
        coin=args.coin,
        segment_id=args.segment,
        addresses=args.address or (),
        open=args.open,
    )
    async for page in pages:
        for position in page.positions:
            found = True
            yield api_json(position)
            if remaining is not None:
                remaining -= 1
                if remaining <= 0:
                    return
    if not found:
        for hint in nothing_matched(args):
            say(hint)


async def _bias_history(client: HyperTrackerClient, args: Any) -> AsyncIterator[dict[str, Any]]:
    if args.start is None and args.end is None:
        page = await client.bias_history(args.segment, recency=args.recency)
        for snap in page.snapshots:
            yield snapshot_json(snap)
        return
    start = args.start or default_start(60)
    async for page in client.iter_bias_history(args.segment, start=start, end=args.end, recency=args.recency):
        for snap in page.snapshots:
            yield snapshot_json(snap)


async def _position_metrics(client: HyperTrackerClient, args: Any) -> AsyncIterator[dict[str, Any]]:
    pages = client.iter_position_metrics(
        args.coin, args.segment, start=args.start or default_start(7), end=args.end
    )
    async for page in pages:
        for row in page.metrics:
            yield api_json(row)
