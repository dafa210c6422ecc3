"""Process start → first data on screen, headless, on the in-process simulator.

    python benchmarks/first_data.py [--scale default]

Prints seconds from interpreter start (imports included) to the end of the first refresh cycle,
and the bare import floor measured in the same run. Not part of the test suite.
"""

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402


async def first_data(scale: str) -> float:
    from hypertui.source import simulator_client
    from hypertui.ui.app import HyperTuiApp

    app = HyperTuiApp(simulator_client(scale=scale), "SIMULATOR", refresh=15.0)
    async with app.run_test(size=(160, 45)) as pilot:
        while app.cycles_done == 0:
            await app.workers.wait_for_complete()
            await pilot.pause()
        return time.perf_counter() - T0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="default", choices=("small", "default", "large"))
    scale = ap.parse_args().scale
    elapsed = asyncio.run(first_data(scale))
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import textual.app, httpx, pydantic"], check=True)
    floor = time.perf_counter() - t
    print(f"first data on screen ({scale}): {elapsed:.2f} s   import floor (new process): {floor:.2f} s")
