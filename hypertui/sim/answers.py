"""The simulated market's answer to each endpoint, as the JSON bodies the real service sends
(server.py routes requests here and turns these dicts into responses)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .aggregates import Aggregates
from .encoding import _r2, _r4, decode_cursor, encode_cursor, iso_ms, iso_ms_array
from .history import (
    DAY_MS,
    HISTORY_START_MS,
    HOUR_MS,
    MIN_MS,
    day_index,
)
from .state import SEGMENT_BY_ID, SEGMENTS, SIZE_SET


class Answers(Aggregates):
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

    BIAS_COLUMNS = ("timestamp", "bias", "exposureRatio", "openValue", "openLongValue", "openShortValue", "activePerpEquity")

    def bias_history(self, seg: int, age: str = "all", start_ms: int | None = None, end_ms: int | None = None,
                     limit: int = 1000, cursor_ms: int | None = None) -> dict:
        with self.lock:
            s = SEGMENT_BY_ID[seg]
            seg_obj = {"id": s["id"], "name": s["name"], "category": s["category"], "criteria": dict(s["criteria"])}
            now = self.now_ms()
            paged = start_ms is not None
            end = now if end_ms is None else end_ms
            start = max(self.last_update_ms - 60 * DAY_MS, HISTORY_START_MS) if start_ms is None else start_ms
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

    PM_FIELDS = ("positionCount", "positionCountLong", "totalPositionValue", "totalPositionValueLong",
                 "totalPositionSize", "totalPositionSizeLong", "totalFunding", "totalUnrealizedPnl")

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
            out: dict[str, Any] = {"segment": self.segment(seg), "summary": summ, "openPerpsSummary": ops}
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

    SM_COLUMNS = ("timestamp", "positionCount", "positionCountLong", "totalPositionValue", "totalPositionValueLong", "bias")

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
                first = int(np.searchsorted(P["ot"], lo_ms, side="left"))
                last = int(np.searchsorted(P["ot"], end, side="right"))
                if last > first:
                    sl = slice(first, last)
                    m = self._filter_mask(P, sl, ci, segment_id, wallets)
                    m &= self._after(P["ot"][sl], P["pid"][sl], cur)
                    rows = np.flatnonzero(m)[:limit] + first
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
