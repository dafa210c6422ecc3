"""Unit tests of the synthetic market (no HTTP)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pytest

from hypertui.clock import FrozenClock
from hypertui.sim import Market
from hypertui.sim.market import PNL_EDGES, PNL_IDS, SEGMENTS, SIZE_EDGES, SIZE_IDS

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(seed=7, scale="small", clock=FrozenClock(T0))


def test_all_cohorts_populated_and_consistent(market: Market) -> None:
    ag = market._aggregate("all")
    for s in SEGMENTS:
        assert ag["seg_traders"][s["id"]] > 0, s["name"]
        assert ag["seg_count"][s["id"]] > 0, s["name"]
    eq = np.maximum(market.w_equity, 0)
    assert (SIZE_IDS[np.searchsorted(SIZE_EDGES, eq, side="right")] == market.w_size_seg).all()
    assert (PNL_IDS[np.searchsorted(PNL_EDGES, market.w_pnl, side="right")] == market.w_pnl_seg).all()
    # every wallet in exactly one size and one pnl cohort
    assert ag["seg_traders"][list(map(int, SIZE_IDS))].sum() == market.n_wallets
    assert ag["seg_traders"][list(map(int, PNL_IDS))].sum() == market.n_wallets


def test_coin_long_equals_short(market: Market) -> None:
    P = market.pos
    q = 10.0 ** market.coin_szd
    net = np.bincount(P["coin"], weights=P["side"] * P["size"], minlength=market.n_coins)
    assert np.all(np.abs(net) < q ** -1 * 1e-3 + 1e-6 * np.bincount(P["coin"], weights=P["size"]))


def test_positions_sorted_and_fields(market: Market) -> None:
    P = market.pos
    key = P["ot"].astype(object) * (1 << 64) + P["pid"].astype(object)
    assert all(a < b for a, b in zip(key[:-1], key[1:]))
    assert (P["size"] > 0).all()
    assert set(np.unique(P["lev"])).issubset(set(range(1, 41)))
    assert {"BTC", "ETH", "HYPE", "SOL", "kPEPE", "kBONK"} <= set(market.coin_names)
    assert any(":" in c for c in market.coin_names)


def test_determinism() -> None:
    a = Market(seed=3, scale="small", clock=FrozenClock(T0))
    b = Market(seed=3, scale="small", clock=FrozenClock(T0))
    assert json.dumps(a.heatmap()) == json.dumps(b.heatmap())
    start = int(datetime(2025, 4, 4, tzinfo=timezone.utc).timestamp() * 1000)
    assert json.dumps(a.positions_page(start, limit=200)) == json.dumps(b.positions_page(start, limit=200))
    c = Market(seed=4, scale="small", clock=FrozenClock(T0))
    assert json.dumps(a.heatmap()) != json.dumps(c.heatmap())


def test_ticks_change_state_and_catch_up_is_capped() -> None:
    clk = FrozenClock(T0)
    m = Market(seed=7, scale="small", clock=clk, update_interval=15)
    h0 = m.heatmap()
    px0 = m.mark.copy()
    clk.advance(15)
    assert m.advance() == 1 and m.tick_count == 1
    assert m.advance() == 0
    assert not np.allclose(px0, m.mark)
    assert json.dumps(h0) != json.dumps(m.heatmap())
    s0 = m.summary(9)
    clk.advance(15)
    m.advance()
    assert s0["summary"]["positionValue"] != m.summary(9)["summary"]["positionValue"]
    clk.advance(3 * 3600)
    assert m.advance() == 20
    assert m.status()["lastUpdate"] == (clk.now.strftime("%Y-%m-%dT%H:%M:%S.000Z"))


def test_history_newest_row_is_live(market: Market) -> None:
    h = market.bias_history(9)
    s = market.summary(9)["summary"]
    assert h["history"][0][3] == s["positionValue"]
    assert h["history"][0][6] == s["activePerpEquity"]
    # stable past rows
    assert market.bias_history(9)["history"][1:] == h["history"][1:]
    ts = [r[0] for r in h["history"]]
    assert ts == sorted(ts, reverse=True)
