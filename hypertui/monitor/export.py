"""Records as the API names them, written as JSON or CSV: for `hypertui dump` and the `e` key.

Both write the same records for the same data, so a file exported from a screen matches what
`dump` prints. A screen's export is a list of `Table`s, each written to its own timestamped
file in the export directory.

What is written is always valid: JSON has no NaN or Infinity, so a non-finite number is written
as null (as JavaScript's JSON.stringify does) and an empty CSV cell; a whole number is written as
one (`250`, not the `250.0` a float field holds). CSV carries every field the JSON has, and
server text a spreadsheet would run as a formula is neutralised (see `csv_cell`).
"""

from __future__ import annotations

import csv
import json
import math
import re
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, get_args

from pydantic import BaseModel

from hypertui.api.models import (
    BiasSnapshot,
    Heatmap,
    PositionBreakdown,
    SegmentMetricRow,
    SegmentMetrics,
    SegmentsBias24h,
)
from hypertui.files import open_private

FORMATS = ("csv", "json")

# --- records ----------------------------------------------------------------------------------


def api_json(model: BaseModel) -> dict[str, Any]:
    """A model as the API sent it: its field names, no fields it left out, none we derive."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


def snapshot_json(row: BiasSnapshot | SegmentMetricRow) -> dict[str, Any]:
    """A row of a columnar series: every column, null where the server sent none."""
    return row.model_dump(mode="json", by_alias=True)


def prefixed(prefix: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Fields renamed the API's way under a prefix: `totalValue` under `coin` is `coinTotalValue`."""
    return {f"{prefix}{key[0].upper()}{key[1:]}": value for key, value in fields.items()}


def cohort_fields(segment: dict[str, Any]) -> dict[str, Any]:
    """The cohort's id and name first, then the rest of it prefixed `segment` (`segmentCriteria`)."""
    rest = {key: value for key, value in segment.items() if key not in ("id", "name")}
    return {"segmentId": segment["id"], "segmentName": segment["name"], **prefixed("segment", rest)}


def breakdown_records(breakdown: PositionBreakdown) -> list[dict[str, Any]]:
    """One record per cohort: the export's coin and timestamp, the cohort, then the breakdown's
    own fields (a cohort's own `timestamp`, when the server sends one, is the row's)."""
    data = api_json(breakdown)
    export = {k: v for k, v in data.items() if k != "data"}
    return [
        {**export, **cohort_fields(item["segment"]), **{k: v for k, v in item.items() if k != "segment"}}
        for item in data["data"]
    ]


def segment_metric_records(metrics: SegmentMetrics) -> list[dict[str, Any]]:
    """Every cohort's series, one record per cohort × snapshot (newest first, as sent)."""
    coin = {} if metrics.coin is None else {"coin": metrics.coin}
    return [{**coin, **cohort_fields(api_json(c.segment)), **snapshot_json(r)} for c in metrics.data for r in c.rows]


def bias_24h_records(data: SegmentsBias24h) -> list[dict[str, Any]]:
    return [{**cohort_fields(api_json(s.segment)), **snapshot_json(r)} for s in data.data for r in s.snapshots]


def heatmap_records(heatmap: Heatmap) -> list[dict[str, Any]]:
    """One record per coin × cohort: the cohort's figures under their API names, then the coin's
    own totals prefixed `coin` (`coinTotalValue`, ...). A coin without cohorts still has its row."""
    out: list[dict[str, Any]] = []
    for row in api_json(heatmap)["heatmap"]:
        coin, cells = row.pop("coin"), row.pop("segments", None) or [{}]
        out.extend({"coin": coin, **cell, **prefixed("coin", row)} for cell in cells)
    return out


