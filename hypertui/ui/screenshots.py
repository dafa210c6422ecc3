"""SVG screenshots of the dashboard's main states, rendered by the app itself.

The simulator runs with a fixed seed and a frozen clock, so the files only change when the
UI does. `hypertui screenshots [DIR]` is meant to call `render_screenshots`. The pieces that
make a run deterministic (`FrozenClock`, `settled`, and hypertui.testing's `FaultyClient`) serve
the UI tests too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypertui.api.errors import NetworkError
from hypertui.clock import FrozenClock
from hypertui.monitor.plan import TIMED
from hypertui.source import SIMULATOR_LABEL, simulator_client
from hypertui.testing import FaultyClient
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.prefs import Preferences

FROZEN = datetime(2026, 3, 4, 8, 30, tzinfo=UTC)


def make_app(
    *,
    scale: str = "small",
    clock: Callable[[], datetime] | None = None,
    refresh: float | None = 15.0,
    prefs: Preferences = Preferences(),
) -> HyperTuiApp:
    """The dashboard on the simulator (seed 7) behind a frozen clock and a `FaultyClient`."""
    clock = clock or FrozenClock(FROZEN)
    client = FaultyClient(simulator_client(seed=7, scale=scale, clock=clock))
    return HyperTuiApp(client, SIMULATOR_LABEL, refresh=refresh, clock=clock, prefs=prefs)  # type: ignore[arg-type]  # a FaultyClient stands in for the client


async def settled(pilot: Any) -> None:
    """Wait until no refresh is running or queued and the screen has caught up."""
    app = pilot.app
    await pilot.pause()
    while app.refresh_loop.refreshing or app.refresh_loop.cycles_done == 0:
        await app.workers.wait_for_complete()
        await pilot.pause()
    await pilot.pause()


async def _stale(pilot: Any) -> None:
    app = pilot.app
    app.client.error = NetworkError("/positions/heatmap", "cannot connect: connection refused")
    app.clock.advance(95)
    app.refresh_loop.request_refresh(TIMED)
    await settled(pilot)


async def _live(pilot: Any) -> None:
    return None


async def drained(pilot: Any) -> None:
    """Let the drill-down screen just pushed load, including loads its first load starts."""
    app = pilot.app
    await pilot.pause()
    while any(not w.is_finished for w in app.workers):
        await app.workers.wait_for_complete()
        await pilot.pause()
    await pilot.pause()


async def _history(pilot: Any) -> None:
    pilot.app.open_history(pilot.app.state.view.cohort_id)
    await drained(pilot)


async def _positions(pilot: Any) -> None:
    app = pilot.app
    app.open_positions(app.state.heatmap.heatmap[0].coin, app.state.view.cohort_id)
    await drained(pilot)


async def _coin(pilot: Any) -> None:
    app = pilot.app
    app.open_coin(app.state.heatmap.heatmap[0].coin)
    await drained(pilot)


async def _bias(pilot: Any) -> None:
    pilot.app.open_bias_overview()
    await drained(pilot)


STATES: dict[str, tuple[tuple[int, int], Callable[[Any], Awaitable[None]]]] = {
    "dashboard-160x45": ((160, 45), _live),
    "dashboard-80x24": ((80, 24), _live),
    "dashboard-stale": ((160, 45), _stale),
    "history-160x45": ((160, 45), _history),
    "positions-160x45": ((160, 45), _positions),
    "coin-160x45": ((160, 45), _coin),
    "bias-160x45": ((160, 45), _bias),
}


async def _render(name: str, directory: Path, scale: str) -> Path:
    size, before = STATES[name]
    app = make_app(scale=scale)
    async with app.run_test(size=size) as pilot:
        await settled(pilot)
        await before(pilot)
        path = directory / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(directory))
    return path


def render_screenshots(directory: str | Path = "screenshots", scale: str = "default") -> list[Path]:
    """Write one SVG per main state into `directory`; returns their paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    return [asyncio.run(_render(name, out, scale)) for name in STATES]
