"""Every drill-down: time from pushing its screen to the first paint with its data in view.

    python benchmarks/drilldowns.py [--scale default] [--runs 9] [--url URL]

Headless at 160x45, on the embedded simulator (seed 7) or with `--url` on a running
`hypertui sim` (`--chaos latency=1,latency_ms=100` makes it a distant server). Each screen
is opened `--runs` times in turn (positions of ETH, the BTC coin view, a cohort's history, the
bias overview), closed again once settled; the first opening of each is printed apart (its
module and styles are new) and left out of the median. Wall clock: the embedded simulator
serves on the same event loop, so its work is included. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable

from textual.app import App
from textual.screen import Screen

from hypertui.api.client import HyperTrackerClient
from hypertui.clock import utc_now
from hypertui.monitor.positions import WINDOWS, PositionQuery
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.screens.bias import BiasOverviewScreen
from hypertui.ui.screens.coin import CoinScreen
from hypertui.ui.screens.history import HistoryScreen
from hypertui.ui.screens.positions import PositionsScreen
from hypertui.ui.screenshots import make_app, settled


def has_data(screen: Screen) -> bool:
    if isinstance(screen, PositionsScreen):
        return screen.window.row_count > 0
    if isinstance(screen, CoinScreen):
        return screen.breakdown is not None and screen.table.row_count > 0
    if isinstance(screen, HistoryScreen):
        return screen.table.row_count > 0
    if isinstance(screen, BiasOverviewScreen):
        return bool(screen.query(".bias-strip"))
    raise TypeError(type(screen))


async def time_to_data(app: App, screen: Screen, ready: Callable[[Screen], bool]) -> float:
    """Seconds from pushing `screen` to the end of its first paint after which `ready(screen)`."""
    painted: list[float] = []
    paint = screen._compositor_refresh

    def timed_paint() -> None:
        paint()
        if not painted and ready(screen):
            painted.append(time.perf_counter())

    screen._compositor_refresh = timed_paint  # type: ignore[method-assign]
    start = time.perf_counter()
    app.push_screen(screen)
    while not painted:  # polled: pilot.pause() would also wait for unrelated work
        await asyncio.sleep(0.002)
    return painted[0] - start


def benchmark_app(scale: str, url: str | None) -> HyperTuiApp:
    """The app on the embedded simulator, or on the server at `url` alone. (A client swapped into
    an app made for the embedded one left its dashboard on the embedded market, which it was
    built with: the market lived in this process and was in the RSS the positions figures print.)"""
    if url is None:
        return make_app(scale=scale)
    # A running server keeps real time: so must the app, or a history window would reach months back.
    return HyperTuiApp(HyperTrackerClient(url, "benchmark"), "benchmark", clock=utc_now)


async def measure(scale: str, runs: int, url: str | None) -> dict[str, list[float]]:
    app = benchmark_app(scale, url)
    times: dict[str, list[float]] = {}
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        assert app.state.cohorts
        screens: dict[str, Callable[[], Screen]] = {
            "positions": lambda: PositionsScreen(
                app.client, app.clock, PositionQuery(coin="ETH", status="all", window=WINDOWS[0]), "all cohorts", app.state.cohorts
            ),
            "coin view": lambda: CoinScreen(app.client, app.clock, "BTC", app.state.cohorts),
            "history": lambda: HistoryScreen(app.client, app.clock, app.state.cohorts[1].id, app.state.cohorts[1].name),
            "bias overview": lambda: BiasOverviewScreen(app.client, app.clock),
        }
        for _ in range(runs):
            for name, make in screens.items():
                times.setdefault(name, []).append(await time_to_data(app, make(), has_data))
                await settled(pilot)
                app.pop_screen()
                await settled(pilot)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="default", choices=("small", "default", "large"))
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--url", help="base URL of a running `hypertui sim` (default: the embedded simulator)")
    args = ap.parse_args()
    for name, seconds in asyncio.run(measure(args.scale, max(args.runs, 2), args.url)).items():
        ms = [s * 1000 for s in seconds]
        later = ms[1:]
        print(f"{name:14s} push → data drawn: {statistics.median(later):.0f} ms ({min(later):.0f}-{max(later):.0f}); first opening {ms[0]:.0f} ms")


if __name__ == "__main__":
    main()
