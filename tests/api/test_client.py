"""The client against scripted HTTP answers: errors, redirects, paging, sharing of requests."""

import asyncio
import json

import httpx
import pytest

from hypertui.api.client import HyperTrackerClient
from hypertui.api.errors import (
    AuthError,
    BadRequestError,
    BadResponseError,
    ExportExpiredError,
    NetworkError,
    NotFoundError,
    RateLimitError,
    ServerError,
)

BASE = "https://api.example.test/api/external"
SEGMENT = {"id": 9, "name": "Smart Money", "category": "pnl", "criteria": {"minPnl": 100000, "maxPnl": 1000000}}


def client_for(handler, **kw) -> HyperTrackerClient:
    kw.setdefault("retries", 0)
    return HyperTrackerClient(BASE, "secret-token", transport=httpx.MockTransport(handler), **kw)


class RecordedSleep:
    """Stands in for asyncio.sleep: remembers the waits instead of waiting."""

    def __init__(self):
        self.waits = []

    async def __call__(self, seconds):
        self.waits.append(seconds)


def position(i: int) -> dict:
    return {"id": f"{i:x}", "address": "0x" + "a" * 40, "coin": "BTC", "side": "long", "size": 1.0,
            "positionValue": 95000.0, "openTime": "2026-03-04T08:10:00.000Z", "closeTime": None}


@pytest.mark.parametrize(
    ("status", "body", "headers", "error", "text"),
    [
        (400, {"errors": [{"property": "start", "errors": ["start must be a valid ISO 8601 date string"]}]}, {},
         BadRequestError, "start must be a valid ISO 8601 date string"),
        (401, {"statusCode": 401, "message": "Unauthorized"}, {}, AuthError, "token rejected (401)"),
        (403, {}, {}, AuthError, "token rejected (403)"),
        (404, {"statusCode": 404, "message": "XYZ:GOLD not found"}, {}, NotFoundError, "XYZ:GOLD not found"),
        (429, {"limit": 100, "current": 100, "plan": "FREE"}, {}, RateLimitError, "daily request quota used up (FREE plan, 100/day)"),
        (429, {"error": "rate_limit_exceeded", "message": "slow down", "retry_after": 42}, {"Retry-After": "42"},
         RateLimitError, "rate limited, retry in 42s"),
        (502, None, {}, ServerError, "server error 502"),
    ],
)
async def test_each_status_maps_to_its_typed_error(status, body, headers, error, text):
    def handler(request):
        content = b"<html>bad gateway</html>" if body is None else json.dumps(body).encode()
        return httpx.Response(status, content=content, headers=headers)

    async with client_for(handler) as client:
        with pytest.raises(error) as info:
            await client.heatmap()
    assert text in str(info.value)
    assert "\n" not in str(info.value)
    if error is RateLimitError:
        assert info.value.daily is ("plan" in body)
        assert info.value.retry_after == (None if "plan" in body else 42)


async def test_network_failure_and_timeout_are_network_errors():
    def refuse(request):
        raise httpx.ConnectError("[Errno 111] Connection refused")

    def slow(request):
        raise httpx.ReadTimeout("read timed out")

    for handler, text in ((refuse, "cannot connect"), (slow, "timed out")):
        async with client_for(handler) as client:
            with pytest.raises(NetworkError, match=text):
                await client.segments()


async def test_bad_response_names_endpoint_and_field():
    def handler(request):
        return httpx.Response(200, json={"totalCount": "many", "items": []})

    async with client_for(handler) as client:
        with pytest.raises(BadResponseError) as info:
            await client.liquidation_risk(9)
    assert info.value.field == "totalCount"
    assert "/9/assets/liquidation-risk" in str(info.value)


async def test_truncated_json_is_a_bad_response():
    async with client_for(lambda r: httpx.Response(200, content=b'{"heatmap": [{"coin": "BT')) as client:
        with pytest.raises(BadResponseError, match="not valid JSON"):
            await client.heatmap()


async def test_export_redirect_is_followed_without_the_token():
    seen = []

    def handler(request):
        seen.append((request.url.host, request.headers.get("authorization")))
        if request.url.host == "api.example.test":
            return httpx.Response(302, headers={"Location": "https://bucket.s3.example.test/f.json?X-Amz-Signature=x"})
        return httpx.Response(200, json={"coin": "BTC", "data": []})

    async with client_for(handler) as client:
        result = await client.position_breakdown("BTC", "24h")
    assert result.coin == "BTC"
    assert seen == [("api.example.test", "Bearer secret-token"), ("bucket.s3.example.test", None)]


