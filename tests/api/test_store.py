"""The snapshot store under the client: an answer held for the current API update costs no
request, across client instances and processes; tokens counted as the API counts them; a store
that cannot be used (corrupt, unwritable, full) says so in one line and hypertui goes on."""

import asyncio
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from hypertui.api.store import MEMORY_UPDATES, SnapshotStore
from hypertui.clock import FrozenClock
from hypertui.source import simulator_client
from tests.conftest import FROZEN_NOW

SOURCE = "simulator seed=7 scale=small"
DAY = FROZEN_NOW.date().isoformat()
SUMMARY = "/segments/9/summary"
STATUS = "/hypertracker/state/status"


def client_on(path: Path | None, clock: FrozenClock):
    """A client of the small simulator (seed 7) behind `clock`, its store at `path` (None: in memory)."""
    return simulator_client(seed=7, scale="small", clock=clock, store=SnapshotStore(path, source=SOURCE))


async def test_a_restart_within_an_update_spends_only_the_status_check(tmp_path, clock):
    path = tmp_path / "store.sqlite3"
    async with client_on(path, clock) as first:
        asked = await first.summary(9)
        assert first.tokens_today == {STATUS: 1, SUMMARY: 1}
    async with client_on(path, clock) as second:
        again = await second.summary(9)
        assert again == asked
        assert second.requests_made == 1  # the status check: no redirect, no download
        assert second.tokens_today == {STATUS: 2, SUMMARY: 1}


async def test_a_new_update_is_asked_for_again(tmp_path, clock):
    async with client_on(tmp_path / "store.sqlite3", clock) as client:
        await client.summary(9)
        clock.advance(60)  # four simulated updates later
        await client.state_status()
        await client.summary(9)
        assert client.tokens_today == {STATUS: 2, SUMMARY: 2}


async def test_without_a_known_update_the_store_is_not_read_but_still_records(tmp_path, clock):
    path = tmp_path / "store.sqlite3"
    async with client_on(path, clock) as client:
        client._status_failed = True  # as after a state/status that failed: no current update
        await client.segments()
        await client.segments()
        assert client.tokens_today == {"/segments": 2}
    rows = SnapshotStore(path, source=SOURCE)._db.execute("SELECT endpoint, last_update FROM answers").fetchall()
    assert rows == [("/segments", "")]


async def test_a_kept_answer_is_validated_like_a_fresh_one(tmp_path, clock):
    path = tmp_path / "store.sqlite3"
    async with client_on(path, clock) as first:
        legend = await first.segments()
    store = SnapshotStore(path, source=SOURCE)
    ((update, body),) = store._db.execute("SELECT last_update, body FROM answers WHERE endpoint='/segments'").fetchall()
    rows = json.loads(zlib.decompress(body))
    rows[0]["category"] = "unheard-of"  # a row the models refuse
    store.keep("/segments", "", update, FROZEN_NOW, json.dumps(rows).encode())
    store.close()
    async with client_on(path, clock) as second:
        kept = await second.segments()
        assert [s.id for s in kept] == [s.id for s in legend[1:]]
        assert second.rows_dropped == 1
        assert second.requests_made == 1  # the status check alone


async def test_positions_pages_are_never_answered_from_the_store(tmp_path, clock):
    async with client_on(tmp_path / "store.sqlite3", clock) as client:
        await client.state_status()
        for _ in range(2):
            await client.positions(start="2026-11-19T12:00:00.000Z", limit=5)
        assert client.tokens_today["/positions"] == 2


async def test_identical_requests_in_flight_are_still_sent_once(tmp_path, clock):
    async with client_on(tmp_path / "store.sqlite3", clock) as client:
        one, two = await asyncio.gather(client.summary(9), client.summary(9))
        assert one is two
        assert client.tokens_today == {STATUS: 1, SUMMARY: 1}


async def test_an_unchanged_answer_from_the_store_is_the_same_object(tmp_path, clock):
    async with client_on(tmp_path / "store.sqlite3", clock) as client:
        fetched = await client.summary(9)
        assert await client.summary(9) is fetched  # "unchanged" is told by identity (the ↑↓ marks)


_WRITER = """
import asyncio, sys
from datetime import datetime
from hypertui.api.store import MEMORY_UPDATES, SnapshotStore
from hypertui.clock import FrozenClock
from hypertui.source import simulator_client

async def main():
    clock = FrozenClock(datetime.fromisoformat(sys.argv[2]))
    store = SnapshotStore(__import__("pathlib").Path(sys.argv[1]), source=sys.argv[3])
    async with simulator_client(seed=7, scale="small", clock=clock, store=store) as client:
        await client.summary(9)

asyncio.run(main())
"""


