"""Team mode: N hypertuis of one desk on one shared Redis, against one `hypertui sim` server.

    python benchmarks/team.py [--runs 3] [--updates 4] [--update-interval 2] [--sizes 1,5,20]

Each instance is a HyperTrackerClient driven as the dashboard drives it (headless, no UI): the
legend, then the first screen's panels (hypertui.monitor.plan's cycle for the first cohort) and
the cohort list's summaries; then, at each API update, a state/status check a little after the
update is due (each instance with its own delay, as laptops started apart) and, when the data
changed, the cycle's panels and the list's two oldest rows. The planner's clock moves 15 min per
update, the live API's cadence, so the list refreshes its rows as the dashboard would.

For N = 1, 5 and 20, with and without the shared cache: upstream requests per API update as the
server counted them (downloads of exports included; its /_chaos report) and the tokens among them,
Redis round trips per instance per update, and first data (the panels of the first screen, from
start; the median over every instance of every run) with the time the shared cache adds to it.
All N instances share this one process, as they share no machine at a desk: first data at N = 20
is mostly their CPU. Then the fault run: Redis killed in the middle of N = 5 and started again on
the same port: every instance's panels of each update during the outage, how late after the
update, and how soon all share again.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # hypertui and tests/ from this checkout; run.py beside this

from run import simulator  # noqa: E402

from hypertui.api.client import HyperTrackerClient  # noqa: E402
from hypertui.api.requests import send  # noqa: E402
from hypertui.api.shared_cache import SharedCache  # noqa: E402
from hypertui.api.store import SnapshotStore  # noqa: E402
from hypertui.monitor import plan  # noqa: E402
from hypertui.monitor.plan import BACKGROUND, PANELS, STATUS, TIMED  # noqa: E402
from hypertui.sim.chaos import REPORT_PATH  # noqa: E402
from tests.shared_cache.redis_server import RedisServer, free_port  # noqa: E402

TOKEN = "team-benchmark"
GRACE = 0.2  # seconds after an update is due before checking (the dashboard's is 10 s at a 15-30 min cadence)
SPREAD = 0.5  # each instance checks up to this much later again, seeded: instances started apart
PLANNER_STEP = timedelta(minutes=15)  # the planner's clock per update: the live API's shortest cadence


@dataclass
class Member:
    """One headless dashboard: its client, what it shows, and when each update reached it."""

    client: HyperTrackerClient
    delay: float  # its own wait after an update is due
    view: plan.View | None = None
    cohorts: list[int] = field(default_factory=list)
    summaries_at: dict[int, datetime] = field(default_factory=dict)
    planner_now: datetime = datetime(2026, 12, 7, tzinfo=UTC)
    first_data: float | None = None  # seconds from start to the first screen's panels
    lateness: dict[datetime, float] = field(default_factory=dict)  # update -> its panels' seconds after it

    async def first_screen(self) -> None:
        start = time.perf_counter()
        legend = await self.client.segments()
        self.view = plan.first_view(legend, PANELS)
        self.cohorts = []  # as the dashboard: other cohorts' summaries only for alert rules (none here)
        await self.cycle(TIMED - {BACKGROUND, STATUS})  # the legend's look-up read state/status already
        self.first_data = time.perf_counter() - start
        await self.cycle({BACKGROUND})  # the list's rows, after the panels as in the app

    async def cycle(self, parts: set[str] | frozenset[str]) -> None:
        assert self.view is not None
        requests = plan.plan_cycle(
            parts, self.view, cohort_ids=self.cohorts, summaries_at=self.summaries_at,
            risk_loaded=0, follow_cadence=True, now=self.planner_now,
        )
        await asyncio.gather(*(send(self.client, r) for r in requests))
        self.summaries_at |= {r.args[0]: self.planner_now for r in requests if r.kind == "summary" and r.args[1] == "all"}

    async def follow(self, updates: int) -> None:
        """The next `updates` API updates: each one's status check, then its panels."""
        for _ in range(updates):
            await self.next_update()

    async def next_update(self) -> None:
        while True:
            status = self.client.status
            assert status is not None and status.next_update is not None
            due = (status.next_update - datetime.now(UTC)).total_seconds()
            await asyncio.sleep(max(0.0, due + GRACE + self.delay))
            seen = status.last_update
            status = await self.client.state_status()
            if status.last_update == seen:  # not yet: the check again a little later
                await asyncio.sleep(0.1)
                continue
            self.planner_now += PLANNER_STEP
            await self.cycle(TIMED - {STATUS})  # just checked
            self.lateness[status.last_update] = (datetime.now(UTC) - status.last_update).total_seconds()
            return


