"""Reading the recording: the updates the store holds, an answer at or before a time, parsed
as a fresh one is; a body that no longer validates skipped, not raised; a store of the earlier
schema keeps its rows, and one of a newer schema is left alone."""

import json
import logging
import sqlite3
import zlib
from datetime import timedelta

from hypertui.api.models import Heatmap, SegmentSummary, StateStatus
from hypertui.api.recording import KEPT_UPDATES, Recording
from hypertui.api.store import SnapshotStore
from hypertui.source import simulator_client
from tests.conftest import FROZEN_NOW

SOURCE = "simulator seed=7 scale=small"
SUMMARY = "/segments/9/summary"
HEATMAP = "/positions/heatmap"
STATUS = "/hypertracker/state/status"


async def _record_two_updates(path, clock):
    """The summary of cohort 9 and the heatmap at one update, the summary alone four updates later."""
    async with simulator_client(seed=7, scale="small", clock=clock, store=SnapshotStore(path, source=SOURCE)) as client:
        first = (await client.state_status(), await client.summary(9), await client.heatmap())
        clock.advance(60)  # four simulated updates later
        second = (await client.state_status(), await client.summary(9))
    return first, second


async def test_updates_are_listed_newest_first_with_what_each_holds(tmp_path, clock):
    (status1, summary1, heatmap1), (status2, summary2) = await _record_two_updates(tmp_path / "s.sqlite3", clock)
    updates = Recording(SnapshotStore(tmp_path / "s.sqlite3", source=SOURCE)).updates()
    assert [u.at for u in updates] == [status2.last_update, status1.last_update]
    # Each status is held under the update it names, not under the one before it.
    assert updates[0].endpoints == {STATUS, SUMMARY} and updates[0].answers == 2
    assert updates[1].endpoints == {STATUS, SUMMARY, HEATMAP}


async def test_an_answer_is_the_newest_held_at_or_before_a_time_parsed_as_the_client_does(tmp_path, clock):
    (status1, summary1, heatmap1), (status2, summary2) = await _record_two_updates(tmp_path / "s.sqlite3", clock)
    recording = Recording(SnapshotStore(tmp_path / "s.sqlite3", source=SOURCE))
    assert summary1 != summary2
    assert recording.answer(SUMMARY, [], SegmentSummary, status2.last_update) == (status2.last_update, summary2)
    between = status2.last_update - timedelta(seconds=1)
    assert recording.answer(SUMMARY, [], SegmentSummary, between) == (status1.last_update, summary1)
    assert recording.answer(HEATMAP, [], Heatmap, status2.last_update) == (status1.last_update, heatmap1)  # held since
    assert recording.answer(STATUS, [], StateStatus, status2.last_update) == (status2.last_update, status2)
    assert recording.answer(SUMMARY, [], SegmentSummary, status1.last_update - timedelta(seconds=1)) is None
    assert recording.oldest(SUMMARY, []) == status1.last_update
    assert recording.at_or_before(between).at == status1.last_update


async def test_a_recorded_body_that_no_longer_validates_is_skipped_and_logged(tmp_path, clock, caplog):
    path = tmp_path / "s.sqlite3"
    (status1, summary1, _), (status2, _) = await _record_two_updates(path, clock)
    store = SnapshotStore(path, source=SOURCE)
    store.keep(SUMMARY, "", status2.last_update.isoformat(), FROZEN_NOW, json.dumps({"segment": "gone"}).encode())
    with caplog.at_level(logging.WARNING, logger="hypertui.recording"):
        found = Recording(store).answer(SUMMARY, [], SegmentSummary, status2.last_update)
    assert found == (status1.last_update, summary1)  # the one before it, which still validates
    assert "recorded answer of /segments/9/summary at" in caplog.text and "skipped" in caplog.text
    series = list(Recording(store).series("/segments/%/summary", SegmentSummary, status1.last_update, status2.last_update))
    assert [(at, answer) for at, _, _, answer in series] == [(status1.last_update, summary1)]


