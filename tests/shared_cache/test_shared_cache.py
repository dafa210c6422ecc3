"""The shared cache against a real redis-server: a desk's second member reads what the first
fetched with no upstream request, two fetching one key at once make one request, a holder that
died is waited for only until its lock expires, values that are not ours are ignored, and Redis
killed, slow or out of memory never stops an answer (it is marked down, and shared again once back)."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis

from hypertui.api.shared_cache import MAGIC, RECONNECT_AFTER, TOKENS_EXPIRE
from tests.conftest import FROZEN_NOW
from tests.shared_cache.conftest import SOURCE, TOKEN, Monotonic

DAY = FROZEN_NOW.date().isoformat()
HEATMAP = "/positions/heatmap"
STATUS = "/hypertracker/state/status"


def answer_key(client, path: str, params: str = "", *, lock: bool = False) -> str:
    """The key an answer of the current update is kept under (the layout in shared_cache.py)."""
    update = client.status.last_update.isoformat()
    return f"hypertui:v1:{SOURCE}:{'lock:' if lock else ''}answer:{path}?{params}@{update}"


async def test_a_second_member_reads_every_answer_from_redis_with_no_upstream_request(server, desk, upstream):
    async with desk(server.url) as first, desk(server.url) as second:
        fetched = [await first.heatmap(), await first.summary(9), await first.liquidation_risk(9), await first.segments()]
        asked = upstream.requests
        assert asked == 6  # status, heatmap, summary and its download, risk, legend
        read = [await second.heatmap(), await second.summary(9), await second.liquidation_risk(9), await second.segments()]
        assert read == fetched
        assert upstream.requests == asked and second.requests_made == 0 and second.tokens_today == {}
        assert second.status == first.status  # its state/status too: one check for the desk
        assert second.desk_tokens == first.desk_tokens == sum(first.tokens_today.values()) == 5  # not the download
        # ...and each kept in its own store: asked again, Redis is not read again.
        trips = second.shared.round_trips
        assert await second.heatmap() is read[0] and second.shared.round_trips == trips


async def test_two_members_fetching_one_answer_at_once_make_one_upstream_request(server, desk, upstream):
    async with desk(server.url) as first, desk(server.url) as second:
        await asyncio.gather(first.state_status(), second.state_status())
        assert upstream.asked[STATUS] == 1
        one, other = await asyncio.gather(first.heatmap(), second.heatmap())
        assert one == other and upstream.asked[HEATMAP] == 1
        assert server.direct().exists(answer_key(first, HEATMAP, lock=True)) == 0  # let go once published


async def test_the_status_is_shared_until_its_next_update_one_check_per_update_for_the_desk(server, desk, clock):
    async with desk(server.url) as member:
        status = await member.state_status()
        until = (status.next_update - clock()).total_seconds() * 1000
        assert until > 5000  # longer than the few seconds a late upstream's status is shared
        assert until - 2000 < server.direct().pttl(f"hypertui:v1:{SOURCE}:status") <= until


async def test_a_claim_made_just_after_the_holder_let_go_hands_back_its_answer_not_a_fetch(server, desk):
    async with desk(server.url) as first, desk(server.url) as second:
        heatmap = await first.heatmap()  # fetched, published, its lock let go
        await second.state_status()
        # The second member's look came just before that publication (20 at once on a loaded box do
        # this): its claim takes the free lock, and must see the answer in the same round trip.
        name = answer_key(second, HEATMAP).removeprefix(f"hypertui:v1:{SOURCE}:")
        lock, body = await second.shared._claim(name)
        assert lock is not None and body == MAGIC + first._last_parsed[(HEATMAP, ())][0]
        assert await second.heatmap() == heatmap


async def test_a_holder_that_died_is_waited_for_until_its_lock_expires_then_fetched(server, desk, upstream):
    async with desk(server.url) as member:
        await member.state_status()
        # What a member that took the lock and died leaves behind: the lock, and no answer.
        server.direct().set(answer_key(member, HEATMAP, lock=True), "a-dead-holder", px=300)
        heatmap = await member.heatmap()
        assert heatmap.heatmap and upstream.asked[HEATMAP] == 1
        assert server.direct().get(answer_key(member, HEATMAP)).startswith(MAGIC)  # published for the rest


RISK = "/9/assets/liquidation-risk"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (b'{"items": []}', "not hypertui's"),  # someone else's key, or an older layout
        (MAGIC + b'{"items": [', "not a valid answer"),  # cut short
        (MAGIC + b'{"items": "every asset"}', "not a valid answer"),  # JSON that fails the models
    ],
)
async def test_a_value_that_is_not_ours_is_ignored_logged_once_and_fetched_directly(server, desk, upstream, caplog, value, why):
    async with desk(server.url) as first, desk(server.url) as second:
        await first.state_status()
        keys = [answer_key(first, RISK, "limit=100&offset=0"), answer_key(first, RISK, "limit=50&offset=0")]
        for key in keys:
            server.direct().set(key, value)
        with caplog.at_level(logging.WARNING, "hypertui.shared"):
            pages = [await first.liquidation_risk(9), await first.liquidation_risk(9, limit=50)]
        assert pages[0].items and upstream.asked[RISK] == 2
        assert [r.getMessage() for r in caplog.records] == [f"shared cache: a value for {RISK} is {why}: ignored, fetched directly"]
        assert all(server.direct().get(key).startswith(MAGIC) for key in keys)  # replaced by the answers fetched
        assert [await second.liquidation_risk(9), await second.liquidation_risk(9, limit=50)] == pages
        assert upstream.asked[RISK] == 2 and not first.shared_cache_down  # one bad value: the rest is still shared


async def test_redis_killed_mid_run_answers_come_directly_and_it_is_shared_again_once_back(server, desk, upstream, caplog):
    backoff = Monotonic()
    async with desk(server.url, monotonic=backoff) as member:
        await member.heatmap()
        server.kill()
        with caplog.at_level(logging.WARNING, "hypertui.shared"):
            summary = await member.summary(9)  # fetched directly
            assert summary.segment.id == 9 and member.shared_cache_down
            trips = member.shared.round_trips
            server.start()  # back on the same port, empty
            await member.summary(3)
            assert member.shared.round_trips == trips  # not asked before its backoff of 1 s is over
            backoff.now += RECONNECT_AFTER[0]
            await member.summary(5)
        assert not member.shared_cache_down
        assert server.direct().exists(answer_key(member, "/segments/5/summary")) == 1  # shared again
        # Nothing lost: the tokens spent while it was down are on the desk's count too.
        assert int(server.direct().get(f"hypertui:v1:{SOURCE}:tokens:{DAY}")) == sum(member.tokens_today.values()) - 2
        messages = [r.getMessage() for r in caplog.records]
        assert len(messages) == 2 and " down (" in messages[0] and messages[1].endswith("is back: answers are shared again")


async def test_the_reconnection_waits_1_2_5_10_then_30_seconds(redis_server, desk):
    backoff = Monotonic()
    gone = redis_server()
    gone.kill()
    async with desk(gone.url, monotonic=backoff) as member:
        await member.state_status()  # down at start: fetched directly all the same
        assert member.status is not None and member.shared_cache_down
        for wait in (*RECONNECT_AFTER, RECONNECT_AFTER[-1]):
            trips = member.shared.round_trips
            backoff.now += wait - 0.01
            await member.state_status()
            assert member.shared.round_trips == trips
            backoff.now += 0.01
            await member.state_status()
            assert member.shared.round_trips > trips and member.shared_cache_down


async def test_a_slow_redis_is_given_up_after_half_a_second_and_the_answer_fetched_directly(server, desk, upstream):
    async with desk(server.url) as member:
        await member.state_status()
        server.direct().execute_command("CLIENT", "PAUSE", "3000", "ALL")  # every command waits 3 s
        heatmap = await member.heatmap()
        assert heatmap.heatmap and upstream.asked[HEATMAP] == 1 and member.shared_cache_down


async def test_redis_out_of_memory_refuses_writes_and_nothing_crashes(redis_server, desk, upstream):
    full = redis_server("--maxmemory", "1mb", "--maxmemory-policy", "noeviction")
    with pytest.raises(redis.exceptions.OutOfMemoryError):  # filled by someone else: every write is refused now
        for n in range(1000):
            full.direct().set(f"someone-else:{n}", b"x" * 2**16)
    async with desk(full.url) as member:
        heatmap = await member.heatmap()
        assert heatmap.heatmap and member.status is not None and member.shared_cache_down
        assert upstream.asked[HEATMAP] == 1 and upstream.asked[STATUS] == 1


async def test_the_desk_counts_its_tokens_per_utc_day_for_two_days(server, desk):
    async with desk(server.url) as first, desk(server.url) as second:
        await first.heatmap()  # status and heatmap
        await second.summary(9)  # the status from Redis; the summary (its download costs none)
        await first.state_status()  # the desk's count is read again at each check
        spent = sum(first.tokens_today.values()) + sum(second.tokens_today.values())
        assert spent == 3 and first.desk_tokens == second.desk_tokens == spent
        assert first.tokens_spent_today == spent > sum(first.tokens_today.values())  # what the budget plans on
        assert 0 < server.direct().ttl(f"hypertui:v1:{SOURCE}:tokens:{DAY}") <= TOKENS_EXPIRE


async def test_the_token_is_never_written_to_redis(server, desk):
    async with desk(server.url) as member:
        await member.heatmap()
        await member.summary(9)
    store = server.direct()
    for key in store.keys("*"):
        assert TOKEN.encode() not in key and TOKEN.encode() not in (store.get(key) or b"")

