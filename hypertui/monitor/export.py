"""Records as the API names them, written as JSON or CSV: for `hypertui dump` and the `e` key.

Both write the same records for the same data, so a file exported from a screen matches what
`dump` prints. A screen's export is a list of `Table`s, each written to its own timestamped
file in the export directory.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel

from hypertui.api.models import BiasSnapshot, PositionBreakdown, SegmentMetricRow, SegmentMetrics, SegmentsBias24h

FORMATS = ("csv", "json")

# --- records ----------------------------------------------------------------------------------


def api_json(model: BaseModel) -> dict[str, Any]:
    """A model as the API sent it: its field names, no fields it left out, none we derive."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


def snapshot_json(row: BiasSnapshot | SegmentMetricRow) -> dict[str, Any]:
    """A row of a columnar series: every column, null where the server sent none."""
    return row.model_dump(mode="json", by_alias=True)


def cohort_fields(segment: dict[str, Any]) -> dict[str, Any]:
    return {"segmentId": segment["id"], "segmentName": segment["name"]}


def breakdown_records(breakdown: PositionBreakdown) -> list[dict[str, Any]]:
    """One record per cohort: its id and name, then the breakdown's own fields."""
    data = api_json(breakdown)
    return [
        {**cohort_fields(item["segment"]), **{k: v for k, v in item.items() if k != "segment"}} for item in data["data"]
    ]


def segment_metric_records(metrics: SegmentMetrics) -> list[dict[str, Any]]:
    """Every cohort's series, one record per cohort × snapshot (newest first, as sent)."""
    return [{**cohort_fields(api_json(c.segment)), **snapshot_json(r)} for c in metrics.data for r in c.rows]


def bias_24h_records(data: SegmentsBias24h) -> list[dict[str, Any]]:
    return [{**cohort_fields(api_json(s.segment)), **snapshot_json(r)} for s in data.data for r in s.snapshots]


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


# --- writing ----------------------------------------------------------------------------------


class Output:
    """Writes records: a JSON document, or CSV rows with a header."""

    def __init__(self, fmt: str, stream: TextIO | None = None) -> None:
        self.fmt = fmt
        self.stream = stream or sys.stdout
        self._writer: csv.DictWriter[str] | None = None

    def document(self, data: Any, rows: Iterable[dict[str, Any]]) -> None:
        """`data` as JSON, or all of `rows` as CSV (the header names every field any row has)."""
        if self.fmt == "json":
            json.dump(data, self.stream, ensure_ascii=False, indent=2)
            self.stream.write("\n")
            return
        flat = [flatten(row) for row in rows]
        fields = list(dict.fromkeys(key for row in flat for key in row))
        self._write(flat, fields)

    def rows(self, rows: Iterable[dict[str, Any]]) -> None:
        """CSV rows as they come: the first row's fields make the header."""
        for row in rows:
            flat = flatten(row)
            self._write([flat], list(flat))

    def _write(self, flat: list[dict[str, Any]], fields: list[str]) -> None:
        if self._writer is None:
            self._writer = csv.DictWriter(self.stream, fieldnames=fields, extrasaction="ignore")
            self._writer.writeheader()
        self._writer.writerows(flat)

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


# --- files ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """One exported file: what it is (`name`, e.g. "coin BTC breakdown") and its records.

    `records` is called where the file is written (a thread), so turning thousands of
    models into dicts never holds up the screen.
    """

    name: str
    records: Callable[[], list[dict[str, Any]]]


def default_dir() -> Path:
    """Downloads/hypertui: where people look for files a program saved for them."""
    import platformdirs  # deferred: only needed when exporting

    return platformdirs.user_downloads_path() / "hypertui"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_stem(name: str, now: datetime) -> str:
    """`hypertui-coin-BTC-breakdown-20260304-083000`: only [A-Za-z0-9._-], never a hidden file.

    Coin and cohort names come from the server: `../x` or `xyz:GOLD` must not steer the path.
    """
    safe = _UNSAFE.sub("-", name.strip()).strip("._-") or "export"
    return f"hypertui-{safe}-{now:%Y%m%d-%H%M%S}"


def write_table(directory: Path, table: Table, fmt: str, now: datetime) -> tuple[Path, int]:
    """Write one table to a new file in `directory` (made if missing); its path and row count.

    Never overwrites: a second export within the same second gets `-2`, `-3`, ...
    """
    directory.mkdir(parents=True, exist_ok=True)
    records = table.records()
    stem = file_stem(table.name, now)
    n = 1
    while True:
        path = directory / f"{stem}{'' if n == 1 else f'-{n}'}.{fmt}"
        try:
            with path.open("x", encoding="utf-8", newline="") as stream:
                Output(fmt, stream).document(records, records)
        except FileExistsError:
            n += 1
            continue
        return path, len(records)