def model_columns(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every CSV column a model's records can have, by API name; a nested model's as dotted names.

    Rows written as they arrive need their header before the first row, and a first row that
    lacks a field (left out by the server) must not drop that column for every row.
    """
    out: list[str] = []
    for name, info in model.model_fields.items():
        if info.exclude:
            continue
        column = prefix + (info.alias or name)
        nested = [t for t in (info.annotation, *get_args(info.annotation)) if isinstance(t, type) and issubclass(t, BaseModel)]
        out.extend(model_columns(nested[0], column + ".") if nested else [column])
    return out


_EXACT_INTS = 2**53  # beyond this a float is not an exact count: it stays a float (1e+300, not 301 digits)
# OWASP's CSV injection rule: a cell starting with one of these is run as a formula by spreadsheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CHANGEABLE = (float, dict, list)  # what `plain` may change; any other value is kept as it is


def plain(value: Any) -> Any:
    """`value` as valid JSON can hold it: non-finite floats as None, whole floats as ints."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() and abs(value) < _EXACT_INTS else value
    if isinstance(value, dict):  # text, ints and nulls (most values) are kept without a call
        return {key: plain(v) if isinstance(v, _CHANGEABLE) else v for key, v in value.items()}
    if isinstance(value, list):
        return [plain(v) if isinstance(v, _CHANGEABLE) else v for v in value]
    return value


def csv_cell(value: Any) -> Any:
    """A scalar as a CSV cell. Text starting like a formula (`=cmd|...`, `@HYPERLINK(...)`) gets a
    leading `'`, so a spreadsheet shows it instead of running it; numbers are left alone (-5 is a
    number), as is every JSON value."""
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    return plain(value) if isinstance(value, float) else value


def csv_rows(record: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """A record as CSV rows, in long form: nested dicts become dotted keys, a list of scalars one
    `;`-joined cell, and a list of records one row per item (named `list.field`), the record's
    other fields repeated on each. An empty list of records leaves the one row without them."""
    rows: list[dict[str, Any]] = [{}]
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            part = csv_rows(value, name + ".")
        elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
            part = [r for v in value if isinstance(v, dict) for r in csv_rows(v, name + ".")] or [{}]
        else:  # one cell, set in place: most fields are this, and copying rows per field adds up
            cell = ";".join("" if v is None else str(csv_cell(v)) for v in value) if isinstance(value, list) else csv_cell(value)
            for row in rows:
                row[name] = cell
            continue
        rows = [{**row, **more} for row in rows for more in part]
    return rows


def _json(data: Any, indent: int | None = None) -> str:
    return json.dumps(plain(data), ensure_ascii=False, allow_nan=False, indent=indent)


# --- writing ----------------------------------------------------------------------------------


class _LfRows:
    """Where csv's writer writes when rows end in LF. The writer itself stays on CRLF: it then
    quotes every cell holding a CR or LF, which it does not for a lone CR on LF (broken CSV)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, row: str) -> int:
        return self.stream.write(row.removesuffix("\r\n") + "\n")


class Output:
    """Writes records: a JSON document, or CSV rows with a header (lines end in LF unless `crlf`)."""

    def __init__(self, fmt: str, stream: TextIO | None = None, *, crlf: bool = False) -> None:
        self.fmt = fmt
        self.stream = stream or sys.stdout
        self._csv_stream = self.stream if crlf else _LfRows(self.stream)
        self._writer: csv.DictWriter[str] | None = None

    def document(self, data: Any, rows: Iterable[dict[str, Any]]) -> None:
        """`data` as JSON, or all of `rows` as CSV (the header names every field any row has)."""
        if self.fmt == "json":
            self.stream.write(_json(data, indent=2) + "\n")
            return
        flat = [r for row in rows for r in csv_rows(row)]
        self._write(flat, list(dict.fromkeys(key for row in flat for key in row)))

    def _write(self, flat: list[dict[str, Any]], fields: list[str]) -> None:
        if self._writer is None:
            self._writer = csv.DictWriter(self._csv_stream, fieldnames=fields, extrasaction="ignore")
            self._writer.writeheader()
        self._writer.writerows(flat)

    async def stream_array(self, rows: AsyncIterator[dict[str, Any]], columns: list[str]) -> None:
        """Rows of unknown count, written as they arrive: a JSON array, or CSV under `columns`.

        If fetching fails part way, the array is still closed: what was written is valid JSON
        (the rows read so far) and the error is the caller's to report.
        """
        if self.fmt == "csv":
            self._write([], columns)
            async for row in rows:
                self._write(csv_rows(row), columns)
            return
        self.stream.write("[")
        first = True
        try:
            async for row in rows:
                self.stream.write(("\n  " if first else ",\n  ") + _json(row))
                first = False
        finally:
            self.stream.write("]\n" if first else "\n]\n")


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
    records = table.records()
    stem = file_stem(table.name, now)
    n = 1
    while True:
        path = directory / f"{stem}{'' if n == 1 else f'-{n}'}.{fmt}"
        try:
            with open_private(path, "x", encoding="utf-8", newline="") as stream:
                Output(fmt, stream).document(records, records)
        except FileExistsError:
            n += 1
            continue
        return path, len(records)