class Desk:
    """N members on one server, with or without the shared cache; what the server and Redis saw."""

    def __init__(self, url: str, n: int, redis_url: str | None, seed: int = 1) -> None:
        rng = random.Random(seed)
        self.url = url
        self.members = [
            Member(
                HyperTrackerClient(
                    url, TOKEN, store=SnapshotStore(source=url),
                    shared=SharedCache(redis_url, source=url) if redis_url else None,
                ),
                delay=rng.uniform(0, SPREAD),
            )
            for _ in range(n)
        ]

    async def served(self) -> int:
        """Requests the server has answered so far (API and export downloads)."""
        async with httpx.AsyncClient() as http:
            return (await http.get(str(httpx.URL(self.url).copy_with(path=REPORT_PATH)))).json()["requests"]

    @property
    def tokens(self) -> int:
        return sum(sum(m.client.tokens_today.values()) for m in self.members)

    @property
    def round_trips(self) -> int:
        return sum(m.client.shared.round_trips for m in self.members if m.client.shared is not None)

    @property
    def down(self) -> int:
        return sum(m.client.shared_cache_down for m in self.members)

    async def follow(self, updates: int) -> tuple[int, int, int]:
        """Every member follows the next `updates` updates: (server requests, tokens, Redis round trips)."""
        served, tokens, trips = await self.served(), self.tokens, self.round_trips
        await asyncio.gather(*(m.follow(updates) for m in self.members))
        return await self.served() - served, self.tokens - tokens, self.round_trips - trips

    async def all_back(self) -> float:
        """Seconds until no member has its shared cache down (looked at every 0.1 s)."""
        start = time.monotonic()
        while self.down:
            await asyncio.sleep(0.1)
        return time.monotonic() - start

    async def aclose(self) -> None:
        await asyncio.gather(*(m.client.aclose() for m in self.members))


@dataclass
class Row:
    n: int
    shared: bool
    updates: int
    served: float  # per update
    tokens: float
    trips: float  # per instance per update
    first_data: list[float]


async def run_size(url: str, redis: RedisServer, n: int, shared: bool, updates: int) -> Row:
    redis.direct().flushall()
    desk = Desk(url, n, redis.url if shared else None)
    try:
        await asyncio.gather(*(m.first_screen() for m in desk.members))
        served, tokens, trips = await desk.follow(updates)
    finally:
        await desk.aclose()
    return Row(n, shared, updates, served / updates, tokens / updates, trips / updates / n, [m.first_data or 0.0 for m in desk.members])


