"""Chaos mode of the simulator: spec parsing, every fault produced and counted, determinism,
chaos off = no chaos, each fault mapped to its typed client error, and a reset over a real socket."""

from __future__ import annotations

import inspect
import json
import random
import threading
import time
import zlib
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hypertui.api import errors
from hypertui.api.client import HyperTrackerClient
from hypertui.sim import Market, create_app
from hypertui.sim.chaos import (
    DRIFT_MODES,
    DRIP_PIECES,
    HOSTILE_STRINGS,
    KINDS,
    PRESETS,
    ChaosConnectionReset,
    ChaosInjector,
    ChaosSpec,
    Plan,
)

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BASE = "http://simulator.local/api/external"
AUTH = {"Authorization": "Bearer t"}
START = "2025-04-04T00:00:00.000Z"
EXPORT = "/exports/segments-bias-charts-data-24h"


def fixed_clock() -> datetime:
    return T0


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(seed=7, scale="small", clock=fixed_clock)


def raw_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://simulator.local")


def api_client(app, **kw) -> HyperTrackerClient:
    if "retries" in inspect.signature(HyperTrackerClient).parameters:
        kw.setdefault("retries", 0)
    return HyperTrackerClient(BASE, token="t", transport=httpx.ASGITransport(app=app), **kw)


async def get(c: httpx.AsyncClient, path: str, **kw) -> httpx.Response:
    return await c.get("/api/external" + path, headers=AUTH, **kw)


async def download(c: httpx.AsyncClient, r: httpx.Response) -> httpx.Response:
    assert r.status_code == 302, r.text
    return await c.get(r.headers["location"])


# ------------------------------------------------------------------------------ spec parsing

def test_full_spec_parses():
    s = ChaosSpec.parse("latency=0.1,500=0.05,reset=0.02,truncate=0.02,drift=0.05,hostile=0.1,"
                        "429=0.02,quota=0.01,expired=0.05,seed=42,latency_ms=250")
    assert s.rates == {"latency": 0.1, "500": 0.05, "reset": 0.02, "truncate": 0.02, "drift": 0.05,
                       "hostile": 0.1, "429": 0.02, "quota": 0.01, "expired": 0.05}
    assert (s.seed, s.latency_ms, s.drift_modes, s.active) == (42, 250, DRIFT_MODES, True)
    assert ChaosSpec.parse(" 502 = 1 , drift=1, drift_mode=type+empty ").drift_modes == ("type", "empty")
    assert ChaosSpec.parse("503=0").active is False
    assert ChaosSpec.parse("500=1").seed == 0  # default seed


def test_presets():
    assert set(PRESETS) == {"off", "mild", "storm", "hostile", "edge"}
    assert not ChaosSpec.parse("off").active and ChaosSpec.parse("OFF").rates == {}
    for name in ("mild", "storm", "hostile", "edge"):
        spec = ChaosSpec.parse(name)
        assert spec.active and spec.name == name
        assert set(spec.rates) <= set(KINDS)
        assert name in spec.describe() and "\n" not in spec.describe()
    assert ChaosSpec.parse("hostile").rate("hostile") == 1.0
    storm = ChaosSpec.parse("storm,seed=3,latency_ms=0,500=0.5")
    assert (storm.seed, storm.latency_ms, storm.rate("500"), storm.rate("reset")) == (3, 0, 0.5, 0.05)
    assert PRESETS["storm"].rate("500") == 0.05  # overriding never edits the preset
    assert ChaosSpec.coerce(None).active is False
    assert ChaosSpec.coerce(storm) is storm
    edge = ChaosSpec.parse("edge,drip_ms=50,bomb_mib=2")
    assert {"drip", "bomb", "loop", "extreme", "naive", "nostatus"} <= set(edge.rates)
    assert (edge.drip_ms, edge.bomb_mib, edge.rate("quota")) == (50, 2, 0.0)
    assert "drip_ms=50 bomb_mib=2" in edge.describe() and PRESETS["edge"].drip_ms == 30_000


