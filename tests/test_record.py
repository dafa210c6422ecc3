"""`hypertui record`: in process behind a frozen clock (what it asks for, within the budget, and
when it checks again), and as the command against `hypertui sim` on a loopback port (its lines,
a clean exit on SIGTERM, a resumed run, and a dashboard's client served by the recording)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hypertui.api.client import HyperTrackerClient
from hypertui.api.store import SnapshotStore
from hypertui.clock import FrozenClock
from hypertui.record import Recorder
from hypertui.sim import Market, create_app
from hypertui.source import SIM_BASE_URL, SIMULATOR_TOKEN, InProcessTransport

LATE_EVENING = datetime(2026, 11, 20, 23, 0, 30, tzinfo=UTC)  # four 15-minute updates left in the day
STATUS = "/hypertracker/state/status"


def _client(clock: FrozenClock, daily_tokens: int | None = None, market_clock: FrozenClock | None = None) -> HyperTrackerClient:
    """The small simulator on 15-minute updates; `market_clock`: the market's own, when it is to lag."""
    market = Market(seed=7, scale="small", clock=market_clock or clock, update_interval=15 * 60.0)
    return HyperTrackerClient(
        SIM_BASE_URL, SIMULATOR_TOKEN, transport=InProcessTransport(lambda: create_app(market)),
        store=SnapshotStore(), daily_tokens=daily_tokens, clock=clock,
    )


async def test_each_update_is_recorded_once_and_the_next_checked_for_a_little_after_it_is_due():
    clock, lines = FrozenClock(LATE_EVENING), []
    async with _client(clock) as client:
        recorder = Recorder(client, clock=clock, say=lines.append)
        delay = await recorder.record_once()
        first = client.status
        assert delay == (first.next_update - clock()).total_seconds() + 10  # the dashboard's grace
        assert lines == [f"recorded update {first.last_update:%H:%M:%S} · 35 answers · 36 tokens today"]  # + the legend
        clock.advance(delay / 2)
        assert await recorder.record_once() > 0 and len(lines) == 1  # the same update: nothing asked but the status
        assert sum(client.tokens_today.values()) == 37
        clock.advance(delay)
        await recorder.record_once()
        assert client.status.last_update == first.next_update and recorder.updates == 2
        assert lines[-1].endswith("· 35 answers · 72 tokens today")  # a status and 34 requests: the legend is once a day


async def test_an_upstream_late_past_its_next_update_is_said_and_checked_for_with_the_dashboards_backoff():
    clock, lines = FrozenClock(LATE_EVENING), []
    async with _client(clock, market_clock=FrozenClock(LATE_EVENING)) as client:  # its market never updates
        recorder = Recorder(client, clock=clock, say=lines.append)
        clock.advance(await recorder.record_once())  # 10 s past nextUpdate
        assert await recorder.record_once() == 60  # the first of plan.LATE_BACKOFF
        assert lines[-1] == "update 23:00:30 not followed yet (upstream late); next check at 23:16:40 UTC"
        clock.advance(60)
        assert await recorder.record_once() == 120 and recorder.updates == 1


async def test_the_budget_keeps_the_heatmap_first_then_as_many_summaries_as_the_day_allows():
    clock, lines = FrozenClock(LATE_EVENING), []
    # Four updates left: the status, the legend, then 4 × (a status, the heatmap, the bias export and 5 summaries).
    async with _client(clock, daily_tokens=2 + 4 * 8) as client:
        await Recorder(client, clock=clock, say=lines.append).record_once()
        spent = client.tokens_today
    assert lines[0].endswith("· 8 answers · 9 tokens today · budget: no summary 6")
    assert {path for path in spent if path.endswith("/summary")} == {f"/segments/{sid}/summary" for sid in range(1, 6)}
    assert not any("liquidation-risk" in path for path in spent)


# --- the command, against `hypertui sim` on a loopback port -----------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _start(*argv: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hypertui", *argv, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )


async def _line_with(proc: asyncio.subprocess.Process, text: str, seen: list[str]) -> str:
    while True:
        line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
        assert line, f"exited before saying {text!r}: {seen}"
        seen.append(line)
        if text in line:
            return line


async def _record_until_stopped(url: str, env: dict[str, str]) -> list[str]:
    """`hypertui record` until it has recorded an update, then SIGTERM: its lines, once it exited 0."""
    proc, seen = await _start("record", "--base-url", url, "--token", "t", env=env), []
    try:
        await _line_with(proc, "recorded update", seen)
        proc.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(proc.stderr.read(), 30)
        assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return seen + rest.decode().splitlines(keepends=True)


@pytest.mark.timeout(120)
async def test_the_command_records_stops_cleanly_resumes_and_a_dashboard_then_spends_nothing(tmp_path: Path):
    port, path = _free_port(), tmp_path / "store.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERTRACKER_")}
    env |= {"HYPERTUI_CONFIG": str(tmp_path / "none.toml"), "HYPERTUI_STORE": str(path),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[1]), env.get("PYTHONPATH")]))}
    # An hour between updates: the whole test happens within one.
    sim = await _start("sim", "--port", str(port), "--scale", "small", "--update-interval", "3600", env=env)
    url = f"http://127.0.0.1:{port}/api/external"
    try:
        await _line_with(sim, "Ctrl+C stops", [])
        first = await _record_until_stopped(url, env)
        assert "recorded update" in first[0] and first[0].endswith("· 35 answers · 36 tokens today\n")
        assert first[0][:len("2026-12-07 09:30 UTC ")].endswith(" UTC ") and first[-1].endswith("stopped: 1 update(s) recorded this run\n")
        again = await _record_until_stopped(url, env)  # resumed: the store holds the update, only its status is asked
        assert again[0].endswith("· 35 answers · 37 tokens today\n")
        async with HyperTrackerClient(url, "t", store=SnapshotStore(path, source=url)) as dashboard:
            await asyncio.gather(dashboard.segments(), dashboard.heatmap(), dashboard.segments_bias_24h(),
                                 dashboard.summary(9), dashboard.liquidation_risk(9, offset=0, limit=100))
            assert dashboard.requests_made == 1  # its status check: the rest is the recording
            assert {path: n for path, n in dashboard.tokens_today.items() if n != 1} == {STATUS: 3}
    finally:
        sim.send_signal(signal.SIGTERM)
        await sim.wait()
