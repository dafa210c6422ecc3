"""Tokens spent by the dashboard, as the snapshot store counts them (authenticated API requests).

    python benchmarks/tokens.py [--scale small] [--size 160x45]

On the embedded simulator behind a frozen clock (one API update throughout), with a store file
in a fresh temporary folder: a cold start, a restart on the same store (within the update), and
then the cohort list browsed (8 cohorts, one `j` each, as fast as keys come). Also the bytes the
store keeps per update: the answers of a cold start, and of the panels on screen, which an idle
dashboard fetches again at each update (times 48 a day at the live API's 30 min cadence).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
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


def _kept(path: Path, endpoint_like: str = "%") -> int:
    """Bytes of the answers kept (compressed), of endpoints matching `endpoint_like` (SQL LIKE)."""
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT COALESCE(SUM(LENGTH(body)), 0) FROM answers WHERE endpoint LIKE ?", (endpoint_like,)).fetchone()[0]
    finally:
        db.close()


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
        kept = _kept(path)
        background = _kept(path, "/segments/%/summary") - _kept(path, "/segments/16/summary")  # the list's other 15
        await _session(path, size, scale)
        warm = _spent(path) - cold
        await _session(path, size, scale, browse=8)
        browsed = _spent(path) - cold - warm
    print(f"cold start: {cold} tokens")
    print(f"warm restart within the update: {warm} tokens")
    print(f"restart and 8 cohorts browsed quickly: {browsed} tokens")
    print(f"store: {kept / 1024:.0f} KiB kept at a cold start; {(kept - background) / 1024:.0f} KiB of panels per update")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small", choices=("small", "default", "large"))
    parser.add_argument("--size", default="160x45", help="terminal size, COLSxROWS")
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.split("x"))
    asyncio.run(main((cols, rows), args.scale))
