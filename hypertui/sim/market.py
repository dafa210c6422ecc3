"""The synthetic Hyperliquid perp market behind the simulator (no web code here), in rooms by job:
state.py builds it, evolve.py moves it, aggregates.py sums it, answers.py answers each endpoint
(encoding.py: times, cursors and rounding as JSON has them).

State is held as numpy struct-of-arrays:
  * wallets: deposit (equity without unrealised PnL), realised all-time PnL, equity, pnl, cohorts;
  * open positions, kept sorted by (openTime, id) (new positions open at the tick time, after
    every existing one, so appending keeps the order);
  * positions closed/liquidated during the run (bounded);
  * procedural closed history since 2025-04-04 (see history.py), generated per day on demand.

Every aggregate is computed from the same arrays, so cross-endpoint invariants hold exactly
(up to the 2-decimal rounding of USD values in JSON).  All random streams are seeded from
(seed, purpose, index) so results never depend on call order.
"""

from __future__ import annotations

from .answers import Answers
from .evolve import Evolution
from .state import PNL_EDGES, PNL_IDS, SEGMENTS, SIZE_EDGES, SIZE_IDS

__all__ = ["PNL_EDGES", "PNL_IDS", "SEGMENTS", "SIZE_EDGES", "SIZE_IDS", "Market"]


class Market(Answers, Evolution):
    """A deterministic synthetic market (see the module docstring), built by MarketState's
    constructor: `Market(seed=7, scale="small", clock=..., update_interval=15.0)`."""