async def test_expired_export_link_is_reported_distinctly():
    def handler(request):
        if request.url.host == "api.example.test":
            return httpx.Response(302, headers={"Location": "https://bucket.s3.example.test/f.json"})
        xml = b'<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>'
        return httpx.Response(403, content=xml, headers={"content-type": "application/xml"})

    async with client_for(handler) as client:
        with pytest.raises(ExportExpiredError, match="expired"):
            await client.segments_bias_24h()


async def test_cursor_paging_sends_nextcursor_and_stops_on_null():
    cursors = []

    def handler(request):
        cursor = request.url.params.get("nextCursor")
        cursors.append(cursor)
        assert "cursor" not in request.url.params
        page = {None: ([0, 1], "c1"), "c1": ([2, 3], "c2"), "c2": ([4], None)}[cursor]
        return httpx.Response(200, json={"positions": [position(i) for i in page[0]], "nextCursor": page[1]})

    async with client_for(handler) as client:
        ids = [p.id for page in [pg async for pg in client.iter_positions(start="2026-01-01T00:00:00.000Z", page_size=2)]
               for p in page.positions]
    assert ids == ["0", "1", "2", "3", "4"]
    assert cursors == [None, "c1", "c2"]


async def test_cursor_paging_stops_on_an_empty_page_that_still_has_a_cursor():
    calls = 0

    def handler(request):
        nonlocal calls
        calls += 1
        if request.url.params.get("nextCursor") is None:
            return httpx.Response(200, json={"positions": [position(1)], "nextCursor": "more"})
        return httpx.Response(200, json={"positions": [], "nextCursor": "still-more"})

    async with client_for(handler) as client:
        pages = [p async for p in client.iter_positions(start="2026-01-01T00:00:00.000Z")]
    assert len(pages) == 1 and calls == 2


async def test_offset_paging_for_liquidation_risk():
    offsets = []

    def handler(request):
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        offsets.append(offset)
        items = [{"coin": f"C{i}", "totalValue": 1.0, "riskValue": 0.0, "percentRisk": 0.0}
                 for i in range(offset, min(offset + limit, 5))]
        return httpx.Response(200, json={"totalCount": 5, "items": items})

    async with client_for(handler) as client:
        coins = [i.coin for page in [p async for p in client.iter_liquidation_risk(9, page_size=2)] for i in page.items]
    assert coins == ["C0", "C1", "C2", "C3", "C4"] and offsets == [0, 2, 4]


async def test_identical_requests_in_flight_are_sent_once():
    sent = 0
    release = asyncio.Event()

    async def handler(request):
        nonlocal sent
        sent += 1
        await release.wait()
        return httpx.Response(200, json=[SEGMENT])

    async with client_for(handler) as client:
        tasks = [asyncio.create_task(client.segments()) for _ in range(3)]
        await asyncio.sleep(0)
        release.set()
        results = await asyncio.gather(*tasks)
        assert sent == 1 and all(r[0].name == "Smart Money" for r in results)
        await client.segments()  # a later request is a new one
    assert sent == 2 and client.requests_made == 2


async def test_user_agent_and_query_format():
    seen = {}

    def handler(request):
        seen.update(ua=request.headers["user-agent"], params=list(request.url.params.multi_items()))
        return httpx.Response(200, json={"positions": [], "nextCursor": None})

    from datetime import UTC, datetime

    async with client_for(handler) as client:
        await client.positions(start=datetime(2026, 2, 25, tzinfo=UTC), addresses=["0x1", "0x2"], open=False, segment_id=9)
    assert seen["ua"].startswith("hypertui/")
    assert ("start", "2026-02-25T00:00:00.000Z") in seen["params"]
    assert [v for k, v in seen["params"] if k == "address"] == ["0x1", "0x2"]
    assert ("open", "false") in seen["params"] and ("segmentId", "9") in seen["params"]


def test_repr_never_shows_the_token():
    client = client_for(lambda r: httpx.Response(200))
    assert "secret-token" not in repr(client)


