"""Every endpoint through the real client against the simulator, in-process and over a loopback socket."""

import socket
import threading
from datetime import timedelta

import httpx
import pytest

from hypertui.api.client import HyperTrackerClient
from hypertui.api.errors import AuthError, BadRequestError, ExportExpiredError, NotFoundError
from hypertui.api.models import ordered_by_range
from hypertui.sim import Market, create_app
from hypertui.source import SIM_BASE_URL, simulator_client
from tests.conftest import FROZEN_NOW, SEED, FrozenClock


@pytest.fixture(scope="module")
def market():
    return Market(seed=SEED, scale="small", clock=FrozenClock(FROZEN_NOW))


@pytest.fixture(scope="module")
def loopback_url(market):
    """A real uvicorn server on 127.0.0.1; the socket is bound before the thread starts."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(market), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/api/external"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(params=["in-process", "loopback"])
async def client(request, market):
    if request.param == "in-process":
        c = HyperTrackerClient(SIM_BASE_URL, "t", transport=httpx.ASGITransport(app=create_app(market)))
    else:
        c = HyperTrackerClient(request.getfixturevalue("loopback_url"), "t")
    async with c:
        yield c


async def test_every_endpoint_round_trips(client):
    segments = await client.segments()
    assert len(segments) == 16
    assert [s.name for s in ordered_by_range(segments, "size")][:2] == ["Shrimp", "Fish"]
    summary = await client.summary(9)
    assert summary.segment.id == 9 and summary.summary.count_traders is not None
    assert len(summary.top_open_perps) <= 10
    summary_24h = await client.summary(9, "24h")
    assert summary_24h.summary.count_traders is None  # the 24h variant omits it
    heatmap = await client.heatmap()
    coin = heatmap.heatmap[0].coin
    positions = await client.positions(start=FROZEN_NOW - timedelta(days=400), coin=coin, limit=50)
    assert 0 < len(positions.positions) <= 50 and positions.next_cursor
    history = await client.bias_history(9)
    assert history.snapshots and history.segment.id == 9
    breakdown = await client.position_breakdown(coin.lower() if ":" not in coin else coin)
    assert {row.segment.id for row in breakdown.data} <= set(range(1, 17))
    metrics = await client.segment_metrics(coin)
    assert metrics.data and metrics.data[0].rows
    pm = await client.position_metrics(coin, 9, start=FROZEN_NOW - timedelta(days=2), limit=10)
    assert pm.metrics
    risk = await client.liquidation_risk(9, limit=5)
    assert risk.total_count >= len(risk.items) > 0
    bias24 = await client.segments_bias_24h()
    assert len(bias24.data) == 16 and bias24.data[0].snapshots
    status = await client.state_status()
    assert status.last_update is not None and status.next_update > status.last_update


async def test_errors_through_the_simulator(client):
    with pytest.raises(BadRequestError, match="start must be a valid ISO 8601 date string"):
        await client.positions(start="yesterday")
    with pytest.raises(NotFoundError, match="NOPE not found"):
        await client.position_breakdown("NOPE")
    no_token = HyperTrackerClient(client.base_url, None, transport=client._http._transport)
    with pytest.raises(AuthError):
        await no_token.segments()


async def test_no_authorization_reaches_the_download_host(market):
    seen = []
    inner = httpx.ASGITransport(app=create_app(market))

    class Spy(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            seen.append((request.url.host, request.headers.get("authorization")))
            return await inner.handle_async_request(request)

    async with HyperTrackerClient(SIM_BASE_URL, "t", transport=Spy()) as c:
        await c.summary(3)
    (api_host, api_auth), (dl_host, dl_auth) = seen
    assert api_host != dl_host and api_auth == "Bearer t" and dl_auth is None


async def test_expired_export_link():
    clock = FrozenClock(FROZEN_NOW)
    app = create_app(Market(seed=SEED, scale="small", clock=clock))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://simulator.local") as http:
        r = await http.get("/api/external/exports/segments-bias-charts-data-24h", headers={"Authorization": "Bearer t"})
        assert r.status_code == 302
    clock.advance(600)

    class Replay(httpx.AsyncBaseTransport):
        """Hands the client the link issued ten minutes ago."""

        async def handle_async_request(self, request):
            if "downloads" in request.url.path:
                return await httpx.ASGITransport(app=app).handle_async_request(request)
            return httpx.Response(302, headers={"Location": r.headers["location"]})

    async with HyperTrackerClient(SIM_BASE_URL, "t", transport=Replay(), retries=0) as c:
        with pytest.raises(ExportExpiredError):
            await c.segments_bias_24h()


async def test_paging_a_full_result_gives_each_item_once(market):
    async with HyperTrackerClient(SIM_BASE_URL, "t", transport=httpx.ASGITransport(app=create_app(market))) as c:
        heatmap = await c.heatmap()
        row = heatmap.heatmap[3]
        cell = row.segments[0]
        ids, times = [], []
        async for page in c.iter_positions(
            page_size=97, start="2025-04-04T00:00:00.000Z", coin=row.coin, segment_id=cell.segment_id, open=True
        ):
            ids += [p.id for p in page.positions]
            times += [p.open_time for p in page.positions]
    assert len(ids) == len(set(ids)) == cell.count
    assert times == sorted(times)


async def test_in_process_source_builds_market_lazily(clock):
    client = simulator_client(seed=SEED, scale="small", clock=clock)
    async with client:
        assert len(await client.segments()) == 16
    assert client.requests_made == 1
