"""The contract's invariants hold across endpoints, because the simulator derives every aggregate
from the same wallets and positions. Checked through the real client."""

from datetime import timedelta

import httpx
import pytest

from hypertui.api.client import HyperTrackerClient
from hypertui.sim import Market, create_app
from hypertui.source import SIM_BASE_URL
from tests.conftest import FROZEN_NOW, SEED, FrozenClock

REL = 1e-6


@pytest.fixture(scope="module")
def app():
    return create_app(Market(seed=SEED, scale="small", clock=FrozenClock(FROZEN_NOW)))


@pytest.fixture
async def client(app):
    async with HyperTrackerClient(SIM_BASE_URL, "t", transport=httpx.ASGITransport(app=app)) as c:
        yield c


async def test_heatmap_axes_each_sum_to_the_coin_total(client):
    segments = {s.id: s.category for s in await client.segments()}
    for row in (await client.heatmap()).heatmap:
        assert row.total_long_value == pytest.approx(row.total_short_value, rel=REL)
        assert row.total_value == pytest.approx(row.total_long_value + row.total_short_value, rel=REL)
        assert row.count == row.count_long + row.count_short
        for axis in ("size", "pnl"):
            cells = [c for c in row.segments if segments[c.segment_id] == axis]
            assert sum(c.total_value for c in cells) == pytest.approx(row.total_value, rel=REL)
            assert sum(c.count for c in cells) == row.count
        for c in row.segments:
            assert c.bias == pytest.approx(c.total_long_value / c.total_value, abs=1e-4)


async def test_summary_risk_breakdown_and_metrics_agree_with_the_heatmap(client):
    heatmap = (await client.heatmap()).heatmap
    for seg_id in (16, 4, 9, 12):
        cells = {row.coin: row.cell(seg_id) for row in heatmap if row.cell(seg_id)}
        summary = await client.summary(seg_id)
        figures, perps = summary.summary, summary.open_perps_summary
        assert figures.position_long_value == pytest.approx(sum(c.total_long_value for c in cells.values()), rel=REL)
        assert figures.position_short_value == pytest.approx(sum(c.total_short_value for c in cells.values()), rel=REL)
        assert figures.perp_bias == pytest.approx(
            (figures.position_long_value - figures.position_short_value) / figures.active_perp_equity, abs=1e-4
        )
        assert figures.exposure_ratio == pytest.approx(figures.position_value / figures.active_perp_equity, abs=1e-4)
        assert perps.count_open_positions == sum(c.count for c in cells.values())
        assert perps.count_assets == len(cells)
        top = [(a.coin, a.total_value) for a in summary.top_open_perps]
        expected = sorted(((coin, c.total_value) for coin, c in cells.items()), key=lambda x: -x[1])[:10]
        assert [coin for coin, _ in top] == [coin for coin, _ in expected]

        risk = await client.liquidation_risk(seg_id, limit=500)
        assert risk.total_count == len(cells)
        for item in risk.items:
            assert item.total_value == pytest.approx(cells[item.coin].total_value, rel=REL)
            assert 0 <= item.risk_value <= item.total_value * (1 + REL)
        assert [i.percent_risk for i in risk.items] == sorted((i.percent_risk for i in risk.items), reverse=True)

    for row in heatmap[:3]:
        breakdown = {b.segment.id: b for b in (await client.position_breakdown(row.coin)).data}
        for cell in row.segments:
            assert breakdown[cell.segment_id].position_count == cell.count
            assert breakdown[cell.segment_id].total_position_value == pytest.approx(cell.total_value, rel=REL)
        cell = row.segments[0]
        latest = (await client.position_metrics(row.coin, cell.segment_id, start=FROZEN_NOW - timedelta(days=1))).metrics[0]
        assert latest.position_count == cell.count
        assert latest.total_position_value == pytest.approx(cell.total_value, rel=REL)


async def test_open_positions_page_count_matches_heatmap_count(client):
    row = (await client.heatmap()).heatmap[1]
    cell = row.segments[-1]
    seen = 0
    async for page in client.iter_positions(start="2025-04-04T00:00:00.000Z", coin=row.coin, segment_id=cell.segment_id, open=True):
        for p in page.positions:
            assert p.coin == row.coin and p.is_open and cell.segment_id in p.profile.segments
        seen += len(page.positions)
    assert seen == cell.count


async def test_newest_bias_history_row_is_the_live_summary(client):
    summary = await client.summary(9)
    newest = (await client.bias_history(9)).snapshots[0]
    assert newest.bias == pytest.approx(summary.summary.perp_bias, abs=1e-4)


async def test_a_state_update_changes_what_the_dashboard_shows():
    clock = FrozenClock(FROZEN_NOW)
    app = create_app(Market(seed=SEED, scale="small", clock=clock, update_interval=15))
    async with HyperTrackerClient(SIM_BASE_URL, "t", transport=httpx.ASGITransport(app=app)) as c:
        before = await c.heatmap()
        summary_before = await c.summary(9)
        clock.advance(15)
        after = await c.heatmap()
        summary_after = await c.summary(9)
    assert before != after
    assert summary_before.summary.perp_bias != summary_after.summary.perp_bias


async def test_same_seed_same_clock_same_answers():
    bodies = []
    for _ in range(2):
        app = create_app(Market(seed=SEED, scale="small", clock=FrozenClock(FROZEN_NOW)))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://simulator.local") as http:
            r = await http.get("/api/external/positions/heatmap", headers={"Authorization": "Bearer t"})
            bodies.append(r.content)
    assert bodies[0] == bodies[1]