@pytest.mark.parametrize("text, bad", [
    ("boom=0.1", "boom=0.1"),
    ("500=1.5", "500=1.5"),
    ("500=-0.1", "500=-0.1"),
    ("500=lots", "500=lots"),
    ("500=nan", "500=nan"),
    ("500", "'500'"),
    ("500=0.1,,reset=0.1", "''"),
    ("500=0.1,reset", "reset"),
    ("seed=x", "seed=x"),
    ("latency_ms=-5", "latency_ms=-5"),
    ("drip_ms=1.5", "drip_ms=1.5"),
    ("bomb_mib=lots", "bomb_mib=lots"),
    ("drift=1,drift_mode=sideways", "sideways"),
    ("500=0.1,500=0.2", "500"),
    ("tornado", "tornado"),
    ("", "empty"),
])
def test_parse_errors_name_the_bad_part(text, bad):
    with pytest.raises(ValueError) as info:
        ChaosSpec.parse(text)
    msg = str(info.value)
    assert bad in msg and "\n" not in msg and msg.startswith("chaos")


# ------------------------------------------------------------------------ each fault produced

async def test_server_errors(market):
    for status in (500, 502, 503):
        app = create_app(market, chaos=f"{status}=1")
        async with raw_client(app) as c:
            r = await get(c, "/segments")
            assert r.status_code == status
            if status == 503:
                assert int(r.headers["retry-after"]) >= 1
            # the download host fails too (S3 style), and an export request itself can fail
            assert (await get(c, EXPORT)).status_code == status
        assert app.state.chaos.counts[str(status)] == 2
        assert app.state.chaos.total == 2


async def test_rate_limits_both_kinds(market):
    app = create_app(market, chaos="429=1")
    async with raw_client(app) as c:
        r = await get(c, "/segments")
    body = r.json()
    assert r.status_code == 429 and set(body) == {"error", "message", "retry_after"}
    assert body["error"] == "rate_limit_exceeded" and r.headers["retry-after"] == str(body["retry_after"])
    assert app.state.chaos.counts["429"] == 1

    app = create_app(market, chaos="quota=1")
    async with raw_client(app) as c:
        r = await get(c, "/positions/heatmap")
    assert r.status_code == 429 and r.json() == {"limit": 100, "current": 100, "plan": "FREE"}
    assert app.state.chaos.counts["quota"] == 1


async def test_reset_is_a_transport_error_in_process(market):
    app = create_app(market, chaos="reset=1")
    async with raw_client(app) as c:
        for path in ("/segments", EXPORT):
            with pytest.raises(httpx.RemoteProtocolError):
                await get(c, path)
    assert app.state.chaos.counts["reset"] == 2


async def test_truncated_body_is_a_complete_answer_with_broken_json(market):
    app = create_app(market, chaos="truncate=1")
    async with raw_client(app) as c:
        full = await get(c, "/segments")  # drawn too, but let's compare with a clean app below
        r = await get(c, EXPORT)  # the redirect itself is not truncated...
        d = await download(c, r)  # ...its download is
    async with raw_client(create_app(market)) as c:
        clean = await get(c, "/segments")
    for resp in (full, d):
        assert resp.status_code == 200 and int(resp.headers["content-length"]) == len(resp.content)
        with pytest.raises(ValueError):
            json.loads(resp.content)
    assert clean.content.startswith(full.content) and len(full.content) < len(clean.content)
    assert app.state.chaos.counts["truncate"] == 2


