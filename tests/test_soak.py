"""Chaos soak, short version: the real dashboard survives a storm of injected faults.

The long run is `python benchmarks/soak.py --cycles 1000 --chaos storm`; both use `soak()` from
that script. Nothing sleeps (0 ms latency spikes, no-op retry backoff, a frozen clock that is
advanced by hand), so 50 cycles take ~12 s.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from hypertui.monitor.plan import TIMED
from hypertui.ui.screenshots import settled

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "soak.py"
_spec = importlib.util.spec_from_file_location("hypertui_soak", _PATH)
assert _spec is not None and _spec.loader is not None
soak_module = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = soak_module
_spec.loader.exec_module(soak_module)

CYCLES = 50


@pytest.mark.timeout(90)
async def test_storm_soak_keeps_the_app_up_and_ends_on_the_last_good_data():
    result = await soak_module.soak(CYCLES, "storm,seed=1,latency_ms=0", key_every=10, rss_every=20)
    print("\n" + result.report())  # pytest -s shows the figures
    assert soak_module.check(result, memory=False) == []
    assert result.cycles == CYCLES and result.key_checks == CYCLES // 10
    # The storm really happened: (nearly) every kind of fault reached the client. Starlette runs
    # the simulator's routes in threads, so the order of requests, hence of the seeded faults,
    # varies a little from run to run; a rare kind (quota: 2 %) may miss a short run.
    assert result.total_faults > CYCLES
    kinds = [k for k, v in result.faults.items() if v]
    assert len(kinds) >= 9, f"fault kinds injected: {result.faults}"
    assert {"500", "503", "reset", "drift", "expired", "hostile"} <= set(kinds)
    assert 0 < result.failed_cycles < CYCLES  # errors were shown, and some cycles still got through
    assert len(result.final_checks) == 6  # the clean cycle compared heatmap, summary, risk, status, token


async def test_an_empty_legend_is_reported_and_retried(clock):
    """Chaos `drift=empty` can turn `/segments` into `[]`: the app must say so and recover next cycle.

    Kept, an empty legend would never be fetched again and every later cycle would end in
    "internal error: AssertionError".
    """
    from hypertui.ui.screenshots import make_app

    app = make_app(clock=clock)
    real = app.client._inner.segments
    calls = 0

    async def segments():  # the first answer is empty, then the real legend
        nonlocal calls
        calls += 1
        return [] if calls == 1 else await real()

    app.client._inner.segments = segments
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)  # the first cycle fails on the legend; the queued one asks again
        app.refresh_loop.request_refresh(TIMED)
        await settled(pilot)
        assert app.refresh_loop.last_error is None or "internal error" not in app.refresh_loop.last_error
        assert calls >= 2
        assert app.refresh_loop.last_error is None and app.state.cohorts and app.state.heatmap is not None
