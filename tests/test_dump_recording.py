"""`hypertui dump KIND --at TIME` and `hypertui dump history`: answers and series from the
recording in the store, never from the API; a clear line when nothing is recorded that early."""

import asyncio
import csv
import io
import json
from datetime import timedelta

import httpx
import pytest

from hypertui.api.client import HyperTrackerClient
from hypertui.api.store import SnapshotStore
from hypertui.cli import main
from hypertui.monitor.export import api_json
from hypertui.sim import Market, create_app

API = "http://127.0.0.1:9/api/external"  # the recording's source: nothing listens there, nothing is sent


@pytest.fixture
def recorded(tmp_path, monkeypatch, clock):
    """Two updates a minute apart recorded in the store file under API, as `hypertui record` would."""
    monkeypatch.setenv("HYPERTUI_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("HYPERTUI_STORE", str(tmp_path / "store.sqlite3"))
    monkeypatch.delenv("HYPERTRACKER_API_TOKEN", raising=False)
    app = create_app(Market(seed=7, scale="small", clock=clock))

    async def record() -> list[dict]:
        updates = []
        store = SnapshotStore(tmp_path / "store.sqlite3", source=API)
        async with HyperTrackerClient(API, "t", transport=httpx.ASGITransport(app=app), store=store, clock=clock) as client:
            for _ in range(2):
                status = await client.state_status()
                updates.append({
                    "at": status.last_update,
                    "summary": api_json(await client.summary(9)),
                    "heatmap": await client.heatmap(),
                    "risk": [await client.liquidation_risk(9, offset=0, limit=100), await client.liquidation_risk(9, offset=0, limit=500)],
                })
                clock.advance(60)
            updates.append(dict(client.tokens_today))
        return updates

    return asyncio.run(record())


def dump(capsys, *argv):
    code = main(["dump", "--base-url", API, "--token", "t", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_dump_at_answers_as_the_api_did_then_without_a_request(recorded, capsys, tmp_path):
    first, second, spent = recorded
    code, out, err = dump(capsys, "summary", "9", "--at", (second["at"] - timedelta(seconds=1)).isoformat())
    assert code == 0, err
    assert json.loads(out) == first["summary"] != second["summary"]  # the newest held at or before the time
    code, out, _ = dump(capsys, "summary", "9", "--at", second["at"].isoformat())
    assert json.loads(out) == second["summary"]
    assert SnapshotStore(tmp_path / "store.sqlite3", source=API).tokens(first["at"].date().isoformat()) == spent  # no token


def test_dump_at_before_the_recording_says_so_in_one_line_naming_the_oldest(recorded, capsys):
    first, _, _ = recorded
    code, out, err = dump(capsys, "heatmap", "--at", "2026-01-01")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err == f"hypertui: /positions/heatmap: nothing recorded at or before 2026-01-01 00:00 UTC: the oldest is of {first['at']:%Y-%m-%d %H:%M} UTC\n"
    code, _, err = dump(capsys, "liquidation-risk", "9", "--limit", "7", "--at", "2027-01-01")
    assert code == 1 and "nothing recorded with offset=0&limit=7 at or before 2027-01-01 00:00 UTC: it was never recorded" in err
    code, _, err = dump(capsys, "positions", "--at", "2027-01-01")
    assert code == 2 and err.startswith("hypertui: --at: positions is not recorded (only segments, summary,")


def test_history_is_one_row_per_update_coin_and_cohort_from_the_recording(recorded, capsys):
    first, second, _ = recorded
    code, out, err = dump(capsys, "history", "heatmap", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0])[:4] == ["update", "coin", "segmentId", "totalValue"]
    cells = [(u["at"], row.coin, cell.segment_id) for u in (first, second) for row in u["heatmap"].heatmap for cell in row.segments]
    assert [(r["update"], r["coin"], int(r["segmentId"])) for r in rows] == [(at.strftime("%Y-%m-%dT%H:%M:%S.000Z"), c, s) for at, c, s in cells]
    second_first_cell = second["heatmap"].heatmap[0].segments[0]
    assert float(rows[sum(at == first["at"] for at, _, _ in cells)]["bias"]) == second_first_cell.bias


def test_history_of_risk_takes_each_coin_once_per_update_and_summary_one_row_per_cohort(recorded, capsys):
    first, second, _ = recorded
    code, out, _ = dump(capsys, "history", "risk", "--since", second["at"].isoformat())
    rows = json.loads(out)
    coins = [item.coin for item in second["risk"][1].items]  # the 500-row page holds the 100-row one's coins too
    assert code == 0 and [r["coin"] for r in rows] == coins and {r["segmentId"] for r in rows} == {9}
    code, out, _ = dump(capsys, "history", "summary", "--until", first["at"].isoformat())
    (row,) = json.loads(out)
    assert row["segmentName"] == first["summary"]["segment"]["name"] and row["summary"] == first["summary"]["summary"]
    code, out, err = dump(capsys, "history", "summary", "--until", "2026-01-01")
    assert code == 0 and json.loads(out) == [] and "no summary recorded in that window: the recording holds" in err


def test_history_refuses_a_window_that_ends_before_it_starts(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HYPERTUI_CONFIG", str(tmp_path / "none.toml"))
    code, _, err = dump(capsys, "history", "risk", "--since", "2026-12-02", "--until", "2026-12-01T23:00")
    assert code == 2 and err == "hypertui: --since (2026-12-02 00:00) is after --until (2026-12-01 23:00)\n"
