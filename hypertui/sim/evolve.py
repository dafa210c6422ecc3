"""How the simulated market moves: each due update (every `update_interval` seconds of the
clock) moves prices, accrues funding, liquidates and closes positions, opens new ones, and
lets the market makers absorb the net so every coin's longs equal its shorts."""

from __future__ import annotations

import numpy as np

from .history import (
    HOUR_MS,
    rng_for,
)
from .state import LIVE_CLOSED_CAP, MAX_CATCHUP_TICKS, MarketState


class Evolution(MarketState):
    def advance(self) -> int:
        """Apply the state updates due at clock() time; returns how many were applied."""
        with self.lock:
            now = self.now_ms()
            due = (now - self.last_update_ms) // self.interval_ms
            if due <= 0:
                return 0
            if due > MAX_CATCHUP_TICKS:
                self.last_update_ms += (due - MAX_CATCHUP_TICKS) * self.interval_ms
                due = MAX_CATCHUP_TICKS
            for _ in range(int(due)):
                self.last_update_ms += self.interval_ms
                self._tick(self.last_update_ms)
            return int(due)

    def _tick(self, t_ms: int) -> None:
        self.tick_count += 1
        k = self.tick_count
        rng = rng_for(self.seed, "tick", k)
        C = self.n_coins
        P = self.pos
        # 1. prices: correlated with BTC, fat tails for small coins
        zb = rng.standard_normal()
        eps = rng.standard_t(4, C) / np.sqrt(2.0)
        ret = self.coin_beta * zb * self.coin_vol[0] + eps * self.coin_vol * 0.8
        ret[0] = zb * self.coin_vol[0]
        self.mark = self.mark * np.exp(ret)
        self._set_mid()
        dt_h = self.interval_ms / HOUR_MS
        mark_row = self.mark[P["coin"]]
        # 2. funding accrual (positive = paid)
        P["funding"] += P["side"] * P["size"] * mark_row * self.coin_rate[P["coin"]] * dt_h
        # 3. liquidations and random closes
        liq = P["liq"]
        with np.errstate(invalid="ignore"):
            liqd = np.where(P["side"] > 0, mark_row <= liq, mark_row >= liq) & ~P["mm"]
        n = len(mark_row)
        closing = liqd | ((rng.random(n) < 0.0005) & ~P["mm"])
        idx = np.flatnonzero(closing)
        if len(idx):
            upnl_c = P["size"][idx] * (mark_row[idx] - P["entry"][idx]) * P["side"][idx]
            realized = upnl_c - P["funding"][idx]
            rw = np.bincount(P["wal"][idx], weights=realized, minlength=self.n_wallets)
            self.w_deposit += rw
            self.w_realized += rw
            kept = ("pid", "ot", "wal", "coin", "side", "size", "entry", "lev", "cross", "liq", "funding")
            chunk = {c: P[c][idx] for c in kept}
            chunk["ct"] = np.full(len(idx), t_ms, dtype=np.int64)
            chunk["cpx"] = np.where(liqd[idx], liq[idx], mark_row[idx])
            self._closed_chunks.append(chunk)
            total = sum(len(c["pid"]) for c in self._closed_chunks)
            while total > LIVE_CLOSED_CAP and len(self._closed_chunks) > 1:
                total -= len(self._closed_chunks.pop(0)["pid"])
            keep = ~closing
            P = self.pos = {c: v[keep] for c, v in P.items()}
        # 4. new positions at the tick time (after every existing openTime: order preserved)
        target = self.params["positions"]
        cur = len(P["pid"])
        n_new = max(0, int(len(idx) * rng.uniform(0.8, 1.25) + (target - cur) * 0.05 + rng.poisson(target / 40000)))
        if n_new:
            r = self._new_rows(rng, n_new, np.full(n_new, t_ms, dtype=np.int64), (3, k))
            coin = r["coin"]
            mk = self.mark[coin]
            eqw = np.maximum(self.w_equity[r["wal"]], 20.0)
            usd = np.maximum(eqw * r["lev"] * r["u"] / 4.0, 11.0)
            q = 10.0 ** self.coin_szd[coin]
            size = np.maximum(np.round(usd / mk * q) / q, 1.0 / q)
            entry = mk * (1 + (rng.random(n_new) - 0.5) * 4e-4)
            lq = self.liq_price(entry, r["side"], r["lev"], r["cross"], self.coin_maxlev[coin])
            new = dict(pid=r["pid"], ot=r["ot"], wal=r["wal"], coin=coin, side=r["side"], size=size,
                       entry=entry, lev=r["lev"], cross=r["cross"], liq=lq, funding=np.zeros(n_new),
                       mm=np.zeros(n_new, bool))
            o = np.argsort(new["pid"], kind="stable")
            P = self.pos = {c: np.concatenate([P[c], new[c][o]]) for c in P}
        # 5. market makers absorb the net, wallets reclassify
        self._rebalance_mm()
        self._update_wallets(self._wallet_upnl())
