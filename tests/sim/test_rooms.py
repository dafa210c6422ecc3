"""The simulator in rooms by job: the market's modules import only downhill (state ← evolve,
aggregates ← answers ← market), and the API's gate (ApiAuth) is one middleware in front of the
API routes only: a request it refuses never moves the market, and what is not an API route
needs no token."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import httpx

from hypertui.clock import FrozenClock
from hypertui.sim import Market, create_app
from hypertui.source import SIM_BASE_URL

SIM = Path(__file__).parents[2] / "hypertui" / "sim"
ROOMS = {  # each module, and the simulator modules it may import
    "encoding": set(),
    "state": {"history", "encoding"},
    "evolve": {"history", "state"},
    "aggregates": {"history", "state"},
    "answers": {"history", "encoding", "state", "aggregates"},
    "market": {"state", "evolve", "answers"},
}


def _sim_imports(module: str) -> set[str]:
    tree = ast.parse((SIM / f"{module}.py").read_text())
    return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module}


def test_the_market_modules_import_only_downhill():
    for module, allowed in ROOMS.items():
        assert _sim_imports(module) <= allowed, module


async def test_a_refused_request_never_moves_the_market_and_a_non_api_path_needs_no_token():
    clock = FrozenClock(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    market = Market(seed=7, scale="small", clock=clock)
    app = create_app(market, token="right", rate_limit_per_minute=1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SIM_BASE_URL) as client:
        clock.advance(60)  # four updates are due
        assert (await client.get("/segments", headers={"Authorization": "Bearer wrong"})).status_code == 401
        assert market.tick_count == 0
        assert (await client.get("/segments", headers={"Authorization": "Bearer right"})).status_code == 200
        assert market.tick_count == 4
        clock.advance(15)
        assert (await client.get("/segments", headers={"Authorization": "Bearer right"})).status_code == 429
        assert market.tick_count == 4
        unknown = await client.get("/no-such-endpoint")  # the fallback: NestJS's 404, with or without a token
        assert unknown.status_code == 404 and unknown.json()["message"].startswith("Cannot GET")