_SCHEMA_1 = """
CREATE TABLE answers (source TEXT NOT NULL, endpoint TEXT NOT NULL, params TEXT NOT NULL, last_update TEXT NOT NULL,
    fetched_at TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (source, endpoint, params, last_update)) WITHOUT ROWID;
CREATE TABLE tokens (source TEXT NOT NULL, day TEXT NOT NULL, endpoint TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (source, day, endpoint)) WITHOUT ROWID;
PRAGMA user_version = 1;
"""


def test_a_store_of_the_first_schema_keeps_its_rows_and_is_read_as_a_recording(tmp_path):
    path = tmp_path / "s.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(_SCHEMA_1)  # as hypertui wrote it before the recording was read
    body = json.dumps({"lastUpdate": "2026-11-20T11:45:00.000Z", "nextUpdate": "2026-11-20T12:00:00.000Z"}).encode()
    old.execute("INSERT INTO answers VALUES (?, ?, '', '2026-11-20T11:45:00+00:00', ?, ?)", (SOURCE, STATUS, FROZEN_NOW.isoformat(), zlib.compress(body)))
    old.execute("INSERT INTO tokens VALUES (?, '2026-11-20', ?, 3)", (SOURCE, STATUS))
    old.commit()
    old.close()
    store = SnapshotStore(path, source=SOURCE)
    assert store.problem is None and store._db.execute("PRAGMA user_version").fetchone() == (2,)
    assert [u.at.isoformat() for u in Recording(store).updates()] == ["2026-11-20T11:45:00+00:00"]
    assert store.tokens("2026-11-20") == {STATUS: 3}


def test_a_store_of_a_newer_schema_is_left_alone_and_kept_in_memory(tmp_path):
    path = tmp_path / "s.sqlite3"
    newer = sqlite3.connect(path)
    newer.executescript(_SCHEMA_1.replace("user_version = 1", "user_version = 9"))
    newer.close()
    store = SnapshotStore(path, source=SOURCE)
    assert store.problem == "store: written by a newer hypertui (schema 9, this one knows 2), kept in memory this session"
    store.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (9,)  # not taken down to ours


async def test_the_dashboards_answers_at_an_update_are_those_recorded_at_it(tmp_path, clock):
    path = tmp_path / "s.sqlite3"
    async with simulator_client(seed=7, scale="small", clock=clock, store=SnapshotStore(path, source=SOURCE)) as client:
        status = await client.state_status()
        summary, heatmap = await client.summary(9), await client.heatmap()
        await client.summary(9, "24h")  # another position age: not the dashboard's
        first_page = await client.liquidation_risk(9, offset=0, limit=3)
        longest = await client.liquidation_risk(9, offset=0, limit=10)
        await client.liquidation_risk(9, offset=10, limit=50)  # not a first page
        clock.advance(60)
        await client.state_status()
        await client.summary(2)  # a later update's
    held = Recording(SnapshotStore(path, source=SOURCE)).dashboard_at(status.last_update)
    assert held.summaries == {9: summary} and held.heatmap == heatmap
    assert held.risk == {9: longest} and longest != first_page


async def test_an_updates_dashboard_answers_are_parsed_once_while_its_rows_are_the_same(tmp_path, clock):
    path = tmp_path / "s.sqlite3"
    store = SnapshotStore(path, source=SOURCE)
    async with simulator_client(seed=7, scale="small", clock=clock, store=store) as client:
        at = (await client.state_status()).last_update
        await client.heatmap()
        recording = Recording(store)
        held = recording.dashboard_at(at)
        assert recording.dashboard_at(at) is held  # stepping back to it again parses nothing
        summary = await client.summary(9)  # the update the API is on gains an answer: read again
        again = recording.dashboard_at(at)
        assert again is not held and again.summaries == {9: summary} and again.heatmap == held.heatmap
        for _ in range(KEPT_UPDATES):  # as many other updates read since: it is let go
            clock.advance(60)
            await client.state_status()
            recording.dashboard_at((await client.state_status()).last_update)
        assert recording.dashboard_at(at) is not again
