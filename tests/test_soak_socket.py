"""Socket soak, smoke only: `benchmarks/soak_socket.py` runs two cycles against `hypertui sim`.

The soak itself (`python benchmarks/soak_socket.py --chaos edge`) is a benchmark, not a test:
it runs for minutes and is meant to find failures. This only proves the machinery works: the
subprocess on a loopback port, the app's own scheduler, the steps, and the server's report.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))  # beside run.py and soak.py, as it runs
import soak_socket  # noqa: E402


@pytest.mark.timeout(60)
async def test_two_cycles_over_a_socket_with_every_request_counted_by_the_server():
    result = await soak_socket.soak_socket(2, 45, "latency=1,latency_ms=0", seed=1)
    assert result.cycles >= 2 and result.apps == 1 and result.steps >= 1
    assert result.problems == {}, result.report()
    counts = result.server["counts"]
    assert counts["latency"] == result.server["requests"] >= result.requests > 0  # the server saw them all
    assert result.rss_start > 0 and result.rss_end > 0
    assert "crashes           0" in result.report()
