"""Tokens spent by the dashboard, as the snapshot store counts them (authenticated API requests).

    python benchmarks/tokens.py [--scale small] [--size 160x45]

On the embedded simulator behind a frozen clock (one API update throughout), with a store file
in a fresh temporary folder: a cold start, a restart on the same store (within the update), and
then the cohort list browsed (8 cohorts, one `j` each, as fast as keys come).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from hypertui.api.store import SnapshotStore
from hypertui.clock import FrozenClock
from hypertui.source import SIMULATOR_LABEL, simulator_client
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.screenshots import FROZEN, settled
from hypertui.ui.widgets.segment_list import SegmentList

SOURCE = "benchmark"


def _spent(path: Path) -> int:
    store = SnapshotStore(path, source=SOURCE)
    try:
        return sum(store.tokens(FROZEN.date().isoformat()).values())
    finally:
        store.close()


async def _session(path: Path, size: tuple[int, int], scale: str, browse: int = 0) -> None:
    clock = FrozenClock(FROZEN)
    client = simulator_client(seed=7, scale=scale, clock=clock, store=SnapshotStore(path, source=SOURCE))
    app = HyperTuiApp(client, SIMULATOR_LABEL, clock=clock)
    async with app.run_test(size=size) as pilot:
        await settled(pilot)
        if browse:
            app.dashboard.query_one(SegmentList).focus()
            for _ in range(browse):
                await pilot.press("j")
            await pilot.pause(0.5)  # the cursor rests: the last cohort is fetched
            await settled(pilot)


async def main(size: tuple[int, int], scale: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "store.sqlite3"
        await _session(path, size, scale)
        cold = _spent(path)
        await _session(path, size, scale)
        warm = _spent(path) - cold
        await _session(path, size, scale, browse=8)
        browsed = _spent(path) - cold - warm
    print(f"cold start: {cold} tokens")
    print(f"warm restart within the update: {warm} tokens")
    print(f"restart and 8 cohorts browsed quickly: {browsed} tokens")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small", choices=("small", "default", "large"))
    parser.add_argument("--size", default="160x45", help="terminal size, COLSxROWS")
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.split("x"))
    asyncio.run(main((cols, rows), args.scale))
