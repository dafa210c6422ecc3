"""The dashboard on the small simulator, its answers rewritten on the wire (a transport between
the client and the simulator): data the simulator never makes takes the real path, JSON →
client → models → monitor → widgets."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from hypertui.api.client import HyperTrackerClient
from hypertui.sim import Market, create_app
from hypertui.source import SIM_BASE_URL, SIMULATOR_LABEL, SIMULATOR_TOKEN
from hypertui.ui.app import HyperTuiApp

Rewrite = Callable[[str, Any], Any]  # (the request's path, a JSON answer) -> the answer the client gets


class Rewriting(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, rewrite: Rewrite) -> None:
        self.inner, self.rewrite = inner, rewrite

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        try:
            body = json.dumps(self.rewrite(request.url.path, json.loads(body))).encode()
        except ValueError:  # not JSON (a redirect, an error page): as it is
            pass
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=body)


def rewritten_app(clock: Callable[[], datetime], rewrite: Rewrite, *, refresh: float | None = 15.0) -> HyperTuiApp:
    """The dashboard on the small simulator (seed 7), every JSON answer passed through `rewrite`."""
    sim = create_app(Market(seed=7, scale="small", clock=clock))
    client = HyperTrackerClient(SIM_BASE_URL, SIMULATOR_TOKEN, transport=Rewriting(httpx.ASGITransport(app=sim), rewrite))
    return HyperTuiApp(client, SIMULATOR_LABEL, refresh=refresh, clock=clock)