async def test_drift_modes(market):
    async with raw_client(create_app(market)) as c:
        clean_segments = (await get(c, "/segments")).json()
        clean_page = (await get(c, "/positions", params={"start": START, "limit": 5})).json()
    assert clean_page["positions"] and clean_page["nextCursor"]

    app = create_app(market, chaos="drift=1,drift_mode=empty")
    async with raw_client(app) as c:
        page = (await get(c, "/positions", params={"start": START, "limit": 5, "open": "false"})).json()
        assert (await get(c, "/segments")).json() == []
        bias = await download(c, await get(c, EXPORT))
    assert page["positions"] == [] and page["nextCursor"]
    assert bias.json()["data"] == []
    assert app.state.chaos.counts["drift"] == 3 == app.state.chaos.drift_counts["empty"]

    app = create_app(market, chaos="drift=1,drift_mode=extra")
    async with raw_client(app) as c:
        segs = (await get(c, "/segments")).json()
        hist = (await get(c, "/segments/9/bias-history")).json()
    assert all("unexpectedField" in s for s in segs)
    assert [{k: v for k, v in s.items() if k not in ("unexpectedField", "futureFlag")} for s in segs] == clean_segments
    assert "chaosExtraColumn" in hist["historySnapshotStructure"] and "chaosUnknownField" in hist
    width = len(hist["historySnapshotStructure"])
    assert all(len(row) == width for row in hist["history"])

    for mode in ("type", "missing"):
        app = create_app(market, chaos=f"drift=1,drift_mode={mode}")
        async with raw_client(app) as c:
            segs = (await get(c, "/segments")).json()
        assert segs != clean_segments
        changed = [(a, b) for a, b in zip(segs, clean_segments, strict=True) if a != b]
        assert len(changed) == 1
        got, want = changed[0]
        if mode == "missing":
            assert set(got) < set(want)
        else:
            key = next(k for k in want if got[k] != want[k])
            assert type(got[key]) is not type(want[key])
        assert app.state.chaos.drift_counts[mode] == 1


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)


async def test_hostile_strings_in_names(market):
    app = create_app(market, chaos="hostile=1,seed=3")
    async with raw_client(app) as c:
        segs = (await get(c, "/segments")).json()
        heat = (await get(c, "/positions/heatmap")).json()
        breakdown = (await download(c, await get(c, "/exports/coins/BTC/position-breakdown-by-cohort"))).json()
        missing = await get(c, "/exports/coins/NOPE/segment-metrics")  # 404 message too
    clean_names = {"Shrimp", "Fish", "Dolphin"}
    assert any(s["name"] not in clean_names and s["name"] != "" for s in segs)
    found: set[str] = set()
    for doc in (segs, heat, breakdown, missing.json()):
        strings = list(_strings(doc))
        hits = {h for h in HOSTILE_STRINGS if h and any(h in s for s in strings)}
        assert hits, doc if not isinstance(doc, dict) else list(doc)
        found |= hits
    assert any(not row["coin"].replace(":", "").isalnum() for row in heat["heatmap"])  # coin names too
    assert missing.status_code == 404
    assert app.state.chaos.counts["hostile"] == 4  # segments, heatmap, download, 404 (a 302 has no body)
    assert len(found) >= 3

    # over many answers every kind of hostile payload shows up somewhere
    seen: set[str] = set()
    async with raw_client(create_app(market, chaos="hostile=1,seed=1")) as c:
        for _ in range(40):
            for s in _strings((await get(c, "/positions/heatmap")).json()):
                seen.update(h for h in HOSTILE_STRINGS if h and h in s)
    assert {"[bold]", "[@click=app.quit]quit[/]", "\x1b]0;pwned title\x07", "\u202eevil\u202c"} <= seen


async def test_expired_redirect_points_at_an_expired_link(market):
    async with raw_client(create_app(market)) as c:
        clean_loc = (await get(c, EXPORT)).headers["location"]
    app = create_app(market, chaos="expired=1")
    async with raw_client(app) as c:
        r = await get(c, "/segments/9/summary")
        d = await download(c, r)
        assert (await get(c, "/segments")).status_code == 200  # not an export: nothing to expire
        r2 = await get(c, EXPORT)
    assert d.status_code == 403 and b"<Code>AccessDenied</Code>" in d.content and b"Request has expired" in d.content
    q, clean_q = parse_qs(urlsplit(r2.headers["location"]).query), parse_qs(urlsplit(clean_loc).query)
    assert q["X-Amz-Date"][0] < clean_q["X-Amz-Date"][0]
    assert app.state.chaos.counts["expired"] == 2

    # a download can also expire on its own
    inj = ChaosInjector("expired=1")
    out = inj.apply(Plan("download", None, False, "expired", random.Random(0)), 200,
                    [(b"content-type", b"application/json")], b"{}")
    assert out.status == 403 and b"Request has expired" in out.body and inj.counts["expired"] == 1


