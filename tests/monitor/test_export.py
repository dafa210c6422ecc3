"""Export records and files: the same records as `dump`, safe names, no overwrite, full CSV headers."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime

import pytest

from hypertui.api.errors import NetworkError
from hypertui.api.models import Heatmap, Position, PositionBreakdown, PositionsPage
from hypertui.monitor.export import (
    Output,
    Table,
    api_json,
    breakdown_records,
    file_stem,
    heatmap_records,
    model_columns,
    write_table,
)

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
    assert first.read_bytes() == second.read_bytes() == b"a\n1\n"  # LF: CRLF only when asked
    out = io.StringIO()
    Output("csv", out, crlf=True).document([{"a": 1}], [{"a": 1}])
    assert out.getvalue() == "a\r\n1\r\n"


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


def test_breakdown_records_flatten_the_cohort_and_keep_the_export_fields():
    breakdown = PositionBreakdown.model_validate(
        {"coin": "BTC", "timestamp": "2026-03-04T08:00:00.000Z",
         "data": [{"segment": SEG, "positionCount": 412, "pastPositionCount": 398, "totalPositionValue": 1.5e6, "bias": 0.62}]}
    )
    assert breakdown_records(breakdown) == [
        {"coin": "BTC", "timestamp": "2026-03-04T08:00:00.000Z", "segmentId": 9, "segmentName": "Smart Money",
         "segmentEmoji": "📈", "segmentCategory": "pnl", "segmentCriteria": {"minPnl": 100000},
         "positionCount": 412, "pastPositionCount": 398, "totalPositionValue": 1.5e6, "bias": 0.62}
    ]
    out = io.StringIO()
    Output("csv", out).document([], breakdown_records(breakdown))
    assert out.getvalue().splitlines()[0].startswith("coin,timestamp,segmentId,segmentName,segmentEmoji,segmentCategory,segmentCriteria.minPnl,")


HOSTILE = {"coin": "=cmd|' /C calc'!A0", "name": "+SUM(1,2)", "link": "@HYPERLINK(\"http://x\")", "dash": "-2+3",
           "tab": "\tx", "cr": "\rx", "tags": ["=a", "b"], "pnl": -5, "bias": -0.5, "plain": "BTC"}


def test_csv_neutralises_server_text_that_starts_like_a_formula_but_not_numbers_and_json_keeps_it(tmp_path):
    out = io.StringIO()
    Output("csv", out).document([HOSTILE], [HOSTILE])
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert row == {"coin": "'=cmd|' /C calc'!A0", "name": "'+SUM(1,2)", "link": "'@HYPERLINK(\"http://x\")",
                   "dash": "'-2+3", "tab": "'\tx", "cr": "'\rx", "tags": "'=a;b", "pnl": "-5", "bias": "-0.5",
                   "plain": "BTC"}
    path, _ = write_table(tmp_path, Table("risk", lambda: [HOSTILE]), "csv", NOW)  # the `e` key's file
    assert next(csv.DictReader(path.open(newline="")))["coin"] == "'=cmd|' /C calc'!A0"
    path, _ = write_table(tmp_path, Table("risk", lambda: [HOSTILE]), "json", NOW)
    assert json.loads(path.read_text()) == [HOSTILE]


def strict_json(text: str):
    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_json_is_always_valid_and_whole_numbers_stay_whole():
    data = {"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"), "count": 250.0, "bias": 0.5, "huge": 1e300}
    out = io.StringIO()
    Output("json", out).document([data], [data])
    assert strict_json(out.getvalue()) == [{"nan": None, "inf": None, "ninf": None, "count": 250, "bias": 0.5, "huge": 1e300}]
    assert '"count": 250,' in out.getvalue()
    out = io.StringIO()
    Output("csv", out).document([data], [data])
    assert out.getvalue().splitlines()[1] == ",,,250,0.5,1e+300"


async def rows_then_failure(rows):
    for row in rows:
        await asyncio.sleep(0)
        yield row
    raise NetworkError("/positions", "connection dropped")


async def test_a_stream_that_fails_part_way_is_still_closed_valid_json():
    out = io.StringIO()
    with pytest.raises(NetworkError):
        await Output("json", out).stream_array(rows_then_failure([{"id": "1", "size": float("nan")}]), ["id"])
    assert strict_json(out.getvalue()) == [{"id": "1", "size": None}]


async def test_streamed_csv_header_names_every_column_even_those_the_first_row_lacks():
    page = PositionsPage.model_validate({"positions": [
        {"id": "1", "address": "0xa", "coin": "BTC", "side": "long", "size": 1, "positionValue": 9, "openTime": "2026-03-04T08:10:00.000Z"},
        {"id": "2", "address": "0xa", "coin": "BTC", "side": "short", "size": 2, "positionValue": 9, "openTime": "2026-03-04T08:10:00.000Z",
         "funding": -1.5, "profile": {"address": "0xa", "segments": [9, 3]}},
    ]})
    out = io.StringIO()
    with pytest.raises(NetworkError):
        await Output("csv", out).stream_array(rows_then_failure([api_json(p) for p in page.positions]), model_columns(Position))
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {"funding", "profile.address", "profile.segments", "closeTime"} <= parsed[0].keys()
    assert (parsed[0]["funding"], parsed[1]["funding"], parsed[1]["profile.segments"], parsed[1]["size"]) == ("", "-1.5", "9;3", "2")


def test_heatmap_records_carry_the_coin_totals_and_a_coin_without_cohorts():
    cell = {"segmentId": 9, "totalValue": 10, "totalLongValue": 6, "totalShortValue": 4, "count": 2, "bias": 0.6}
    coin = {"totalValue": 30, "totalLongValue": 20, "totalShortValue": 10, "count": 5}
    heatmap = Heatmap.model_validate({"heatmap": [{"coin": "BTC", **coin, "segments": [cell]}, {"coin": "ETH", **coin}]})
    assert heatmap_records(heatmap) == [
        {"coin": "BTC", **cell, "coinTotalValue": 30, "coinTotalLongValue": 20, "coinTotalShortValue": 10, "coinCount": 5},
        {"coin": "ETH", "coinTotalValue": 30, "coinTotalLongValue": 20, "coinTotalShortValue": 10, "coinCount": 5},
    ]
