"""Chaos soak: the real dashboard, headless, against the in-process simulator under injected faults.

    python benchmarks/soak.py --cycles 1000 --chaos storm

Drives `HyperTuiApp` through `run_test` (no terminal) for N refresh cycles. Nothing sleeps: the
simulator's latency spikes and slow drips are 0 ms, the client's retry backoff is a no-op, and a
frozen clock is advanced between cycles so the market ticks. Every few cycles a key is pressed (`j` next cohort,
`a` position age, `x` heatmap axis) to prove the app still answers. At the end chaos is turned
off, one clean cycle runs, and what is on screen is compared with a fresh fetch.

Asserted (the script exits 1 and says why otherwise): no unhandled exception, the app still
running, no refresh worker in the ERROR state, no swallowed internal error (a bug shown as
"internal error: …" instead of an API error), keys still work, the screen equals the last good
response after the clean cycle, and, for runs of 300 cycles or more, RSS stops growing.

`tests/test_soak.py` runs a short version of the same `soak()` in the suite. A socket, real time,
the app's own scheduler, drill-downs and scrolled panels: `soak_socket.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
from textual.worker import Worker, WorkerState

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from hypertui.api.client import HyperTrackerClient
from hypertui.api.models import ordered_by_range
from hypertui.clock import FrozenClock
from hypertui.monitor import format as fmt
from hypertui.monitor.plan import TIMED
from hypertui.monitor.rows import AXES, summary_figures
from hypertui.sim import Market, create_app
from hypertui.sim.chaos import ChaosSpec
from hypertui.source import SIM_BASE_URL, SIMULATOR_LABEL
from hypertui.ui import app as app_module
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.screens.dashboard import DashboardScreen
from hypertui.ui.widgets.cohort_summary import CohortSummary
from hypertui.ui.widgets.heatmap import HeatmapTable
from hypertui.ui.widgets.risk_table import RiskTable
from hypertui.ui.widgets.status_bar import StatusBar

START = datetime(2026, 3, 4, 8, 30, tzinfo=UTC)
TOKEN = "soak-secret-token-5f3c9a"  # a fake; never on screen
SIZE = (160, 45)
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib() -> float:
    """Resident set size of this process, from /proc/self/statm (no psutil)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * _PAGE / 2**20


async def _no_sleep(_: float) -> None:
    return None