async def test_drip_sends_the_body_in_many_pieces(market):
    """Without a clock: the simulator's answer reaches the server as one message, the client as
    DRIP_PIECES, each announced as not the last, whose bytes add up to the clean answer."""
    async with raw_client(create_app(market)) as c:
        clean = (await get(c, "/segments")).content
    app = create_app(market, chaos="drip=1,drip_ms=0")
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/api/external/segments", "raw_path": b"/api/external/segments",
             "query_string": b"", "headers": [(b"authorization", b"Bearer t"), (b"host", b"simulator.local")],
             "scheme": "http", "server": ("simulator.local", 80), "client": ("127.0.0.1", 1), "root_path": "",
             "http_version": "1.1", "asgi": {"version": "3.0"}}
    await app(scope, receive, send)
    start, *bodies = sent
    assert start["status"] == 200 and dict(start["headers"])[b"content-length"] == str(len(clean)).encode()
    assert len(bodies) == DRIP_PIECES + 1 and all(m["more_body"] for m in bodies[:-1])
    assert not bodies[-1].get("more_body") and b"".join(m["body"] for m in bodies) == clean
    assert app.state.chaos.counts["drip"] == 1
    assert ChaosSpec.parse("drip=1").drip_ms / DRIP_PIECES < 1000  # each pause: far below a read timeout


async def test_gzip_bomb_is_small_on_the_wire_and_huge_inflated(market):
    async with raw_client(create_app(market)) as c:
        clean = (await get(c, "/positions/heatmap")).content
    app = create_app(market, chaos="bomb=1,bomb_mib=8")
    async with raw_client(app) as c:
        async with c.stream("GET", "/api/external/positions/heatmap", headers=AUTH) as r:
            wire = b"".join([chunk async for chunk in r.aiter_raw()])
    assert r.headers["content-encoding"] == "gzip" and int(r.headers["content-length"]) == len(wire)
    inflated = zlib.decompressobj(31).decompress(wire)
    assert len(wire) < 64 * 1024 and len(inflated) >= 8 * 2**20
    assert inflated.startswith(clean) and json.loads(inflated) == json.loads(clean)  # still the same answer
    assert app.state.chaos.counts["bomb"] == 1


