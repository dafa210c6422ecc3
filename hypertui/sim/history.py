"""Procedural, deterministic history for the simulated market.

Nothing here is held for the whole history: closed positions are generated per day from a
seed derived from (seed, day), and time series are "value at market creation x a smooth
deterministic noise factor" evaluated at any timestamp.  No web code, no Textual.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

import numpy as np

UTC = UTC
HISTORY_START = datetime(2025, 4, 4, tzinfo=UTC)
HISTORY_START_MS = int(HISTORY_START.timestamp() * 1000)
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MIN_MS = 60_000

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def purpose_id(name: str) -> int:
    """Stable small integer for a purpose name (independent of PYTHONHASHSEED)."""
    return zlib.crc32(name.encode())


def rng_for(seed: int, purpose: str, *idx: int) -> np.random.Generator:
    """A Generator seeded from (seed, purpose, index...), independent of call order."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, purpose_id(purpose), *[int(i) & 0xFFFFFFFFFFFF for i in idx]])


def _u64(v) -> np.ndarray:
    a = np.asarray(v)
    if a.dtype != np.uint64:
        a = a.astype(np.int64).astype(np.uint64)
    return a


def _mix(x: np.ndarray) -> np.ndarray:
    # splitmix64 finaliser, vectorised (uint64 arithmetic wraps)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def hash_u64(*parts) -> np.ndarray:
    """Deterministic 64-bit hash of broadcastable integer parts."""
    h = np.asarray(np.uint64(0x243F6A8885A308D3))  # 0-d: the first ufunc gives a scalar back for scalar parts
    for p in parts:
        h = _mix(np.bitwise_xor(h, _u64(p)))
    return h


