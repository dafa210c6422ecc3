"""Main-thread time to apply one full dashboard refresh (summary + heatmap + risk) to the screen.

    python benchmarks/refresh_cost.py [--size 160x45] [--scale default] [--runs 20] [--profile tree|flat]

Two market states (15 s apart) are fetched once from the simulator; the app then alternates
between them, so every cycle changes what is shown, while the network and the simulator cost
nothing. Timed: CPU time of the event-loop thread from asking for the refresh to the repainted
screen (headless: the compositor renders the update, nothing is written). Median (min-max).
`--profile tree|flat` also prints a pyinstrument profile of the runs (pip install pyinstrument).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from hypertui.clock import FrozenClock
from hypertui.monitor.plan import TIMED
from hypertui.source import SIMULATOR_LABEL, simulator_client
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.screenshots import FROZEN, settled


class ReplayClient:
    """Records what each call returned per market state, then answers from the chosen state."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.states: list[dict[tuple, Any]] = [{}]
        self.replay: int | None = None  # None: forward and record into the newest state

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name.startswith("_") or name == "aclose" or not callable(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            key = (name, args, tuple(sorted(kwargs.items())))
            if self.replay is not None and key in self.states[self.replay]:
                return self.states[self.replay][key]
            result = await attr(*args, **kwargs)
            self.states[-1 if self.replay is None else self.replay][key] = result
            return result

        return call


async def measure(size: tuple[int, int], scale: str, runs: int, profile: str | None = None) -> list[float]:
    clock = FrozenClock(FROZEN)
    client = ReplayClient(simulator_client(seed=7, scale=scale, clock=clock))
    app = HyperTuiApp(client, SIMULATOR_LABEL, refresh=3600, clock=clock)  # type: ignore[arg-type]
    async with app.run_test(size=size) as pilot:
        await settled(pilot)
        clock.advance(15)  # the market ticks: every value moves
        client.states.append({})
        app.request_refresh(TIMED)
        await settled(pilot)
        profiler = None
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="disabled")
            profiler.start()
        times = []
        for run in range(runs):
            client.replay = run % 2
            start = time.thread_time()
            app.request_refresh(TIMED)
            await settled(pilot)
            times.append(time.thread_time() - start)
        if profiler is not None:
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, flat=profile == "flat"))
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="160x45")
    ap.add_argument("--scale", default="default", choices=("small", "default", "large"))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--profile", choices=("tree", "flat"), help="print a pyinstrument profile")
    args = ap.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    times = asyncio.run(measure((cols, rows), args.scale, args.runs, args.profile))
    ms = [t * 1000 for t in times]
    print(f"one full refresh, main thread ({args.size}): {statistics.median(ms):.1f} ms ({min(ms):.1f}-{max(ms):.1f})")


if __name__ == "__main__":
    main()
