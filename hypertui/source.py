"""Where the data comes from: the live API, or the embedded simulator through an in-memory transport.

Both are the same `HyperTrackerClient`; only the transport differs. The simulator's market is
built in a worker thread on the first request, so starting hypertui never waits for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from hypertui.api.client import HyperTrackerClient
from hypertui.api.store import SnapshotStore, default_path
from hypertui.clock import utc_now
from hypertui.config import Settings

if TYPE_CHECKING:
    from hypertui.api.shared_cache import SharedCache

SIMULATOR_LABEL = "SIMULATOR"
SIMULATOR_TOKEN = "simulator"  # the in-process simulator wants a token like the real API
# Any host works in-process; importing hypertui.sim (numpy) for this constant would slow start-up.
SIM_BASE_URL = "http://simulator.local/api/external"


class InProcessTransport(httpx.AsyncBaseTransport):
    """Serves requests from an ASGI app built lazily off the event loop (no socket)."""

    def __init__(self, build_app: Callable[[], Any]) -> None:
        self._build_app = build_app
        self._inner: httpx.ASGITransport | None = None
        self._lock = asyncio.Lock()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._inner is None:
            async with self._lock:
                if self._inner is None:
                    app = await asyncio.to_thread(self._build_app)
                    self._inner = httpx.ASGITransport(app=app)
        return await self._inner.handle_async_request(request)


def simulator_client(
    *,
    seed: int = 7,
    scale: str = "default",
    update_interval: float = 15.0,
    clock: Callable[[], datetime] | None = None,
    store: SnapshotStore | None = None,
    daily_tokens: int | None = None,
) -> HyperTrackerClient:
    """A client wired to an in-process simulator; its market is built on first use."""

    def build() -> Any:
        from hypertui.sim import Market, create_app

        market = Market(seed=seed, scale=scale, clock=clock, update_interval=update_interval)
        return create_app(market)

    return HyperTrackerClient(
        SIM_BASE_URL,
        SIMULATOR_TOKEN,
        transport=InProcessTransport(build),
        store=store,
        daily_tokens=daily_tokens,
        clock=clock or utc_now,  # the day its tokens count in is the market's
    )


def open_store(settings: Settings) -> SnapshotStore:
    """The snapshot store for these settings: the file, its answers told apart by the API's base
    URL; in memory with `--no-store`, and for the embedded simulator, whose market starts anew
    with each run (no later run has its updates) and whose tokens cost nothing. A file is
    pruned to `keep_days` here, at most once a day."""
    if settings.uses_simulator or not settings.store:
        return SnapshotStore(source=SIMULATOR_LABEL if settings.uses_simulator else settings.api_base_url)
    store = SnapshotStore(settings.store_path or default_path(), source=settings.api_base_url)
    store.prune_daily(settings.keep_days, utc_now())
    return store


def open_shared_cache(settings: Settings, source: str) -> SharedCache | None:
    """The desk's Redis for these settings, if one is set; never for the embedded simulator,
    whose market is this process's own."""
    if settings.shared_cache is None or settings.uses_simulator:
        return None
    from hypertui.api.shared_cache import SharedCache  # loads Redis's client: only when one is set

    return SharedCache(settings.shared_cache.get_secret_value(), source=source)


def open_client(settings: Settings) -> tuple[HyperTrackerClient, str]:
    """The client for these settings and a label for the status bar (SIMULATOR or the host)."""
    store = open_store(settings)
    if settings.uses_simulator:
        client = simulator_client(
            seed=settings.sim_seed,
            scale=settings.sim_scale,
            update_interval=settings.sim_update_interval,
            store=store,
            daily_tokens=settings.daily_tokens,
        )
        return client, SIMULATOR_LABEL
    token = settings.token.get_secret_value() if settings.token else None
    client = HyperTrackerClient(
        settings.api_base_url,
        token,
        max_body=int(settings.max_answer_mb * 2**20),
        store=store,
        daily_tokens=settings.daily_tokens,
        shared=open_shared_cache(settings, store.source),
    )
    return client, httpx.URL(settings.api_base_url).host


def recording_client(settings: Settings, when: datetime) -> HyperTrackerClient:
    """A client the store's recording answers, as the API answered at `when` (the newest answer
    held at or before it): `hypertui dump KIND --at TIME`. It sends no request at all."""
    from hypertui.api.recording import Recording, RecordingTransport

    base_url = SIM_BASE_URL if settings.uses_simulator else settings.api_base_url
    transport = RecordingTransport(Recording(open_store(settings)), when, base_url)
    return HyperTrackerClient(base_url, transport=transport, retries=0)  # nothing is sent: no token