class SoakDashboard(DashboardScreen):
    """The real dashboard, its refresh workers' errors recorded in the app (SoakApp)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            cast(SoakApp, self.app).worker_errors.append(event.worker.error)


class SoakApp(HyperTuiApp):
    """The real app, plus a record of every worker that errored and every unhandled exception."""

    DASHBOARD = SoakDashboard
    CSS_PATH = str(Path(app_module.__file__).with_name("hypertui.tcss"))  # relative paths follow the subclass

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.worker_errors: list[BaseException | None] = []
        self.unhandled: list[BaseException] = []

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.worker_errors.append(event.worker.error)

    def _handle_exception(self, error: Exception) -> None:
        self.unhandled.append(error)
        super()._handle_exception(error)


@dataclass
class SoakResult:
    cycles: int = 0
    seconds: float = 0.0
    requests: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    drift: dict[str, int] = field(default_factory=dict)
    failed_cycles: int = 0  # cycles that ended with an error on screen (expected under chaos)
    logged_failures: int = 0  # requests the client logged as failed after its retries
    internal_errors: list[str] = field(default_factory=list)  # bugs swallowed by the refresh loop
    worker_errors: list[str] = field(default_factory=list)
    unhandled: list[str] = field(default_factory=list)
    key_checks: int = 0
    rss: list[tuple[int, float]] = field(default_factory=list)  # (cycle, MiB)
    return_code: int | None = None
    still_running: bool = False
    final_checks: list[str] = field(default_factory=list)  # what the clean cycle compared

    @property
    def total_faults(self) -> int:
        return sum(self.faults.values())

    def report(self) -> str:
        faults = " ".join(f"{k}={v}" for k, v in self.faults.items() if v) or "none"
        drift = " ".join(f"{k}={v}" for k, v in self.drift.items() if v) or "none"
        rss = ", ".join(f"cycle {c}: {m:.1f} MiB" for c, m in self.rss)
        return "\n".join(
            [
                f"cycles            {self.cycles} in {self.seconds:.1f} s ({self.cycles / max(self.seconds, 1e-9):.1f}/s)",
                f"requests          {self.requests} (client, retries included)",
                f"faults injected   {self.total_faults}: {faults}",
                f"drift modes       {drift}",
                f"cycles w/ error   {self.failed_cycles} (shown as STALE, expected under chaos)",
                f"failed requests   {self.logged_failures} (logged by the client after its retries)",
                f"internal errors   {len(self.internal_errors)}",
                f"worker errors     {len(self.worker_errors)}",
                f"unhandled exc.    {len(self.unhandled)}",
                f"key checks        {self.key_checks} (j, a, x each changed the view)",
                f"app               running={self.still_running} return_code={self.return_code}",
                f"RSS               {rss}",
                f"final clean cycle {'; '.join(self.final_checks)}",
            ]
        )


def _internal(app: HyperTuiApp) -> list[str]:
    return [msg for msg in app.refresh_loop.failures.values() if msg.startswith("internal error")]


async def _wait_cycle(pilot: Any, app: HyperTuiApp, done_before: int) -> None:
    """Until the cycle asked for (and any queued after it) has finished and the screen caught up."""
    while app.refresh_loop.refreshing or app.refresh_loop.cycles_done <= done_before:
        await app.workers.wait_for_complete()
        await pilot.pause()
    await pilot.pause()


async def _cycle(pilot: Any, app: HyperTuiApp, clock: FrozenClock, step: float) -> None:
    clock.advance(step)
    before = app.refresh_loop.cycles_done
    app.refresh_loop.request_refresh(TIMED)
    await _wait_cycle(pilot, app, before)


async def _check_keys(pilot: Any, app: HyperTuiApp) -> None:
    """`j` selects the next cohort, `a` cycles the position age, `x` flips the heatmap axis."""
    assert app.state.view is not None and app.state.cohorts
    app.dashboard.query_one("#cohorts").focus()
    sid, age, axis = app.state.view.cohort_id, app.state.view.position_age, app.state.axis
    before = app.refresh_loop.cycles_done
    await pilot.press("j")
    await pilot.press("a")
    await pilot.press("x")
    await pilot.pause()
    assert app.state.axis != axis, "x did not flip the heatmap axis"
    assert app.state.view.position_age != age, "a did not cycle the position age"
    cohorts = [s.id for s in ordered_by_range(app.state.cohorts, "size")]
    if sid in cohorts and sid != cohorts[-1]:
        assert app.state.view.cohort_id != sid, "j did not select the next cohort"
    if app.refresh_loop.refreshing:  # the keys asked for data: let that cycle run (it may fail under chaos)
        await _wait_cycle(pilot, app, before)


async def _final_clean_cycle(pilot: Any, app: HyperTuiApp, clock: FrozenClock, client: HyperTrackerClient) -> list[str]:
    """One fault-free cycle, then the screen must equal a fresh fetch of the same data."""
    checks: list[str] = []
    # Back to the first screen: size axis, age "all", the heatmap as fetched.
    while app.state.axis != AXES[0]:
        await pilot.press("x")
    while app.state.view is not None and app.state.view.position_age != "all":
        await pilot.press("a")
    await pilot.pause()
    if app.state.cohorts is None or app.state.view is None:  # the legend never arrived under chaos: fetch it
        await _cycle(pilot, app, clock, 0)
    await _cycle(pilot, app, clock, 15)
    assert app.refresh_loop.last_error is None, f"error after a fault-free cycle: {app.refresh_loop.last_error}"
    assert not app.refresh_loop.freshness().stale
    checks.append("no error, not stale")

    assert app.state.view is not None
    heatmap = await client.heatmap(app.state.view.opened_within)
    table = app.dashboard.query_one(HeatmapTable)
    assert table.row_keys == [row.coin for row in heatmap.heatmap], "heatmap rows differ from a fresh fetch"
    first = heatmap.heatmap[0]
    assert table.cell_text(first.coin, "coin").plain.strip() == first.coin
    assert table.cell_text(first.coin, "total").plain.strip() == fmt.money(first.total_value)
    checks.append(f"heatmap {len(heatmap.heatmap)} rows, first {first.coin} {fmt.money(first.total_value)}")

    summary = await client.summary(app.state.view.cohort_id, app.state.view.position_age)
    assert app.state.summary == summary, "summary on screen differs from a fresh fetch"
    figures = summary_figures(summary)  # the values; the ▲▼ marks depend on the previous refresh
    shown = app.dashboard.query_one(CohortSummary)._figures_key
    assert shown is not None and [f.value for f in shown] == [f.value for f in figures]
    checks.append(f"summary of cohort {summary.segment.id}: {len(figures)} figures equal")

    risk = await client.liquidation_risk(app.state.view.cohort_id, offset=0, limit=len(app.state.risk_items))
    assert [i.coin for i in app.state.risk_items] == [i.coin for i in risk.items], "risk rows differ"
    assert app.dashboard.query_one(RiskTable).row_count == len(risk.items)
    checks.append(f"risk {len(risk.items)} rows equal")
    status = app.dashboard.query_one(StatusBar)._last
    assert status is not None and "STALE" not in status.plain and "✗" not in status.plain
    checks.append("status bar clean")
    assert TOKEN not in app.export_screenshot(), "the token is on screen"
    checks.append("token not on screen")
    return checks


def build(chaos: str, *, seed: int = 7, retries: int = 2, token: str = TOKEN) -> tuple[SoakApp, Any, FrozenClock]:
    """The app, the simulator's ASGI app (its `state.chaos`) and the clock both share."""
    clock = FrozenClock(START)
    market = Market(seed=seed, scale="small", clock=clock)
    sim = create_app(market, chaos=chaos)
    client = HyperTrackerClient(
        SIM_BASE_URL, token, transport=httpx.ASGITransport(app=sim), retries=retries, sleep=_no_sleep
    )
    # The soak drives every cycle itself: the app's own timer (real time) must not add any.
    app = SoakApp(client, SIMULATOR_LABEL, refresh=3600.0, clock=clock)
    return app, sim, clock