def flaky(*answers):
    """A handler that gives each answer in turn (an exception is raised), then 200 with segments."""
    answers = list(answers)
    calls = []

    def handler(request):
        calls.append(request)
        if answers:
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return httpx.Response(200, json=[SEGMENT])

    return handler, calls


async def test_transient_faults_are_retried_with_growing_backoff():
    handler, calls = flaky(httpx.ConnectError("reset"), httpx.Response(503), httpx.Response(502))
    sleep = RecordedSleep()
    async with client_for(handler, retries=3, sleep=sleep) as client:
        assert (await client.segments())[0].id == 9
    assert len(calls) == 4 and len(sleep.waits) == 3
    assert all(0 < w <= 8.5 for w in sleep.waits)
    assert sleep.waits[2] > sleep.waits[0]  # exponential: 0.5, 1, 2 (+ up to 0.5 jitter)


async def test_retries_are_capped_then_the_error_surfaces():
    handler, calls = flaky(*[httpx.Response(500)] * 10)
    async with client_for(handler, retries=2, sleep=RecordedSleep()) as client:
        with pytest.raises(ServerError):
            await client.segments()
    assert len(calls) == 3


async def test_per_minute_429_waits_retry_after_but_daily_quota_is_not_retried():
    per_minute = httpx.Response(429, json={"error": "rate_limit_exceeded", "retry_after": 3}, headers={"Retry-After": "3"})
    handler, calls = flaky(per_minute)
    sleep = RecordedSleep()
    async with client_for(handler, retries=3, sleep=sleep) as client:
        await client.segments()
    assert sleep.waits == [3.0]

    handler, calls = flaky(httpx.Response(429, json={"limit": 100, "current": 100, "plan": "FREE"}))
    async with client_for(handler, retries=3, sleep=RecordedSleep()) as client:
        with pytest.raises(RateLimitError) as info:
            await client.segments()
    assert info.value.daily and len(calls) == 1

    long_wait = httpx.Response(429, json={"error": "rate_limit_exceeded", "retry_after": 42})
    handler, calls = flaky(long_wait)
    async with client_for(handler, retries=3, sleep=RecordedSleep()) as client:
        with pytest.raises(RateLimitError):
            await client.segments()
    assert len(calls) == 1  # a long wait is left to the caller's schedule


async def test_client_errors_are_not_retried():
    for status in (400, 401, 404):
        handler, calls = flaky(*[httpx.Response(status, json={})] * 3)
        async with client_for(handler, retries=3, sleep=RecordedSleep()) as client:
            with pytest.raises((BadRequestError, AuthError, NotFoundError)):
                await client.segments()
        assert len(calls) == 1


async def test_a_failure_is_logged_with_endpoint_and_field_but_never_the_token(caplog):
    def handler(request):
        return httpx.Response(200, json={"totalCount": "many", "items": []})

    with caplog.at_level("DEBUG"):
        async with client_for(handler) as client:
            with pytest.raises(BadResponseError):
                await client.liquidation_risk(9)
    messages = [r.getMessage() for r in caplog.records if r.name == "hypertui.api"]
    assert any("/9/assets/liquidation-risk" in m and "totalCount" in m for m in messages)
    assert not any("secret-token" in r.getMessage() for r in caplog.records)


async def test_an_unchanged_polled_answer_is_the_same_object_and_a_changed_one_is_new():
    bodies = iter([[SEGMENT], [SEGMENT], [{**SEGMENT, "name": "Smarter"}], [{**SEGMENT, "name": "Smarter"}]])

    def handler(request):
        return httpx.Response(200, json=next(bodies))

    async with client_for(handler) as client:
        first, same, changed, again = [await client.segments() for _ in range(4)]
    assert same is first  # not parsed again: callers skip redrawing by identity
    assert changed is not first and changed[0].name == "Smarter"
    assert again is changed
    assert client.requests_made == 4  # still asked each time: only parsing is saved


async def test_pages_are_always_parsed_anew():
    def handler(request):
        return httpx.Response(200, json={"positions": [position(1)], "nextCursor": None})

    async with client_for(handler) as client:
        first = await client.positions(start="2026-01-01T00:00:00.000Z")
        second = await client.positions(start="2026-01-01T00:00:00.000Z")
    assert first is not second and first == second
