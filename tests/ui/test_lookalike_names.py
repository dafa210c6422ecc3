"""A coin name that cleans to another coin's: its own row, marked, and its drill-downs ask for it.

The simulator's second most valuable coin goes out on the wire as the top coin's name with
zero-width spaces between its letters (U+200B: "B", ZWSP, "T", ZWSP, "C"), and requests for that name
reach it back, as a server that really listed such a coin would answer. Before names kept what
the API sent, both rows read "BTC" and the second one's drill-downs asked for the real BTC.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx

from hypertui.api.client import HyperTrackerClient
from hypertui.api.text import NAME_MARK
from hypertui.sim import Market, create_app
from hypertui.source import SIM_BASE_URL
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.screens.coin import CoinScreen
from hypertui.ui.screens.positions import PositionsScreen
from hypertui.ui.screenshots import settled
from hypertui.ui.widgets.heatmap import HeatmapTable
from hypertui.ui.widgets.synced_table import SyncedTable


class LookalikeTransport(httpx.AsyncBaseTransport):
    """The simulator with coin `hidden` called `lookalike` on the wire, both ways; records each request's path."""

    def __init__(self, inner: httpx.AsyncBaseTransport, hidden: str, lookalike: str) -> None:
        self.inner, self.hidden, self.lookalike = inner, hidden, lookalike
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raw = request.url.raw_path
        self.paths.append(raw.decode())
        request.url = request.url.copy_with(raw_path=raw.replace(quote(self.lookalike).encode(), quote(self.hidden).encode()))
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        if response.status_code == 200 and "json" in response.headers.get("content-type", ""):
            body = json.dumps(self._rename(json.loads(body))).encode()
        return httpx.Response(response.status_code, headers=headers, content=body)

    def _rename(self, node):  # noqa: ANN001, ANN202 - JSON
        if isinstance(node, dict):
            return {k: self.lookalike if k == "coin" and v == self.hidden else self._rename(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self._rename(item) for item in node]
        return node


async def test_a_lookalike_coin_is_marked_and_its_drill_downs_ask_for_it(clock):
    sim = create_app(Market(seed=7, scale="small", clock=clock))
    async with HyperTrackerClient(SIM_BASE_URL, "t", transport=httpx.ASGITransport(app=sim)) as plain:
        real, hidden = [row.coin for row in sorted((await plain.heatmap()).heatmap, key=lambda r: -r.total_value)][:2]
    lookalike = "\u200b".join(real)
    transport = LookalikeTransport(httpx.ASGITransport(app=sim), hidden, lookalike)
    app = HyperTuiApp(HyperTrackerClient(SIM_BASE_URL, "t", transport=transport), "SIMULATOR", clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        heat = app.dashboard.query_one(HeatmapTable)
        keys = heat.row_keys
        assert keys[:2] == [real, real + NAME_MARK]  # two rows, the lookalike's marked
        assert heat.cell_text(keys[1], "coin").plain == f" {real}{NAME_MARK}"
        heat.focus()
        heat.move_cursor(row=1, column=0)
        await pilot.pause()

        transport.paths.clear()
        await pilot.press("enter")  # positions of the coin under the cursor, every cohort
        await settled(pilot)
        assert isinstance(app.screen, PositionsScreen)
        asked = [p for p in transport.paths if p.startswith("/api/external/positions?")]
        assert asked and all(f"coin={quote(lookalike)}&" in p for p in asked), asked

        await pilot.press("escape")
        transport.paths.clear()
        await pilot.press("i")  # the coin view
        await settled(pilot)
        assert isinstance(app.screen, CoinScreen)
        # The API's paths; the redirects they answer with name the download the server chose.
        asked = [p for p in transport.paths if p.startswith(("/api/external/exports/coins/", "/api/external/position-metrics/coin/"))]
        assert asked and all(f"/{quote(lookalike)}/" in p for p in asked), asked
        assert not any(f"/{real}/" in p for p in transport.paths)

        await pilot.press("escape")  # the top assets: the same coin from the summary's list
        await settled(pilot)
        top = app.dashboard.query_one("#top-assets", SyncedTable)
        assert real + NAME_MARK in top.row_keys
        top.focus()
        top.move_cursor(row=top.row_keys.index(real + NAME_MARK))
        await pilot.pause()
        transport.paths.clear()
        await pilot.press("i")
        await settled(pilot)
        assert isinstance(app.screen, CoinScreen)
        asked = [p for p in transport.paths if p.startswith("/api/external/exports/coins/")]
        assert asked and all(f"/{quote(lookalike)}/" in p for p in asked), asked
    await app.client.aclose()
