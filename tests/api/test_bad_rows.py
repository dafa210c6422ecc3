"""One bad row in an answer of the simulator (a market method made to send it): dropped and
counted, the rest kept; a fault outside every row still rejects the answer."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hypertui.api.client import HyperTrackerClient
from hypertui.api.errors import BadResponseError
from hypertui.sim import Market, create_app
from hypertui.source import SIM_BASE_URL, SIMULATOR_TOKEN

START = "2026-01-01T00:00:00.000Z"


def client_of(market: Market) -> HyperTrackerClient:
    return HyperTrackerClient(SIM_BASE_URL, SIMULATOR_TOKEN, transport=httpx.ASGITransport(app=create_app(market)))


def spoil(market: Market, method: str, change: Callable[[Any], None]) -> None:
    """`market.<method>` answers as before, then `change`d."""
    original = getattr(market, method)

    def spoiled(*args: Any, **kwargs: Any) -> Any:
        answer = original(*args, **kwargs)
        change(answer)
        return answer

    setattr(market, method, spoiled)


@pytest.fixture
def market(clock) -> Market:
    return Market(seed=7, scale="small", clock=clock)


async def test_an_unknown_category_drops_that_cohort_not_the_legend(market):
    spoil(market, "segments", lambda legend: legend[3].update(category="age"))
    async with client_of(market) as client:
        legend = await client.segments()
    assert len(legend) == 15 and client.rows_dropped == 1


async def test_an_unknown_side_drops_that_position_not_the_page(market):
    async with client_of(market) as client:
        clean = await client.positions(start=START)
        spoil(market, "positions_page", lambda page: page["positions"][7].update(side="flat"))
        page = await client.positions(start=START)
    assert len(clean.positions) > 100
    assert page.positions == clean.positions[:7] + clean.positions[8:] and client.rows_dropped == 1


async def test_a_top_asset_without_its_coin_is_dropped_not_the_summary(market):
    async with client_of(market) as client:
        clean = await client.summary(9)
        spoil(market, "summary", lambda summary: summary["topOpenPerps"][0].pop("coin"))
        summary = await client.summary(9)
    assert summary.top_open_perps == clean.top_open_perps[1:] and summary.summary == clean.summary
    assert client.rows_dropped == 1


async def test_a_bad_heatmap_cell_drops_the_cell_and_keeps_its_coin(market):
    async with client_of(market) as client:
        clean = await client.heatmap()
        spoil(market, "heatmap", lambda heatmap: heatmap["heatmap"][0]["segments"][0].update(bias="n/a"))
        heatmap = await client.heatmap()
    assert heatmap.heatmap[0].segments == clean.heatmap[0].segments[1:]
    assert heatmap.heatmap[1:] == clean.heatmap[1:] and client.rows_dropped == 1


async def test_a_fault_outside_every_row_still_rejects_the_answer(market):
    spoil(market, "summary", lambda summary: summary["segment"].update(category="age"))
    async with client_of(market) as client:
        with pytest.raises(BadResponseError, match="segment.category"):
            await client.summary(9)
    assert client.rows_dropped == 0