async def test_two_processes_share_one_store(tmp_path, clock):
    path = tmp_path / "store.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    subprocess.run(
        [sys.executable, "-c", _WRITER, str(path), FROZEN_NOW.isoformat(), SOURCE], check=True, env=env, timeout=60
    )
    async with client_on(path, clock) as client:
        await client.summary(9)
        assert client.requests_made == 1  # its status check; the summary came from the other process
        assert client.tokens_today == {STATUS: 2, SUMMARY: 1}  # both processes' tokens


def test_a_corrupt_store_is_moved_aside_and_a_new_one_started(tmp_path):
    path = tmp_path / "store.sqlite3"
    garbage = b"not a database, but the user's bytes" * 100
    path.write_bytes(garbage)
    store = SnapshotStore(path, source=SOURCE)
    assert store.problem is not None and "was corrupt: moved aside to store.sqlite3.corrupt-" in store.problem
    (aside,) = tmp_path.glob("store.sqlite3.corrupt-*")
    assert aside.read_bytes() == garbage
    store.spend_token(DAY, SUMMARY)
    store.close()
    assert SnapshotStore(path, source=SOURCE).tokens(DAY) == {SUMMARY: 1}  # the new file works


@pytest.mark.parametrize("blocked", ["parent is a file", "read-only folder"])
def test_an_unwritable_place_keeps_the_store_in_memory(tmp_path, blocked):
    if blocked == "parent is a file":
        (tmp_path / "data").write_text("a file where the folder should be")
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into a read-only folder")
        (tmp_path / "data").mkdir(mode=0o500)
    store = SnapshotStore(tmp_path / "data" / "store.sqlite3", source=SOURCE)
    assert store.problem is not None and store.problem.endswith("kept in memory this session")
    assert "\n" not in store.problem
    store.keep(SUMMARY, "", "u", FROZEN_NOW, b"{}")
    assert store.answer(SUMMARY, "", "u") == b"{}"


def test_a_full_disk_moves_the_store_to_memory_with_what_it_held(tmp_path):
    store = SnapshotStore(tmp_path / "store.sqlite3", source=SOURCE)
    store.spend_token(DAY, STATUS)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # the disk holds not one page more
    body = os.urandom(50_000)  # does not compress: needs pages
    store.keep(SUMMARY, "", "u", FROZEN_NOW, body)
    assert store.problem == "store: the disk is full; kept in memory from now on"
    assert store.answer(SUMMARY, "", "u") == body
    assert store.tokens(DAY) == {STATUS: 1}


async def test_tokens_are_counted_as_the_quota_counts_them_and_its_limit_learned(clock):
    """Against the simulator's daily quota of 4: every request it counted is counted here, and
    neither a download nor the refused request; the daily 429 tells the limit."""
    import httpx

    from hypertui.api.client import HyperTrackerClient
    from hypertui.api.errors import RateLimitError
    from hypertui.sim import Market, create_app
    from hypertui.source import SIM_BASE_URL, SIMULATOR_TOKEN

    app = create_app(Market(seed=7, scale="small", clock=clock), daily_quota=4)
    transport = httpx.ASGITransport(app=app)
    async with HyperTrackerClient(SIM_BASE_URL, SIMULATOR_TOKEN, transport=transport, store=SnapshotStore(), clock=clock) as client:
        await client.summary(9)  # status, then the summary's redirect (its download is free)
        await client.heatmap()
        await client.segments()
        assert client.daily_limit is None
        with pytest.raises(RateLimitError):
            await client.liquidation_risk(9)
        assert client.daily_limit == 4
        assert client.tokens_today == {STATUS: 1, SUMMARY: 1, "/positions/heatmap": 1, "/segments": 1}
    configured = HyperTrackerClient(SIM_BASE_URL, SIMULATOR_TOKEN, transport=transport, daily_tokens=50_000, clock=clock)
    with pytest.raises(RateLimitError):
        await configured.segments()
    assert configured.daily_limit == 50_000  # the config's word, not the answer's


