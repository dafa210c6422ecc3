"""Tokens the dashboard spends, counted as the API counts them, in one table.

    python benchmarks/tokens.py [--scale small] [--size 160x45] [--no-day]
    PYTHONPATH=<an older checkout> python benchmarks/tokens.py    # the same table, before

On the embedded simulator (seed 7) at the live API's shortest cadence (an update every 15 min)
behind a frozen clock that the script moves from one refresh timer to the next, so a simulated
day takes seconds. Tokens are counted in the transport, not by hypertui, so the count is the
same for any version: a request to the API's host that the rate limit did not refuse is one
token; a download from the export host is none. Rows: a cold start, a restart within the same
update (on the same store file, where there is one), each API update of an idle dashboard, an
idle day from midnight UTC (unlimited, and on the Free plan against the simulator's daily quota
of 100, with the daily 429s it refused and the updates the panels showed), a cohort browsed to
(the cursor rests on it), and each drill-down opened, then opened again within the update. Then,
where there is a store, the bytes it keeps: the answers of a cold start, and of the panels an
idle dashboard fetches again at each update.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from hypertui.api.client import HyperTrackerClient
from hypertui.clock import FrozenClock
from hypertui.monitor.plan import IF_UPDATED, TIMED
from hypertui.sim import Market, create_app
from hypertui.source import SIM_BASE_URL, SIMULATOR_LABEL, SIMULATOR_TOKEN, InProcessTransport
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.screenshots import FROZEN, settled
from hypertui.ui.widgets.cohort_list import CohortList

try:  # the snapshot store and the daily limit: not in versions before issue 18
    from hypertui.api.store import SnapshotStore
except ImportError:
    SnapshotStore = None  # type: ignore[assignment,misc]

SOURCE = "benchmark"
UPDATE_EVERY = 15 * 60.0
FREE = 100
API_HOST = httpx.URL(SIM_BASE_URL).host
MIDNIGHT = FROZEN.replace(hour=0, minute=0, second=30)  # an idle day starts here, the quota's day


class TokenMeter(httpx.AsyncBaseTransport):
    """What the API charges: each request to its host that the rate limit did not refuse."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.tokens: Counter[str] = Counter()  # path -> tokens
        self.refused = 0  # 429s

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.url.host == API_HOST:
            if response.status_code == 429:
                self.refused += 1
            else:
                self.tokens[request.url.path] += 1
        return response

    @property
    def spent(self) -> int:
        return sum(self.tokens.values())


def _app(clock: FrozenClock, store: Path, scale: str, *, free: bool = False) -> tuple[HyperTuiApp, TokenMeter]:
    """The dashboard on auto cadence (as against the live API), on a market built for it."""
    market = Market(seed=7, scale=scale, clock=clock, update_interval=UPDATE_EVERY)
    meter = TokenMeter(InProcessTransport(lambda: create_app(market, daily_quota=FREE if free else None)))
    extra: dict[str, Any] = {}
    if SnapshotStore is not None:
        extra = {"store": SnapshotStore(store, source=SOURCE), "clock": clock, "daily_tokens": FREE if free else None}
    client = HyperTrackerClient(SIM_BASE_URL, SIMULATOR_TOKEN, transport=meter, **extra)
    return HyperTuiApp(client, SIMULATOR_LABEL, refresh=None, clock=clock), meter


async def _next_update(pilot: Any, clock: FrozenClock) -> None:
    """What the refresh timer does when it fires, at the time it was armed for."""
    app = pilot.app
    clock.now = max(clock.now, app.refresh_loop.next_at)
    app.refresh_loop.request_refresh(TIMED | {IF_UPDATED})
    await settled(pilot)


async def _browse(pilot: Any, meter: TokenMeter, cohorts: int = 4) -> float:
    """Tokens per cohort moved to in the list (j), each time resting on it."""
    before = meter.spent
    for _ in range(cohorts):
        await pilot.press("j")
        await pilot.pause(0.5)  # the cursor rests: its panels are asked for
        await settled(pilot)
    return (meter.spent - before) / cohorts


