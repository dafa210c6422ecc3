"""Shared fixtures: a small simulated market with a fixed seed and a frozen clock, and that
simulator served as a server with only what the public docs list."""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from starlette.responses import JSONResponse

from hypertui.api.client import HyperTrackerClient
from hypertui.clock import FrozenClock
from hypertui.source import SIM_BASE_URL, SIMULATOR_TOKEN

FROZEN_NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
SEED = 7


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(FROZEN_NOW)


# Paths and query parameters that only the contract (shared/api-reference.md) has, not the public docs.
_CONTRACT_ONLY_PATH = re.compile(r"/hypertracker/state/status$|/exports/coins/[^/]+/[a-z-]+-(24h|7d|30d)$")
_CONTRACT_ONLY_PARAMS = {"/positions/heatmap": "openedWithin", "/position-metrics/": "positionRecencyTimeframe"}


def docs_only(app: Any) -> Any:
    """`app` (the simulator) as a server that has only what the public docs list: `state/status` and
    the exports' age variants answer 404, and the heatmap's and position-metrics' undocumented
    filters are ignored."""

    async def serve(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if _CONTRACT_ONLY_PATH.search(path):
                missing = {"statusCode": 404, "message": f"Cannot GET {path}", "error": "Not Found"}
                await JSONResponse(missing, 404)(scope, receive, send)
                return
            ignored = next((p for part, p in _CONTRACT_ONLY_PARAMS.items() if part in path), None)
            if ignored is not None:
                query = [(k, v) for k, v in parse_qsl(scope["query_string"].decode()) if k != ignored]
                scope = {**scope, "query_string": urlencode(query).encode()}
        await app(scope, receive, send)

    return serve


@pytest.fixture
def docs_only_client(clock: FrozenClock) -> Callable[[], HyperTrackerClient]:
    """Clients of the small simulator (seed 7, frozen clock) served as `docs_only`, in process."""

    def make() -> HyperTrackerClient:
        from hypertui.sim import Market, create_app

        app = docs_only(create_app(Market(seed=SEED, scale="small", clock=clock)))
        return HyperTrackerClient(SIM_BASE_URL, SIMULATOR_TOKEN, transport=httpx.ASGITransport(app=app))

    return make


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes to the user's data dir: the snapshot store (hypertui.api.store) lands in a
    fresh folder of each test's own, whichever way its settings were loaded."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))
    monkeypatch.delenv("HYPERTUI_STORE", raising=False)