async def _pages(c: httpx.AsyncClient, path: str, params: dict, n: int) -> list[tuple[str, list]]:
    """(nextCursor, items) of `n` pages, each asked for with the cursor of the page before."""
    out, cursor = [], None
    for _ in range(n):
        r = await get(c, path, params={**params, **({"nextCursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        doc = r.json()
        cursor = doc["nextCursor"]
        out.append((cursor, doc.get("positions") or doc.get("history")))
    return out


async def test_cursor_loops_cycle_or_churn_on_repeating_items(market):
    params = {"start": START, "limit": 5}
    async with raw_client(create_app(market)) as c:
        clean = await _pages(c, "/positions", params, 2)
    modes = set()
    for seed in range(6):
        app = create_app(market, chaos=f"loop=1,seed={seed}")
        async with raw_client(app) as c:
            pages = await _pages(c, "/positions", params, 6)
            history = await _pages(c, "/segments/9/bias-history", params, 3)
        cursors = [cursor for cursor, _ in pages]
        assert all(items == clean[0][1] for _, items in pages)  # the first page, over and over
        assert clean[0][0] not in cursors
        if len(set(cursors)) == 2:  # A -> B -> A: never the cursor just sent, yet a loop
            modes.add("cycle")
            assert cursors[0::2] == [cursors[0]] * 3 and cursors[1::2] == [cursors[1]] * 3
        else:  # a new cursor each time, the same items
            modes.add("churn")
            assert len(set(cursors)) == 6
        assert len({str(items) for _, items in history}) == 1 and history[0][1]
        assert app.state.chaos.counts["loop"] == 9  # every looping answer
    assert modes == {"cycle", "churn"}
    async with raw_client(create_app(market, chaos="loop=1")) as c:  # nothing to loop on
        assert (await get(c, "/segments")).status_code == 200


async def test_extreme_numbers_are_beyond_or_at_the_edge_of_a_double(market):
    app = create_app(market, chaos="extreme=1,seed=4")
    found: set[str] = set()
    async with raw_client(app) as c:
        for _ in range(20):
            body = (await get(c, "/9/assets/liquidation-risk")).content
            found |= {t for t in ("-1e309", "1e309", "1.7e+308", "-1.7e+308") if t.encode() in body}
            doc = json.loads(body)  # 1e309 reads as inf
            assert doc["totalCount"] == 42 and all(isinstance(i["coin"], str) for i in doc["items"])
    assert {"1e309", "1.7e+308", "-1.7e+308"} <= found
    assert app.state.chaos.counts["extreme"] == 20


async def test_naive_timestamps_lose_their_zone(market):
    app = create_app(market, chaos="naive=1")
    async with raw_client(app) as c:
        status = (await get(c, "/hypertracker/state/status")).json()
        page = (await get(c, "/positions", params={"start": START, "limit": 2})).json()
    assert set(status) == {"lastUpdate", "nextUpdate", "nextUpdateThreshold"}
    for stamp in (*status.values(), page["positions"][0]["openTime"]):
        assert datetime.fromisoformat(stamp).tzinfo is None
    assert app.state.chaos.counts["naive"] == 2


async def test_status_endpoint_missing(market):
    app = create_app(market, chaos="nostatus=1")
    async with raw_client(app) as c:
        r = await get(c, "/hypertracker/state/status")
        assert (await get(c, "/segments")).status_code == 200  # only state/status is missing
    assert r.status_code == 404
    assert r.json() == {"statusCode": 404, "message": "Cannot GET /api/external/hypertracker/state/status",
                        "error": "Not Found"}
    assert app.state.chaos.counts["nostatus"] == 1 and app.state.chaos.total == 1


async def test_report_path_says_what_was_injected(market):
    app = create_app(market, chaos="nostatus=1,latency=1,latency_ms=0")
    async with raw_client(app) as c:
        await get(c, "/hypertracker/state/status")
        await get(c, "/segments")
        report = (await c.get("/_chaos")).json()
    assert report["requests"] == 2 and report["counts"]["nostatus"] == 1 and report["counts"]["latency"] == 2
    assert report["recent"] == [[1, "/api/external/hypertracker/state/status", "nostatus"],
                                [1, "/api/external/hypertracker/state/status", "latency"],
                                [2, "/api/external/segments", "latency"]]


async def test_latency_is_drawn_and_counted_without_waiting(market):
    app = create_app(market, chaos="latency=1,latency_ms=0")
    async with raw_client(app) as c:
        for _ in range(3):
            assert (await get(c, "/segments")).status_code == 200
    assert app.state.chaos.counts["latency"] == 3
    inj = ChaosInjector("latency=1,latency_ms=2000")
    delays = [inj.plan("api").latency for _ in range(50)]
    assert all(1.0 <= d <= 3.0 for d in delays) and len(set(delays)) > 1


async def test_auth_path_is_never_touched(market):
    spec = "500=0.2,502=0.1,503=0.1,429=0.2,quota=0.1,reset=0.1,truncate=0.1,drift=0.1,hostile=1"
    app = create_app(market, chaos=spec, token="secret")
    async with raw_client(app) as c:
        for _ in range(20):
            r = await c.get("/api/external/segments")
            assert r.status_code == 401 and r.json() == {"statusCode": 401, "message": "Unauthorized"}
            r = await c.get("/api/external/segments", headers={"Authorization": "Bearer wrong"})
            assert r.status_code == 401 and r.json() == {"statusCode": 401, "message": "Unauthorized"}
    assert app.state.chaos.total == 0


async def test_paths_outside_the_api_are_untouched(market):
    app = create_app(market, chaos="500=1,hostile=1")
    async with raw_client(app) as c:
        r = await c.get("/elsewhere")
    assert r.status_code == 404 and app.state.chaos.total == 0


# ---------------------------------------------------------------- determinism, chaos off

SEQUENCE = ["/segments", "/positions/heatmap", "/segments/9/bias-history", EXPORT,
            "/9/assets/liquidation-risk", "/hypertracker/state/status", "/segments/3/summary"]


async def _run(app, rounds: int = 6) -> list[tuple]:
    out = []
    async with raw_client(app) as c:
        for _ in range(rounds):
            for path in SEQUENCE:
                try:
                    r = await get(c, path)
                    if r.status_code == 302:
                        r = await c.get(r.headers["location"])
                    out.append((path, r.status_code, r.content))
                except httpx.TransportError as exc:
                    out.append((path, "reset", type(exc).__name__))
    return out


async def test_same_seed_same_faults(market):
    spec = "storm,seed=11,latency_ms=0"
    a, b = create_app(market, chaos=spec), create_app(market, chaos=spec)
    ra, rb = await _run(a), await _run(b)
    assert ra == rb
    assert a.state.chaos.counts == b.state.chaos.counts and a.state.chaos.total > 5
    assert "requests;" in a.state.chaos.report()
    c = create_app(market, chaos="storm,seed=12,latency_ms=0")
    assert await _run(c) != ra


async def test_chaos_off_is_identical_to_no_chaos(market):
    plain, off, none = create_app(market), create_app(market, chaos="off"), create_app(market, chaos=None)
    assert off.user_middleware == [] == plain.user_middleware
    results = [await _run(app, rounds=1) for app in (plain, off, none)]
    assert results[0] == results[1] == results[2]
    assert all(status == 200 for _, status, _ in results[0])
    assert off.state.chaos.total == 0 and off.state.chaos.counts == {k: 0 for k in KINDS}
    # zero rates given explicitly: same
    assert await _run(create_app(market, chaos="500=0,hostile=0"), rounds=1) == results[0]


# ------------------------------------------------------------------ typed errors in the client

async def _call(client: HyperTrackerClient, what: str):
    if what == "segments":
        return await client.segments()
    if what == "heatmap":
        return await client.heatmap()
    if what == "risk":
        return await client.liquidation_risk(9)
    if what == "bias24h":
        return await client.segments_bias_24h()
    if what == "summary":
        return await client.summary(9)
    if what == "breakdown":
        return await client.position_breakdown("BTC")
    raise AssertionError(what)


@pytest.mark.parametrize("spec, calls, error, check", [
    ("500=1", ("segments", "summary"), errors.ServerError, lambda e: e.status == 500),
    ("502=1", ("heatmap",), errors.ServerError, lambda e: e.status == 502),
    ("503=1", ("risk", "bias24h"), errors.ServerError, lambda e: e.status == 503),
    ("429=1", ("segments", "breakdown"), errors.RateLimitError, lambda e: not e.daily and e.retry_after >= 1),
    ("quota=1", ("heatmap",), errors.RateLimitError, lambda e: e.daily and e.limit == 100 and e.plan == "FREE"),
    ("reset=1", ("segments", "summary", "heatmap"), errors.NetworkError, lambda e: "connection dropped" in str(e)),
    ("truncate=1", ("segments", "risk", "bias24h"), errors.BadResponseError, lambda e: "not valid JSON" in str(e)),
    ("expired=1", ("bias24h", "summary", "breakdown"), errors.ExportExpiredError, lambda e: "expired" in str(e)),
])
async def test_each_fault_is_the_right_typed_error(market, spec, calls, error, check):
    app = create_app(market, chaos=spec)
    async with api_client(app) as client:
        for what in calls:
            with pytest.raises(error) as info:
                await _call(client, what)
            assert check(info.value), info.value
            assert "\n" not in str(info.value)


@pytest.mark.parametrize("spec, calls", [
    ("drift=1,drift_mode=type", ("segments", "heatmap", "risk", "bias24h", "summary")),
    ("drift=1,drift_mode=missing", ("segments", "heatmap", "risk", "breakdown")),
])
async def test_a_drifted_row_is_dropped_and_counted_not_the_answer(market, spec, calls):
    async with api_client(create_app(market)) as client:
        clean = {what: _rows(await _call(client, what)) for what in calls}
    async with api_client(create_app(market, chaos=spec)) as client:
        for what in calls:
            dropped = client.rows_dropped
            assert _rows(await _call(client, what)) == clean[what] - 1, what
            assert client.rows_dropped == dropped + 1


def _rows(answer) -> int:
    """The rows of the list chaos drifts in (its main list: the legend, heatmap, items, data...)."""
    if isinstance(answer, list):
        return len(answer)
    for name in ("heatmap", "items", "data", "top_open_perps"):
        if hasattr(answer, name):
            return len(getattr(answer, name))
    raise AssertionError(answer)


async def test_tolerable_drift_and_hostile_strings_pass_the_client(market):
    async with api_client(create_app(market)) as client:
        clean = await client.segments()
    async with api_client(create_app(market, chaos="drift=1,drift_mode=extra")) as client:
        assert await client.segments() == clean
        assert (await client.bias_history(9)).snapshots
        assert (await client.segments_bias_24h()).data[0].snapshots
    async with api_client(create_app(market, chaos="drift=1,drift_mode=empty")) as client:
        pages = [p async for p in client.iter_positions(start=START, page_size=5)]
        assert pages == [] and (await client.heatmap()).heatmap == []
    async with api_client(create_app(market, chaos="hostile=1")) as client:
        for _ in range(5):
            names = [s.name for s in await client.segments()] + [r.coin for r in (await client.heatmap()).heatmap]
            assert not any("\x1b" in n or "\u202e" in n or "\x00" in n for n in names)


async def test_client_retries_ride_out_transient_chaos(market):
    if "retries" not in inspect.signature(HyperTrackerClient).parameters:
        pytest.skip("client without retries")

    async def no_sleep(_seconds: float) -> None:
        return None

    app = create_app(market, chaos="reset=0.15,500=0.1,503=0.05,expired=0.15,seed=5")
    async with api_client(app, retries=20, sleep=no_sleep) as client:
        for _ in range(10):
            assert len(await client.segments()) == 16
            assert (await client.segments_bias_24h()).data
    counts = app.state.chaos.counts
    assert counts["reset"] and counts["500"] and counts["expired"]


def _all_calls(c: HyperTrackerClient) -> list:
    return [c.segments, c.heatmap, lambda: c.liquidation_risk(9), c.segments_bias_24h, lambda: c.summary(9),
            lambda: c.position_breakdown("BTC"), lambda: c.segment_metrics("BTC"), lambda: c.bias_history(9),
            lambda: c.position_metrics("BTC", 9, start="2026-11-01T00:00:00.000Z"), c.state_status,
            lambda: c.positions(start=START, limit=50)]


async def test_storm_soak_only_typed_errors_escape(market):
    app = create_app(market, chaos="storm,latency_ms=0,seed=9")
    outcomes: dict[str, int] = {}
    async with api_client(app) as client:
        for _ in range(15):
            for call in _all_calls(client):
                try:
                    await call()
                    name = "ok"
                except errors.ApiError as exc:  # anything else fails the test
                    name = type(exc).__name__
                    assert "\n" not in str(exc)
                outcomes[name] = outcomes.get(name, 0) + 1
    assert outcomes.get("ok", 0) > 50 and len(outcomes) >= 5, outcomes
    assert app.state.chaos.total > 30, app.state.chaos.report()


async def test_hostile_preset_never_fails_the_client(market):
    app = create_app(market, chaos="hostile,seed=2")
    async with api_client(app) as client:
        for _ in range(5):
            for call in _all_calls(client):
                await call()
    counts = app.state.chaos.counts
    assert counts["hostile"] > 20 and counts["drift"] > 0
    assert app.state.chaos.total == counts["hostile"] + counts["drift"]


# ------------------------------------------------------------------------- over a real socket

def test_reset_over_a_real_socket_drops_the_connection(market):
    import uvicorn

    app = create_app(market, chaos="reset=1")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/external", headers=AUTH) as c:
            for path in ("/segments", EXPORT):
                with pytest.raises(httpx.RemoteProtocolError, match="peer closed"):
                    c.get(path)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert app.state.chaos.counts["reset"] == 2
    assert issubclass(ChaosConnectionReset, httpx.TransportError)


def test_the_simulator_stops_without_waiting_out_a_drip():
    """`hypertui sim` stops on Ctrl+C though a drip still holds an answer (for ten minutes here)."""
    import signal
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "hypertui", "sim", "--port", str(port), "--scale", "small",
                             "--chaos", "drip=1,drip_ms=600000"], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "hypertui sim did not start"
                time.sleep(0.05)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/external", headers=AUTH) as c:
            with c.stream("GET", "/segments") as r:  # the headers at once, the body over ten minutes
                assert r.status_code == 200
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=60)  # TimeoutExpired: it waits for the drip to end
    finally:
        proc.kill()
        proc.wait()
