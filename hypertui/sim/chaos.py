"""Chaos mode for the simulator: injected faults that prove the client and the UI survive them.

A :class:`ChaosSpec` says how often each fault happens (a rate in [0, 1] per request); a
:class:`ChaosInjector` draws the faults from a seeded ``random.Random`` and counts what it injected;
:class:`ChaosMiddleware` is a pure ASGI middleware that applies them to the simulator's responses.
``create_app(..., chaos=...)`` wires the three together and exposes the injector as
``app.state.chaos``.

Spec syntax (``hypertui sim --chaos SPEC``): comma-separated ``kind=rate`` pairs, e.g.
``"latency=0.1,500=0.05,reset=0.02,truncate=0.02,drift=0.05,hostile=0.1,429=0.02,quota=0.01,expired=0.05"``,
plus the options ``seed=N`` (default 0), ``latency_ms=N`` (default 2000), ``drip_ms=N`` (default
30000), ``bomb_mib=N`` (default 128) and ``drift_mode=type+missing+extra+empty`` (which schema
drifts to draw, default all). A spec may start with a preset name and override it:
``"storm,seed=3,latency_ms=0"``.

Fault kinds:

``latency``
    the answer is delayed by ``latency_ms`` x U(0.5, 1.5) (``asyncio.sleep``; never blocks).
``500`` ``502`` ``503``
    server errors: API 500 is NestJS JSON, 502 an HTML gateway page, 503 JSON with
    ``Retry-After``; on the download host 500/503 are S3 XML (``InternalError``/``SlowDown``).
``429`` / ``quota``
    the per-minute limit (``{"error":"rate_limit_exceeded","message":...,"retry_after":N}`` and a
    ``Retry-After`` header) / the daily quota (``{"limit":100,"current":100,"plan":"FREE"}``).
    API host only.
``reset``
    the connection drops mid-response: headers with the full ``Content-Length``, part of the body,
    then :class:`ChaosConnectionReset` is raised.  Over a socket uvicorn then closes the
    connection (the client sees a protocol error); in process, httpx's ``ASGITransport``
    re-raises it, and since it *is* an ``httpx.RemoteProtocolError`` the client sees the same
    transport error as over a socket.
``truncate``
    a complete HTTP answer (status 200, matching ``Content-Length``) whose JSON body is cut short.
``drift``
    schema drift of a 200 JSON body, one of: ``type`` (a field a client needs, picked from the
    usual required ones, gets a wrong type), ``missing`` (such a field is left out), ``extra``
    (unknown fields everywhere, an unknown column inserted in columnar data), ``empty`` (the page is empty but still carries a
    ``nextCursor``).
``hostile``
    hostile strings (Rich/Textual markup, ANSI/OSC escapes, control characters, bidi overrides,
    very long strings, wide emoji) in coin names, cohort names, emoji, messages and other server
    strings of any JSON answer.  Independent of the other faults: it can come on top of one.
``expired``
    an export redirect points at a link that has already expired (its ``X-Amz-Date`` is moved
    into the past; fetching it answers S3's ``403 AccessDenied / Request has expired``); a
    download may also expire by itself.
``drip``
    a slow body: the headers at once, then the body in up to 64 pieces spread over ``drip_ms``
    (each pause far below a client's read timeout, the whole far above it).
``bomb``
    a gzip size bomb: ``Content-Encoding: gzip`` whose small ``Content-Length`` inflates to the
    JSON answer followed by whitespace up to ``bomb_mib`` MiB (still valid JSON).
``loop``
    a cursor loop on a paged answer (one with a ``nextCursor`` key): either ``cycle``, the
    cursors A -> B -> A -> ..., or ``churn``, a new cursor every time; every page of the loop
    repeats the items of the page asked for first.  Each answer of a loop counts once.
``extreme``
    extreme numbers in a JSON answer: about one value in ten (at least one; ids and counts of
    pages excepted) becomes ``1e309`` or ``-1e309`` written as such (beyond a double) or
    ``±1.7e308`` (a double, whose sum or square is not).
``naive``
    every ISO 8601 timestamp of a JSON answer (``state/status`` included) loses its ``Z`` or
    offset.
``nostatus``
    ``state/status`` answers NestJS's ``404 Cannot GET``, as a server without that endpoint.

Which faults apply where: API requests draw from 500/502/503/429/quota/reset/truncate/drift/
drip/bomb/loop/extreme/naive (``state/status`` also from nostatus), export requests (the 302
redirects) from 500/502/503/429/quota/reset/expired, downloads from 500/502/503/reset/truncate/
drift/expired/drip/bomb/extreme/naive; latency and hostile apply everywhere.  At most one of
those is injected per request, picked with the given rates (scaled down if they add up to more
than 1).  A 401 (missing or wrong token) is never touched and paths outside the API and the
download host are not either.  A fault drawn where it cannot apply (drift on a 404, say) is
dropped and not counted, so ``counts`` is what the client actually received.

Every request costs exactly four draws from the seeded generator, whatever happens, so the
same seed and the same sequence of requests give the same faults.

``GET /_chaos`` (outside the API, never faulted) answers what was injected so far: ``requests``,
``counts`` by kind, ``drift`` by mode, and ``recent``, the last 256 faults as ``[request number,
path, kind]``; a soak in another process reads it to tell which faults came before a failure.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import random
import re
import threading
import zlib
from collections import OrderedDict, deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

API_PREFIX = "/api/external/"
DOWNLOAD_PREFIX = "/downloads/"
STATUS_PATH = API_PREFIX + "hypertracker/state/status"
REPORT_PATH = "/_chaos"  # what was injected, as JSON (see the module docstring)

#: The fault kinds, in the order the per-request pick walks them.
PRIMARY_KINDS = ("500", "502", "503", "429", "quota", "reset", "truncate", "drift", "expired",
                 "drip", "bomb", "loop", "extreme", "naive", "nostatus")
KINDS = ("latency", "hostile", *PRIMARY_KINDS)
DRIFT_MODES = ("type", "missing", "extra", "empty")
LOOP_MODES = ("cycle", "churn")
DEFAULT_LATENCY_MS = 2000
DEFAULT_DRIP_MS = 30_000  # past a 20 s read timeout in total, never near it between two pieces
DEFAULT_BOMB_MIB = 128
DRIP_PIECES = 64
RECENT_KEPT = 256
#: Applied last, to the bytes of the answer (after hostile strings), and counted there.
_DELIVERY_KINDS = ("truncate", "reset", "extreme", "bomb", "drip")
_SHAPING_KINDS = ("drift", "loop", "extreme", "naive", "bomb")  # only on a JSON answer

_API_KINDS = ("500", "502", "503", "429", "quota", "reset", "truncate", "drift", "drip", "bomb", "loop",
              "extreme", "naive")
_APPLICABLE = {
    "api": _API_KINDS,
    "status": (*_API_KINDS, "nostatus"),
    "export": ("500", "502", "503", "429", "quota", "reset", "expired"),
    "download": ("500", "502", "503", "reset", "truncate", "drift", "expired", "drip", "bomb", "extreme", "naive"),
}
_EXPORT_RE = re.compile(r"^/api/external/(?:segments/[^/]+/summary|exports/.+)$")

#: Hostile payloads placed in server strings.
HOSTILE_STRINGS: tuple[str, ...] = (
    "[bold]",
    "[/]",
    "[bold red]LOUD",
    "[link=https://x]click me[/link]",
    "[@click=app.quit]quit[/]",
    "[b]unclosed",
    "[/not-open]",
    "\x1b[31mred\x1b[0m",
    "\x1b]0;pwned title\x07",
    "\x1b[2J\x1b[H",
    "\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\",
    "ctrl\x00\x07\x08\x7f\x9b",
    "tab\tnew\nline\rcr",
    "\u202eevil\u202c",
    "zero\u200bwidth\u2066iso\u2069",
    "W" * 3000,
    "🐋🐳🦈" * 40,
    "👨‍👩‍👧‍👦🏳️‍🌈",
    "全角文字ｗｉｄｅ",
    "Z̷̡̢͈a̶̛͎l̵̹̀g̷̗͐o̸̧͝",
    "%s%n{0}${x}",
    "",
)
#: Keys whose string values get hostile strings.
HOSTILE_KEYS = frozenset({"name", "coin", "emoji", "message", "plan", "dex", "errors"})

_MAIN_LISTS = ("positions", "heatmap", "items", "metrics", "history", "data")
_DRIFT_TARGETS = (
    "coin", "id", "name", "category", "side", "segment", "segmentId", "totalValue", "positionValue",
    "positionCount", "openTime", "createdAt", "timestamp", "riskValue", "percentRisk", "count",
    "address", "size", "summary", "openPerpsSummary", "metrics", "history",
)
_FAKE_CURSOR = "Y2hhb3M6ZW1wdHktcGFnZQ"  # base64 "chaos:empty-page"
_LOOP_TAG = "chaos-loop"
#: Numbers left alone by ``extreme``: what a request or a page is identified or counted by.
_NOT_EXTREME = frozenset({"id", "segmentId", "totalCount", "offset", "limit", "szDecimals"})
#: Placeholders for numbers JSON can write but a double cannot hold (json.dumps would say Infinity).
_BEYOND_DOUBLE = {"\x00chaos:1e309": b"1e309", "\x00chaos:-1e309": b"-1e309"}
_EXTREMES: tuple[Any, ...] = (*_BEYOND_DOUBLE, 1.7e308, -1.7e308)
_ISO_ZONED = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(?:Z|[+-]\d{2}:?\d{2})$")


# --------------------------------------------------------------------------------------- spec


@dataclass
class ChaosSpec:
    """Fault rates per request (0–1) by kind, plus the seed and the latency of a spike."""

    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    latency_ms: int = DEFAULT_LATENCY_MS
    drift_modes: tuple[str, ...] = DRIFT_MODES
    name: str = "custom"
    drip_ms: int = DEFAULT_DRIP_MS
    bomb_mib: int = DEFAULT_BOMB_MIB

    def __post_init__(self) -> None:
        for kind, rate in self.rates.items():
            if kind not in KINDS:
                raise ValueError(f"chaos: unknown fault kind {kind!r} (kinds: {', '.join(KINDS)})")
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"chaos: rate of {kind!r} must be between 0 and 1, got {rate!r}")
        bad = [m for m in self.drift_modes if m not in DRIFT_MODES]
        if bad or not self.drift_modes:
            raise ValueError(f"chaos: drift_mode {bad[0] if bad else ''!r} unknown (modes: {', '.join(DRIFT_MODES)})")
        for option in _INT_OPTIONS[1:]:
            if getattr(self, option) < 0:
                raise ValueError(f"chaos: {option} must be >= 0, got {getattr(self, option)}")

    def rate(self, kind: str) -> float:
        return self.rates.get(kind, 0.0)

    @property
    def active(self) -> bool:
        return any(r > 0 for r in self.rates.values())

    def describe(self) -> str:
        """One line: ``storm: latency=0.2,500=0.05,... seed=0 latency_ms=4000`` (drip_ms and
        bomb_mib only where those faults are on)."""
        parts = [f"{k}={self.rates[k]:g}" for k in KINDS if self.rates.get(k)]
        extra = f" drift_mode={'+'.join(self.drift_modes)}" if self.drift_modes != DRIFT_MODES else ""
        extra += f" drip_ms={self.drip_ms}" if self.rate("drip") else ""
        extra += f" bomb_mib={self.bomb_mib}" if self.rate("bomb") else ""
        body = ",".join(parts) or "no faults"
        return f"{self.name}: {body} seed={self.seed} latency_ms={self.latency_ms}{extra}"

    @classmethod
    def parse(cls, text: str) -> ChaosSpec:
        """Parse ``PRESET`` or ``[PRESET,]kind=rate,...,seed=N,latency_ms=N,drift_mode=a+b``."""
        raw = text.strip()
        if not raw:
            raise ValueError(f"chaos: empty spec (use a preset: {', '.join(PRESETS)}, or kind=rate pairs)")
        parts = [p.strip() for p in raw.split(",")]
        base = cls()
        if "=" not in parts[0]:
            name = parts[0].lower()
            if name not in PRESETS:
                raise ValueError(f"chaos: unknown preset {parts[0]!r} (presets: {', '.join(PRESETS)})")
            base = PRESETS[name]
            parts = parts[1:]
            if not parts:
                return base.copy()
        rates = dict(base.rates)
        opts: dict[str, Any] = {k: getattr(base, k) for k in (*_INT_OPTIONS, "drift_modes")}
        seen: set[str] = set()
        for part in parts:
            key, sep, value = (s.strip() for s in part.partition("="))
            if not part or not sep or not key or not value:
                raise ValueError(f"chaos: bad part {part!r}: expected kind=rate, e.g. 500=0.05")
            key = key.lower()
            if key in seen:
                raise ValueError(f"chaos: {key!r} given twice in {text.strip()!r}")
            seen.add(key)
            if key in _INT_OPTIONS:
                if not re.fullmatch(r"\d+", value):
                    raise ValueError(f"chaos: bad part {part!r}: {key} must be a non-negative integer")
                opts[key] = int(value)
            elif key in ("drift_mode", "drift_modes"):
                modes = tuple(m.strip().lower() for m in value.split("+"))
                bad = [m for m in modes if m not in DRIFT_MODES]
                if bad:
                    raise ValueError(f"chaos: bad part {part!r}: unknown drift mode {bad[0]!r} "
                                     f"(modes: {'+'.join(DRIFT_MODES)})")
                opts["drift_modes"] = modes
            elif key in KINDS:
                try:
                    rate = float(value)
                except ValueError:
                    raise ValueError(f"chaos: bad part {part!r}: rate must be a number from 0 to 1") from None
                if not 0.0 <= rate <= 1.0:  # also rejects nan
                    raise ValueError(f"chaos: bad part {part!r}: rate must be a number from 0 to 1")
                rates[key] = rate
            else:
                raise ValueError(f"chaos: bad part {part!r}: unknown fault kind {key!r} "
                                 f"(kinds: {', '.join(KINDS)}; options: {', '.join(_INT_OPTIONS)}, drift_mode)")
        return cls(rates=rates, name=base.name, **opts)

    @classmethod
    def coerce(cls, value: str | ChaosSpec | None) -> ChaosSpec:
        """None -> off; a string -> :meth:`parse`; a spec -> itself."""
        if value is None:
            return PRESETS["off"].copy()
        if isinstance(value, ChaosSpec):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        raise TypeError(f"chaos must be a preset/spec string or a ChaosSpec, not {type(value).__name__}")

    def copy(self) -> ChaosSpec:
        return replace(self, rates=dict(self.rates))


_INT_OPTIONS = ("seed", "latency_ms", "drip_ms", "bomb_mib")


def parse_chaos(text: str) -> ChaosSpec:
    """Module-level alias of :meth:`ChaosSpec.parse` for the CLI."""
    return ChaosSpec.parse(text)


PRESETS: dict[str, ChaosSpec] = {
    # No faults at all: the app behaves exactly as without chaos (the middleware is not installed).
    "off": ChaosSpec(name="off"),
    # A bad day on a real service: ~1 request in 12 has a problem. A 1.5 s spike on 5 % of requests,
    # 1 % each of 500/502/503/429/reset/drift, rare truncation and daily-quota answers, 2 % of
    # answers with hostile strings, 2 % of export links expired on arrival.
    "mild": ChaosSpec(
        rates={"latency": 0.05, "500": 0.01, "502": 0.01, "503": 0.01, "429": 0.01, "quota": 0.002,
               "reset": 0.01, "truncate": 0.005, "drift": 0.01, "hostile": 0.02, "expired": 0.02},
        latency_ms=1500, name="mild"),
    # Everything at once, often: ~45 % of requests fail one way or another, 20 % are slow (4 s ± 50 %),
    # 10 % carry hostile strings, 10 % of export links are expired. For soak tests of retry and
    # staleness handling: the UI must stay up and show the problems, not crash or freeze.
    "storm": ChaosSpec(
        rates={"latency": 0.2, "500": 0.05, "502": 0.05, "503": 0.05, "429": 0.05, "quota": 0.02,
               "reset": 0.05, "truncate": 0.03, "drift": 0.05, "hostile": 0.1, "expired": 0.1},
        latency_ms=4000, name="storm"),
    # Every answer carries hostile strings (markup, escapes, control and bidi characters, huge and
    # wide strings) and 10 % drift in ways a tolerant client must accept (unknown fields and
    # columns, empty pages with a cursor): nothing fails, so the UI must render all of it safely.
    "hostile": ChaosSpec(rates={"hostile": 1.0, "drift": 0.1}, drift_modes=("extra", "empty"), name="hostile"),
    # The answers at the edges of the contract, for the socket soak (benchmarks/soak_socket.py):
    # slow drips (1 %, 30 s each), gzip bombs (1 %, 128 MiB inflated), cursor loops on 20 % of
    # paged answers, extreme numbers and timezone-less timestamps on 10 % of answers each, no
    # state/status on 30 % of its requests; on top of a mild day (errors, resets, a 1 s spike on
    # 5 %, hostile strings on 5 %, but no daily quota: that would stop the refresh until midnight).
    "edge": ChaosSpec(
        rates={"latency": 0.05, "500": 0.01, "502": 0.01, "503": 0.01, "429": 0.01, "reset": 0.01,
               "truncate": 0.005, "drift": 0.01, "hostile": 0.05, "expired": 0.02, "drip": 0.01, "bomb": 0.01,
               "loop": 0.2, "extreme": 0.1, "naive": 0.1, "nostatus": 0.3},
        latency_ms=1000, name="edge"),
}


# ----------------------------------------------------------------------------------- injector


class ChaosConnectionReset(httpx.RemoteProtocolError):
    """Raised by the middleware mid-response to drop the connection.

    uvicorn closes the socket when an app raises after the response started; httpx's
    ``ASGITransport`` re-raises app exceptions, and being a ``RemoteProtocolError`` this one
    reaches an httpx client as the same transport error a dropped socket gives.
    """


@dataclass
class Plan:
    """What the injector drew for one request (before seeing the response)."""

    where: str  # "api" | "status" | "export" | "download"
    latency: float | None  # seconds to wait, None for no spike
    hostile: bool
    fault: str | None
    rng: random.Random  # details (which string, where to cut, ...)
    number: int = 0  # the request's, from 1
    path: str = ""
    cursor: str = ""  # the real nextCursor the answer is for ("" for a first page)
    loop: Loop | None = None  # the request went on with a loop's cursor


@dataclass
class Loop:
    """Where a cursor loop is: its mode, its step, and the real cursor whose page it repeats."""

    mode: str
    step: int
    cursor: str  # "" for the first page

    def encode(self) -> str:
        raw = f"{_LOOP_TAG}:{self.mode}:{self.step}:{self.cursor}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Loop | None:
        """The loop a cursor of ours is at; None for any other cursor."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        tag, _, rest = raw.partition(":")
        mode, _, rest = rest.partition(":")
        step, _, real = rest.partition(":")
        if tag != _LOOP_TAG or mode not in LOOP_MODES or not step.isdigit():
            return None
        return cls(mode, int(step), real)

    def next(self) -> Loop:
        """cycle: A -> B -> A ...; churn: a cursor never sent before."""
        return replace(self, step=1 - self.step if self.mode == "cycle" else self.step + 1)


