"""`hypertui dump`: one endpoint's validated data on stdout, as JSON (API field names) or CSV."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from pydantic import BaseModel

from hypertui.api.client import HyperTrackerClient
from hypertui.api.models import BiasSnapshot, SegmentMetricRow

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
)


def api_json(model: BaseModel) -> dict[str, Any]:
    """A model as the API sent it: its field names, no fields it left out, none we derive."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


def _snapshot_json(row: BiasSnapshot | SegmentMetricRow) -> dict[str, Any]:
    return row.model_dump(mode="json", by_alias=True)


def flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts become dotted keys; lists become `;`-joined scalars (CSV cells)."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif isinstance(value, list):
            if all(not isinstance(v, (dict, list)) for v in value):
                out[name] = ";".join("" if v is None else str(v) for v in value)
        else:
            out[name] = value
    return out


class Output:
    """Writes records as they come: a JSON document or CSV rows with a header."""

    def __init__(self, fmt: str, stream: TextIO | None = None) -> None:
        self.fmt = fmt
        self.stream = stream or sys.stdout
        self._writer: csv.DictWriter[str] | None = None

    def document(self, data: Any, rows: Iterable[dict[str, Any]]) -> None:
        if self.fmt == "json":
            json.dump(data, self.stream, ensure_ascii=False, indent=2)
            self.stream.write("\n")
        else:
            self.rows(rows)

    def rows(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            flat = flatten(row)
            if self._writer is None:
                self._writer = csv.DictWriter(self.stream, fieldnames=list(flat), extrasaction="ignore")
                self._writer.writeheader()
            self._writer.writerow(flat)

    async def stream_array(self, rows: AsyncIterator[dict[str, Any]]) -> None:
        """Rows of unknown count, written as they arrive (JSON array or CSV)."""
        if self.fmt == "csv":
            async for row in rows:
                self.rows([row])
            return
        self.stream.write("[")
        first = True
        async for row in rows:
            self.stream.write("\n  " if first else ",\n  ")
            self.stream.write(json.dumps(row, ensure_ascii=False))
            first = False
        self.stream.write("\n]\n" if not first else "]\n")


def _cohort_fields(segment: dict[str, Any]) -> dict[str, Any]:
    return {"segmentId": segment["id"], "segmentName": segment["name"]}


async def run_dump(client: HyperTrackerClient, args: Any, out: Output) -> None:
    """Fetch what `args.kind` names and write it. Raises ApiError on failure."""
    kind = args.kind
    if kind == "segments":
        segs = [api_json(s) for s in await client.segments()]
        out.document(segs, segs)
    elif kind == "summary":
        summary = api_json(await client.summary(args.segment, args.position_age))
        row = {"segment": summary["segment"], "summary": summary["summary"], "openPerpsSummary": summary["openPerpsSummary"]}
        out.document(summary, [row])
    elif kind == "positions":
        await out.stream_array(_positions(client, args))
    elif kind == "bias-history":
        await out.stream_array(_bias_history(client, args))
    elif kind == "breakdown":
        data = api_json(await client.position_breakdown(args.coin, args.position_age))
        rows = [{**_cohort_fields(item["segment"]), **{k: v for k, v in item.items() if k != "segment"}} for item in data["data"]]
        out.document(data, rows)
    elif kind == "segment-metrics":
        metrics = await client.segment_metrics(args.coin, args.position_age)
        rows = [
            {**_cohort_fields(api_json(cohort.segment)), **_snapshot_json(r)} for cohort in metrics.data for r in cohort.rows
        ]
        out.document(api_json(metrics), rows)
    elif kind == "position-metrics":
        await out.stream_array(_position_metrics(client, args))
    elif kind == "heatmap":
        heatmap = api_json(await client.heatmap(args.opened_within))
        rows = [
            {"coin": row["coin"], **cell}
            for row in heatmap["heatmap"]
            for cell in row["segments"]
        ]
        out.document(heatmap, rows)
    elif kind == "liquidation-risk":
        page = api_json(await client.liquidation_risk(args.segment, offset=args.offset, limit=args.limit))
        out.document(page, page["items"])
    elif kind == "bias-24h":
        data = await client.segments_bias_24h()
        rows = [{**_cohort_fields(api_json(s.segment)), **_snapshot_json(r)} for s in data.data for r in s.snapshots]
        out.document(api_json(data), rows)
    elif kind == "status":
        status = api_json(await client.state_status())
        out.document(status, [status])
    else:  # argparse only lets KINDS through
        raise ValueError(f"unknown dump kind {kind!r}")


def default_start(days: float = 1.0) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


async def _positions(client: HyperTrackerClient, args: Any) -> AsyncIterator[dict[str, Any]]:
    remaining = None if args.all else args.limit
    page_size = 1000 if remaining is None else max(1, min(1000, remaining))
    pages = client.iter_positions(
        page_size=page_size,
        start=args.start or default_start(),
        end=args.end,
        coin=args.coin,
        segment_id=args.segment,
        addresses=args.address or (),
        open=args.open,
    )
    async for page in pages:
        for position in page.positions:
            yield api_json(position)
            if remaining is not None:
                remaining -= 1
                if remaining <= 0:
                    return


async def _bias_history(client: HyperTrackerClient, args: Any) -> AsyncIterator[dict[str, Any]]:
    if args.start is None and args.end is None:
        page = await client.bias_history(args.segment, recency=args.recency)
        for snap in page.snapshots:
            yield _snapshot_json(snap)
        return
    start = args.start or default_start(60)
    async for page in client.iter_bias_history(args.segment, start=start, end=args.end, recency=args.recency):
        for snap in page.snapshots:
            yield _snapshot_json(snap)


async def _position_metrics(client: HyperTrackerClient, args: Any) -> AsyncIterator[dict[str, Any]]:
    pages = client.iter_position_metrics(
        args.coin, args.segment, start=args.start or default_start(7), end=args.end
    )
    async for page in pages:
        for row in page.metrics:
            yield api_json(row)
