"""Model parsing vs json.loads on the same bytes (a 1,000-row positions page, the heatmap).

    python benchmarks/bench_parse.py

Best of 30 runs each; the budget is model parsing at most 3x json.loads. Not part of the tests.
"""

import asyncio
import json
import time

import httpx

from hypertui.api.models import Heatmap, PositionsPage
from hypertui.sim import Market, create_app

AUTH = {"Authorization": "Bearer t"}


def best_of(fn, runs: int = 30) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


async def bodies() -> dict[str, tuple[bytes, type]]:
    app = create_app(Market(seed=7, scale="default"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim") as http:
        params = {"start": "2025-04-04T00:00:00.000Z", "limit": "1000"}
        positions = await http.get("/api/external/positions", params=params, headers=AUTH)
        heatmap = await http.get("/api/external/positions/heatmap", headers=AUTH)
    return {"positions page": (positions.content, PositionsPage), "heatmap": (heatmap.content, Heatmap)}


def main() -> None:
    for name, (body, model) in asyncio.run(bodies()).items():
        plain = best_of(lambda: json.loads(body))
        typed = best_of(lambda: model.model_validate_json(body))
        print(f"{name}: {len(body) / 1e3:.0f} KB  json.loads {plain * 1e3:.2f} ms  "
              f"model {typed * 1e3:.2f} ms  ratio {typed / plain:.2f}")


if __name__ == "__main__":
    main()
