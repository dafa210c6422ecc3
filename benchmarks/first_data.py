"""Process start → first frame and → first data on screen, headless, on the in-process simulator.

    python benchmarks/first_data.py [--scale default] [--url http://127.0.0.1:8787/api/external]

Prints seconds from interpreter start to the first frame and to the end of the first refresh
cycle (summary, heatmap and risk drawn), and the bare import floor measured in the same run.
By default the data comes from the embedded simulator, whose market (30,000 wallets) is built
on the first request; with `--url` from a `hypertui sim` already running, as a remote API
would be. Not part of the test suite.
"""

import gc
import time

T0 = time.perf_counter()
gc.disable()  # as the command line does before the UI's imports (the app turns it back on)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


async def first_data(scale: str, url: str | None) -> tuple[float, float]:
    from hypertui.api.client import HyperTrackerClient
    from hypertui.source import simulator_client
    from hypertui.ui.app import HyperTuiApp

    client = HyperTrackerClient(url, "benchmark") if url else simulator_client(scale=scale)

    class Timed(HyperTuiApp):
        CSS_PATH = str(Path(sys.modules[HyperTuiApp.__module__].__file__).with_name(HyperTuiApp.CSS_PATH))
        first_frame = 0.0

        def on_ready(self) -> None:  # Textual calls HyperTuiApp's handler too (one per class)
            self.first_frame = time.perf_counter() - T0

    app = Timed(client, "SIMULATOR", refresh=15.0)
    async with app.run_test(size=(160, 45)) as pilot:
        while not app.refresh_loop.cycles_done:  # the dashboard's first cycle, drawn
            await pilot.pause()
        first_cycle = time.perf_counter() - T0
    return app.first_frame, first_cycle


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="default", choices=("small", "default", "large"))
    ap.add_argument("--url", help="base URL of a running `hypertui sim` (default: the embedded simulator)")
    args = ap.parse_args()
    frame, data = asyncio.run(first_data(args.scale, args.url))
    source = args.url or f"embedded simulator, {args.scale}"
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import textual.app, httpx, pydantic"], check=True)
    floor = time.perf_counter() - t
    print(f"first frame: {frame:.2f} s   first data on screen: {data:.2f} s   import floor (new process): {floor:.2f} s   ({source})")
