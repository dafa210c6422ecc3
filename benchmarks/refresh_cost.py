"""Main-thread time to apply one full dashboard refresh (summary + heatmap + risk) to the screen.

    python benchmarks/refresh_cost.py [--size 160x45] [--scale default] [--runs 20] [--profile tree|flat] [--bytes]

One market state per run (15 s apart) is fetched from the simulator first; a fresh app then
steps through them, so every cycle shows values it has not shown before (no cache can answer
from an earlier cycle), while the network and the simulator cost nothing. Timed: CPU time of the
event-loop thread from asking for the refresh to the repainted screen (headless: the compositor
renders the update, nothing is written), less the median cost of the same wait when nothing
was asked for: waiting for a settled screen visits every widget and lets the idle timers run,
about 10 ms at 160x45 that the app itself never spends. Median (min-max).
`--profile tree|flat` also prints a pyinstrument profile of the runs (pip install pyinstrument).
`--bytes` also prints the bytes each refresh writes, as a truecolor terminal would get them
(Textual's output through the app's SGR compaction), with every value changed and with the same
answers again, and the panels they go to.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import time
from collections import Counter
from typing import Any

from rich.console import Console
from textual import _compositor
from textual.dom import DOMNode

from hypertui.clock import FrozenClock
from hypertui.monitor.plan import TIMED
from hypertui.source import SIMULATOR_LABEL, simulator_client
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.screenshots import FROZEN, settled
from hypertui.ui.terminal_output import compact_sgr

PANELS = ("cohorts", "summary", "heatmap-panel", "risk-panel", "status-bar", "footer")


async def _closed_nothing() -> None:
    return None


class ReplayClient:
    """Records what each call returned per market state, then answers from the chosen state."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.states: list[dict[tuple, Any]] = [{}]
        self.replay: int | None = None  # None: forward and record into the newest state

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name == "aclose":  # the recording app closes it; the replaying one still needs it
            return _closed_nothing
        if name.startswith("_") or not callable(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            key = (name, args, tuple(sorted(kwargs.items())))
            if self.replay is not None and key in self.states[self.replay]:
                return self.states[self.replay][key]
            result = await attr(*args, **kwargs)
            self.states[-1 if self.replay is None else self.replay][key] = result
            return result

        return call


async def record(size: tuple[int, int], scale: str, states: int) -> tuple[ReplayClient, FrozenClock]:
    """Fetch `states` market states, 15 s apart, through an app that is then thrown away."""
    clock = FrozenClock(FROZEN)
    client = ReplayClient(simulator_client(seed=7, scale=scale, clock=clock))
    app = HyperTuiApp(client, SIMULATOR_LABEL, refresh=3600, clock=clock)  # type: ignore[arg-type]
    async with app.run_test(size=size) as pilot:
        await settled(pilot)
        for _ in range(states - 1):  # the market ticks: every value moves
            clock.advance(15)
            client.states.append({})
            app.refresh_loop.request_refresh(TIMED)
            await settled(pilot)
    return client, FrozenClock(FROZEN)


class Written:
    """The bytes of each frame the app draws, as the driver would write them to a truecolor
    terminal, by the panel each line's span is in."""

    def __init__(self, app: HyperTuiApp, size: tuple[int, int]) -> None:
        self.by_panel: Counter[str] = Counter()
        self.spent = 0.0  # thread time of the counting itself, left out of the refresh's
        self._console = Console(color_system="truecolor", force_terminal=True, file=io.StringIO(), width=size[0], height=size[1])
        display = app._display

        def recorded(screen: Any, update: Any) -> None:
            display(screen, update)
            if update is None:
                return
            began = time.thread_time()
            if not isinstance(update, _compositor.ChopsUpdate):  # every line (a layout)
                self.by_panel["whole screen"] += self._size(update)
            else:
                for y, x1, x2 in update.spans:
                    one = _compositor.ChopsUpdate(update.chops, [(y, x1, x2)], update.chop_ends)
                    self.by_panel[self._panel(screen.get_widget_at(x1, y)[0])] += self._size(one)
            self.spent += time.thread_time() - began

        app._display = recorded  # type: ignore[method-assign,assignment]

    def _size(self, update: Any) -> int:
        return len(compact_sgr(update.render_segments(self._console)).encode())

    @staticmethod
    def _panel(widget: DOMNode | None) -> str:
        while widget is not None and widget.id not in PANELS:
            widget = widget.parent
        return widget.id if widget is not None and widget.id else "other"

    def taken(self) -> Counter[str]:
        """What was written since the last call."""
        taken, self.by_panel = self.by_panel, Counter()
        return taken


def _bytes_line(label: str, written: list[Counter[str]]) -> str:
    totals = [sum(w.values()) for w in written]
    panels = sum(written, Counter())
    split = ", ".join(f"{panel} {size / len(written) / 1000:.1f} KB" for panel, size in panels.most_common())
    spread = f"{statistics.median(totals) / 1000:.1f} KB ({min(totals) / 1000:.1f}-{max(totals) / 1000:.1f})"
    return f"  {label}: {spread}; by panel (mean): {split or 'none'}"


async def measure(
    size: tuple[int, int], scale: str, runs: int, profile: str | None = None, written: list[list[Counter[str]]] | None = None
) -> tuple[list[float], list[float]]:
    """Thread time of each refresh (waiting included), and of the same wait with nothing to do."""
    # A fresh app replays them, so no cell or line cache has seen a state before it is timed.
    client, clock = await record(size, scale, runs + 1)
    client.replay = 0
    app = HyperTuiApp(client, SIMULATOR_LABEL, refresh=3600, clock=clock)  # type: ignore[arg-type]
    async with app.run_test(size=size) as pilot:
        writes = Written(app, size) if written is not None else None
        await settled(pilot)
        profiler = None
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="disabled")
            profiler.start()
        times, idle = [], []
        for run in range(1, runs + 1):
            client.replay = run
            clock.advance(15)
            if writes is not None:
                writes.taken()
            start = time.thread_time()
            counting = writes.spent if writes is not None else 0.0
            app.refresh_loop.request_refresh(TIMED)
            await settled(pilot)
            times.append(time.thread_time() - start - (writes.spent - counting if writes is not None else 0.0))
            start = time.thread_time()
            await settled(pilot)  # nothing requested: the harness's own cost (it visits every widget)
            idle.append(time.thread_time() - start)
            if writes is not None and written is not None:
                written[0].append(writes.taken())
                app.refresh_loop.request_refresh(TIMED)  # the same answers again: nothing changed
                await settled(pilot)
                written[1].append(writes.taken())
        if profiler is not None:
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, flat=profile == "flat"))
    return times, idle


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="160x45")
    ap.add_argument("--scale", default="default", choices=("small", "default", "large"))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--profile", choices=("tree", "flat"), help="print a pyinstrument profile")
    ap.add_argument("--bytes", action="store_true", help="print the bytes each refresh writes, changed and unchanged")
    args = ap.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    written: list[list[Counter[str]]] | None = [[], []] if args.bytes else None
    times, idle = asyncio.run(measure((cols, rows), args.scale, args.runs, args.profile, written))
    wait = statistics.median(idle)
    ms = [(t - wait) * 1000 for t in times]
    print(
        f"one full refresh, main thread ({args.size}): {statistics.median(ms):.1f} ms ({min(ms):.1f}-{max(ms):.1f});"
        f" measured {statistics.median(times) * 1000:.1f} ms less the harness waiting with nothing to do"
        f" {wait * 1000:.1f} ms"
    )
    if written is not None:
        print(f"bytes of one refresh, truecolor terminal ({args.size}):")
        print(_bytes_line("every value changed", written[0]))
        print(_bytes_line("the same answers again", written[1]))


if __name__ == "__main__":
    main()
