"""The simulated market's state: the cohort legend, the coins, the wallets and their open
positions, built from the seed as numpy struct-of-arrays (see market.py for the whole picture).

  * wallets: deposit (equity without unrealised PnL), realised all-time PnL, equity, pnl, cohorts;
  * open positions, kept sorted by (openTime, id) (new positions open at the tick time, after
    every existing one, so appending keeps the order);
  * positions closed/liquidated during the run (bounded), appended by evolve.py;
  * procedural closed history since 2025-04-04 (see history.py), generated per day on demand.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np

from .encoding import to_ms
from .history import (
    DAY_MS,
    HOUR_MS,
    ProceduralHistory,
    day_index,
    hash01,
    hash_id,
    purpose_id,
    rng_for,
)

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

class MarketState:
    """The market as built from its seed (coins, wallets, open positions, the procedural past),
    and the helpers that keep the wallets in step with the positions. Evolution (evolve.py)
    changes it; aggregates.py sums it; answers.py answers the endpoints from it."""

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
        self.interval_ms = max(1, round(self.update_interval * 1000))
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