async def fault_run(url: str, redis: RedisServer, interval: float) -> list[str]:
    """N = 5: sharing, Redis killed, Redis back on the same port; one line per phase."""
    redis.direct().flushall()
    desk = Desk(url, 5, redis.url, seed=2)
    lines = [
        "| phase | updates | upstream requests / update | tokens / update | instances down "
        "| every instance's panels at each update | latest panels after the update |",
        "|---|---|---|---|---|---|---|",
    ]

    async def phase(name: str, updates: int) -> None:
        marks = [set(m.lateness) for m in desk.members]
        served, tokens, _ = await desk.follow(updates)
        new = [{u: m.lateness[u] for u in set(m.lateness) - mark} for m, mark in zip(desk.members, marks, strict=True)]
        everyone = all(set(got) == set(new[0]) and len(got) == updates for got in new)
        latest = max(late for got in new for late in got.values())
        lines.append(
            f"| {name} | {updates} | {served / updates:.1f} | {tokens / updates:.1f} | {desk.down}/5 | "
            f"{'yes' if everyone else 'NO'} | {latest:.2f} s (interval {interval:g} s) |"
        )

    try:
        await asyncio.gather(*(m.first_screen() for m in desk.members))
        await phase("sharing", 3)
        redis.kill()
        await phase("Redis killed", 4)
        redis.start()
        watch = asyncio.ensure_future(desk.all_back())
        await phase("Redis started again (reconnecting: 1, 2, 5, 10, 30 s)", 6)
        back = f"{watch.result():.1f} s" if watch.done() else "not yet"
        watch.cancel()
        lines.append(f"\nall 5 sharing again {back} after Redis was started again\n")
        await phase("sharing again", 3)
    finally:
        await desk.aclose()
    return lines


def merged(runs: list[Row]) -> Row:
    """Runs of one N as one row: rates over every update, first data of every instance."""
    return Row(
        runs[0].n, runs[0].shared, sum(r.updates for r in runs),
        statistics.fmean(r.served for r in runs), statistics.fmean(r.tokens for r in runs),
        statistics.fmean(r.trips for r in runs), [t for r in runs for t in r.first_data],
    )


def table(rows: list[Row]) -> list[str]:
    alone = {r.shared: r for r in rows if r.n == 1}
    direct_first = {r.n: statistics.median(r.first_data) for r in rows if not r.shared}
    out = [
        "| N | shared cache | updates | upstream requests / update | × N = 1 | tokens / update "
        "| Redis round trips / instance / update | first data, median (max) | added by the cache |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = r.served / alone[r.shared].served if alone[r.shared].served else float("nan")
        first = statistics.median(r.first_data)
        added = f"{(first - direct_first[r.n]) * 1000:+.0f} ms" if r.shared and r.n in direct_first else ""
        out.append(
            f"| {r.n} | {'yes' if r.shared else 'no'} | {r.updates} | {r.served:.1f} | {ratio:.2f} | {r.tokens:.1f} | "
            f"{r.trips:.1f} | {first * 1000:.0f} ms ({max(r.first_data) * 1000:.0f} ms) | {added} |"
        )
    return out


async def main_async(args: argparse.Namespace) -> None:
    sizes = sorted({1, *(int(n) for n in args.sizes.split(","))})  # N = 1 is what the others are compared with
    sim = ("--scale", "small", "--update-interval", f"{args.update_interval:g}", "--chaos", "latency=1,latency_ms=0")
    redis = RedisServer(free_port())
    try:
        with simulator(*sim) as url:
            await run_size(url, redis, 1, False, 1)  # not shown: the simulator builds its market on the first request
            runs: dict[tuple[int, bool], list[Row]] = {(n, shared): [] for n in sizes for shared in (False, True)}
            for _ in range(args.runs):  # interleaved: a busier minute of the box falls on every row alike
                for n, shared in runs:
                    runs[n, shared].append(await run_size(url, redis, n, shared, args.updates))
            rows = [merged(each) for each in runs.values()]
            print(f"# Team mode: N instances, one `hypertui sim --scale small --update-interval {args.update_interval:g}`, one redis-server\n")
            print("\n".join(table(rows)))
            print("\n## Redis killed in the middle of N = 5\n")
            print("\n".join(await fault_run(url, redis, args.update_interval)))
    finally:
        redis.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=4, help="API updates followed per N and run (default 4)")
    parser.add_argument("--runs", type=int, default=3, help="runs of every N, interleaved (default 3)")
    parser.add_argument("--update-interval", type=float, default=2.0, help="the simulator's seconds between updates (default 2)")
    parser.add_argument("--sizes", default="1,5,20", help="instance counts, 1 always among them (default 1,5,20)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
