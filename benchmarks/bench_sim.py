"""Simulator figures through the real client (in-process): build, 1,000-row page, heatmap, RSS.

    python benchmarks/bench_sim.py [--scale default|large] [--runs 7]

Prints medians with min-max. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time

import httpx

from hypertui.api.client import HyperTrackerClient
from hypertui.sim import Market, create_app
from hypertui.source import SIM_BASE_URL


def spread(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"{statistics.median(ms):8.1f} ms  ({min(ms):.1f}-{max(ms):.1f})"


async def main(scale: str, runs: int) -> None:
    t0 = time.perf_counter()
    market = Market(seed=7, scale=scale)
    build = time.perf_counter() - t0
    async with HyperTrackerClient(SIM_BASE_URL, "t", transport=httpx.ASGITransport(app=create_app(market))) as client:
        heat, page, deep = [], [], []
        for _ in range(runs):
            t = time.perf_counter()
            hm = await client.heatmap()
            heat.append(time.perf_counter() - t)
        btc = hm.heatmap[0].coin
        cursor = None
        for _ in range(runs):
            t = time.perf_counter()
            p = await client.positions(start="2025-04-04T00:00:00.000Z", limit=1000, next_cursor=cursor)
            page.append(time.perf_counter() - t)
            cursor = p.next_cursor
        cursor = None
        for _ in range(runs):
            t = time.perf_counter()
            p = await client.positions(start="2025-04-04T00:00:00.000Z", coin=btc, segment_id=9, limit=1000, next_cursor=cursor)
            deep.append(time.perf_counter() - t)
            cursor = p.next_cursor
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"scale={scale}  market build {build * 1000:.0f} ms")
    print(f"  heatmap ({len(hm.heatmap)} coins)              {spread(heat)}")
    print(f"  /positions 1,000-row page (all coins)  {spread(page)}")
    print(f"  /positions 1,000-row page ({btc}, seg 9)  {spread(deep)}")
    print(f"  peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="default", choices=("small", "default", "large"))
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    asyncio.run(main(args.scale, args.runs))