def hash01(*parts) -> np.ndarray:
    """Deterministic uniform [0, 1) from integer parts."""
    return (hash_u64(*parts) >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def hash_id(*parts) -> np.ndarray:
    """Deterministic non-negative 63-bit id (hex of it orders like the integer)."""
    return (hash_u64(*parts) >> np.uint64(1)).astype(np.int64)


_PERIODS_H = np.array([5.3, 13.7, 31.0, 77.0, 181.0, 409.0])


def smooth_factor(seed: int, key: tuple[int, ...], t_ms: np.ndarray, amp: float) -> np.ndarray:
    """exp(amp * S(t)) with S a smooth, deterministic, roughly unit-variance signal.

    S is a sum of sinusoids whose phases and weights come from hash(seed, key, k), so the
    same key always gives the same curve, whatever the call order or the market ticks.
    """
    k = np.arange(len(_PERIODS_H))
    parts = [int(seed)] + [int(x) for x in key]
    ph = hash01(*parts, k) * 2 * np.pi
    w = 0.4 + hash01(*parts, k + 100)
    w = w / np.sqrt((w**2).sum() / 2.0)
    t_h = np.asarray(t_ms, dtype=np.float64)[:, None] / HOUR_MS
    s = (w * np.sin(2 * np.pi * t_h / _PERIODS_H + ph)).sum(axis=1)
    return np.exp(amp * s)


def day_index(ms: int) -> int:
    return (int(ms) - HISTORY_START_MS) // DAY_MS


class ProceduralHistory:
    """Closed positions before market creation, generated per day and never all in memory.

    ``market`` provides: seed, creation_ms, coin arrays (cdf, szd, maxlev, vol, hist prices),
    wallet cdf. Rows of one day are sorted by (openTime, id).
    """

    INDEX_COLS = ("ot", "pid", "wal", "coin", "ct")

    def __init__(self, market, per_day: int):
        self.m = market
        self.per_day = per_day
        self.last_day = day_index(market.creation_ms)
        self._index: dict[int, dict[str, np.ndarray]] = {}

    def count_for_day(self, d: int) -> int:
        growth = 0.5 + min(d, 600) / 600.0
        jitter = 0.85 + 0.3 * float(hash01(self.m.seed, purpose_id("histn"), d))
        return max(1, int(self.per_day * growth * jitter))

    def total_estimate(self) -> int:
        return sum(self.count_for_day(d) for d in range(self.last_day + 1))

    def _generate_index(self, d: int) -> dict[str, np.ndarray]:
        """The columns needed for filtering/ordering, from their own cheap stream."""
        m = self.m
        rng = rng_for(m.seed, "histday", d)
        n = self.count_for_day(d)
        day_start = HISTORY_START_MS + d * DAY_MS
        ot = day_start + np.sort(rng.integers(0, DAY_MS, n))
        pid = hash_id(m.seed, 11, d, np.arange(n))
        wal = np.searchsorted(m._wal_cdf, rng.random(n) * m._wal_cdf[-1], side="right").astype(np.int32)
        wal = np.minimum(wal, m.n_wallets - 1)
        coin = np.searchsorted(m._coin_cdf, rng.random(n) * m._coin_cdf[-1], side="right").astype(np.int32)
        coin = np.minimum(coin, m.n_coins - 1)
        dur = np.maximum(MIN_MS, rng.exponential(20 * HOUR_MS, n)).astype(np.int64)
        ct = ot + dur
        cols = dict(ot=ot, pid=pid, wal=wal, coin=coin, ct=ct)
        keep = ct <= m.creation_ms
        if not keep.all():
            cols = {k: v[keep] for k, v in cols.items()}
        order = np.lexsort((cols["pid"], cols["ot"]))  # ties on openTime ordered by id
        return {k: v[order] for k, v in cols.items()}

    def details(self, cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Full columns for index rows (possibly from many days); details come from per-row
        hashes, so generating a few rows costs only those rows."""
        m = self.m
        cols = dict(cols)
        ot, coin, ct, pid = cols["ot"], cols["coin"], cols["ct"], cols["pid"]

        def u(k: int) -> np.ndarray:
            return hash01(m.seed, 12, pid, k)

        def z(k: int) -> np.ndarray:  # Box-Muller standard normal
            return np.sqrt(-2.0 * np.log(1.0 - u(k))) * np.cos(2 * np.pi * u(k + 50))

        dur = ct - ot
        side = np.where(u(1) < 0.52, 1, -1).astype(np.int8)
        maxlev = m.coin_maxlev[coin]
        lev = np.clip(np.rint(np.exp(np.log(5.0) + 0.8 * z(2))), 1, maxlev)
        cross = u(3) < 0.7
        pday = np.clip((ot - HISTORY_START_MS) // DAY_MS, 0, m.hist_logp.shape[1] - 1)
        px0 = np.exp(m.hist_logp[coin, pday])
        entry = px0 * np.exp(0.01 * z(4))
        close = entry * np.exp(z(5) * m.coin_dvol[coin] * np.sqrt(dur / DAY_MS))
        usd = np.exp(np.log(8000) + 1.6 * z(6))
        usd = np.maximum(np.minimum(usd, np.maximum(m.w_target_eq[cols["wal"]], 50.0) * lev * 0.5), 11.0)
        q = 10.0 ** m.coin_szd[coin]
        size = np.maximum(np.round(usd / entry * q) / q, 1.0 / q)
        liq = m.liq_price(entry, side, lev, cross, maxlev)
        with np.errstate(invalid="ignore"):
            liqd = np.where(side > 0, close <= liq, close >= liq) & ~np.isnan(liq)
        close = np.where(liqd, liq, close)
        funding = side * size * entry * 1.25e-5 * (dur / HOUR_MS) * (0.5 + u(7))
        cols.update(side=side, size=size, entry=entry, lev=lev, cross=cross, liq=liq, funding=funding, cpx=close)
        return cols

    def index(self, d: int) -> dict[str, np.ndarray]:
        ix = self._index.get(d)
        if ix is None:
            ix = self._index[d] = self._generate_index(d)
        return ix