@dataclass
class Outcome:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    reset: bool = False
    drip: float | None = None  # seconds to spread the body over


def classify(path: str) -> str | None:
    """ "api" / "status" / "export" / "download" for the paths chaos touches, else None."""
    if path.startswith(DOWNLOAD_PREFIX):
        return "download"
    if path == STATUS_PATH:
        return "status"
    if path.startswith(API_PREFIX):
        return "export" if _EXPORT_RE.match(path) else "api"
    return None


class ChaosInjector:
    """Draws faults from ``random.Random(spec.seed)`` and counts the ones injected (``counts``)."""

    def __init__(self, spec: ChaosSpec | str | None = None) -> None:
        self.spec = ChaosSpec.coerce(spec)
        self.rng = random.Random(self.spec.seed)
        self.counts: dict[str, int] = {k: 0 for k in KINDS}
        self.drift_counts: dict[str, int] = {m: 0 for m in DRIFT_MODES}
        self.requests = 0
        self.recent: deque[tuple[int, str, str]] = deque(maxlen=RECENT_KEPT)  # (request, path, kind)
        self._expired: OrderedDict[str, None] = OrderedDict()  # signatures of links made expired
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self.spec.active

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def report(self) -> str:
        """One line for a soak test: ``120 requests; 500=3 reset=1 hostile=12`` ."""
        done = " ".join(f"{k}={v}" for k, v in self.counts.items() if v) or "no faults"
        return f"{self.requests} requests; {done}"

    def snapshot(self) -> dict[str, Any]:
        """What ``GET /_chaos`` answers."""
        with self._lock:
            return {"requests": self.requests, "counts": dict(self.counts), "drift": dict(self.drift_counts),
                    "recent": [list(r) for r in self.recent]}

    def _count(self, kind: str, plan: Plan | None = None) -> None:
        with self._lock:
            self.counts[kind] += 1
            if plan is not None:
                self.recent.append((plan.number, plan.path, kind))

    def plan(self, where: str, path: str = "") -> Plan:
        """Draw the faults of one request: always exactly four draws, whatever comes out."""
        spec = self.spec
        with self._lock:
            self.requests += 1
            number = self.requests
            r_latency, r_hostile, r_fault = self.rng.random(), self.rng.random(), self.rng.random()
            detail = random.Random(self.rng.getrandbits(64))
        latency = None
        if r_latency < spec.rate("latency"):
            latency = spec.latency_ms / 1000.0 * detail.uniform(0.5, 1.5)
        kinds = _APPLICABLE[where]
        total = sum(spec.rate(k) for k in kinds)
        fault = None
        if total > 0:
            u = r_fault * max(1.0, total)
            acc = 0.0
            for k in kinds:
                acc += spec.rate(k)
                if spec.rate(k) > 0 and u < acc:
                    fault = k
                    break
        return Plan(where, latency, r_hostile < spec.rate("hostile"), fault, detail, number, path)

    # -- expired links ------------------------------------------------------------------------
    def mark_expired(self, signature: str) -> None:
        with self._lock:
            self._expired[signature] = None
            while len(self._expired) > 4096:
                self._expired.popitem(last=False)

    def is_marked_expired(self, query_string: bytes) -> bool:
        sig = dict(parse_qsl(query_string.decode("latin-1"))).get("X-Amz-Signature")
        return sig is not None and sig in self._expired

    # -- applying a plan to a captured response -------------------------------------------------
    def apply(self, plan: Plan, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Outcome:
        """The response the client gets, given what the simulator answered."""
        out = Outcome(status, headers, body)
        fault = plan.fault
        rng = plan.rng
        shaping = fault in _SHAPING_KINDS  # these need the answer's JSON
        doc = _json_body(headers, body) if shaping and status == 200 else None
        if fault in ("500", "502", "503"):
            out = _server_error(int(fault), plan.where, rng)
        elif fault in ("429", "quota"):
            out = _rate_limited(fault == "quota", rng)
        elif fault == "nostatus":
            out = _json_response(404, {"statusCode": 404, "message": f"Cannot GET {plan.path}", "error": "Not Found"})
        elif fault == "expired":
            if plan.where == "export" and status in (301, 302, 303, 307, 308):
                out = self._expire_redirect(status, headers)
            elif plan.where == "download" and status == 200:
                out = expired_download()
            else:
                fault = None
        elif shaping and doc is None:
            fault = None
        elif fault == "drift":
            mode = rng.choice(self.spec.drift_modes)
            doc = drift(doc, mode, rng)
            with self._lock:
                self.drift_counts[mode] += 1
            out = _with_body(out, _dump(doc))
        elif fault == "loop":
            if isinstance(doc, dict) and "nextCursor" in doc:
                loop = plan.loop or Loop(rng.choice(LOOP_MODES), 0, plan.cursor)
                doc["nextCursor"] = loop.next().encode()
                out = _with_body(out, _dump(doc))
            else:
                fault = None
        elif fault == "naive":
            if naive_timestamps(doc):
                out = _with_body(out, _dump(doc))
            else:
                fault = None
        if fault is not None and fault not in _DELIVERY_KINDS:
            self._count(fault, plan)

        if plan.hostile:
            hostile_doc = _json_body(out.headers, out.body)
            if hostile_doc is not None and out.status != 401:
                hostile_doc, changed = hostile(hostile_doc, rng)
                if changed:
                    out = _with_body(out, _dump(hostile_doc))
                    self._count("hostile", plan)

        # Last, on the answer's bytes: what a re-parse (hostile strings) would undo.
        if fault == "truncate":
            if out.status == 200 and len(out.body) >= 2:
                out = _with_body(out, out.body[: rng.randrange(1, len(out.body))])
                self._count("truncate", plan)
        elif fault == "reset":
            out.reset = True
            self._count("reset", plan)
        elif fault == "extreme":
            out = _with_body(out, extreme_numbers(_json_body(out.headers, out.body), rng))
            self._count("extreme", plan)
        elif fault == "bomb":
            out = gzip_bomb(out, self.spec.bomb_mib)
            self._count("bomb", plan)
        elif fault == "drip" and out.status == 200 and out.body:
            out.drip = self.spec.drip_ms / 1000
            self._count("drip", plan)
        return out

    def _expire_redirect(self, status: int, headers: list[tuple[bytes, bytes]]) -> Outcome:
        """Move the link's X-Amz-Date back past its expiry and remember it as expired."""
        new_headers = []
        for k, v in headers:
            if k.lower() == b"location":
                v = self._expired_location(v.decode("latin-1")).encode("latin-1")
            new_headers.append((k, v))
        return Outcome(status, new_headers, b"")

    def _expired_location(self, url: str) -> str:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        q = dict(query)
        try:
            issued = datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            ttl = int(q.get("X-Amz-Expires", "30"))
        except (KeyError, ValueError):
            return url
        past = issued - timedelta(seconds=ttl + 60)
        amz = past.strftime("%Y%m%dT%H%M%SZ")
        fixed = []
        for k, v in query:
            if k == "X-Amz-Date":
                v = amz
            elif k == "X-Amz-Credential":
                v = re.sub(r"/\d{8}/", f"/{amz[:8]}/", v)
            fixed.append((k, v))
        if "X-Amz-Signature" in q:
            self.mark_expired(q["X-Amz-Signature"])
        return urlunsplit(parts._replace(query=urlencode(fixed)))


# ------------------------------------------------------------------------------ fault bodies


def _headers(content_type: str, body: bytes, extra: dict[str, str] | None = None) -> list[tuple[bytes, bytes]]:
    h = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    for k, v in (extra or {}).items():
        h.append((k.lower().encode(), v.encode()))
    return h


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _json_response(status: int, obj: Any, extra: dict[str, str] | None = None) -> Outcome:
    body = _dump(obj)
    return Outcome(status, _headers("application/json", body, extra), body)


def _s3_xml(status: int, code: str, message: str) -> Outcome:
    body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>").encode()
    return Outcome(status, _headers("application/xml", body), body)


def expired_download() -> Outcome:
    """What S3 answers for a pre-signed link past its expiry."""
    return _s3_xml(403, "AccessDenied", "Request has expired")


def _server_error(status: int, where: str, rng: random.Random) -> Outcome:
    if status == 502:
        body = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n")
        return Outcome(502, _headers("text/html", body), body)
    if where == "download":
        if status == 503:
            return _s3_xml(503, "SlowDown", "Please reduce your request rate.")
        return _s3_xml(500, "InternalError", "We encountered an internal error. Please try again.")
    if status == 503:
        return _json_response(503, {"statusCode": 503, "message": "Service Unavailable"},
                              {"Retry-After": str(rng.randint(1, 30))})
    return _json_response(500, {"statusCode": 500, "message": "Internal server error"})


def _rate_limited(daily: bool, rng: random.Random) -> Outcome:
    if daily:
        return _json_response(429, {"limit": 100, "current": 100, "plan": "FREE"})
    retry = rng.randint(1, 59)
    return _json_response(429, {"error": "rate_limit_exceeded",
                                "message": f"Rate limit exceeded, retry in {retry} seconds",
                                "retry_after": retry}, {"Retry-After": str(retry)})


def _json_body(headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
    ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    if b"json" not in ctype or not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _with_body(out: Outcome, body: bytes) -> Outcome:
    headers = [(k, v) for k, v in out.headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    return Outcome(out.status, headers, body, out.reset)


# --------------------------------------------------------------- edges of the contract


def naive_timestamps(doc: Any) -> bool:
    """Strip the ``Z`` or offset of every ISO 8601 timestamp in ``doc`` (in place); whether any."""
    changed = False

    def visit(node: Any) -> None:
        nonlocal changed
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            if isinstance(value, str):
                m = _ISO_ZONED.match(value)
                if m:
                    node[key] = m.group(1)
                    changed = True
            else:
                visit(value)

    visit(doc)
    return changed


def extreme_numbers(doc: Any, rng: random.Random, share: float = 0.1) -> bytes:
    """``doc`` as JSON with about ``share`` of its numbers (at least one, if any) made extreme."""
    places: list[tuple[Any, Any]] = []

    def visit(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if key not in _NOT_EXTREME:
                    places.append((node, key))
            else:
                visit(value)

    visit(doc)
    chosen = [p for p in places if rng.random() < share] or places[:1]
    for node, key in chosen:
        node[key] = rng.choice(_EXTREMES)
    body = _dump(doc)
    for placeholder, literal in _BEYOND_DOUBLE.items():
        body = body.replace(_dump(placeholder), literal)
    return body


def gzip_bomb(out: Outcome, mib: int) -> Outcome:
    """``out`` gzipped, its JSON followed by whitespace up to ``mib`` MiB once inflated."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    parts = [packer.compress(out.body)]
    padding = b" " * (1 << 20)
    for _ in range(mib):
        parts.append(packer.compress(padding))
    parts.append(packer.flush())
    body = b"".join(parts)
    headers = [(k, v) for k, v in out.headers if k.lower() not in (b"content-length", b"content-encoding")]
    headers += [(b"content-encoding", b"gzip"), (b"content-length", str(len(body)).encode())]
    return Outcome(out.status, headers, body, out.reset)


# --------------------------------------------------------------------------- hostile strings


def hostile_string(original: str, rng: random.Random) -> str:
    payload = rng.choice(HOSTILE_STRINGS)
    how = rng.randrange(3)
    if how == 0:
        return payload + original
    if how == 1:
        return original + payload
    return payload or "\u202e"


def hostile(doc: Any, rng: random.Random, share: float = 0.5) -> tuple[Any, bool]:
    """Put hostile strings in about ``share`` of the server strings (at least one, if any)."""
    first: list[tuple[Any, Any]] = []
    changed = False

    def visit(node: Any) -> None:
        nonlocal changed
        if isinstance(node, dict):
            for key, value in node.items():
                if key in HOSTILE_KEYS:
                    if isinstance(value, str):
                        if not first:
                            first.append((node, key))
                        if rng.random() < share:
                            node[key] = hostile_string(value, rng)
                            changed = True
                        continue
                    if isinstance(value, list) and all(isinstance(s, str) for s in value):
                        for i, s in enumerate(value):
                            if not first:
                                first.append((value, i))
                            if rng.random() < share:
                                value[i] = hostile_string(s, rng)
                                changed = True
                        continue
                visit(value)
        elif isinstance(node, list):
            for item in node:
                if isinstance(item, (dict, list)):
                    visit(item)

    visit(doc)
    if not changed and first:
        container, key = first[0]
        container[key] = hostile_string(container[key], rng)
        changed = True
    return doc, changed


# ------------------------------------------------------------------------------ schema drift


def _main_list(doc: Any) -> tuple[Any, Any] | None:
    """(container, key) of the payload's main list; container is None for a bare array."""
    if isinstance(doc, list):
        return None, None
    if not isinstance(doc, dict):
        return None
    for key in _MAIN_LISTS:
        if isinstance(doc.get(key), list):
            return doc, key
    for key, value in doc.items():
        if isinstance(value, list):
            return doc, key
    return None


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, (int, float)):
        return "n/a"
    if isinstance(value, str):
        return {"value": value}
    if isinstance(value, list):
        return "[]"
    if isinstance(value, dict):
        return [value]
    return "null"


def _target_key(obj: dict, rng: random.Random) -> str | None:
    keys = [k for k in _DRIFT_TARGETS if obj.get(k) is not None]
    if keys:
        return rng.choice(keys)
    keys = [k for k, v in obj.items() if v is not None]
    return rng.choice(keys) if keys else None


def drift(doc: Any, mode: str, rng: random.Random) -> Any:
    """Return ``doc`` (mutated) drifted from the contract in one of :data:`DRIFT_MODES`."""
    found = _main_list(doc)
    items = doc if isinstance(doc, list) else (found[0][found[1]] if found else None)
    if mode == "empty":
        if isinstance(doc, list):
            return []
        if found:
            found[0][found[1]] = []
        if isinstance(doc, dict):
            doc["nextCursor"] = doc.get("nextCursor") or _FAKE_CURSOR
        return doc
    if mode == "extra":
        if isinstance(doc, dict):
            doc["chaosUnknownField"] = {"addedBy": "chaos", "values": [1, 2.5, None, "x"]}
        for item in (items or [])[:2000]:
            if isinstance(item, dict):
                item["unexpectedField"] = rng.randint(0, 10**6)
                item["futureFlag"] = rng.random() < 0.5
        _extra_columns(doc, rng)
        return doc
    # "type" / "missing": break a field a client must have
    dicts = [i for i in (items or []) if isinstance(i, dict)]
    if dicts:
        target = rng.choice(dicts)
    elif items and found and found[0] is not None:
        if mode == "missing":
            del found[0][found[1]]
        else:
            found[0][found[1]] = {"unexpected": "object instead of a list"}
        return doc
    elif isinstance(doc, dict) and doc:
        target = doc
    elif isinstance(doc, list):
        return {"unexpected": "object instead of an array"}
    else:
        return doc
    key = _target_key(target, rng)
    if key is None:
        return doc
    if mode == "missing":
        del target[key]
    else:
        target[key] = _wrong_type(target[key])
    return doc


def _extra_columns(node: Any, rng: random.Random) -> None:
    """Insert an unknown column into every columnar table (rows gain a value at the same index)."""
    if isinstance(node, dict):
        for cols_key, rows_key in (("historySnapshotStructure", "history"), ("columns", "data")):
            cols, rows = node.get(cols_key), node.get(rows_key)
            if isinstance(cols, list) and isinstance(rows, list) and all(isinstance(r, list) for r in rows):
                at = rng.randrange(len(cols) + 1)
                cols.insert(at, "chaosExtraColumn")
                for r in rows:
                    r.insert(at, "?")
        for value in node.values():
            if isinstance(value, (dict, list)):
                _extra_columns(value, rng)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, (dict, list)):
                _extra_columns(item, rng)


# -------------------------------------------------------------------------------- middleware


class ChaosMiddleware:
    """Pure ASGI middleware: buffers the simulator's answer and delivers it with faults."""

    def __init__(self, app, injector: ChaosInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        inj = self.injector
        if path == REPORT_PATH:
            await _deliver(send, _json_response(200, inj.snapshot()))
            return
        where = classify(path)
        if where is None:
            await self.app(scope, receive, send)
            return
        plan = inj.plan(where, path)
        scope = _follow_loop(scope, plan)

        if where == "download" and inj.is_marked_expired(scope.get("query_string", b"")):
            out = expired_download()  # counted when the redirect was made expired
        else:
            status, headers, body = await _capture(self.app, scope, receive)
            if status == 401:  # the auth path is never touched
                await _deliver(send, Outcome(status, headers, body))
                return
            out = inj.apply(plan, status, headers, body)
        if plan.latency is not None:
            inj._count("latency", plan)
            await asyncio.sleep(plan.latency)
        await _deliver(send, out, plan.rng)


def _follow_loop(scope: dict, plan: Plan) -> dict:
    """Note the request's cursor in ``plan``; a loop's cursor of ours goes on with the loop (its
    fault is "loop" whatever was drawn) and the simulator gets the real cursor it stands for."""
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    cursor = next((v for k, v in query if k == "nextCursor"), "")
    plan.cursor = cursor
    loop = Loop.decode(cursor) if cursor else None
    if loop is None:
        return scope
    plan.fault, plan.loop, plan.cursor = "loop", loop, loop.cursor
    real = [(k, v) for k, v in query if k != "nextCursor"] + ([("nextCursor", loop.cursor)] if loop.cursor else [])
    return {**scope, "query_string": urlencode(real).encode("latin-1")}


async def _capture(app, scope, receive) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    start: dict = {}
    chunks: list[bytes] = []

    async def send(message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return start.get("status", 500), list(start.get("headers", [])), b"".join(chunks)


async def _deliver(send, out: Outcome, rng: random.Random | None = None) -> None:
    if out.drip is not None:
        await send({"type": "http.response.start", "status": out.status, "headers": out.headers})
        size = -(-len(out.body) // DRIP_PIECES)  # at most DRIP_PIECES pieces
        pieces = [out.body[i:i + size] for i in range(0, len(out.body), size)]
        for piece in pieces:
            await asyncio.sleep(out.drip / len(pieces))
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    if not out.reset:
        await send({"type": "http.response.start", "status": out.status, "headers": out.headers})
        await send({"type": "http.response.body", "body": out.body})
        return
    # Promise the whole body (or some body, for an empty one), send part of it, then drop.
    declared = len(out.body) if out.body else 64
    headers = [(k, v) for k, v in out.headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(declared).encode()))
    cut = (rng or random.Random(0)).randrange(0, len(out.body)) if out.body else 0
    await send({"type": "http.response.start", "status": out.status, "headers": headers})
    if cut:
        await send({"type": "http.response.body", "body": out.body[:cut], "more_body": True})
    raise ChaosConnectionReset(f"connection reset by chaos after {cut} of {declared} bytes")


class QuietResets(logging.Filter):
    """Drop uvicorn's traceback for a deliberate :class:`ChaosConnectionReset`."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ChaosConnectionReset)


def install(app, chaos: str | ChaosSpec | None) -> ChaosInjector:
    """Set ``app.state.chaos`` and, when any fault is on, add the middleware to a Starlette app."""
    injector = ChaosInjector(chaos)
    app.state.chaos = injector
    if injector.active:
        app.add_middleware(ChaosMiddleware, injector=injector)
    return injector
