"""HTTP-level tests of the simulator through httpx's in-process ASGI transport."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from urllib.parse import urlsplit

import httpx
import pytest

from hypertui.clock import FrozenClock
from hypertui.sim import Market, create_app
from hypertui.source import SIM_BASE_URL

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
AUTH = {"Authorization": "Bearer test-token"}
START = "2025-04-04T00:00:00.000Z"


def client_for(app, **kw) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SIM_BASE_URL, **kw)


@pytest.fixture(scope="module")
def shared_market() -> Market:
    return Market(seed=7, scale="small", clock=FrozenClock(T0))


@pytest.fixture
async def client(shared_market):
    async with client_for(create_app(shared_market), headers=AUTH) as c:
        yield c


async def fetch_export(c: httpx.AsyncClient, path: str, **params):
    r = await c.get(path, params=params)
    assert r.status_code == 302, r.text
    loc = r.headers["location"]
    assert urlsplit(loc).hostname != urlsplit(str(r.request.url)).hostname
    d = await c.get(loc, headers={"Authorization": ""})
    assert d.status_code == 200, d.text
    return d.json()


# ----------------------------------------------------------------------------- auth & errors

async def test_auth(shared_market) -> None:
    app = create_app(shared_market)
    async with client_for(app) as c:
        r = await c.get("/segments")
        assert r.status_code == 401 and r.json() == {"statusCode": 401, "message": "Unauthorized"}
        assert (await c.get("/segments", headers={"Authorization": "Bearer "})).status_code == 401
        assert (await c.get("/segments", headers={"Authorization": "Bearer anything"})).status_code == 200
    async with client_for(create_app(shared_market, token="secret")) as c:
        assert (await c.get("/segments", headers={"Authorization": "Bearer anything"})).status_code == 401
        assert (await c.get("/segments", headers={"Authorization": "Bearer secret"})).status_code == 200


async def test_validation_bodies(client) -> None:
    r = await client.get("/positions")
    assert r.status_code == 400
    assert r.json() == {"errors": [{"property": "start", "errors": ["start must be a valid ISO 8601 date string"]}]}
    for bad in ("1700000000000", "yesterday", "2026-13-45"):
        r = await client.get("/positions", params={"start": bad})
        assert r.status_code == 400 and r.json()["errors"][0]["property"] == "start"
    r = await client.get("/positions", params={"start": START, "limit": 1001})
    assert r.json() == {"errors": [{"property": "limit", "errors": ["limit must not be greater than 1000"]}]}
    r = await client.get("/positions", params={"start": START, "limit": 0})
    assert r.json()["errors"][0]["errors"] == ["limit must not be less than 1"]
    r = await client.get("/positions", params={"start": START, "segmentId": 17})
    assert r.status_code == 400 and r.json()["errors"][0]["property"] == "segmentId"
    r = await client.get("/positions", params={"start": START, "open": "yes"})
    assert r.json()["errors"] == [{"property": "open", "errors": ["open must be a boolean value"]}]
    r = await client.get("/positions", params={"start": START, "nextCursor": "garbage!"})
    assert r.status_code == 400 and r.json()["errors"][0]["property"] == "nextCursor"
    r = await client.get("/positions", params={"start": START, "end": "1700000000000"})
    assert r.json()["errors"][0]["property"] == "end"
    r = await client.get("/9/assets/liquidation-risk", params={"limit": 501})
    assert r.json()["errors"][0]["errors"] == ["limit must not be greater than 500"]
    r = await client.get("/segments/9/bias-history", params={"limit": 10})
    assert r.status_code == 400 and r.json()["errors"][0]["property"] == "start"
    r = await client.get("/position-metrics/coin/BTC/segment/9")
    assert r.status_code == 400 and r.json()["errors"][0]["property"] == "start"
    r = await client.get("/segments/99/bias-history")
    assert r.status_code == 404 and r.json()["statusCode"] == 404
    r = await client.get("/99/assets/liquidation-risk")
    assert r.status_code == 404


# ----------------------------------------------------------------------------- shapes

async def test_segments_legend(client) -> None:
    segs = (await client.get("/segments")).json()
    assert isinstance(segs, list) and len(segs) == 16
    by = {s["id"]: s for s in segs}
    assert by[16] == {"id": 16, "name": "Shrimp", "emoji": "🦐", "category": "size", "criteria": {"minSize": 0, "maxSize": 250}}
    assert by[7]["criteria"] == {"minSize": 5000000}
    assert by[8]["criteria"] == {"minPnl": 1000000}
    assert by[15]["criteria"] == {"maxPnl": -1000000}
    assert by[10]["name"] == "Grinder"
    assert by[9]["criteria"] == {"minPnl": 100000, "maxPnl": 1000000}


async def test_status(client, shared_market) -> None:
    s = (await client.get("/hypertracker/state/status")).json()
    assert set(s) == {"lastUpdate", "nextUpdate", "nextUpdateThreshold"}
    assert s["lastUpdate"].endswith("Z") and len(s["lastUpdate"]) == 24


async def test_summary_shape_and_variants(client) -> None:
    full = await fetch_export(client, "/segments/9/summary")
    assert full["segment"]["id"] == 9
    s, o = full["summary"], full["openPerpsSummary"]
    for k in ("countTraders", "countTradersInPosition", "perpBias", "positionValue", "positionLongValue",
              "positionShortValue", "exposureRatio", "activePerpEquity", "perpEquity"):
        assert k in s
    for k in ("perpBias", "exposureRatio", "countOpenPositions", "countTradersInPosition", "countTradersInProfit",
              "totalValue", "totalLongValue", "totalActivePerpEquity", "totalPerpEquity", "countAssets", "bySide"):
        assert k in o
    assert isinstance(full["countTraders24HoursAgo"], int)
    assert 1 <= len(full["topOpenPerps"]) <= 10
    vals = [t["totalValue"] for t in full["topOpenPerps"]]
    assert vals == sorted(vals, reverse=True)
    ape = s["activePerpEquity"]
    assert s["perpBias"] == pytest.approx((s["positionLongValue"] - s["positionShortValue"]) / ape, abs=1e-4)
    assert s["exposureRatio"] == pytest.approx(s["positionValue"] / ape, abs=1e-4)
    d24 = await fetch_export(client, "/segments/9/summary", positionAge="24h")
    assert "countTraders" not in d24["summary"] and "perpEquity" not in d24["summary"]
    assert "totalPerpEquity" not in d24["openPerpsSummary"] and "countAssets" not in d24["openPerpsSummary"]
    assert d24["summary"]["positionValue"] < s["positionValue"]
    r = await client.get("/segments/9/summary", params={"positionAge": "1y"})
    assert r.status_code == 302
    d = await client.get(r.headers["location"])
    assert d.status_code == 404 and "<Code>NoSuchKey</Code>" in d.text


async def test_bias_history(client) -> None:
    h = (await client.get("/segments/9/bias-history")).json()
    assert "nextCursor" not in h and "pageStart" not in h
    assert h["segment"] == {"id": 9, "name": "Smart Money", "category": "pnl", "criteria": {"minPnl": 100000, "maxPnl": 1000000}}
    cols = h["historySnapshotStructure"]
    assert cols[0] == "timestamp" and len(h["history"]) > 600
    row = dict(zip(cols, h["history"][1]))
    assert row["timestamp"][14:16] == "10"
    assert row["bias"] == pytest.approx((row["openLongValue"] - row["openShortValue"]) / row["activePerpEquity"], abs=1e-4)
    # paging with start
    seen = []
    params = {"start": "2026-11-01T00:00:00.000Z", "limit": 50}
    while True:
        p = (await client.get("/segments/9/bias-history", params=params)).json()
        assert "pageStart" in p and "pageEnd" in p
        if p["history"]:
            assert p["pageStart"] == p["history"][0][0] and p["pageEnd"] == p["history"][-1][0]
        seen += [r[0] for r in p["history"]]
        if not p["nextCursor"] or not p["history"]:
            break
        params["nextCursor"] = p["nextCursor"]
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen))
    assert 19 * 12 < len(seen) < 21 * 12
    h24 = (await client.get("/segments/9/bias-history", params={"positionRecencyTimeframe": "24h"})).json()
    assert h24["positionRecencyTimeframe"] == "24h" and h24["history"][0] != h["history"][0]


async def test_positions_cursor_ignored_and_paging_matches_heatmap(client, shared_market) -> None:
    hm = (await client.get("/positions/heatmap")).json()["heatmap"]
    # pick a mid-sized coin and a cohort present on it
    coin_row = hm[3]
    seg = coin_row["segments"][0]
    params = {"start": START, "coin": coin_row["coin"], "segmentId": seg["segmentId"], "open": "true", "limit": 37}
    ids, keys = [], []
    first = None
    while True:
        r = await client.get("/positions", params=params)
        assert r.status_code == 200
        page = r.json()
        first = first or page
        for p in page["positions"]:
            assert p["coin"] == coin_row["coin"] and p["closeTime"] is None
            assert seg["segmentId"] in p["profile"]["segments"]
            ids.append(p["id"])
            keys.append((p["openTime"], p["id"]))
        if not page["nextCursor"] or not page["positions"]:
            break
        params["nextCursor"] = page["nextCursor"]
    assert len(ids) == len(set(ids)) == seg["count"]
    assert keys == sorted(keys)
    # `cursor` is silently ignored: page 1 again
    p1 = {k: v for k, v in params.items() if k != "nextCursor"}
    again = (await client.get("/positions", params={**p1, "cursor": first["nextCursor"]})).json()
    assert again == first


async def test_positions_history_and_fields(client, shared_market) -> None:
    page = (await client.get("/positions", params={"start": START, "limit": 1000})).json()
    assert len(page["positions"]) == 1000 and page["nextCursor"]
    base64.urlsafe_b64decode(page["nextCursor"] + "==")
    p = page["positions"][0]
    for k in ("id", "address", "coin", "dex", "side", "size", "entryPrice", "markPrice", "midPrice", "premiumPrice",
              "positionValue", "liquidationPrice", "unrealizedPnl", "funding", "crossLeverage", "isolatedLeverage",
              "maxLeverage", "assetMaxLeverage", "szDecimals", "openTime", "closeTime", "createdAt", "updatedAt", "profile"):
        assert k in p
    assert p["closeTime"] is not None and p["openTime"].startswith("2025-04-04")
    assert min(p["crossLeverage"], p["isolatedLeverage"]) == 0
    # open=false excludes open positions; addresses lowercase only
    closed = (await client.get("/positions", params={"start": START, "open": "false", "limit": 50})).json()
    assert all(x["closeTime"] for x in closed["positions"])
    addr = p["address"]
    mine = (await client.get("/positions", params={"start": START, "address": addr, "limit": 1000})).json()
    assert mine["positions"] and all(x["address"] == addr for x in mine["positions"])
    upper = (await client.get("/positions", params={"start": START, "address": addr.upper().replace("0X", "0x")})).json()
    assert upper["positions"] == []
    other = page["positions"][1]["address"]
    both = (await client.get("/positions", params=[("start", START), ("address", addr), ("address", other), ("limit", 1000)])).json()
    assert {x["address"] for x in both["positions"]} == {addr, other}
    # wrong-case coin is empty, not an error
    r = await client.get("/positions", params={"start": START, "coin": "btc"})
    assert r.status_code == 200 and r.json()["positions"] == []
    r = await client.get("/position-metrics/coin/btc/segment/9", params={"start": START})
    assert r.status_code == 200 and r.json()["metrics"] == []


async def test_cross_endpoint_invariants(client, shared_market) -> None:
    hm = (await client.get("/positions/heatmap")).json()["heatmap"]
    vals = [c["totalValue"] for c in hm]
    assert vals == sorted(vals, reverse=True)
    size_ids = {16, 1, 2, 3, 4, 5, 6, 7}
    for c in hm:
        assert c["totalLongValue"] == c["totalShortValue"] == pytest.approx(c["totalValue"] / 2, abs=0.02)
        assert c["count"] == c["countLong"] + c["countShort"]
        for axis in (size_ids, set(range(8, 16))):
            segs = [s for s in c["segments"] if s["segmentId"] in axis]
            assert sum(s["totalValue"] for s in segs) == pytest.approx(c["totalValue"], rel=1e-9, abs=0.1)
            assert sum(s["count"] for s in segs) == c["count"]
        # long size == short size across the coin: long value == short value
        longs = sum(s["totalLongValue"] for s in c["segments"] if s["segmentId"] in size_ids)
        shorts = sum(s["totalShortValue"] for s in c["segments"] if s["segmentId"] in size_ids)
        assert longs == pytest.approx(shorts, rel=1e-9, abs=0.1)
    by_coin = {c["coin"]: {s["segmentId"]: s for s in c["segments"]} for c in hm}
    # liquidation risk totals == heatmap cells
    risk = (await client.get("/9/assets/liquidation-risk", params={"limit": 500})).json()
    holding = [c for c in by_coin if 9 in by_coin[c]]
    assert risk["totalCount"] == len(holding) == len(risk["items"])
    keys = [(-i["percentRisk"], i["coin"]) for i in risk["items"]]
    assert keys == sorted(keys)
    for it in risk["items"]:
        assert it["totalValue"] == by_coin[it["coin"]][9]["totalValue"]
        assert it["percentRisk"] == round(100 * it["riskValue"] / it["totalValue"], 2) or abs(
            it["percentRisk"] - 100 * it["riskValue"] / it["totalValue"]) < 0.006
    page2 = (await client.get("/9/assets/liquidation-risk", params={"offset": 5, "limit": 5})).json()
    assert page2["items"] == risk["items"][5:10]
    # summary long/short == sums over heatmap
    summ = await fetch_export(client, "/segments/9/summary")
    lv = sum(by_coin[c][9]["totalLongValue"] for c in holding)
    sv = sum(by_coin[c][9]["totalShortValue"] for c in holding)
    assert summ["summary"]["positionLongValue"] == pytest.approx(lv, abs=1)
    assert summ["summary"]["positionShortValue"] == pytest.approx(sv, abs=1)
    assert summ["openPerpsSummary"]["countAssets"] == len(holding)
    assert summ["openPerpsSummary"]["countOpenPositions"] == sum(by_coin[c][9]["count"] for c in holding)
    # breakdown == heatmap segments, for a case-insensitive coin
    coin = hm[0]["coin"]
    bd = await fetch_export(client, f"/exports/coins/{coin.lower()}/position-breakdown-by-cohort")
    assert bd["coin"] == coin
    for row in bd["data"]:
        cell = by_coin[coin].get(row["segment"]["id"])
        if cell is None:
            assert row["positionCount"] == 0
            continue
        assert row["positionCount"] == cell["count"]
        assert row["totalPositionValue"] == cell["totalValue"]
        assert row["totalPositionValueLong"] == cell["totalLongValue"]
        assert row["bias"] == cell["bias"]
        assert isinstance(row["pastPositionCount"], int) and row["valueCloseToLiquidation"] >= 0
    # latest position-metrics row == heatmap cell
    pm = (await client.get(f"/position-metrics/coin/{coin}/segment/9", params={"start": "2026-11-19T00:00:00.000Z"})).json()
    latest = pm["metrics"][0]
    assert latest["positionCount"] == by_coin[coin][9]["count"]
    assert latest["totalPositionValue"] == by_coin[coin][9]["totalValue"]
    assert latest["totalPositionValueLong"] == by_coin[coin][9]["totalLongValue"]
    ts = [m["createdAt"] for m in pm["metrics"]]
    assert ts == sorted(ts, reverse=True) and 60 <= len(ts) <= 80
    # segment metrics export: newest row == heatmap cell, ~7 days of 12-hourly rows
    sm = await fetch_export(client, f"/exports/coins/{coin}/segment-metrics")
    one = next(d for d in sm["data"] if d["segment"]["id"] == 9)
    cols = one["metrics"]["columns"]
    row = dict(zip(cols, one["metrics"]["data"][0]))
    assert row["positionCount"] == by_coin[coin][9]["count"]
    assert 14 <= len(one["metrics"]["data"]) <= 16
    # openedWithin filters on openTime
    hm24 = (await client.get("/positions/heatmap", params={"openedWithin": "24h"})).json()["heatmap"]
    assert sum(c["count"] for c in hm24) < sum(c["count"] for c in hm)


async def test_bias_charts_and_exports_404(client) -> None:
    bc = await fetch_export(client, "/exports/segments-bias-charts-data-24h")
    assert len(bc["data"]) == 16
    h = bc["data"][0]["history"]
    assert h["columns"][0] == "timestamp" and 70 <= len(h["data"]) <= 74
    r = await client.get("/exports/coins/xyz:nothing/position-breakdown-by-cohort")
    assert r.status_code == 404
    assert r.json() == {"statusCode": 404, "message": "XYZ:NOTHING not found", "error": "Not Found"}
    gold = await fetch_export(client, "/exports/coins/XYZ:GOLD/segment-metrics-24h")
    assert gold["coin"] == "xyz:GOLD"


async def test_redirect_expires_and_api_host_does_not_serve() -> None:
    clk = FrozenClock(T0)
    app = create_app(seed=7, scale="small", clock=clk)
    async with client_for(app, headers=AUTH) as c:
        r = await c.get("/exports/coins/BTC/position-breakdown-by-cohort")
        loc = r.headers["location"]
        u = urlsplit(loc)
        assert u.hostname == "downloads.simulator.local" and "X-Amz-Expires=30" in loc
        assert (await c.get(f"http://simulator.local{u.path}?{u.query}")).status_code == 404
        clk.advance(29)
        assert (await c.get(loc)).status_code == 200
        clk.advance(2)
        d = await c.get(loc)
        assert d.status_code == 403 and d.headers["content-type"].startswith("application/xml")
        assert d.text == ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
                          "<Message>Request has expired</Message></Error>")
        g = await c.get("/exports/segments-bias-charts-data-24h")
        assert "X-Amz-Expires=120" in g.headers["location"]
        clk.advance(100)
        assert (await c.get(g.headers["location"])).status_code == 200
        tampered = loc.replace("X-Amz-Expires=30", "X-Amz-Expires=3000")
        assert (await c.get(tampered)).status_code == 403
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8787") as c:
        r = await c.get("/api/external/exports/segments-bias-charts-data-24h", headers=AUTH)
        assert r.headers["location"].startswith("http://localhost:8787/downloads/")


async def test_determinism_over_http() -> None:
    outs = []
    for _ in range(2):
        async with client_for(create_app(seed=11, scale="small", clock=FrozenClock(T0)), headers=AUTH) as c:
            outs.append([
                (await c.get("/positions/heatmap")).content,
                (await c.get("/positions", params={"start": START, "limit": 300})).content,
                (await c.get("/segments/13/bias-history")).content,
                (await c.get("/13/assets/liquidation-risk")).content,
            ])
    assert outs[0] == outs[1]


async def test_ticks_change_http_aggregates() -> None:
    clk = FrozenClock(T0)
    m = Market(seed=7, scale="small", clock=clk, update_interval=15)
    async with client_for(create_app(m), headers=AUTH) as c:
        h0 = (await c.get("/positions/heatmap")).json()
        s0 = (await c.get("/hypertracker/state/status")).json()
        clk.advance(15)
        h1 = (await c.get("/positions/heatmap")).json()
        s1 = (await c.get("/hypertracker/state/status")).json()
        assert m.tick_count == 1 and h0 != h1 and s1["lastUpdate"] > s0["lastUpdate"]
        assert h0["heatmap"][0]["totalValue"] != h1["heatmap"][0]["totalValue"]


async def test_rate_limit_and_quota() -> None:
    clk = FrozenClock(T0)
    m = Market(seed=7, scale="small", clock=clk)
    async with client_for(create_app(m, rate_limit_per_minute=3), headers=AUTH) as c:
        for _ in range(3):
            assert (await c.get("/segments")).status_code == 200
        clk.advance(18)
        r = await c.get("/segments")
        assert r.status_code == 429 and r.headers["retry-after"] == "42"
        assert r.json() == {"error": "rate_limit_exceeded", "message": "Rate limit exceeded, retry in 42 seconds",
                            "retry_after": 42}
        clk.advance(43)
        assert (await c.get("/segments")).status_code == 200
    async with client_for(create_app(m, daily_quota=2), headers=AUTH) as c:
        assert (await c.get("/segments")).status_code == 200
        assert (await c.get("/segments")).status_code == 200
        r = await c.get("/segments")
        assert r.status_code == 429 and r.json() == {"limit": 2, "current": 2, "plan": "FREE"}


async def test_cursor_stable_across_ticks_and_concurrency() -> None:
    import asyncio

    clk = FrozenClock(T0)
    m = Market(seed=5, scale="small", clock=clk, update_interval=15)
    async with client_for(create_app(m), headers=AUTH) as c:
        params = {"start": "2026-11-01T00:00:00.000Z", "coin": "BTC", "limit": 200}
        keys = []
        while True:
            page = (await c.get("/positions", params=params)).json()
            keys += [(p["openTime"], p["id"]) for p in page["positions"]]
            if not page["nextCursor"] or not page["positions"]:
                break
            params["nextCursor"] = page["nextCursor"]
            clk.advance(15)  # a state update between pages
        assert m.tick_count >= 3
        assert keys == sorted(keys) and len(keys) == len(set(keys))
        # concurrent requests while ticks are due: all succeed, consistent heatmap
        clk.advance(60)
        rs = await asyncio.gather(*[c.get("/positions/heatmap") for _ in range(6)],
                                  *[c.get("/9/assets/liquidation-risk") for _ in range(6)])
        assert all(r.status_code == 200 for r in rs)
        assert len({r.content for r in rs[:6]}) == 1
        r = await c.get("/positions/heatmap", params={"coin": "btc"})
        assert r.status_code == 200 and r.json() == {"heatmap": []}
        r = await c.get("/positions/heatmap", params={"openedWithin": "1y"})
        assert r.status_code == 400 and r.json()["errors"][0]["property"] == "openedWithin"
