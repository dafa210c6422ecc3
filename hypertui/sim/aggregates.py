"""Sums over the simulated market's state: every (coin, cohort) and cohort total of one update,
computed once per update from the same arrays (so the endpoints agree exactly), and the smooth
series that extend them into the procedural past."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from .history import (
    HISTORY_START_MS,
    hash01,
    purpose_id,
    smooth_factor,
)
from .state import AGES, NSEG, RISK_FRACTION, MarketState


def _per_coin_cohort(
    cells: np.ndarray, coins: int, weights: np.ndarray | None = None, mask: np.ndarray | None = None
) -> np.ndarray:
    """A (coin, cohort) matrix of the sums of `weights` (of counts, without) over the rows `mask`
    keeps (every row, without); `cells` holds each row's coin * NSEG + cohort."""
    if mask is not None:
        cells, weights = cells[mask], None if weights is None else weights[mask]
    return np.bincount(cells, weights=weights, minlength=coins * NSEG).reshape(coins, NSEG)


class Aggregates(MarketState):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """MarketState's arguments; then the aggregates at creation, per position age, where the
        series into the past end."""
        super().__init__(*args, **kwargs)
        self._base = {age: self._aggregate(age) for age in AGES}

    def _aggregate(self, age: str) -> dict:
        key = (self.tick_count, age)
        got = self._agg_cache.get(key)
        if got is not None:
            return got
        if len(self._agg_cache) > 16:
            self._agg_cache.clear()
        P = self.pos
        C, W = self.n_coins, self.n_wallets
        win = AGES[age]
        if win is None:
            sel = slice(None)
        else:
            start = np.searchsorted(P["ot"], self.last_update_ms - win, side="left")
            sel = slice(int(start), None)
        coin = P["coin"][sel]
        wal = P["wal"][sel]
        side = P["side"][sel]
        size = P["size"][sel]
        mark = self.mark[coin]
        value = size * mark
        upnl = size * (mark - P["entry"][sel]) * side
        is_long = side > 0
        entry = P["entry"][sel]
        liq = P["liq"][sel]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = (entry - mark) / (entry - liq)
        risk = np.nan_to_num(frac, nan=0.0) >= RISK_FRACTION
        fund = P["funding"][sel]
        out: dict = {"age": age}
        for axis, segs in (("size", self.w_size_seg), ("pnl", self.w_pnl_seg)):
            bc = partial(_per_coin_cohort, coin * NSEG + segs[wal], C)
            out[axis] = dict(
                count=bc(), count_long=bc(mask=is_long), value=bc(value), value_long=bc(value, is_long),
                size=bc(size), size_long=bc(size, is_long), funding=bc(fund), upnl=bc(upnl),
                risk=bc(value, risk),
            )
        # combine both axes into per (coin, segment) matrices: each id belongs to exactly one axis
        comb = {}
        for f in out["size"]:
            comb[f] = out["size"][f] + out["pnl"][f]
        out["cs"] = comb
        # coin totals (each position counted once)
        out["coin_count"] = out["size"]["count"].sum(axis=1)
        out["coin_count_long"] = out["size"]["count_long"].sum(axis=1)
        out["coin_value"] = out["size"]["value"].sum(axis=1)
        # wallet level
        in_pos = np.bincount(wal, minlength=W) > 0
        w_upnl = np.bincount(wal, weights=upnl, minlength=W)
        eq = np.maximum(self.w_equity, 0.0)
        seg_traders = np.zeros(NSEG, np.int64)
        seg_inpos = np.zeros(NSEG, np.int64)
        seg_profit = np.zeros(NSEG, np.int64)
        seg_eq = np.zeros(NSEG)
        seg_ape = np.zeros(NSEG)
        for segs in (self.w_size_seg, self.w_pnl_seg):
            si = segs.astype(np.int64)
            seg_traders += np.bincount(si, minlength=NSEG)
            seg_inpos += np.bincount(si[in_pos], minlength=NSEG)
            seg_profit += np.bincount(si[in_pos & (w_upnl > 0)], minlength=NSEG)
            seg_eq += np.bincount(si, weights=eq, minlength=NSEG)
            seg_ape += np.bincount(si[in_pos], weights=eq[in_pos], minlength=NSEG)
        out["seg_traders"] = seg_traders
        out["seg_inpos"] = seg_inpos
        out["seg_profit"] = seg_profit
        out["seg_eq"] = seg_eq
        out["seg_ape"] = seg_ape
        out["seg_long"] = comb["value_long"].sum(axis=0)
        out["seg_value"] = comb["value"].sum(axis=0)
        out["seg_count"] = comb["count"].sum(axis=0)
        out["seg_count_long"] = comb["count_long"].sum(axis=0)
        out["seg_assets"] = (comb["count"] > 0).sum(axis=0)
        out["ts"] = self.last_update_ms
        self._agg_cache[key] = out
        return out

    # --- series (procedural past, live newest) -------------------------------------------
    def _sf(self, key: tuple, t_ms: np.ndarray, amp: float) -> np.ndarray:
        """Smooth noise factor normalised to 1 at market creation, so history joins the live value."""
        f = smooth_factor(self.seed, key, np.append(np.asarray(t_ms, dtype=np.int64), self.creation_ms), amp)
        return f[:-1] / f[-1]

    def _seg_series(self, seg: int, age: str, t_ms: np.ndarray) -> dict:
        b = self._base[age]
        a = purpose_id("segseries") % 100000
        ai = list(AGES).index(age)
        fl = self._sf((a, seg, ai, 1), t_ms, 0.12)
        fs = self._sf((a, seg, ai, 2), t_ms, 0.12)
        fe = self._sf((a, seg, ai, 3), t_ms, 0.05)
        fc = self._sf((a, seg, ai, 4), t_ms, 0.03)
        long0 = b["seg_long"][seg]
        short0 = b["seg_value"][seg] - long0
        return dict(long=long0 * fl, short=short0 * fs, ape=b["seg_ape"][seg] * fe,
                    traders=np.rint(b["seg_traders"][seg] * fc).astype(np.int64),
                    inpos=np.rint(b["seg_inpos"][seg] * fc).astype(np.int64))

    def _coinseg_series(self, coin: int, seg: int, age: str, t_ms: np.ndarray) -> dict:
        cs = self._base[age]["cs"]
        a = purpose_id("csseries") % 100000
        ai = list(AGES).index(age)
        fc = self._sf((a, coin, seg, ai, 1), t_ms, 0.08)
        fv = self._sf((a, coin, seg, ai, 2), t_ms, 0.15)
        fsh = self._sf((a, coin, seg, ai, 3), t_ms, 0.08)
        fp = self._sf((a, coin, seg, ai, 4), t_ms, 0.3)
        cnt = np.rint(cs["count"][coin, seg] * fc)
        v = cs["value"][coin, seg] * fv
        with np.errstate(invalid="ignore", divide="ignore"):
            sh_c = np.nan_to_num(cs["count_long"][coin, seg] / cs["count"][coin, seg], nan=0.5)
            sh_v = np.nan_to_num(cs["value_long"][coin, seg] / cs["value"][coin, seg], nan=0.5)
        shv = np.clip(sh_v * fsh, 0, 1)
        shc = np.clip(sh_c * fsh, 0, 1)
        sz = cs["size"][coin, seg] * fv
        return dict(positionCount=cnt.astype(np.int64), positionCountLong=np.rint(cnt * shc).astype(np.int64),
                    totalPositionValue=v, totalPositionValueLong=v * shv, totalPositionSize=sz,
                    totalPositionSizeLong=sz * shv, totalFunding=cs["funding"][coin, seg] * fp,
                    totalUnrealizedPnl=cs["upnl"][coin, seg] * fp)

    def _live_coinseg(self, coin: int, seg: int, age: str) -> dict:
        cs = self._aggregate(age)["cs"]
        return dict(positionCount=int(cs["count"][coin, seg]), positionCountLong=int(cs["count_long"][coin, seg]),
                    totalPositionValue=float(cs["value"][coin, seg]), totalPositionValueLong=float(cs["value_long"][coin, seg]),
                    totalPositionSize=float(cs["size"][coin, seg]), totalPositionSizeLong=float(cs["size_long"][coin, seg]),
                    totalFunding=float(cs["funding"][coin, seg]), totalUnrealizedPnl=float(cs["upnl"][coin, seg]))

    @staticmethod
    def _grid(start_ms: int, end_ms: int, step: int, offset: int) -> np.ndarray:
        """Slot base times offset + k*step within [start - step, end + step] (jitter added later)."""
        k0 = (start_ms - offset) // step - 1
        k1 = (end_ms - offset) // step + 1
        return np.arange(k0, k1 + 1, dtype=np.int64)

    def _slot_times(self, kind: str, start_ms: int, end_ms: int, step: int, offset: int, jitter_ms: int) -> np.ndarray:
        k = self._grid(start_ms, end_ms, step, offset)
        t = offset + k * step + (hash01(self.seed, purpose_id(kind), k) * jitter_ms).astype(np.int64)
        t = t[(t >= max(start_ms, HISTORY_START_MS)) & (t <= end_ms) & (t < self.last_update_ms)]
        return t[::-1]  # newest first
