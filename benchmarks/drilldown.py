"""The positions drill-down on a large result: time to the first page, and memory while scrolling.

    python benchmarks/drilldown.py [--scale large] [--coin BTC] [--rows 100000] [--url URL]

Headless at 160x45 on the embedded simulator (seed 7), or with `--url` on a running
`hypertui sim --scale large` (then the RSS is the UI's alone): the dashboard loads, then the positions
screen opens for every position of the coin (open and closed, since 2025-04-04, all cohorts).
Timed: from pushing the screen to the first time it is drawn with the first page in its view
(wall clock; the embedded simulator serves the page on the same event loop, so its work is
included). Then the cursor walks down
in page-sized jumps to `--rows`, and resident memory (RSS) and rows held are printed along the
way. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from drilldowns import benchmark_app, time_to_data  # this folder: run as a script

from hypertui.monitor.positions import WINDOWS, PositionQuery
from hypertui.ui.screens.positions import PositionsScreen
from hypertui.ui.screenshots import settled
from hypertui.ui.widgets.positions_view import PositionsView


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def drained(pilot) -> None:  # noqa: ANN001 - a textual Pilot
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def measure(scale: str, coin: str, rows: int, url: str | None) -> None:
    app = benchmark_app(scale, url)
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        query = PositionQuery(coin=coin, status="all", window=WINDOWS[0])
        screen = PositionsScreen(app.client, app.clock, query, "all cohorts", app.cohorts)
        first_page = await time_to_data(app, screen, lambda s: bool(s.query(PositionsView) and s.query_one(PositionsView).row_count))
        view = screen.query_one(PositionsView)
        print(f"first page on screen: {first_page * 1000:.0f} ms ({view.row_count} rows, scale {scale}, {coin})")
        print(f"{'cursor row':>11} {'rows held':>10} {'RSS MiB':>8}")
        print(f"{view.cursor:>11,} {screen.rows_held:>10,} {rss_mib():>8.1f}")
        step, report = 1000, rows // 4
        while view.cursor < rows and not (screen.window.done and view.cursor >= view.row_count - 1):
            before = view.cursor
            view.move_to(min(view.cursor + step, view.row_count - 1))
            await drained(pilot)
            if view.cursor // report != before // report:
                print(f"{view.cursor:>11,} {screen.rows_held:>10,} {rss_mib():>8.1f}")
        print(f"result: {view.row_count:,} rows loaded of {'all' if screen.window.done else 'more'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="large", choices=("small", "default", "large"))
    ap.add_argument("--coin", default="BTC")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--url", help="base URL of a running `hypertui sim` (default: the embedded simulator)")
    args = ap.parse_args()
    asyncio.run(measure(args.scale, args.coin, args.rows, args.url))


if __name__ == "__main__":
    main()
