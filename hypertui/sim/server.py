"""Starlette app serving the HyperTracker cohort API over a simulated :class:`Market`.

Route handlers are plain ``def`` functions: Starlette runs them in its threadpool, so a slow
computation never blocks an event loop shared with a UI.  Market state is guarded by the
market's lock.  The API routes sit behind one middleware (ApiAuth): the token, the rate limits,
then the market's due state updates (``market.advance()``) before each answer.  The exports
answer with redirects to signed download links (Downloads).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import overload
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import chaos as _chaos
from .chaos import ChaosSpec
from .encoding import decode_cursor, to_ms
from .market import Market
from .state import AGES, SEGMENT_BY_ID

API = "/api/external"
DAY_MS = 86_400_000
TTL_COIN = 30  # seconds, per-coin files and summary
TTL_GLOBAL = 120  # seconds, global files

_ISO_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_AGE_VALUES = ", ".join(AGES)  # as the validation error lists them


def parse_iso(s: str) -> int:
    """ISO 8601 string -> epoch ms (UTC when no offset). ValueError otherwise (epoch numbers too)."""
    s = s.strip()
    if not _ISO_RE.match(s):
        raise ValueError(s)
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    m = re.search(r"\.(\d+)", s)
    if m and len(m.group(1)) > 6:
        s = s[: m.start(1)] + m.group(1)[:6] + s[m.end(1):]
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return to_ms(dt)


def _json(obj, status: int = 200, headers: dict | None = None) -> Response:
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _xml(status: int, code: str, message: str) -> Response:
    body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>")
    return Response(body, status_code=status, media_type="application/xml")


def _not_found(message: str) -> Response:
    return _json({"statusCode": 404, "message": message, "error": "Not Found"}, 404)


class _Invalid(Exception):
    def __init__(self, errors: list[dict]):
        self.errors = errors


class _Query:
    """class-validator-like query validation collecting every error."""

    def __init__(self, request: Request):
        self.q = request.query_params
        self.errors: list[dict] = []

    def _err(self, prop: str, msg: str) -> None:
        self.errors.append({"property": prop, "errors": [msg]})

    def date(self, name: str, required: bool = False) -> int | None:
        v = self.q.get(name)
        if v is None:
            if required:
                self._err(name, f"{name} must be a valid ISO 8601 date string")
            return None
        try:
            return parse_iso(v)
        except ValueError:
            self._err(name, f"{name} must be a valid ISO 8601 date string")
            return None

    @overload
    def int_(self, name: str, default: int, lo: int | None, hi: int | None) -> int: ...
    @overload
    def int_(self, name: str, default: None, lo: int | None, hi: int | None) -> int | None: ...
    def int_(self, name: str, default: int | None, lo: int | None, hi: int | None) -> int | None:
        v = self.q.get(name)
        if v is None:
            return default
        if not re.fullmatch(r"[+-]?\d+", v.strip()):
            self._err(name, f"{name} must be an integer number")
            return default
        n = int(v)
        if hi is not None and n > hi:
            self._err(name, f"{name} must not be greater than {hi}")
        elif lo is not None and n < lo:
            self._err(name, f"{name} must not be less than {lo}")
        return n

    def bool_(self, name: str) -> bool | None:
        v = self.q.get(name)
        if v is None:
            return None
        if v not in ("true", "false"):
            self._err(name, f"{name} must be a boolean value")
            return None
        return v == "true"

    def age(self, name: str) -> str:
        v = self.q.get(name)
        if v is None:
            return "all"
        if v not in AGES:
            self._err(name, f"{name} must be one of the following values: {_AGE_VALUES}")
            return "all"
        return v

    def check(self) -> None:
        if self.errors:
            raise _Invalid(self.errors)


class _Limits:
    """Per-token per-minute rate limit and daily quota, on the market clock."""

    def __init__(self, market: Market, per_minute: int | None, daily: int | None):
        self.m = market
        self.per_minute = per_minute
        self.daily = daily
        self.windows: dict[str, deque] = {}
        self.days: dict[str, tuple[int, int]] = {}
        self.lock = threading.Lock()

    def check(self, token: str) -> Response | None:
        if self.per_minute is None and self.daily is None:
            return None
        with self.lock:
            now = self.m.now_ms()
            day = now // DAY_MS
            d, count = self.days.get(token, (day, 0))
            if d != day:
                count = 0
            if self.daily is not None and count >= self.daily:
                return _json({"limit": self.daily, "current": count, "plan": "FREE"}, 429)
            if self.per_minute is not None:
                dq = self.windows.setdefault(token, deque())
                while dq and dq[0] <= now - 60_000:
                    dq.popleft()
                if len(dq) >= self.per_minute:
                    retry = max(1, math.ceil((dq[0] + 60_000 - now) / 1000))
                    return _json({"error": "rate_limit_exceeded",
                                  "message": f"Rate limit exceeded, retry in {retry} seconds",
                                  "retry_after": retry}, 429, headers={"Retry-After": str(retry)})
                dq.append(now)
            self.days[token] = (day, count + 1)
            return None


def _default_download_host(host: str) -> str:
    name, sep, port = host.partition(":")
    if name == "127.0.0.1":
        return "localhost" + sep + port
    if name == "localhost":
        return "127.0.0.1" + sep + port
    return "downloads." + host


def _market(request: Request) -> Market:
    return request.app.state.market


def _downloads(request: Request) -> Downloads:
    return request.app.state.downloads


class ApiAuth:
    """Before every API route answers: a bearer token (the one the simulator was given, or any
    when none was), then the token's rate limit and daily quota, then the market's due updates
    (in the threadpool, as the routes run: a long tick never blocks the event loop)."""

    def __init__(self, app: ASGIApp, *, token: str | None, limits: _Limits, market: Market) -> None:
        self.app, self.token, self.limits, self.market = app, token, limits, market

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        auth = Headers(scope=scope).get("authorization", "")
        tok = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        refused: Response | None
        if not tok or (self.token is not None and tok != self.token):
            refused = _json({"statusCode": 401, "message": "Unauthorized"}, 401)
        else:
            refused = self.limits.check(tok)
        if refused is not None:
            await refused(scope, receive, send)
            return
        await run_in_threadpool(self.market.advance)
        await self.app(scope, receive, send)


def _invalid_query(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _Invalid)
    return _json({"errors": exc.errors}, 400)


class Downloads:
    """The exports' files: an API route answers with a redirect to a signed, expiring link (as an
    S3 presigned URL), valid only on the host it names, and the download route serves it."""

    def __init__(self, market: Market, download_host: str | None) -> None:
        self.market = market
        self.download_host = download_host
        self.secret = hashlib.sha256(f"hypertui-sim-{market.seed}".encode()).digest()
        # key -> (host, body or None, issued ms, ttl s)
        self.store: OrderedDict[str, tuple[str, bytes | None, int, int]] = OrderedDict()
        self.lock = threading.Lock()
        self.issued = 0

    def sign(self, key: str, amz_date: str, ttl: int, host: str) -> str:
        return hmac.new(self.secret, f"{key}\n{amz_date}\n{ttl}\n{host}".encode(), hashlib.sha256).hexdigest()

    def redirect(self, request: Request, kind: str, body_fn: Callable[[], dict] | None, ttl: int) -> Response:
        """To a new file of `body_fn()` (None: a link to a file that does not exist)."""
        now = self.market.now_ms()
        host = self.download_host or _default_download_host(request.headers.get("host", "simulator.local"))
        body = None
        if body_fn is not None:
            body = json.dumps(body_fn(), ensure_ascii=False, separators=(",", ":")).encode()
        with self.lock:
            self.issued += 1
            tag = hashlib.sha256(self.secret + f"{self.issued}:{now}".encode()).hexdigest()[:24]
            key = f"{kind}/{tag}.json"
            self.store[key] = (host, body, now, ttl)
            while len(self.store) > 512:
                self.store.popitem(last=False)
        amz_date = datetime.fromtimestamp(now / 1000, UTC).strftime("%Y%m%dT%H%M%SZ")
        sig = self.sign(key, amz_date, ttl, host)
        url = (f"http://{host}/downloads/{quote(key)}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
               f"&X-Amz-Credential=SIMULATOR%2F{amz_date[:8]}%2Fus-east-1%2Fs3%2Faws4_request"
               f"&X-Amz-Date={amz_date}&X-Amz-Expires={ttl}&X-Amz-SignedHeaders=host&X-Amz-Signature={sig}")
        return Response(status_code=302, headers={"Location": url})

    def serve(self, request: Request) -> Response:
        key = request.path_params["key"]
        host = request.headers.get("host", "")
        with self.lock:
            entry = self.store.get(key)
        if entry is None or entry[0] != host:
            return _xml(404, "NoSuchKey", "The specified key does not exist.")
        e_host, body, issued, _ = entry
        qp = request.query_params
        amz_date = qp.get("X-Amz-Date", "")
        expires = qp.get("X-Amz-Expires", "")
        if not expires.isdigit() or not hmac.compare_digest(
                self.sign(key, amz_date, int(expires), e_host), qp.get("X-Amz-Signature", "")):
            return _xml(403, "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you provided.")
        if self.market.now_ms() > issued + int(expires) * 1000:
            return _xml(403, "AccessDenied", "Request has expired")
        if body is None:
            return _xml(404, "NoSuchKey", "The specified key does not exist.")
        return Response(body, media_type="application/json")


def _seg_path(request: Request) -> int | None:
    raw = request.path_params["sid"]
    if not re.fullmatch(r"\d{1,3}", raw):
        return None
    sid = int(raw)
    return sid if sid in SEGMENT_BY_ID else None


def _seg_404(request: Request) -> Response:
    return _not_found(f"Segment {request.path_params['sid']} not found")


def _time_cursor(q: _Query, tag: str) -> int | None:
    cur = q.q.get("nextCursor")
    if cur is None:
        return None
    try:
        t, ms = decode_cursor(cur, 2)
        if t != tag:
            raise ValueError(cur)
        return int(ms)
    except ValueError:
        q._err("nextCursor", "nextCursor must be a valid cursor")
        return None


# ------------------------------------------------------------------ API routes (behind ApiAuth)


def segments(request: Request) -> Response:
    return _json(_market(request).segments())


def summary(request: Request) -> Response:
    sid = _seg_path(request)
    if sid is None:
        return _seg_404(request)
    m, downloads = _market(request), _downloads(request)
    age = request.query_params.get("positionAge", "all")
    if age not in AGES:  # not validated: the redirect points at a missing file
        return downloads.redirect(request, f"segments/{sid}/summary-{quote(age, safe='')}", None, TTL_COIN)
    return downloads.redirect(request, f"segments/{sid}/summary-{age}", lambda: m.summary(sid, age), TTL_COIN)


def positions(request: Request) -> Response:
    q = _Query(request)
    start = q.date("start", required=True)
    end = q.date("end")
    seg = q.int_("segmentId", None, 1, 16)
    open_ = q.bool_("open")
    limit = q.int_("limit", 1000, 1, 1000)
    cur = q.q.get("nextCursor")
    if cur is not None:
        try:
            a, b = decode_cursor(cur, 2)
            int(a), int(b, 16)
        except ValueError:
            q._err("nextCursor", "nextCursor must be a valid cursor")
    q.check()
    assert start is not None  # required: check() answered 400 without it
    addresses = q.q.getlist("address") or None
    page = _market(request).positions_page(start, end, q.q.get("coin"), seg, addresses, open_, limit, cur)
    return _json(page)


def _series_query(
    request: Request, cursor_tag: str, *, start_required: bool
) -> tuple[int | None, int | None, int, str, int | None]:
    """A cohort series' start, end, limit, position age and cursor (raises _Invalid: a 400 listing
    every bad one). Without `start_required`, a start is required only to page."""
    q = _Query(request)
    start = q.date("start", required=start_required or any(k in q.q for k in ("end", "limit", "nextCursor")))
    end = q.date("end")
    limit = q.int_("limit", 1000, 1, 1000)
    age = q.age("positionRecencyTimeframe")
    cur = _time_cursor(q, cursor_tag)
    q.check()
    return start, end, limit, age, cur


def bias_history(request: Request) -> Response:
    sid = _seg_path(request)
    if sid is None:
        return _seg_404(request)
    start, end, limit, age, cur = _series_query(request, "b", start_required=False)
    return _json(_market(request).bias_history(sid, age, start, end, limit, cur))


def position_metrics(request: Request) -> Response:
    sid = _seg_path(request)
    if sid is None:
        return _seg_404(request)
    start, end, limit, age, cur = _series_query(request, "m", start_required=True)
    assert start is not None  # required: a 400 without it
    return _json(_market(request).position_metrics(request.path_params["coin"], sid, age, start, end, limit, cur))


def heatmap(request: Request) -> Response:
    q = _Query(request)
    age = q.age("openedWithin")
    q.check()
    return _json(_market(request).heatmap(age, q.q.get("coin")))


def liquidation_risk(request: Request) -> Response:
    sid = _seg_path(request)
    if sid is None:
        return _seg_404(request)
    q = _Query(request)
    offset = q.int_("offset", 0, 0, None)
    limit = q.int_("limit", 100, 1, 500)
    q.check()
    return _json(_market(request).liquidation_risk(sid, offset, limit))


# export file name -> (its base, the position age it covers)
_EXPORTS = {
    f"{base}{suffix}": (base, age)
    for base in ("position-breakdown-by-cohort", "segment-metrics")
    for suffix, age in (("", "all"), ("-24h", "24h"), ("-7d", "7d"), ("-30d", "30d"))
}


def coin_export(request: Request) -> Response:
    name = request.path_params["name"]
    coin = request.path_params["coin"]
    if name not in _EXPORTS:
        return _not_found(f"Cannot GET {request.url.path}")
    m = _market(request)
    ci = m.coin_lookup(coin, case_insensitive=True)
    if ci is None:
        return _not_found(f"{coin.upper()} not found")
    base, age = _EXPORTS[name]
    fn = (lambda: m.breakdown(ci, age)) if base.startswith("position") else (lambda: m.segment_metrics(ci, age))
    return _downloads(request).redirect(request, f"coins/{m.coin_names[ci].replace(':', '-')}/{name}", fn, TTL_COIN)


def bias_charts(request: Request) -> Response:
    return _downloads(request).redirect(request, "segments-bias-charts-data-24h", _market(request).bias_charts_24h, TTL_GLOBAL)


def status(request: Request) -> Response:
    return _json(_market(request).status())


# ------------------------------------------------------------------ without a token


def download(request: Request) -> Response:
    return _downloads(request).serve(request)


def fallback(request: Request) -> Response:
    return _not_found(f"Cannot {request.method} {request.url.path}")


API_ROUTES: list[tuple[str, Callable[[Request], Response]]] = [
    ("/segments", segments),
    ("/segments/{sid}/summary", summary),
    ("/segments/{sid}/bias-history", bias_history),
    ("/positions", positions),
    ("/positions/heatmap", heatmap),
    ("/position-metrics/coin/{coin}/segment/{sid}", position_metrics),
    ("/exports/segments-bias-charts-data-24h", bias_charts),
    ("/exports/coins/{coin}/{name}", coin_export),
    ("/hypertracker/state/status", status),
    ("/{sid}/assets/liquidation-risk", liquidation_risk),
]


def create_app(
    market: Market | None = None,
    *,
    seed: int = 7,
    scale: str = "default",
    clock: Callable[[], datetime] | None = None,
    update_interval: float = 15.0,
    token: str | None = None,
    download_host: str | None = None,
    rate_limit_per_minute: int | None = None,
    daily_quota: int | None = None,
    chaos: str | ChaosSpec | None = None,
) -> Starlette:
    """The simulator app; ``chaos`` (a preset name, a spec string or a :class:`ChaosSpec`) injects
    faults, see :mod:`hypertui.sim.chaos`. ``app.state.chaos`` is the injector (its ``counts``)."""
    m = market if market is not None else Market(seed=seed, scale=scale, clock=clock, update_interval=update_interval)
    auth = Middleware(ApiAuth, token=token, limits=_Limits(m, rate_limit_per_minute, daily_quota), market=m)
    routes = [
        *(Route(f"{API}{path}", endpoint, middleware=[auth]) for path, endpoint in API_ROUTES),
        Route("/downloads/{key:path}", download),
        Route("/{path:path}", fallback, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]
    app = Starlette(routes=routes, exception_handlers={_Invalid: _invalid_query})
    app.state.market = m
    app.state.downloads = Downloads(m, download_host)
    _chaos.install(app, chaos)
    return app


def main_serve(host: str = "127.0.0.1", port: int = 8787, seed: int = 7, scale: str = "default",
               update_interval: float = 15.0, token: str | None = None,
               chaos: str | ChaosSpec | None = None) -> None:
    import logging

    import uvicorn

    app = create_app(seed=seed, scale=scale, update_interval=update_interval, token=token, chaos=chaos)
    # A chaos drip can hold an answer for half a minute: shutting down does not wait for it.
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2))
    # After uvicorn configured logging: a deliberate reset is not an "Exception in ASGI application".
    logging.getLogger("uvicorn.error").addFilter(_chaos.QuietResets())
    server.run()
