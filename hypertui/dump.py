"""`hypertui dump`: one endpoint's validated data on stdout, as JSON (API field names) or CSV.

With `--at TIME` the recording answers instead of the API (source.recording_client); `dump
history` writes a recorded series in long form, one row per update and coin or cohort.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from hypertui.api.client import HyperTrackerClient
from hypertui.api.models import (
    BiasSnapshot,
    CohortFigures,
    Heatmap,
    HeatmapCell,
    HeatmapRow,
    LiquidationRiskPage,
    OpenPerpsSummary,
    Position,
    PositionMetric,
    RiskItem,
    SegmentSummary,
    iso,
)
from hypertui.api.recording import (
    HEATMAP_PATH,
    RISK_PATHS,
    SUMMARY_PATHS,
    Recording,
    risk_cohort,
)
from hypertui.monitor.export import (
    Output,
    api_json,
    bias_24h_records,
    breakdown_records,
    heatmap_records,
    model_columns,
    prefixed,
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
# What the recording holds (`--at`): the dashboard's answers, as `hypertui record` asks for them.
RECORDED_KINDS = ("segments", "summary", "heatmap", "liquidation-risk", "bias-24h", "status")


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


# --- history: series from the recording --------------------------------------------------------


async def run_history(recording: Recording, args: Any, out: Output, say: Callable[[str], None] = _say) -> None:
    """`dump history SERIES`: the recorded answers from `args.since` to `args.until`, in long form
    (heatmap: update × coin × cohort; risk: update × cohort × coin; summary: update × cohort),
    oldest update first. Only the recording is read: nothing is asked of the API."""
    since = args.since or datetime.min.replace(tzinfo=UTC)
    until = args.until or datetime.max.replace(tzinfo=UTC)
    rows, columns = _HISTORY[args.series](recording, since, until)
    found = False

    async def noting() -> AsyncIterator[dict[str, Any]]:
        nonlocal found
        for row in rows:
            found = True
            yield row

    await out.stream_array(noting(), ["update", *columns])
    if not found:
        held = recording.updates()
        span = "nothing is recorded"
        if held:
            span = f"the recording holds {held[-1].at:%Y-%m-%d %H:%M} – {held[0].at:%Y-%m-%d %H:%M} UTC"
        say(f"no {args.series} recorded in that window: {span}")


def _heatmap_history(recording: Recording, since: datetime, until: datetime) -> tuple[Iterator[dict[str, Any]], list[str]]:
    rows = (
        {"update": iso(at), **record}
        for at, _, params, heatmap in recording.series(HEATMAP_PATH, Heatmap, since, until)
        if not params  # every position's (openedWithin variants are other series)
        for record in heatmap_records(heatmap)
    )
    coin_totals = [c for c in model_columns(HeatmapRow) if c != "coin" and not c.startswith("segments")]
    return rows, ["coin", *model_columns(HeatmapCell), *prefixed("coin", dict.fromkeys(coin_totals))]


def _risk_history(recording: Recording, since: datetime, until: datetime) -> tuple[Iterator[dict[str, Any]], list[str]]:
    def rows() -> Iterator[dict[str, Any]]:
        # An update's cohort may be held in several pages (the dashboard's 100 rows, an alert
        # rule's 500), one after the other here: each coin once, from the first that has it.
        held: tuple[datetime, str] | None = None
        coins: set[str] = set()
        for at, endpoint, _, page in recording.series(RISK_PATHS, LiquidationRiskPage, since, until):
            if (at, endpoint) != held:
                held, coins = (at, endpoint), set()
            for item in page.items:
                if item.coin not in coins:
                    coins.add(item.coin)
                    yield {"update": iso(at), "segmentId": risk_cohort(endpoint), **api_json(item)}

    return rows(), ["segmentId", *model_columns(RiskItem)]


def _summary_history(recording: Recording, since: datetime, until: datetime) -> tuple[Iterator[dict[str, Any]], list[str]]:
    rows = (
        {
            "update": iso(at),
            "segmentId": summary.segment.id,
            "segmentName": summary.segment.name,
            "summary": api_json(summary.summary),
            "openPerpsSummary": api_json(summary.open_perps_summary),
        }
        for at, _, params, summary in recording.series(SUMMARY_PATHS, SegmentSummary, since, until)
        if not params  # every position's (positionAge variants are other series)
    )
    figures = model_columns(CohortFigures, "summary.") + model_columns(OpenPerpsSummary, "openPerpsSummary.")
    return rows, ["segmentId", "segmentName", *figures]


_HISTORY = {"heatmap": _heatmap_history, "risk": _risk_history, "summary": _summary_history}
