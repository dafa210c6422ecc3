"""Socket soak: the real dashboard against `hypertui sim --chaos` in another process, over loopback.

    python benchmarks/soak_socket.py --cycles 150 --seconds 600 --chaos edge

What `soak.py` leaves out, this one does: `hypertui sim --scale small --update-interval 2
--chaos SPEC` runs as a subprocess on a free port of 127.0.0.1 (nothing else is ever
contacted), the client talks to it over a real socket with its real backoff (bounded: two
retries, a Retry-After over 2 s is not waited out), latency spikes and slow bodies take real
time, and no cycle is driven by hand: the app (`HyperTuiApp` under Textual's `run_test`,
refresh every second) runs its own scheduler, timers and `state/status` checks.

The soak takes steps: every other one opens a drill-down, in turn positions (Enter on a heatmap
cell), the coin view (`i`), a cohort's history (Enter in the cohort list), the bias overview
(`b`), alerts (`!`) and help (`?`), presses a few of that screen's keys (exports go to a
temporary directory) and goes back; the others focus a dashboard panel, scroll it to a random
place and press a few dashboard keys there. A step waits up to 30 s for the app.

After every step it looks for problems: an unhandled exception (the app stops: a crash), a
worker that ended in ERROR, a bug the refresh loop swallowed ("internal error: ..."), a refresh
loop that stopped (no cycle running or queued and no timer armed), a cycle held over 60 s. Each
is told with the faults the server injected during that step and the one before (read from
its `GET /_chaos`); after a crash a new app starts. It ends after `--cycles` refresh cycles
(over all apps) or `--seconds`, and prints cycles, steps, the drill-downs opened, faults by
kind (server side), crashes and the other problems grouped by where they happen, and RSS
(this process: app and client; the server is the other one). Exit status 1 if it found any.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import resource
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # hypertui from this checkout; run.py and soak.py beside this

from run import simulator  # noqa: E402
from soak import SIZE, SoakApp, _internal, rss_mib  # noqa: E402

from hypertui.api.client import HyperTrackerClient  # noqa: E402
from hypertui.api.text import one_line  # noqa: E402
from hypertui.sim.chaos import REPORT_PATH, ChaosSpec  # noqa: E402

TOKEN = "socket-soak-token"
REFRESH = 1.0  # seconds between the app's own cycles (as soon as the data changes: every 2 s)
UPDATE_INTERVAL = 2.0  # the simulator's
STEP_TIMEOUT = 30.0  # a step that waits longer for the app counts as a problem
HELD = 60.0  # a cycle running longer is reported
NUDGE_AFTER = 15.0  # no cycle for this long (a 429 asked to wait): press r, as a user would

# Keys pressed on the dashboard after scrolling (none that quits, pauses or slows the refresh).
DASHBOARD_KEYS = ("x", "v", "w", "a", "c", "s", "S", "r", "j", "k", "h", "l", "tab", "shift+tab",
                  "pagedown", "pageup", "end", "home")
PANELS = ("#cohorts", "#heatmap", "#risk", "#top-assets")
# Drill-downs in turn: how to open one from the dashboard, the screen's class name, its keys.
DRILL_DOWNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("positions", "PositionsScreen", ("o", "t", "s", "r", "j", "k", "pagedown", "end", "home", "enter", "e", "E")),
    ("coin", "CoinScreen", ("f", "t", "r", "j", "k", "pagedown", "end", "p", "e", "E")),
    ("history", "HistoryScreen", ("1", "2", "3", "4", "t", "f", "r", "j", "k", "end", "e", "E")),
    ("bias", "BiasOverviewScreen", ("r", "j", "k", "end", "e", "E")),
    ("alerts", "AlertsScreen", ("j", "k", "end")),
    ("help", "HelpScreen", ("j", "k", "pagedown", "end")),
)


@dataclass
class Problem:
    """One kind of failure (same exception at the same place), how often, and what came before."""

    what: str
    count: int = 0
    # The kinds injected in the two steps before its first time in each app (later times in the
    # same app follow from the first: a timezone-less state/status is kept, and fails every cycle).
    faults: Counter[str] = field(default_factory=Counter)
    always: set[str] | None = None  # injected before every first time
    first_step: str = ""


@dataclass
class SocketSoakResult:
    chaos: str = ""
    seconds: float = 0.0
    cycles: int = 0
    apps: int = 0
    steps: int = 0
    nudges: int = 0
    opened: Counter[str] = field(default_factory=Counter)
    requests: int = 0  # the client's, over every app
    server: dict[str, Any] = field(default_factory=dict)  # GET /_chaos at the end
    problems: dict[tuple[str, str], Problem] = field(default_factory=dict)  # (class, signature) -> problem
    longest_gap: float = 0.0  # seconds without a cycle ending (a drip, a loop, a 429's wait)
    rss_start: float = 0.0
    rss_apps: list[float] = field(default_factory=list)  # as each app starts
    rss_end: float = 0.0
    rss_peak: float = 0.0

    def count(self, cls: str) -> int:
        return sum(p.count for (c, _), p in self.problems.items() if c == cls)

    def report(self) -> str:
        counts = self.server.get("counts", {})
        faults = " ".join(f"{k}={v}" for k, v in counts.items() if v) or "none"
        opened = " ".join(f"{name}={self.opened[name]}" for name, _, _ in DRILL_DOWNS)
        lines = [
            f"chaos             {self.chaos}",
            f"cycles            {self.cycles} in {self.seconds:.0f} s, over {self.apps} app(s)",
            f"steps             {self.steps} (r pressed {self.nudges}x after {NUDGE_AFTER:.0f} s without a cycle)",
            f"drill-downs       {opened}",
            f"requests          client {self.requests}, server {self.server.get('requests', '?')}",
            f"faults (server)   {sum(counts.values())}: {faults}",
            f"crashes           {self.count('crash')}",
            f"worker errors     {self.count('worker error')}",
            f"internal errors   {self.count('internal error')}",
            f"refresh stopped   {self.count('refresh stopped')}",
            f"cycle held >{HELD:.0f} s  {self.count('cycle held')}",
            f"step timed out    {self.count('step timed out')}",
            f"longest gap       {self.longest_gap:.1f} s between two cycles' ends (seen after a step)",
            f"RSS               start {self.rss_start:.1f} MiB, end {self.rss_end:.1f} MiB, peak {self.rss_peak:.1f} MiB "
            f"(this process); as each app started: {', '.join(f'{m:.0f}' for m in self.rss_apps)} MiB",
        ]
        for (cls, _), p in sorted(self.problems.items(), key=lambda kv: (kv[0][0], -kv[1].count)):
            before = " ".join(f"{k}={v}" for k, v in p.faults.most_common()) or "none"
            lines.append(f"  {cls} x{p.count}: {p.what}")
            lines.append(f"      first during: {p.first_step}")
            lines.append(f"      faults before its first time in every app: {' '.join(sorted(p.always or ())) or 'none in common'}; "
                         f"in all those steps: {before}")
        return "\n".join(lines)


def where(exc: BaseException) -> str:
    """The innermost frame of hypertui's own code an exception went through, and the innermost
    frame of all if that is elsewhere (a library): path:line in function."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/hypertui/" in f.filename and "site-packages" not in f.filename]
    places = [f"{f.filename.rsplit('/hypertui/', 1)[-1].rsplit('site-packages/', 1)[-1]}:{f.lineno} in {f.name}"
              for f in ours[-1:] + frames[-1:]]
    return " < ".join(dict.fromkeys(reversed(places))) or "no traceback"