async def soak(
    cycles: int,
    chaos: str = "storm,seed=1,latency_ms=0",
    *,
    key_every: int = 10,
    rss_every: int = 0,
    step: float = 15.0,
    progress: Callable[[int, float], Awaitable[None] | None] | None = None,
) -> SoakResult:
    """Run `cycles` refresh cycles under `chaos`, then a clean one; raise AssertionError on a problem."""
    spec = ChaosSpec.parse(chaos)
    app, sim, clock = build(chaos)
    result = SoakResult()
    counter = _Counter()
    api_log = logging.getLogger("hypertui.api")
    api_log.addHandler(counter)  # also keeps logging's last-resort handler from printing each one
    t0 = time.perf_counter()
    try:
        await _drive(app, sim, clock, spec, result, cycles, key_every, rss_every, step, progress)
    finally:
        api_log.removeHandler(counter)
    result.logged_failures = counter.count
    result.seconds = time.perf_counter() - t0
    return result


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def _drive(app, sim, clock, spec, result, cycles, key_every, rss_every, step, progress) -> None:
    async with app.run_test(size=SIZE) as pilot:
        # The first cycle(s), started by on_ready.
        while app.refresh_loop.cycles_done == 0 or app.refresh_loop.refreshing:
            await app.workers.wait_for_complete()
            await pilot.pause()
        gc.collect()
        result.rss.append((0, rss_mib()))
        for n in range(1, cycles + 1):
            await _cycle(pilot, app, clock, step)
            result.failed_cycles += app.refresh_loop.last_error is not None
            result.internal_errors += _internal(app)
            if key_every and n % key_every == 0 and app.state.view is not None and app.state.cohorts:
                await _check_keys(pilot, app)
                result.key_checks += 1
                result.internal_errors += _internal(app)
            if rss_every and n % rss_every == 0:
                gc.collect()
                result.rss.append((n, rss_mib()))
                if progress is not None:
                    maybe = progress(n, rss_mib())
                    if maybe is not None:
                        await maybe
        result.cycles = cycles
        result.faults = dict(sim.state.chaos.counts)
        result.drift = dict(sim.state.chaos.drift_counts)
        # Chaos off (same middleware, all rates zero), then one cycle that must fully succeed.
        sim.state.chaos.spec = ChaosSpec(name="off", seed=spec.seed)
        result.final_checks = await _final_clean_cycle(pilot, app, clock, app.client)
        gc.collect()
        result.rss.append((cycles + 1, rss_mib()))
        result.requests = app.client.requests_made
        result.worker_errors = [repr(e) for e in app.worker_errors]
        result.unhandled = [repr(e) for e in app.unhandled]
        result.still_running = app.is_running
        result.return_code = app.return_code


