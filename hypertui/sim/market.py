"""The synthetic Hyperliquid perp market behind the simulator (no web code here).

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

import base64
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np

from .history import (
    DAY_MS,
    HISTORY_START_MS,
    HOUR_MS,
    MIN_MS,
    ProceduralHistory,
    day_index,
    hash01,
    hash_id,
    purpose_id,
    rng_for,
    smooth_factor,
)

UTC = UTC

# --------------------------------------------------------------------------- cohort legend

SEGMENTS: list[dict] = [
    {"id": 16, "name": "Shrimp", "emoji": "🦐", "category": "size", "criteria": {"minSize": 0, "maxSize": 250}},
    {"id": 1, "name": "Fish", "emoji": "🐟", "category": "size", "criteria": {"minSize": 250, "maxSize": 10000}},
    {"id": 2, "name": "Dolphin", "emoji": "🐬", "category": "size", "criteria": {"minSize": 10000, "maxSize": 50000}},
    {"id": 3, "name": "Apex Predator", "emoji": "🦈", "category": "size", "criteria": {"minSize": 50000, "maxSize": 100000}},
    {"id": 4, "name": "Small Whale", "emoji": "🐋", "category": "size", "criteria": {"minSize": 100000, "maxSize": 500000}},
    {"id": 5, "name": "Whale", "emoji": "🐳", "category": "size", "criteria": {"minSize": 500000, "maxSize": 1000000}},
    {"id": 6, "name": "Tidal Whale", "emoji": "🌊", "category": "size", "criteria": {"minSize": 1000000, "maxSize": 5000000}},
    {"id": 7, "name": "Leviathan", "emoji": "🐉", "category": "size", "criteria": {"minSize": 5000000}},
    {"id": 8, "name": "Money Printer", "emoji": "💰", "category": "pnl", "criteria": {"minPnl": 1000000}},
    {"id": 9, "name": "Smart Money", "emoji": "📈", "category": "pnl", "criteria": {"minPnl": 100000, "maxPnl": 1000000}},
    {"id": 10, "name": "Grinder", "emoji": "📊", "category": "pnl", "criteria": {"minPnl": 10000, "maxPnl": 100000}},
    {"id": 11, "name": "Humble Earner", "emoji": "🙏", "category": "pnl", "criteria": {"minPnl": 0, "maxPnl": 10000}},
    {"id": 12, "name": "Exit Liquidity", "emoji": "🤡", "category": "pnl", "criteria": {"minPnl": -10000, "maxPnl": 0}},
    {"id": 13, "name": "Semi-Rekt", "emoji": "🔥", "category": "pnl", "criteria": {"minPnl": -100000, "maxPnl": -10000}},
    {"id": 14, "name": "Full Rekt", "emoji": "🚨", "category": "pnl", "criteria": {"minPnl": -1000000, "maxPnl": -100000}},
    {"id": 15, "name": "Giga-Rekt", "emoji": "💀", "category": "pnl", "criteria": {"maxPnl": -1000000}},
]
SEGMENT_BY_ID = {s["id"]: s for s in SEGMENTS}
SIZE_IDS = np.array([16, 1, 2, 3, 4, 5, 6, 7], dtype=np.int8)
SIZE_EDGES = np.array([250, 10_000, 50_000, 100_000, 500_000, 1_000_000, 5_000_000], dtype=np.float64)
PNL_IDS = np.array([15, 14, 13, 12, 11, 10, 9, 8], dtype=np.int8)
PNL_EDGES = np.array([-1_000_000, -100_000, -10_000, 0, 10_000, 100_000, 1_000_000], dtype=np.float64)
SIZE_SET = frozenset(int(x) for x in SIZE_IDS)
NSEG = 17  # segment ids 1..16, index 0 unused

AGES = {"all": None, "24h": DAY_MS, "7d": 7 * DAY_MS, "30d": 30 * DAY_MS}

# The fraction of the way from entry to liquidation price beyond which a position counts as
# "close to liquidation" (liquidation risk, valueCloseToLiquidation): a long with entry 100 and
# liquidation price 80 is at risk once the mark is <= 85 (moved >= 75% of the 20 distance).
RISK_FRACTION = 0.75

# --------------------------------------------------------------------------- coins

# name, price, max leverage, szDecimals
_KNOWN = [
    ("BTC", 95000, 40, 5), ("ETH", 3400, 25, 4), ("HYPE", 40, 10, 2), ("SOL", 190, 20, 2),
    ("XRP", 2.3, 20, 0), ("DOGE", 0.32, 20, 0), ("kPEPE", 0.012, 10, 0), ("SUI", 3.6, 10, 1),
    ("kBONK", 0.028, 10, 0), ("ENA", 0.9, 10, 0), ("LINK", 22, 10, 1), ("AVAX", 38, 10, 2),
    ("ADA", 0.95, 10, 0), ("WIF", 2.1, 10, 0), ("FARTCOIN", 1.2, 10, 1), ("TRUMP", 12, 10, 1),
    ("LTC", 105, 10, 2), ("BNB", 690, 10, 3), ("AAVE", 330, 10, 2), ("TAO", 480, 10, 3),
    ("kSHIB", 0.022, 10, 0), ("ONDO", 1.3, 10, 0), ("NEAR", 5.5, 10, 1), ("APT", 11, 10, 2),
    ("ARB", 0.8, 10, 1), ("OP", 2.1, 10, 1), ("TIA", 6, 10, 1), ("INJ", 25, 10, 1),
    ("SEI", 0.45, 10, 0), ("PENGU", 0.03, 5, 0), ("PUMP", 0.006, 5, 0), ("VIRTUAL", 2.5, 5, 1),
    ("BERA", 6, 5, 1), ("WLD", 2.2, 10, 1), ("JUP", 1.0, 10, 0), ("POPCAT", 0.9, 5, 0),
    ("kFLOKI", 0.15, 5, 0), ("ZEC", 60, 10, 2), ("XPL", 1.1, 5, 0), ("MOVE", 0.6, 5, 0),
    ("DOT", 7.5, 10, 1), ("ATOM", 9.5, 10, 2), ("FIL", 5.2, 10, 1), ("UNI", 13, 10, 1),
    ("CRV", 0.9, 10, 1), ("LDO", 1.9, 10, 1), ("PENDLE", 5.1, 10, 0), ("EIGEN", 3.2, 5, 2),
    ("kNEIRO", 0.9, 5, 0), ("MKR", 1600, 10, 4), ("JTO", 3.1, 5, 0), ("PYTH", 0.38, 10, 0),
    ("TON", 5.6, 10, 1), ("BCH", 470, 10, 3), ("ETC", 27, 10, 2), ("HBAR", 0.3, 10, 0),
    ("XLM", 0.42, 10, 0), ("TRX", 0.25, 10, 0), ("ICP", 11, 10, 2), ("RENDER", 7.5, 5, 1),
]
_HIP3 = [
    ("xyz:GOLD", 2650, 20, 4), ("flx:SILVER", 31, 20, 2), ("xyz:TSLA", 340, 10, 3),
    ("xyz:NVDA", 140, 10, 3), ("xyz:XYZ100", 21000, 20, 4), ("flx:OIL", 72, 10, 2),
    ("km:US500", 6000, 20, 3), ("xyz:AAPL", 230, 10, 3), ("xyz:MSFT", 420, 10, 3),
    ("xyz:GOOGL", 175, 10, 3), ("flx:COPPER", 4.3, 10, 2), ("km:NATGAS", 3.1, 10, 2),
]

SCALES = {
    # wallets, main coins, hip3 markets, open positions, procedural closed positions per day
    "small": dict(wallets=3_000, main=40, hip3=2, positions=12_000, per_day=150),
    "default": dict(wallets=30_000, main=200, hip3=8, positions=125_000, per_day=800),
    "large": dict(wallets=100_000, main=320, hip3=12, positions=420_000, per_day=1_800),
}

LIVE_CLOSED_CAP = 50_000
MAX_CATCHUP_TICKS = 20
N_MM = 4


def iso_ms(ms: int) -> str:
    return np.datetime_as_string(np.datetime64(int(ms), "ms"), unit="ms") + "Z"


def iso_ms_array(ms: np.ndarray) -> list[str]:
    s = np.datetime_as_string(np.asarray(ms, dtype=np.int64).astype("datetime64[ms]"), unit="ms")
    return [x + "Z" for x in s.tolist()]


def to_ms(dt: datetime) -> int:
    return int(round(dt.timestamp() * 1000))


def encode_cursor(*parts) -> str:
    raw = ":".join(str(p) for p in parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(s: str, n: int) -> list[str]:
    """Raise ValueError on anything that is not one of our cursors."""
    try:
        raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode()
    except Exception as exc:  # noqa: BLE001
        raise ValueError("bad cursor") from exc
    parts = raw.split(":")
    if len(parts) != n:
        raise ValueError("bad cursor")
    return parts


def _r2(x) -> float:
    return round(float(x), 2)


def _r4(x) -> float:
    return round(float(x), 4)


def _random_tickers(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    letters = np.array(list("ABCDEFGHIJKLMNOPRSTUVWXYZ"))
    out: list[str] = []
    while len(out) < n:
        ln = int(rng.choice([3, 3, 4, 4, 4, 5]))
        t = "".join(rng.choice(letters, ln).tolist())
        if t not in taken:
            taken.add(t)
            out.append(t)
    return out


class Market:
    """A deterministic synthetic market; see module docstring."""

    def __init__(
        self,
        seed: int = 7,
        scale: str = "default",
        clock: Callable[[], datetime] | None = None,
        update_interval: float = 15.0,
    ):
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {sorted(SCALES)}")
        self.seed = int(seed)
        self.scale = scale
        self.params = SCALES[scale]
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.update_interval = float(update_interval)
        self.interval_ms = max(1, int(round(self.update_interval * 1000)))
        self.lock = threading.RLock()
        self.tick_count = 0
        self.creation_ms = self.now_ms()
        self.last_update_ms = self.creation_ms
        self._agg_cache: dict[tuple[int, str], dict] = {}
        self._closed_chunks: list[dict[str, np.ndarray]] = []
        self._closed_cache: tuple[int, dict[str, np.ndarray]] | None = None
        self._build_coins()
        self._build_wallets()
        self._build_positions()
        self.history = ProceduralHistory(self, self.params["per_day"])
        self._base = {age: self._aggregate(age) for age in AGES}

    # ------------------------------------------------------------------ time
    def now_ms(self) -> int:
        return to_ms(self.clock())

    # ------------------------------------------------------------------ construction
    def _build_coins(self) -> None:
        p = self.params
        rng = rng_for(self.seed, "coins")
        known = _KNOWN[: p["main"]]
        n_gen = p["main"] - len(known)
        taken = {k[0].upper() for k in _KNOWN} | {"USD", "USDC"}
        gen = _random_tickers(rng, n_gen, taken)
        names = [k[0] for k in known] + gen
        prices = [float(k[1]) for k in known]
        maxlev = [k[2] for k in known]
        szd = [k[3] for k in known]
        gp = np.exp(rng.uniform(np.log(0.002), np.log(300), n_gen))
        for x in gp:
            prices.append(float(x))
            maxlev.append(int(rng.choice([3, 5, 5, 10])))
            szd.append(int(np.clip(np.floor(np.log10(max(x, 1e-9))) + 2, 0, 4)))
        hip3 = _HIP3[: p["hip3"]]
        names += [h[0] for h in hip3]
        prices += [float(h[1]) for h in hip3]
        maxlev += [h[2] for h in hip3]
        szd += [h[3] for h in hip3]
        n = len(names)
        self.n_coins = n
        self.n_main = p["main"]
        self.coin_names = names
        self.coin_dex = [nm.split(":", 1)[0] if ":" in nm else "main" for nm in names]
        self.coin_index = {nm: i for i, nm in enumerate(names)}
        self.coin_index_upper = {nm.upper(): i for i, nm in enumerate(names)}
        self.coin_maxlev = np.array(maxlev, dtype=np.float64)
        self.coin_szd = np.array(szd, dtype=np.int64)
        # popularity: Zipf-like over the main list, HIP-3 markets mid-table
        rank = np.arange(n, dtype=np.float64)
        w = 1.0 / (rank + 1.0) ** 1.1
        w[p["main"]:] = 1.0 / (12.0 + 3 * np.arange(len(hip3))) ** 1.1
        self.coin_weight = w / w.sum()
        self._coin_cdf = np.cumsum(self.coin_weight)
        # volatility per tick (BTC ~0.05% per 15 s) and beta to BTC
        base = 0.0005 * np.sqrt(self.update_interval / 15.0)
        vol = np.full(n, base)
        vol[1:] = base * (1.15 + 1.6 * (1 - np.exp(-rank[1:] / 25.0))) * (0.8 + 0.4 * rng.random(n - 1))
        beta = np.clip(rng.normal(0.9, 0.2, n), 0.3, 1.4)
        beta[0] = 1.0
        vol[p["main"]:] = base * 0.6
        beta[p["main"]:] = 0.1
        self.coin_vol = vol
        self.coin_beta = beta
        self.coin_dvol = vol / np.sqrt(self.update_interval / 15.0) * np.sqrt(5760.0)  # daily
        self.mark = np.array(prices, dtype=np.float64)
        self.coin_rate = rng.normal(1.25e-5, 1e-5, n)  # hourly funding rate
        # daily log price history back to 2025-04-04, anchored at today's price
        ndays = day_index(self.creation_ms) + 1
        r = rng.normal(0, 1, (n, max(ndays, 1))) * self.coin_dvol[:, None]
        r[:, -1] = 0
        cum = np.cumsum(r[:, ::-1], axis=1)[:, ::-1] - r
        self.hist_logp = np.log(self.mark)[:, None] - cum
        self._set_mid()

    def _set_mid(self) -> None:
        t = self.tick_count
        j = hash01(self.seed, purpose_id("mid"), t, np.arange(self.n_coins)) - 0.5
        self.mid = self.mark * (1 + j * 2e-4)
        self.premium = self.mark * (1 + (j + 0.1) * 6e-4)

    def _build_wallets(self) -> None:
        p = self.params
        W = p["wallets"]
        rng = rng_for(self.seed, "wallets")
        addr_bytes = rng.integers(0, 256, (W, 20), dtype=np.uint8)
        self.addresses = ["0x" + b.tobytes().hex() for b in addr_bytes]
        self.addr_index = {a: i for i, a in enumerate(self.addresses)}
        self.n_wallets = W
        eq = np.exp(rng.normal(np.log(4000), 2.25, W))
        t = rng.standard_t(3, W)
        pnl = eq * (0.9 * t - 0.15) + rng.normal(0, 3000, W)
        # guarantee every cohort is populated (rare ones too): override a deterministic few
        need = 3 if W <= 5000 else 8
        size_of = SIZE_IDS[np.searchsorted(SIZE_EDGES, eq, side="right")]
        pnl_of = PNL_IDS[np.searchsorted(PNL_EDGES, pnl, side="right")]
        pool = iter(range(N_MM, W))
        size_targets = {16: 120, 1: 3000, 2: 25000, 3: 75000, 4: 250000, 5: 750000, 6: 2.5e6, 7: 9e6}
        pnl_targets = {8: 2.5e6, 9: 300000, 10: 40000, 11: 3000, 12: -3000, 13: -40000, 14: -300000, 15: -2.5e6}
        for sid, v in size_targets.items():
            for _ in range(max(0, need - int((size_of == sid).sum()))):
                i = next(pool)
                eq[i] = v * (0.8 + 0.4 * rng.random())
        for sid, v in pnl_targets.items():
            for _ in range(max(0, need - int((pnl_of == sid).sum()))):
                i = next(pool)
                pnl[i] = v * (0.8 + 0.4 * rng.random())
                eq[i] = max(eq[i], abs(v) * 0.3)
        # market makers: Leviathan equity, Money Printer pnl
        self.mm_wallets = np.arange(N_MM)
        eq[:N_MM] = np.array([60e6, 45e6, 38e6, 30e6])[:N_MM]
        pnl[:N_MM] = np.array([22e6, 15e6, 9e6, 4e6])[:N_MM]
        self.w_target_eq = eq
        self.w_target_pnl = pnl
        active = rng.random(W) < 0.72
        active[:N_MM] = False  # MM rows are added separately
        forced = np.zeros(W, bool)
        forced[N_MM:N_MM + 2 * 8 * need + 16] = True
        active |= forced
        self.w_weight = np.where(active, np.maximum(eq, 50.0) ** 0.3, 0.0)
        self._wal_cdf = np.cumsum(self.w_weight)
        self.w_is_mm = np.zeros(W, bool)
        self.w_is_mm[:N_MM] = True

    def liq_price(self, entry, side, lev, cross, maxlev):
        """Liquidation price; NaN when unreachable (e.g. a long at <= 1x effective leverage)."""
        mm = 1.0 / (2.0 * maxlev)
        eff = np.where(cross, lev * 0.6, lev)  # cross margin: the account adds a buffer
        with np.errstate(divide="ignore", invalid="ignore"):
            long_liq = entry * (1 - 1.0 / eff + mm)
            short_liq = entry * (1 + 1.0 / eff - mm)
        liq = np.where(side > 0, long_liq, short_liq)
        bad = (eff <= 1.0) & (side > 0) | (liq <= 0)
        return np.where(bad, np.nan, liq)

    def _new_rows(self, rng: np.random.Generator, n: int, ot: np.ndarray, id_base: tuple) -> dict:
        wal = np.searchsorted(self._wal_cdf, rng.random(n) * self._wal_cdf[-1], side="right").astype(np.int32)
        wal = np.minimum(wal, self.n_wallets - 1)
        coin = np.searchsorted(self._coin_cdf, rng.random(n) * self._coin_cdf[-1], side="right").astype(np.int32)
        coin = np.minimum(coin, self.n_coins - 1)
        side = np.where(rng.random(n) < 0.52, 1, -1).astype(np.int8)
        maxlev = self.coin_maxlev[coin]
        lev = np.clip(np.rint(np.exp(rng.normal(np.log(5.0), 0.8, n))), 1, maxlev)
        cross = rng.random(n) < 0.7
        u = rng.uniform(0.15, 0.6, n)
        return dict(wal=wal, coin=coin, side=side, lev=lev, cross=cross, u=u,
                    pid=hash_id(self.seed, *id_base, np.arange(n)), ot=ot)

    def _build_positions(self) -> None:
        p = self.params
        rng = rng_for(self.seed, "open")
        n = p["positions"]
        age = np.minimum(rng.exponential(8 * DAY_MS, n), 59.5 * DAY_MS).astype(np.int64)
        ot = self.creation_ms - 1 - age
        r = self._new_rows(rng, n, ot, (1,))
        wal, coin, side, lev, cross = r["wal"], r["coin"], r["side"], r["lev"], r["cross"]
        npos = np.bincount(wal, minlength=self.n_wallets)
        eqw = np.maximum(self.w_target_eq, 20.0)
        usd = np.maximum(eqw[wal] * lev * r["u"] / npos[wal], 11.0)
        mark = self.mark[coin]
        q = 10.0 ** self.coin_szd[coin]
        size = np.maximum(np.round(usd / mark * q) / q, 1.0 / q)
        age_d = age / DAY_MS
        entry = mark * np.exp(rng.normal(0, 1, n) * self.coin_dvol[coin] * np.sqrt(age_d) * 0.5)
        liq = self.liq_price(entry, side, lev, cross, self.coin_maxlev[coin])
        crossed = np.where(side > 0, mark <= liq, mark >= liq)
        entry = np.where(crossed, mark, entry)
        liq = self.liq_price(entry, side, lev, cross, self.coin_maxlev[coin])
        funding = side * size * entry * self.coin_rate[coin] * (age / HOUR_MS)
        cols = dict(pid=r["pid"], ot=ot, wal=wal, coin=coin, side=side, size=size, entry=entry,
                    lev=lev, cross=cross, liq=liq, funding=funding, mm=np.zeros(n, bool))
        # market-maker rows: two per coin (one long, one short) absorbing everyone's net
        C = self.n_coins
        ci = np.repeat(np.arange(C, dtype=np.int32), 2)
        mside = np.tile(np.array([1, -1], dtype=np.int8), C)
        mwal = np.where(mside > 0, (2 * ci) % N_MM, (2 * ci + 1) % N_MM).astype(np.int32)
        mm = dict(pid=hash_id(self.seed, 2, np.arange(2 * C)),
                  ot=self.creation_ms - 59 * DAY_MS - 3_600_000 + np.arange(2 * C, dtype=np.int64) * 1000,
                  wal=mwal, coin=ci, side=mside, size=np.ones(2 * C), entry=self.mark[ci].copy(),
                  lev=np.full(2 * C, 3.0), cross=np.ones(2 * C, bool), liq=np.full(2 * C, np.nan),
                  funding=np.zeros(2 * C), mm=np.ones(2 * C, bool))
        cols = {k: np.concatenate([cols[k], mm[k]]) for k in cols}
        order = np.lexsort((cols["pid"], cols["ot"]))
        self.pos = {k: v[order] for k, v in cols.items()}
        self._rebalance_mm()
        # wallet books so that at creation equity/pnl equal the sampled targets
        upnl_w = self._wallet_upnl()
        self.w_deposit = self.w_target_eq - upnl_w
        self.w_realized = self.w_target_pnl - upnl_w
        self._update_wallets(upnl_w)

    # ------------------------------------------------------------------ state helpers
    def _upnl(self) -> np.ndarray:
        P = self.pos
        return P["size"] * (self.mark[P["coin"]] - P["entry"]) * P["side"]

    def _wallet_upnl(self) -> np.ndarray:
        return np.bincount(self.pos["wal"], weights=self._upnl(), minlength=self.n_wallets)

    def _update_wallets(self, upnl_w: np.ndarray) -> None:
        self.w_equity = self.w_deposit + upnl_w
        self.w_pnl = self.w_realized + upnl_w
        self.w_size_seg = SIZE_IDS[np.searchsorted(SIZE_EDGES, np.maximum(self.w_equity, 0), side="right")]
        self.w_pnl_seg = PNL_IDS[np.searchsorted(PNL_EDGES, self.w_pnl, side="right")]

    def _rebalance_mm(self) -> None:
        P = self.pos
        mmrows = np.flatnonzero(P["mm"])
        C = self.n_coins
        normal = ~P["mm"]
        net = np.bincount(P["coin"][normal], weights=(P["side"] * P["size"])[normal], minlength=C)
        q = 10.0 ** self.coin_szd
        net = np.round(net * q) / q
        tot = np.bincount(P["coin"][normal], weights=P["size"][normal], minlength=C)
        base = np.maximum(np.round(tot * 0.02 * q) / q, 1.0 / q)
        mc = P["coin"][mmrows]
        ms = P["side"][mmrows]
        # long MM row: base + max(-net, 0); short MM row: base + max(net, 0)
        P["size"][mmrows] = np.where(ms > 0, base[mc] + np.maximum(-net[mc], 0), base[mc] + np.maximum(net[mc], 0))

    # ------------------------------------------------------------------ ticks
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
            chunk = {c: P[c][idx] for c in ("pid", "ot", "wal", "coin", "side", "size", "entry", "lev", "cross", "liq", "funding")}
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

    # ------------------------------------------------------------------ aggregates
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
            idx = coin * NSEG + segs[wal]
            m = C * NSEG

            def bc(w=None, mask=None):
                if mask is not None:
                    return np.bincount(idx[mask], weights=None if w is None else w[mask], minlength=m).reshape(C, NSEG)
                return np.bincount(idx, weights=w, minlength=m).reshape(C, NSEG)

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

    # ------------------------------------------------------------------ public queries
    @staticmethod
    def segments() -> list[dict]:
        return [dict(s, criteria=dict(s["criteria"])) for s in SEGMENTS]

    @staticmethod
    def segment(seg_id: int) -> dict | None:
        s = SEGMENT_BY_ID.get(seg_id)
        return None if s is None else dict(s, criteria=dict(s["criteria"]))

    def coin_lookup(self, name: str, case_insensitive: bool = False) -> int | None:
        if case_insensitive:
            return self.coin_index_upper.get(name.upper())
        return self.coin_index.get(name)

    def status(self) -> dict:
        with self.lock:
            nxt = self.last_update_ms + self.interval_ms
            return {"lastUpdate": iso_ms(self.last_update_ms), "nextUpdate": iso_ms(nxt),
                    "nextUpdateThreshold": iso_ms(nxt + self.interval_ms)}

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

    def _seg_rows(self, seg: int, age: str, times: np.ndarray, with_live: bool) -> list[list]:
        rows: list[list] = []
        if with_live:
            ag = self._aggregate(age)
            lv = float(ag["seg_long"][seg])
            sv = float(ag["seg_value"][seg]) - lv
            rows.append(self._bias_row(self.last_update_ms, lv, sv, float(ag["seg_ape"][seg])))
        if len(times):
            s = self._seg_series(seg, age, times)
            ts = iso_ms_array(times)
            for i in range(len(times)):
                rows.append(self._bias_row(ts[i], float(s["long"][i]), float(s["short"][i]), float(s["ape"][i])))
        return rows

    @staticmethod
    def _bias_row(ts, lv: float, sv: float, ape: float) -> list:
        if not isinstance(ts, str):
            ts = iso_ms(ts)
        bias = (lv - sv) / ape if ape > 0 else 0.0
        expo = (lv + sv) / ape if ape > 0 else 0.0
        return [ts, _r4(bias), _r4(expo), _r2(lv + sv), _r2(lv), _r2(sv), _r2(ape)]

    BIAS_COLUMNS = ["timestamp", "bias", "exposureRatio", "openValue", "openLongValue", "openShortValue", "activePerpEquity"]

    def bias_history(self, seg: int, age: str = "all", start_ms: int | None = None, end_ms: int | None = None,
                     limit: int = 1000, cursor_ms: int | None = None) -> dict:
        with self.lock:
            s = SEGMENT_BY_ID[seg]
            seg_obj = {"id": s["id"], "name": s["name"], "category": s["category"], "criteria": dict(s["criteria"])}
            now = self.now_ms()
            paged = start_ms is not None
            end = now if end_ms is None else end_ms
            start = start_ms if paged else max(self.last_update_ms - 60 * DAY_MS, HISTORY_START_MS)
            upper = end if cursor_ms is None else min(end, cursor_ms - 1)
            times = self._slot_times("biasjit", start, upper, 2 * HOUR_MS, 10 * MIN_MS, 400)
            with_live = start <= self.last_update_ms <= upper
            if not paged:
                rows = self._seg_rows(seg, age, times, with_live)
                return {"segment": seg_obj, "positionRecencyTimeframe": age, "start": iso_ms(start),
                        "end": iso_ms(end), "historySnapshotStructure": list(self.BIAS_COLUMNS), "history": rows}
            n_live = 1 if with_live else 0
            more = len(times) + n_live > limit
            times = times[: max(0, limit - n_live)]
            rows = self._seg_rows(seg, age, times, with_live)[:limit]
            out = {"segment": seg_obj, "nextCursor": None, "positionRecencyTimeframe": age,
                   "start": iso_ms(start), "end": iso_ms(end),
                   "pageStart": rows[0][0] if rows else None, "pageEnd": rows[-1][0] if rows else None}
            if more and rows:
                last_ms = int(times[-1]) if len(times) else self.last_update_ms
                out["nextCursor"] = encode_cursor("b", last_ms)
            out["historySnapshotStructure"] = list(self.BIAS_COLUMNS)
            out["history"] = rows
            return out

    PM_FIELDS = ["positionCount", "positionCountLong", "totalPositionValue", "totalPositionValueLong",
                 "totalPositionSize", "totalPositionSizeLong", "totalFunding", "totalUnrealizedPnl"]

    def position_metrics(self, coin_name: str, seg: int, age: str, start_ms: int, end_ms: int | None,
                         limit: int, cursor_ms: int | None) -> dict:
        with self.lock:
            coin = self.coin_lookup(coin_name)
            if coin is None:
                return {"metrics": [], "nextCursor": None}
            end = self.now_ms() if end_ms is None else end_ms
            upper = end if cursor_ms is None else min(end, cursor_ms - 1)
            times = self._slot_times("pmjit", start_ms, upper, 30 * MIN_MS, 0, 20_000)
            with_live = start_ms <= self.last_update_ms <= upper
            n_live = 1 if with_live else 0
            more = len(times) + n_live > limit
            times = times[: max(0, limit - n_live)]
            rows = []
            if with_live:
                lv = self._live_coinseg(coin, seg, age)
                rows.append(self._pm_row(self.last_update_ms, coin_name, seg, lv))
            if len(times):
                s = self._coinseg_series(coin, seg, age, times)
                ts = iso_ms_array(times)
                for i in range(len(times)):
                    rows.append(self._pm_row(ts[i], coin_name, seg, {f: s[f][i] for f in self.PM_FIELDS}))
            rows = rows[:limit]
            cur = None
            if more and rows:
                last = int(times[-1]) if len(times) else self.last_update_ms
                cur = encode_cursor("m", last)
            return {"metrics": rows, "nextCursor": cur}

    @staticmethod
    def _pm_row(ts, coin: str, seg: int, v: dict) -> dict:
        return {"createdAt": ts if isinstance(ts, str) else iso_ms(ts), "coin": coin, "segmentId": seg,
                "positionCount": int(v["positionCount"]), "positionCountLong": int(v["positionCountLong"]),
                "totalPositionValue": _r2(v["totalPositionValue"]), "totalPositionValueLong": _r2(v["totalPositionValueLong"]),
                "totalPositionSize": round(float(v["totalPositionSize"]), 6),
                "totalPositionSizeLong": round(float(v["totalPositionSizeLong"]), 6),
                "totalFunding": _r2(v["totalFunding"]), "totalUnrealizedPnl": _r2(v["totalUnrealizedPnl"])}

    # --- heatmap / risk / summary / exports ------------------------------------------------
    def heatmap(self, age: str = "all", coin: str | None = None) -> dict:
        with self.lock:
            ag = self._aggregate(age)
            cs = ag["cs"]
            order = np.lexsort((np.arange(self.n_coins), -ag["coin_value"]))
            out = []
            only = None
            if coin is not None:
                only = self.coin_lookup(coin)
                if only is None:
                    return {"heatmap": []}
            for c in order.tolist():
                if only is not None and c != only:
                    continue
                cnt = int(ag["coin_count"][c])
                if cnt == 0:
                    continue
                segs = []
                for s in SEGMENTS:
                    sid = s["id"]
                    n = int(cs["count"][c, sid])
                    if n == 0:
                        continue
                    v = float(cs["value"][c, sid])
                    lv = float(cs["value_long"][c, sid])
                    nl = int(cs["count_long"][c, sid])
                    segs.append({"segmentId": sid, "totalValue": _r2(v), "totalLongValue": _r2(lv),
                                 "totalShortValue": _r2(v - lv), "count": n, "countLong": nl,
                                 "countShort": n - nl, "bias": _r4(lv / v) if v > 0 else 0.5})
                tv = float(ag["coin_value"][c])
                nl = int(ag["coin_count_long"][c])
                out.append({"coin": self.coin_names[c], "totalValue": _r2(tv), "totalLongValue": _r2(tv / 2),
                            "totalShortValue": _r2(tv / 2), "count": cnt, "countLong": nl, "countShort": cnt - nl,
                            "segments": segs})
            return {"heatmap": out}

    def liquidation_risk(self, seg: int, offset: int = 0, limit: int = 100) -> dict:
        with self.lock:
            cs = self._aggregate("all")["cs"]
            cnt = cs["count"][:, seg]
            held = np.flatnonzero(cnt > 0)
            tv = cs["value"][held, seg]
            rv = cs["risk"][held, seg]
            pct = np.round(np.where(tv > 0, 100.0 * rv / np.where(tv > 0, tv, 1), 0.0), 2)
            names = [self.coin_names[i] for i in held.tolist()]
            order = sorted(range(len(held)), key=lambda i: (-pct[i], names[i]))
            items = [{"coin": names[i], "totalValue": _r2(tv[i]), "riskValue": _r2(rv[i]), "percentRisk": float(pct[i])}
                     for i in order[offset: offset + limit]]
            return {"totalCount": len(held), "items": items}

    def summary(self, seg: int, age: str = "all") -> dict:
        with self.lock:
            ag = self._aggregate(age)
            cs = ag["cs"]
            lv = float(ag["seg_long"][seg])
            tv = float(ag["seg_value"][seg])
            sv = tv - lv
            ape = float(ag["seg_ape"][seg])
            bias = (lv - sv) / ape if ape > 0 else 0.0
            expo = tv / ape if ape > 0 else 0.0
            n = int(ag["seg_count"][seg])
            nl = int(ag["seg_count_long"][seg])
            summ = {"countTraders": int(ag["seg_traders"][seg]), "countTradersInPosition": int(ag["seg_inpos"][seg]),
                    "perpBias": _r4(bias), "positionValue": _r2(tv), "positionLongValue": _r2(lv),
                    "positionShortValue": _r2(sv), "exposureRatio": _r4(expo), "activePerpEquity": _r2(ape),
                    "perpEquity": _r2(ag["seg_eq"][seg])}
            vals = cs["value"][:, seg]
            top = [c for c in np.lexsort((np.arange(self.n_coins), -vals)).tolist() if cs["count"][c, seg] > 0][:10]
            ops = {"perpBias": _r4(bias), "exposureRatio": _r4(expo), "countOpenPositions": n,
                   "countTradersInPosition": int(ag["seg_inpos"][seg]),
                   "countTradersInProfit": int(ag["seg_profit"][seg]), "totalValue": _r2(tv),
                   "totalLongValue": _r2(lv), "totalActivePerpEquity": _r2(ape),
                   "totalPerpEquity": _r2(ag["seg_eq"][seg]), "countAssets": int(ag["seg_assets"][seg]),
                   "bySide": {"long": {"count": nl, "value": _r2(lv)}, "short": {"count": n - nl, "value": _r2(sv)}}}
            out = {"segment": self.segment(seg), "summary": summ, "openPerpsSummary": ops}
            if age == "all":
                past = self._seg_series(seg, age, np.array([self.last_update_ms - DAY_MS]))
                out["countTraders24HoursAgo"] = int(past["traders"][0])
            else:
                for k in ("countTraders", "perpEquity"):
                    summ.pop(k)
                for k in ("totalPerpEquity", "countAssets"):
                    ops.pop(k)
            out["topOpenPerps"] = [{"coin": self.coin_names[c], "totalValue": _r2(cs["value"][c, seg]),
                                    "totalLongValue": _r2(cs["value_long"][c, seg]), "count": int(cs["count"][c, seg])}
                                   for c in top]
            return out

    def breakdown(self, coin: int, age: str = "all") -> dict:
        with self.lock:
            ag = self._aggregate(age)
            cs = ag["cs"]
            past_t = np.array([self.last_update_ms - DAY_MS])
            data = []
            for s in SEGMENTS:
                sid = s["id"]
                n = int(cs["count"][coin, sid])
                past = int(self._coinseg_series(coin, sid, age, past_t)["positionCount"][0])
                if n == 0 and past == 0:
                    continue
                v = float(cs["value"][coin, sid])
                lv = float(cs["value_long"][coin, sid])
                data.append({"segment": self.segment(sid), "positionCount": n, "pastPositionCount": past,
                             "totalPositionValue": _r2(v), "totalPositionValueLong": _r2(lv),
                             "valueCloseToLiquidation": _r2(cs["risk"][coin, sid]),
                             "bias": _r4(lv / v) if v > 0 else 0.5})
            return {"coin": self.coin_names[coin], "timestamp": iso_ms(self.last_update_ms), "data": data}

    SM_COLUMNS = ["timestamp", "positionCount", "positionCountLong", "totalPositionValue", "totalPositionValueLong", "bias"]

    def segment_metrics(self, coin: int, age: str = "all") -> dict:
        with self.lock:
            end = self.last_update_ms
            times = self._slot_times("smjit", end - 7 * DAY_MS, end, 12 * HOUR_MS, 9 * HOUR_MS + 10 * MIN_MS, 0)
            ts = iso_ms_array(times)
            data = []
            for s in SEGMENTS:
                sid = s["id"]
                lv = self._live_coinseg(coin, sid, age)
                ser = self._coinseg_series(coin, sid, age, times)
                rows = [self._sm_row(iso_ms(end), lv["positionCount"], lv["positionCountLong"],
                                     lv["totalPositionValue"], lv["totalPositionValueLong"])]
                for i in range(len(times)):
                    rows.append(self._sm_row(ts[i], ser["positionCount"][i], ser["positionCountLong"][i],
                                             ser["totalPositionValue"][i], ser["totalPositionValueLong"][i]))
                data.append({"segment": self.segment(sid), "metrics": {"columns": list(self.SM_COLUMNS), "data": rows}})
            return {"coin": self.coin_names[coin], "data": data}

    @staticmethod
    def _sm_row(ts: str, n, nl, v, vl) -> list:
        v = float(v)
        return [ts, int(n), int(nl), _r2(v), _r2(vl), _r4(float(vl) / v) if v > 0 else 0.5]

    def bias_charts_24h(self) -> dict:
        with self.lock:
            end = self.last_update_ms
            times = self._slot_times("bcjit", end - 72 * HOUR_MS, end, HOUR_MS, 10 * MIN_MS, 300)
            data = []
            for s in SEGMENTS:
                rows = self._seg_rows(s["id"], "24h", times, True)
                data.append({"segment": self.segment(s["id"]),
                             "history": {"columns": list(self.BIAS_COLUMNS), "data": rows}})
            return {"data": data}

    # --- positions --------------------------------------------------------------------------
    def _closed_table(self) -> dict[str, np.ndarray] | None:
        if not self._closed_chunks:
            return None
        if self._closed_cache is None or self._closed_cache[0] != self.tick_count:
            ch = self._closed_chunks
            self._closed_cache = (self.tick_count, {k: np.concatenate([c[k] for c in ch]) for k in ch[0]})
        return self._closed_cache[1]

    def _filter_mask(self, T: dict, lo: slice | None, coin: int | None, seg: int | None,
                     wallets: np.ndarray | None) -> np.ndarray:
        wal = T["wal"] if lo is None else T["wal"][lo]
        m = np.ones(len(wal), bool)
        if coin is not None:
            m &= (T["coin"] if lo is None else T["coin"][lo]) == coin
        if seg is not None:
            segs = self.w_size_seg if seg in SIZE_SET else self.w_pnl_seg
            m &= segs[wal] == seg
        if wallets is not None:
            m &= np.isin(wal, wallets)
        return m

    @staticmethod
    def _after(ot: np.ndarray, pid: np.ndarray, cur: tuple[int, int] | None) -> np.ndarray:
        if cur is None:
            return np.ones(len(ot), bool)
        return (ot > cur[0]) | ((ot == cur[0]) & (pid > cur[1]))

    def positions_page(self, start_ms: int, end_ms: int | None = None, coin: str | None = None,
                       segment_id: int | None = None, addresses: list[str] | None = None,
                       open_: bool | None = None, limit: int = 1000, cursor: str | None = None) -> dict:
        """One page of positions ordered by (openTime, id); raises ValueError on a bad cursor."""
        cur = None
        if cursor is not None:
            a, b = decode_cursor(cursor, 2)
            cur = (int(a), int(b, 16))
        with self.lock:
            end = self.now_ms() if end_ms is None else end_ms
            ci = None
            if coin is not None:
                ci = self.coin_lookup(coin)
                if ci is None:
                    return {"positions": [], "nextCursor": None}
            wallets = None
            if addresses:
                wl = [self.addr_index[a] for a in addresses if a in self.addr_index]
                if not wl:
                    return {"positions": [], "nextCursor": None}
                wallets = np.array(sorted(set(wl)), dtype=np.int32)
            lo_ms = start_ms if cur is None else max(start_ms, cur[0])
            parts: list[tuple[str, dict, np.ndarray]] = []  # (kind, table, row indices)
            # open positions: sorted by (ot, pid) already
            if open_ is not False:
                P = self.pos
                a = int(np.searchsorted(P["ot"], lo_ms, side="left"))
                b = int(np.searchsorted(P["ot"], end, side="right"))
                if b > a:
                    sl = slice(a, b)
                    m = self._filter_mask(P, sl, ci, segment_id, wallets)
                    m &= self._after(P["ot"][sl], P["pid"][sl], cur)
                    rows = np.flatnonzero(m)[:limit] + a
                    parts.append(("open", P, rows))
            if open_ is not True:
                T = self._closed_table()
                if T is not None:
                    m = (T["ot"] >= lo_ms) & (T["ot"] <= end)
                    m &= self._filter_mask(T, None, ci, segment_id, wallets)
                    m &= self._after(T["ot"], T["pid"], cur)
                    rows = np.flatnonzero(m)
                    if len(rows) > limit:
                        o = np.lexsort((T["pid"][rows], T["ot"][rows]))[:limit]
                        rows = rows[o]
                    parts.append(("closed", T, rows))
                # procedural history, day by day from the cursor, stop once enough rows are found
                bound = None
                live_rows = sum(len(r) for _, _, r in parts)
                if live_rows >= limit:
                    ots = np.concatenate([T_["ot"][r] for _, T_, r in parts])
                    bound = int(np.sort(ots)[limit - 1])
                d0 = max(0, day_index(lo_ms))
                d1 = min(day_index(end), self.history.last_day)
                found = 0
                hist_parts: list[dict] = []
                d = d0
                while d <= d1 and found < limit:
                    day_start = HISTORY_START_MS + d * 86_400_000
                    if bound is not None and day_start > bound:
                        break
                    ix = self.history.index(d)
                    m = (ix["ot"] >= lo_ms) & (ix["ot"] <= end)
                    m &= self._filter_mask(ix, None, ci, segment_id, wallets)
                    m &= self._after(ix["ot"], ix["pid"], cur)
                    rows = np.flatnonzero(m)[: limit - found]
                    if len(rows):
                        hist_parts.append({k: v[rows] for k, v in ix.items()})
                        found += len(rows)
                    d += 1
                if hist_parts:
                    hp = {k: np.concatenate([h[k] for h in hist_parts]) for k in hist_parts[0]}
                    parts.append(("hist", self.history.details(hp), np.arange(len(hp["ot"]))))
            # merge
            if not parts:
                return {"positions": [], "nextCursor": None}
            ot = np.concatenate([T["ot"][r] for _, T, r in parts])
            pid = np.concatenate([T["pid"][r] for _, T, r in parts])
            src = np.concatenate([np.full(len(r), i) for i, (_, _, r) in enumerate(parts)])
            loc = np.concatenate([r for _, _, r in parts])
            order = np.lexsort((pid, ot))[:limit]
            positions = self._render(parts, src[order], loc[order])
            nxt = None
            if len(order) == limit:
                last = order[-1]
                nxt = encode_cursor(int(ot[last]), f"{int(pid[last]):016x}")
            return {"positions": positions, "nextCursor": nxt}

    def _render(self, parts, src: np.ndarray, loc: np.ndarray) -> list[dict]:
        n = len(src)
        if n == 0:
            return []
        cols = ("pid", "ot", "wal", "coin", "side", "size", "entry", "lev", "cross", "liq", "funding")
        g = {c: np.empty(n, dtype=parts[0][1][c].dtype) for c in cols}
        ct = np.full(n, -1, dtype=np.int64)
        px = np.empty(n)
        for i, (kind, T, _) in enumerate(parts):
            sel = src == i
            if not sel.any():
                continue
            r = loc[sel]
            for c in cols:
                g[c][sel] = T[c][r]
            if kind == "open":
                px[sel] = self.mark[T["coin"][r]]
            else:
                ct[sel] = T["ct"][r]
                px[sel] = T["cpx"][r]
        coin = g["coin"]
        is_open = ct < 0
        mid = np.where(is_open, self.mid[coin], px)
        prem = np.where(is_open, self.premium[coin], px)
        dec = 10.0 ** np.clip(6 - self.coin_szd[coin], 0, 8)
        # 5 significant figures like the exchange, and no more decimals than 6 - szDecimals
        mag = 10.0 ** (4 - np.floor(np.log10(np.maximum(px, 1e-12))))
        dd = np.minimum(dec, mag)

        def rp(a):
            return (np.round(a * dd) / dd).tolist()

        value = g["size"] * px
        upnl = g["size"] * (px - g["entry"]) * g["side"]
        ot_s = iso_ms_array(g["ot"])
        ct_s = iso_ms_array(np.where(is_open, 0, ct))
        upd = np.where(is_open, np.maximum(g["ot"], self.last_update_ms), ct)
        upd_s = iso_ms_array(upd)
        liq_l = np.where(np.isnan(g["liq"]), -1.0, np.round(g["liq"] * dd) / dd).tolist()
        pxl, midl, preml, entl = rp(px), rp(mid), rp(prem), rp(g["entry"])
        szd = self.coin_szd[coin].tolist()
        size_l = g["size"].tolist()
        val_l = np.round(value, 2).tolist()
        upnl_l = np.round(upnl, 2).tolist()
        fund_l = np.round(g["funding"], 2).tolist()
        lev_l = g["lev"].astype(np.int64).tolist()
        cross_l = g["cross"].tolist()
        side_l = g["side"].tolist()
        wal_l = g["wal"].tolist()
        coin_l = coin.tolist()
        pid_l = g["pid"].tolist()
        open_l = is_open.tolist()
        ss = self.w_size_seg[g["wal"]].tolist()
        ps = self.w_pnl_seg[g["wal"]].tolist()
        maxlev = self.coin_maxlev[coin].astype(np.int64).tolist()
        out = []
        for i in range(n):
            c = coin_l[i]
            addr = self.addresses[wal_l[i]]
            lev = lev_l[i]
            out.append({
                "id": f"{pid_l[i]:016x}", "address": addr, "coin": self.coin_names[c], "dex": self.coin_dex[c],
                "side": "long" if side_l[i] > 0 else "short", "size": round(size_l[i], szd[i]),
                "entryPrice": entl[i], "markPrice": pxl[i], "midPrice": midl[i], "premiumPrice": preml[i],
                "positionValue": val_l[i], "liquidationPrice": None if liq_l[i] < 0 else liq_l[i],
                "unrealizedPnl": upnl_l[i], "funding": fund_l[i],
                "crossLeverage": lev if cross_l[i] else 0, "isolatedLeverage": 0 if cross_l[i] else lev,
                "maxLeverage": maxlev[i], "assetMaxLeverage": maxlev[i], "szDecimals": szd[i],
                "openTime": ot_s[i], "closeTime": None if open_l[i] else ct_s[i], "createdAt": ot_s[i],
                "updatedAt": upd_s[i], "profile": {"address": addr, "segments": [ss[i], ps[i]]},
            })
        return out