def describe(exc: BaseException) -> tuple[str, str]:
    """(signature to group by, one line to show)."""
    place = where(exc)
    text = one_line(f"{type(exc).__name__}: {exc}")[:160]
    return f"{type(exc).__name__} {place}", f"{text} (at {place})"


class Soak:
    """One run: the server's address, what was found so far, and the steps' context."""

    def __init__(self, url: str, chaos: str, seed: int, export_dir: str) -> None:
        self.url = url
        self.report_url = str(httpx.URL(url).copy_with(path=REPORT_PATH))
        self.rng = random.Random(seed)
        self.export_dir = export_dir
        self.result = SocketSoakResult(chaos=ChaosSpec.parse(chaos).describe())
        self.drill = 0
        self.step_name = ""
        self.marks = [0, 0]  # the server's request count before the step before, and before this one
        self.seen: set[tuple[str, str]] = set()  # problems this app has had
        self.seen_internal: set[str] = set()
        self.seen_workers = 0

    async def server_report(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as http:
            return (await http.get(self.report_url)).json()

    async def faults_since(self, mark: int) -> Counter[str]:
        report = await self.server_report()
        return Counter(kind for number, _, kind in report["recent"] if number > mark)

    async def found(self, cls: str, signature: str, what: str) -> None:
        problem = self.result.problems.setdefault((cls, signature), Problem(what, first_step=self.step_name))
        problem.count += 1
        if (cls, signature) in self.seen:
            return
        self.seen.add((cls, signature))
        faults = await self.faults_since(self.marks[0])
        problem.faults.update(faults)
        problem.always = set(faults) if problem.always is None else problem.always & set(faults)

    # --- one app ---------------------------------------------------------------------------

    async def life(self, deadline: float, cycles_left: int) -> int:
        """Run one app until it crashes, `cycles_left` cycles are done or the deadline; its cycles."""
        client = HyperTrackerClient(self.url, TOKEN, retries=2, max_retry_after=2.0)
        app = SoakApp(client, httpx.URL(self.url).netloc.decode(), refresh=REFRESH, export_dir=self.export_dir)
        self.result.apps += 1
        self.seen, self.seen_internal, self.seen_workers = set(), set(), 0
        gc.collect()
        self.result.rss_apps.append(rss_mib())
        try:
            async with app.run_test(size=SIZE) as pilot:
                await self._steps(pilot, app, deadline, cycles_left)
                app._exit_renderables.clear()  # Textual's traceback of a crash: told below, in one line
        except Exception:
            if not app.unhandled:  # the soak's own failure, not the app's crash run_test re-raises
                raise
        if app.unhandled:  # the app stopped on it
            sig, what = describe(app.unhandled[0])
            await self.found("crash", sig, what)
        self.result.requests += client.requests_made
        return app.refresh_loop.cycles_done

    async def _steps(self, pilot: Any, app: SoakApp, deadline: float, cycles_left: int) -> None:
        last_cycle, last_done = time.monotonic(), 0
        n = 0
        while time.monotonic() < deadline and app.refresh_loop.cycles_done < cycles_left and not app.unhandled:
            report = await self.server_report()
            self.marks = [self.marks[1], report["requests"]]
            n += 1
            step = self._open_drill_down if n % 2 == 0 else self._scroll_and_press
            try:
                await asyncio.wait_for(step(pilot, app), STEP_TIMEOUT)
            except TimeoutError:
                await self.found("step timed out", self.step_name.split(":")[0], f"no answer within {STEP_TIMEOUT:.0f} s")
            except Exception as exc:  # noqa: BLE001 - a pilot call on an app that just crashed
                if not app.unhandled:
                    sig, what = describe(exc)
                    await self.found("soak error", sig, what)
            self.result.steps += 1
            self.result.rss_peak = max(self.result.rss_peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            now = time.monotonic()
            if app.refresh_loop.cycles_done != last_done:
                last_cycle, last_done = now, app.refresh_loop.cycles_done
            self.result.longest_gap = max(self.result.longest_gap, now - last_cycle)
            await self._check(pilot, app, now - last_cycle)

    async def _check(self, pilot: Any, app: SoakApp, since_cycle: float) -> None:
        if app.unhandled:
            return  # life() records it
        for error in app.worker_errors[self.seen_workers:]:
            if error is not None:
                sig, what = describe(error)
                await self.found("worker error", sig, what)
        self.seen_workers = len(app.worker_errors)
        for message in set(_internal(app)) - self.seen_internal:
            await self.found("internal error", message[:120], message[:160])
            self.seen_internal.add(message)
        stopped = not app.refresh_loop.refreshing and app.refresh_loop.timer is None and not app.refresh_loop.paused
        if stopped:
            await self.found("refresh stopped", "stopped", "no cycle running or queued, no timer armed")
        if app.refresh_loop.busy and since_cycle > HELD:
            await self.found("cycle held", "held", f"a cycle still running after {HELD:.0f} s")
        if stopped or (not app.refresh_loop.busy and since_cycle > NUDGE_AFTER):
            self.result.nudges += 1
            await self._press(pilot, app, "r")

    # --- steps -------------------------------------------------------------------------------

    async def _press(self, pilot: Any, app: SoakApp, *keys: str) -> None:
        for key in keys:
            if app.unhandled or not app.is_running:
                return
            await pilot.press(key)
            await pilot.pause()

    async def _scroll(self, pilot: Any, app: SoakApp, selector: str) -> None:
        """Focus a dashboard panel and move its cursor (hence its scroll) somewhere random."""
        app.dashboard.query_one(selector).focus()
        rng = self.rng
        keys = rng.choice([["end"], ["pagedown"] * rng.randint(1, 3), ["j"] * rng.randint(0, 25), ["home"]])
        keys += ["l"] * rng.randint(0, 8) if selector == "#heatmap" else []
        await self._press(pilot, app, *keys)

    async def _scroll_and_press(self, pilot: Any, app: SoakApp) -> None:
        panel = self.rng.choice(PANELS)
        keys = self.rng.sample(DASHBOARD_KEYS, self.rng.randint(1, 3))
        self.step_name = f"dashboard: {panel} scrolled, then {' '.join(keys)}"
        await self._scroll(pilot, app, panel)
        await self._press(pilot, app, *keys)
        await pilot.pause(self.rng.uniform(0.3, 1.5))  # the app's timers run meanwhile

    async def _open_drill_down(self, pilot: Any, app: SoakApp) -> None:
        name, screen_class, keys = DRILL_DOWNS[self.drill % len(DRILL_DOWNS)]
        self.drill += 1
        pressed = self.rng.sample(keys, self.rng.randint(2, min(4, len(keys))))
        self.step_name = f"{name}: {' '.join(pressed)}"
        opening: dict[str, Callable[[], Awaitable[None]]] = {
            "positions": lambda: self._from(pilot, app, "#heatmap", "enter"),
            "coin": lambda: self._from(pilot, app, "#heatmap", "i"),
            "history": lambda: self._from(pilot, app, "#cohorts", "enter"),
            "bias": lambda: self._press(pilot, app, "b"),
            "alerts": lambda: self._press(pilot, app, "exclamation_mark"),
            "help": lambda: self._press(pilot, app, "question_mark"),
        }
        await opening[name]()
        if type(app.screen).__name__ != screen_class:
            return  # nothing under the cursor yet (no data under chaos): the next turn tries again
        self.result.opened[name] += 1
        await pilot.pause(self.rng.uniform(0.5, 2.0))  # its data on its way
        for key in pressed:
            await self._press(pilot, app, key)
            await pilot.pause(self.rng.uniform(0.1, 0.6))
        for _ in range(4):  # a position's details or positions from the coin view may be on top
            if app.unhandled or app.screen is app.dashboard:
                break
            await self._press(pilot, app, "escape")

    async def _from(self, pilot: Any, app: SoakApp, panel: str, key: str) -> None:
        await self._scroll(pilot, app, panel)
        await self._press(pilot, app, key)


async def soak_socket(cycles: int, seconds: float, chaos: str, *, seed: int = 1) -> SocketSoakResult:
    """Soak the app against `hypertui sim --chaos chaos` until `cycles` cycles or `seconds` have passed."""
    args = ("--scale", "small", "--update-interval", f"{UPDATE_INTERVAL:g}", "--chaos", chaos)
    with simulator(*args) as url, tempfile.TemporaryDirectory(prefix="hypertui-soak-") as exports:
        run = Soak(url, chaos, seed, exports)
        result = run.result
        gc.collect()
        result.rss_start = rss_mib()
        t0 = time.monotonic()
        deadline = t0 + seconds
        while result.cycles < cycles and time.monotonic() < deadline:
            result.cycles += await run.life(deadline, cycles - result.cycles)
        result.seconds = time.monotonic() - t0
        result.server = await run.server_report()
        gc.collect()
        result.rss_end = rss_mib()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=150, help="stop after this many refresh cycles (all apps)")
    parser.add_argument("--seconds", type=float, default=600, help="or after this long")
    parser.add_argument("--chaos", default="edge", help="the simulator's --chaos (a preset or spec)")
    parser.add_argument("--seed", type=int, default=1, help="the soak's own choices (keys, scrolls)")
    args = parser.parse_args(argv)
    try:
        active = ChaosSpec.parse(args.chaos).active
    except ValueError as exc:
        parser.error(str(exc))
    if not active:  # without faults the simulator has no chaos middleware, hence no GET /_chaos
        parser.error(f"--chaos {args.chaos!r} injects nothing: give a preset or kind=rate pairs")
    print(f"socket soak: up to {args.cycles} cycles or {args.seconds:g} s, chaos {args.chaos}", file=sys.stderr)
    result = asyncio.run(soak_socket(args.cycles, args.seconds, args.chaos, seed=args.seed))
    print(result.report())
    found = bool(result.problems)
    print("socket soak found problems" if found else "socket soak passed")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
