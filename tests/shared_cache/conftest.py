"""A real redis-server per test, on a free loopback port, and clients of one simulated API that
share it: each with a store of its own (another desk member's machine) and the same frozen clock.

No mocks: the simulator answers over ASGI as it does for every client test, and Redis is Debian's
`redis-server`, skipped with the reason when it is not installed (`.ci/run` installs it)."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hypertui.api.client import HyperTrackerClient
from hypertui.api.shared_cache import SharedCache
from hypertui.api.store import SnapshotStore
from hypertui.clock import FrozenClock
from hypertui.source import SIM_BASE_URL
from tests.conftest import SEED
from tests.shared_cache.redis_server import RedisServer, free_port

SOURCE = "desk-api"
TOKEN = "tok-9fQ2-desk-secret"  # the API bearer token: must never reach Redis


@pytest.fixture
def redis_server() -> Callable[..., RedisServer]:
    """Start one (options as redis-server's, e.g. "--maxmemory", "1mb"); each is stopped at teardown."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)")
    started: list[RedisServer] = []

    def start(*options: str, password: str | None = None) -> RedisServer:
        server = RedisServer(free_port(), *options, password=password)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@pytest.fixture
def server(redis_server: Callable[..., RedisServer]) -> RedisServer:
    """A plain one."""
    return redis_server()


class Upstream:
    """One simulated API that every desk member asks; `asked` counts the requests it received by path."""

    def __init__(self, clock: FrozenClock) -> None:
        from hypertui.sim import Market, create_app

        self._app = create_app(Market(seed=SEED, scale="small", clock=clock))
        self.asked: Counter[str] = Counter()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.asked[scope["path"].removeprefix("/api/external")] += 1
        await self._app(scope, receive, send)

    @property
    def requests(self) -> int:
        return sum(self.asked.values())


class Monotonic:
    """The reconnection backoff's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def upstream(clock: FrozenClock) -> Upstream:
    return Upstream(clock)


@pytest.fixture
def desk(upstream: Upstream, clock: FrozenClock) -> Callable[..., HyperTrackerClient]:
    """`desk(url, **cache)`: a desk member's client of `upstream` on the shared cache at `url`
    (`cache`: SharedCache's options); `async with` (or its app) closes it."""

    def member(url: str, *, daily_tokens: int | None = None, **cache: Any) -> HyperTrackerClient:
        return HyperTrackerClient(
            SIM_BASE_URL,
            TOKEN,
            transport=httpx.ASGITransport(app=upstream),
            store=SnapshotStore(source=SOURCE),
            daily_tokens=daily_tokens,
            clock=clock,
            shared=SharedCache(url, source=SOURCE, **cache),
        )

    return member