def _drill_downs(app: HyperTuiApp) -> dict[str, Callable[[], None]]:
    """Each drill-down opened as its key opens it: through the app, which keeps the screen between
    openings (a screen built here each time would ask again what a kept one holds)."""
    segments = app.state.cohorts or []
    return {
        "positions, first page": lambda: app.open_positions("ETH", None),
        "coin view": lambda: app.open_coin("BTC"),
        "history": lambda: app.open_history(segments[1].id),
        "bias overview": app.open_bias_overview,
    }


async def _session(path: Path, size: tuple[int, int], scale: str, rows: dict[str, Any], *, first: bool) -> None:
    clock = FrozenClock(FROZEN)
    app, meter = _app(clock, path, scale)
    async with app.run_test(size=size) as pilot:
        await settled(pilot)
        rows["start cold" if first else "start warm (same update)"] = meter.spent
        if not first:
            return
        app.dashboard.query_one(CohortList).focus()
        rows["per cohort browsed, its summary of this update"] = await _browse(pilot, meter)
        before, updates = meter.spent, 4
        for _ in range(updates):
            await _next_update(pilot, clock)
        rows["per API update (idle)"] = (meter.spent - before) / updates
        rows["per cohort browsed, its summary older"] = await _browse(pilot, meter)
        for name, open_it in _drill_downs(app).items():
            for again in ("", ", again in the update"):
                before = meter.spent
                open_it()
                await settled(pilot)
                rows[f"drill-down: {name}{again}"] = meter.spent - before
                app.pop_screen()
                await pilot.pause()


async def _day(path: Path, size: tuple[int, int], scale: str, *, free: bool) -> tuple[int, int, int]:
    """An idle dashboard from midnight to midnight UTC: tokens, 429s, updates the panels showed."""
    clock = FrozenClock(MIDNIGHT)
    app, meter = _app(clock, path, scale, free=free)
    end = MIDNIGHT + timedelta(days=1) - timedelta(seconds=30)
    async with app.run_test(size=size) as pilot:
        await settled(pilot)
        while app.refresh_loop.next_at is not None and app.refresh_loop.next_at < end:
            await _next_update(pilot, clock)
    return meter.spent, meter.refused, meter.tokens["/api/external/positions/heatmap"]


def _kept(path: Path, endpoint_like: str = "%") -> int:
    """Bytes of the answers kept (compressed), of endpoints matching `endpoint_like` (SQL LIKE)."""
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT COALESCE(SUM(LENGTH(body)), 0) FROM answers WHERE endpoint LIKE ?", (endpoint_like,)).fetchone()[0]
    finally:
        db.close()


def _figure(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


async def main(size: tuple[int, int], scale: str, day: bool) -> None:
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "store.sqlite3"
        await _session(path, size, scale, rows, first=True)
        store = (_kept(path), _kept(path, "/segments/%/summary") - _kept(path, "/segments/16/summary")) if path.exists() else None
        await _session(path, size, scale, rows, first=False)
        if day:
            for free in (False, True):
                spent, refused, shown = await _day(Path(folder) / f"day-{free}.sqlite3", size, scale, free=free)
                plan = f"Free plan ({FREE}/day, the simulator's quota)" if free else "unlimited"
                rows[f"per idle day, {plan}"] = f"{spent} ({refused} refused by a 429; panels at {shown} of 96 updates)"
    order = ["start cold", "start warm (same update)"] + [name for name in rows if name not in ("start cold", "start warm (same update)")]
    width = max(len(name) for name in order)
    print(f"{'':{width}}  tokens")
    for name in order:
        print(f"{name:{width}}  {_figure(rows[name])}")
    if store is not None:
        kept, background = store
        print(f"store: {kept / 1024:.0f} KiB kept at a cold start; {(kept - background) / 1024:.0f} KiB of panels per update")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small", choices=("small", "default", "large"))
    parser.add_argument("--size", default="160x45", help="terminal size, COLSxROWS")
    parser.add_argument("--no-day", dest="day", action="store_false", help="leave out the simulated idle days")
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.split("x"))
    asyncio.run(main((cols, rows), args.scale, args.day))