def check(result: SoakResult, *, memory: bool) -> list[str]:
    """What went wrong, as lines (empty: the soak passed)."""
    problems = []
    if result.unhandled:
        problems.append(f"unhandled exceptions: {result.unhandled[:3]}")
    if result.worker_errors:
        problems.append(f"workers in ERROR: {result.worker_errors[:3]}")
    if result.internal_errors:
        problems.append(f"internal errors swallowed by the refresh loop: {sorted(set(result.internal_errors))[:3]}")
    if not result.still_running or result.return_code is not None:
        problems.append(f"the app stopped (return code {result.return_code})")
    if memory and len(result.rss) >= 4:
        # Growth over the second half must be small next to the first half's (warm-up: caches, pools).
        mid = result.rss[len(result.rss) // 2][1]
        end = result.rss[-1][1]
        if end - mid > max(8.0, 0.05 * mid):
            problems.append(f"RSS still growing: {mid:.1f} MiB at mid-run, {end:.1f} MiB at the end")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--chaos", default="storm", help="preset or spec (latency_ms=0 and drip_ms=0 are added unless given)")
    parser.add_argument("--seed", type=int, default=1, help="chaos seed (unless the spec gives one)")
    parser.add_argument("--keys-every", type=int, default=10, help="press j/a/x every N cycles (0: never)")
    args = parser.parse_args(argv)
    chaos = args.chaos
    for option in ("latency_ms=", "drip_ms="):  # nothing sleeps here: a spike or a drip takes no time
        if option not in chaos:
            chaos += f",{option}0"
    if "seed=" not in chaos:
        chaos += f",seed={args.seed}"
    rss_every = max(1, args.cycles // 10)

    def progress(n: int, mib: float) -> None:
        print(f"  cycle {n:>6}  RSS {mib:7.1f} MiB", file=sys.stderr, flush=True)

    print(f"soak: {args.cycles} cycles, chaos {ChaosSpec.parse(chaos).describe()}", file=sys.stderr)
    try:
        result = asyncio.run(soak(args.cycles, chaos, key_every=args.keys_every, rss_every=rss_every, progress=progress))
    except AssertionError as exc:
        print(f"soak FAILED: {exc}", file=sys.stderr)
        return 1
    print(result.report())
    problems = check(result, memory=args.cycles >= 300)
    for p in problems:
        print(f"soak FAILED: {p}", file=sys.stderr)
    if not problems:
        print("soak passed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
