"""Export records and files: the same records as `dump`, safe names, no overwrite, full CSV headers."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from hypertui.api.models import PositionBreakdown
from hypertui.monitor.export import Output, Table, breakdown_records, file_stem, write_table

NOW = datetime(2026, 3, 4, 8, 30, 5, tzinfo=UTC)
SEG = {"id": 9, "name": "Smart Money", "emoji": "📈", "category": "pnl", "criteria": {"minPnl": 100000}}


def test_file_stem_keeps_server_names_out_of_the_path():
    assert file_stem("coin BTC breakdown all", NOW) == "hypertui-coin-BTC-breakdown-all-20260304-083005"
    assert file_stem("coin xyz:GOLD 📈 Smart Money", NOW) == "hypertui-coin-xyz-GOLD-Smart-Money-20260304-083005"
    for hostile in ("../../etc/passwd", "/abs", ".hidden", "a\\b", "\x1b[31m"):
        stem = file_stem(hostile, NOW)
        assert "/" not in stem and "\\" not in stem and "\x1b" not in stem and not stem.startswith(".")
    assert file_stem("📈", NOW) == "hypertui-export-20260304-083005"


def test_write_table_never_overwrites(tmp_path):
    table = Table("bias", lambda: [{"a": 1}])
    first, n = write_table(tmp_path / "new", table, "csv", NOW)
    second, _ = write_table(tmp_path / "new", table, "csv", NOW)
    assert n == 1 and first.name == "hypertui-bias-20260304-083005.csv"
    assert second.name == "hypertui-bias-20260304-083005-2.csv"
    assert first.read_bytes() == second.read_bytes() == b"a\r\n1\r\n"


def test_csv_document_header_names_every_field_and_json_keeps_nesting():
    rows = [{"id": 1, "segment": {"id": 9}}, {"id": 2, "closeTime": "2026-03-04T00:00:00.000Z", "tags": [1, 2]}]
    out = io.StringIO()
    Output("csv", out).document(rows, rows)
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(parsed[0]) == ["id", "segment.id", "closeTime", "tags"]
    assert parsed[1] == {"id": "2", "segment.id": "", "closeTime": "2026-03-04T00:00:00.000Z", "tags": "1;2"}
    out = io.StringIO()
    Output("json", out).document(rows, rows)
    assert json.loads(out.getvalue()) == rows


def test_breakdown_records_flatten_the_cohort():
    breakdown = PositionBreakdown.model_validate(
        {"coin": "BTC", "data": [{"segment": SEG, "positionCount": 412, "pastPositionCount": 398,
                                  "totalPositionValue": 1.5e6, "bias": 0.62}]}
    )
    assert breakdown_records(breakdown) == [
        {"segmentId": 9, "segmentName": "Smart Money", "positionCount": 412, "pastPositionCount": 398,
         "totalPositionValue": 1.5e6, "bias": 0.62}
    ]