def test_a_store_locked_by_another_program_is_kept_in_memory(tmp_path):
    import sqlite3

    path = tmp_path / "store.sqlite3"
    SnapshotStore(path, source=SOURCE).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")  # out of WAL: an exclusive lock keeps readers out too
    holder.execute("BEGIN EXCLUSIVE")
    try:
        store = SnapshotStore(path, source=SOURCE)
        assert store.problem == "store: locked by another program, kept in memory this session"
        store.spend_token(DAY, STATUS)
        assert store.tokens(DAY) == {STATUS: 1}
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def test_a_rejected_token_costs_no_token(clock):
    """A 401 has no account to charge: counting it showed 'tokens today 5' for a bad token."""
    import httpx

    from hypertui.api.client import HyperTrackerClient
    from hypertui.api.errors import AuthError
    from hypertui.sim import Market, create_app
    from hypertui.source import SIM_BASE_URL

    app = create_app(Market(seed=7, scale="small", clock=clock), token="good")
    async with HyperTrackerClient(
        SIM_BASE_URL, "bad", transport=httpx.ASGITransport(app=app), store=SnapshotStore(), clock=clock
    ) as client:
        with pytest.raises(AuthError):
            await client.segments()
        assert client.tokens_today == {}


async def test_an_answer_parsed_for_this_update_is_not_read_from_the_store_again(tmp_path, clock):
    """Each panel asked again within an update (a key, the panels' age) read the store, unpacked
    the body and compared it, on the UI's loop; what this client parsed for the update is enough."""
    async with client_on(tmp_path / "store.sqlite3", clock) as client:
        first = await client.summary(9)
        reads = []
        answer = client.store.answer
        client.store.answer = lambda *args: reads.append(args) or answer(*args)  # the real store, its reads counted
        assert await client.summary(9) is first
        assert reads == [] and client.tokens_today == {STATUS: 1, SUMMARY: 1}
        clock.advance(60)  # a new update: the store is asked (and has nothing for it)
        await client.state_status()
        await client.summary(9)
        assert len(reads) == 1


def _held_updates(store: SnapshotStore) -> list[str]:
    return [key for key, _ in store.recorded()]


def test_in_memory_the_last_updates_of_each_request_are_kept_for_replay(clock):
    from datetime import timedelta

    store = SnapshotStore(source=SOURCE)
    times = [(FROZEN_NOW + timedelta(minutes=m)).isoformat() for m in range(MEMORY_UPDATES + 2)]
    store.keep(STATUS, "", times[0], FROZEN_NOW, b"{}")  # a request not asked again keeps its update
    for at in times:
        store.keep(SUMMARY, "", at, FROZEN_NOW, b"{}")
    held = store._db.execute("SELECT last_update FROM answers WHERE endpoint=? ORDER BY 1", (SUMMARY,)).fetchall()
    assert [at for (at,) in held] == times[-MEMORY_UPDATES:]
    assert store.answer(STATUS, "", times[0]) == b"{}"


def test_answers_and_token_counts_older_than_the_days_kept_are_pruned_once_a_day(tmp_path):
    from datetime import timedelta

    store = SnapshotStore(tmp_path / "store.sqlite3", source=SOURCE)
    for days_ago in (40, 31, 29, 0):
        at = FROZEN_NOW - timedelta(days=days_ago)
        store.keep(SUMMARY, "", at.isoformat(), at, b"{}")
        store.spend_token(at.date().isoformat(), SUMMARY)
    store.keep(SUMMARY, "x=1", "", FROZEN_NOW - timedelta(days=35), b"{}")  # no update known: its arrival counts
    store.prune_daily(30, FROZEN_NOW)
    kept = [(FROZEN_NOW - timedelta(days=d)).isoformat() for d in (0, 29)]
    assert _held_updates(store) == kept
    assert store._db.execute("SELECT COUNT(*) FROM answers").fetchone() == (2,)
    assert sorted(store._db.execute("SELECT day FROM tokens").fetchall()) == [("2026-10-22",), ("2026-11-20",)]
    store.prune_daily(1, FROZEN_NOW + timedelta(hours=11))  # the same UTC day: not again
    assert _held_updates(store) == kept
    store.prune_daily(1, FROZEN_NOW + timedelta(hours=12))  # the next one
    assert _held_updates(store) == kept[:1]


def test_a_file_store_is_pruned_when_opened_to_the_configured_days(tmp_path):
    from datetime import timedelta

    from hypertui.clock import utc_now
    from hypertui.config import load_settings
    from hypertui.source import open_store

    path = tmp_path / "store.sqlite3"
    store = SnapshotStore(path, source="https://api.example/api")
    for days_ago in (3, 1):
        store.keep(SUMMARY, "", (utc_now() - timedelta(days=days_ago)).isoformat(), utc_now(), b"{}")
    store.close()
    (tmp_path / "c.toml").write_text('token = "t"\nbase_url = "https://api.example/api"\nkeep_days = 2\n')
    settings = load_settings(env={"HYPERTUI_STORE": str(path)}, path=tmp_path / "c.toml")
    assert settings.keep_days == 2
    assert len(open_store(settings).recorded()) == 1
