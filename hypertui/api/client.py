"""The HyperTracker REST client: one async method per endpoint over one httpx.AsyncClient.

No UI code here. Every failure is raised as a typed `ApiError` (see errors.py); nothing else
escapes. Identical requests already in flight are shared instead of sent twice, and with a
snapshot store (store.py) an answer already held for the current API update is not sent at all.
With a shared cache (shared_cache.py) the same holds across a desk: local store, then Redis,
then the API, whose answer is kept in both.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import math
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from threading import Thread
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from hypertui import __version__
from hypertui.api.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    BadResponseError,
    ExportExpiredError,
    NetworkError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TooLargeError,
)
from hypertui.api.models import (
    BiasHistoryPage,
    Heatmap,
    LiquidationRiskPage,
    PositionBreakdown,
    PositionMetricsPage,
    PositionsPage,
    RowTolerant,
    Segment,
    SegmentMetrics,
    SegmentsBias24h,
    SegmentSummary,
    StateStatus,
    iso,
)
from hypertui.api.store import SnapshotStore, normalised_params, update_key
from hypertui.api.text import one_line, sent_name
from hypertui.clock import utc_now

if TYPE_CHECKING:  # imported by whoever builds one: Redis's client is not loaded without a shared cache
    from hypertui.api.shared_cache import SharedCache

log = logging.getLogger("hypertui.api")

DEFAULT_BASE_URL = "https://ht-api.coinmarketman.com/api/external"
CURSOR_PAGE_MAX = 1000
RISK_PAGE_MAX = 500
# A longer Retry-After (10 hours has been seen) is waited this long: the schedule then asks
# again, and `r` asks at once.
MAX_RETRY_AFTER = 15 * 60.0
# The biggest export (a whole cohort's 72 h of bias charts) is a few MB: 64 MB is generous, and
# stops a gzip bomb (800 MB from an 815 KB body) or a runaway file before it takes the memory.
MAX_BODY = 64 * 2**20
_LAST_PARSED_KEEP = 64  # polled answers kept to skip re-parsing an unchanged body
STATUS_PATH = "/hypertracker/state/status"  # never answered from the store: it says which update is current
# How long the desk reuses a state/status read past its nextUpdate (the upstream is late): the
# members checking again meanwhile share one check, and see the update within seconds of it.
STATUS_SHARED_FOR = 5.0
# How long the desk keeps an answer whose update has no nextUpdateThreshold ahead (unknown, or
# the upstream is late): its key names its update, so it is never wrong, only kept.
ANSWER_SHARED_FOR = 15 * 60.0

M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", PositionBreakdown, SegmentMetrics)  # the exports with position-age variants
F = TypeVar("F", Heatmap, PositionMetricsPage)  # the answers to filters the public docs do not list
Params = list[tuple[str, str]]
_SEGMENTS = TypeAdapter(list[Segment])
_REDIRECTS = (301, 302, 303, 307, 308)
_BACKOFF = wait_exponential_jitter(multiplier=0.5, max=8.0, jitter=0.5)


class _BearerAuth(httpx.Auth):
    """Adds the token for the API host only, never for an export's download (S3) host.

    Held here rather than in a headers dict so no stack frame (a traceback with locals) shows it:
    httpx masks the Authorization header in the request's repr.
    """

    def __init__(self, token: str, host: str) -> None:
        self._header = SecretStr(f"Bearer {token}")
        self._host = host

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if request.url.host == self._host:
            request.headers["Authorization"] = self._header.get_secret_value()
        yield request


def _path_segment(value: str) -> str:
    """A server-provided name, as the API sent it, as exactly one path segment: `../x`, `?` or `#`
    cannot steer the URL."""
    segment = quote(sent_name(value), safe=":")
    return segment.replace(".", "%2E") if segment in (".", "..") else segment


def is_safe_to_fetch(url: httpx.URL) -> bool:
    """https, or plain http that stays on this machine: the rule for the base URL and for every
    link it redirects to (a body in plain text could be altered on its way)."""
    return url.scheme == "https" or (url.scheme == "http" and is_loopback(url.host))


def is_loopback(host: str) -> bool:
    """`localhost`, a `*.localhost` name or a loopback address: traffic that stays on this machine."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _age_suffix(position_age: str) -> str:
    return "" if position_age == "all" else f"-{position_age}"


@dataclass
class _Link:
    """An export's download link over the attempts of one request: downloaded again while it is
    valid, since asking the API for a new one costs a request of the quota; None once expired."""

    url: httpx.URL | None = None


class HyperTrackerClient:
    """Async client for the ten cohort endpoints plus `state/status`."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        token: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 20.0,
        deadline: float = 60.0,
        retries: int = 3,
        max_retry_after: float = 10.0,
        max_body: int = MAX_BODY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        store: SnapshotStore | None = None,
        daily_tokens: int | None = None,
        clock: Callable[[], datetime] = utc_now,
        shared: SharedCache | None = None,
    ) -> None:
        """`store`: answers are kept there and served from it within an update (None: tokens are
        counted in memory, answers not kept). `daily_tokens`: the plan's daily limit, if known.
        `shared`: the desk's cache, asked after the store and before the API (closed with this)."""
        self.base_url = base_url.rstrip("/")
        base = httpx.URL(self.base_url)
        self._api_host, self._api_scheme = base.host, base.scheme
        self._auth = _BearerAuth(token, self._api_host) if token else None
        settings = {
            "transport": transport,
            "timeout": httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            "headers": {"User-Agent": f"hypertui/{__version__}", "Accept": "application/json"},
            "follow_redirects": False,  # exports are followed by hand, without the token
        }
        self._http_built: Future[httpx.AsyncClient] = Future()
        if transport is None:
            # A network client loads httpcore and the system's CA certificates (~0.1 s): built
            # beside the UI's start-up instead of before it; the first request waits if need be.
            Thread(target=self._build_http, args=(settings,), name="hypertui-http", daemon=True).start()
        else:
            self._build_http(settings)
        # `timeout` is per network read: a body dripped a byte at a time never trips it.
        self._deadline = deadline
        self._retries = retries
        self._max_retry_after = max_retry_after
        self._max_body = max_body
        self._sleep = sleep
        self._inflight: dict[tuple[str, tuple[tuple[str, str], ...]], asyncio.Future[Any]] = {}
        self._last_parsed: dict[Any, tuple[bytes, Any]] = {}  # request -> (body, model), newest last
        self._parsed_under: dict[Any, str] = {}  # request -> the update (lastUpdate) its last parse is of
        self.requests_made = 0
        self.rows_dropped = 0  # rows of answers dropped as bad (models.RowTolerant), for the status line
        self._missing_exports: set[str] = set()  # age variants that answered 404, e.g. "segment-metrics-7d"
        self._filter_applied: dict[str, bool] = {}  # undocumented filter -> whether the server applies it
        self.store = store if store is not None else SnapshotStore()
        self._keeps_answers = store is not None
        self._clock = clock
        self.daily_limit = daily_tokens  # else learned from a daily 429's body
        self.status: StateStatus | None = None  # the last state/status read: its lastUpdate is the current update
        self._status_failed = False  # the store's first look-up asked state/status, and it failed
        self.shared = shared

    def _build_http(self, settings: dict[str, Any]) -> None:
        try:
            self._http_built.set_result(httpx.AsyncClient(**settings))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for the client
            self._http_built.set_exception(exc)

    @property
    def _http(self) -> httpx.AsyncClient:
        return self._http_built.result()

    def __repr__(self) -> str:  # never show the token
        return f"HyperTrackerClient({self.base_url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()
        self.store.close()
        if self.shared is not None:
            await self.shared.aclose()

    async def __aenter__(self) -> HyperTrackerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- endpoints -------------------------------------------------------------------------

    async def segments(self) -> list[Segment]:
        """`GET /segments`: the cohort legend (a bare JSON array)."""
        return await self._get("/segments", [], _SEGMENTS)

    async def summary(self, segment_id: int, position_age: str = "all") -> SegmentSummary:
        """`GET /segments/{id}/summary` (redirect to an export file)."""
        params = [] if position_age == "all" else [("positionAge", position_age)]
        return await self._get(f"/segments/{segment_id}/summary", params, SegmentSummary, export=True)

    async def positions(
        self,
        *,
        start: datetime | str,
        end: datetime | str | None = None,
        coin: str | None = None,
        segment_id: int | None = None,
        addresses: Iterable[str] = (),
        open: bool | None = None,
        limit: int = CURSOR_PAGE_MAX,
        next_cursor: str | None = None,
    ) -> PositionsPage:
        """`GET /positions`: one page, ordered by openTime ascending."""
        params: Params = [("start", iso(start))]
        if end is not None:
            params.append(("end", iso(end)))
        if coin:
            params.append(("coin", sent_name(coin)))
        if segment_id is not None:
            params.append(("segmentId", str(segment_id)))
        params += [("address", a) for a in addresses]
        if open is not None:
            params.append(("open", "true" if open else "false"))
        params.append(("limit", str(limit)))
        if next_cursor:
            params.append(("nextCursor", next_cursor))
        return await self._get("/positions", params, PositionsPage, paged=True)

    def iter_positions(self, *, page_size: int = CURSOR_PAGE_MAX, **filters: Any) -> AsyncIterator[PositionsPage]:
        """Pages of `/positions` until the cursor runs out; fetches one page per step."""

        async def fetch(cursor: str | None) -> tuple[PositionsPage, tuple[Any, ...], str | None]:
            page = await self.positions(limit=page_size, next_cursor=cursor, **filters)
            return page, tuple(p.id for p in page.positions), page.next_cursor

        return self._cursor_pages("/positions", fetch)

    async def bias_history(
        self,
        segment_id: int,
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        limit: int | None = None,
        next_cursor: str | None = None,
        recency: str = "all",
    ) -> BiasHistoryPage:
        """`GET /segments/{id}/bias-history`: snapshots newest first."""
        params: Params = []
        if start is not None:
            params.append(("start", iso(start)))
        if end is not None:
            params.append(("end", iso(end)))
        if limit is not None:
            params.append(("limit", str(limit)))
        if next_cursor:
            params.append(("nextCursor", next_cursor))
        if recency != "all":
            params.append(("positionRecencyTimeframe", recency))
        return await self._get(f"/segments/{segment_id}/bias-history", params, BiasHistoryPage, paged=True)

    def iter_bias_history(
        self, segment_id: int, *, start: datetime | str, page_size: int = CURSOR_PAGE_MAX, **kw: Any
    ) -> AsyncIterator[BiasHistoryPage]:
        async def fetch(cursor: str | None) -> tuple[BiasHistoryPage, tuple[Any, ...], str | None]:
            page = await self.bias_history(segment_id, start=start, limit=page_size, next_cursor=cursor, **kw)
            return page, tuple(s.timestamp for s in page.snapshots), page.next_cursor

        return self._cursor_pages(f"/segments/{segment_id}/bias-history", fetch)

    async def position_breakdown(self, coin: str, position_age: str = "all") -> PositionBreakdown:
        """`GET /exports/coins/{coin}/position-breakdown-by-cohort[-24h|-7d|-30d]` (redirect)."""
        return await self._coin_export(coin, "position-breakdown-by-cohort", position_age, PositionBreakdown)

    async def segment_metrics(self, coin: str, position_age: str = "all") -> SegmentMetrics:
        """`GET /exports/coins/{coin}/segment-metrics[-24h|-7d|-30d]` (redirect)."""
        return await self._coin_export(coin, "segment-metrics", position_age, SegmentMetrics)

    async def _coin_export(self, coin: str, name: str, position_age: str, model: type[E]) -> E:
        """A per-coin export's position-age variant; where the server has none (404: the variants
        are in the contract, not the public docs), the export itself marked `unfiltered`."""
        folder = f"/exports/coins/{_path_segment(coin)}/"
        variant = name + _age_suffix(position_age)
        if variant not in self._missing_exports:
            try:
                return await self._get(folder + variant, [], model, export=True)
            except NotFoundError:
                if variant == name:
                    raise
        answer = await self._get(folder + name, [], model, export=True)  # an unknown coin: 404 here too
        if variant not in self._missing_exports:  # remembered: from now on the export alone is asked for
            self._missing_exports.add(variant)
            log.warning("%s is not on this server: %s is shown for every position", variant, name)
        return answer.model_copy(update={"unfiltered": True})

    async def position_metrics(
        self,
        coin: str,
        segment_id: int,
        *,
        start: datetime | str,
        end: datetime | str | None = None,
        limit: int = CURSOR_PAGE_MAX,
        next_cursor: str | None = None,
        recency: str = "all",
    ) -> PositionMetricsPage:
        """`GET /position-metrics/coin/{coin}/segment/{id}`: rows newest first."""
        params: Params = [("start", iso(start))]
        if end is not None:
            params.append(("end", iso(end)))
        params.append(("limit", str(limit)))
        if next_cursor:
            params.append(("nextCursor", next_cursor))
        path = f"/position-metrics/coin/{_path_segment(coin)}/segment/{segment_id}"
        if recency == "all":
            return await self._get(path, params, PositionMetricsPage, paged=True)
        return await self._checked_filter(
            "positionRecencyTimeframe",
            lambda: self._get(path, [*params, ("positionRecencyTimeframe", recency)], PositionMetricsPage, paged=True),
            lambda: self._get(path, params, PositionMetricsPage, paged=True),
            lambda page: page.metrics,
        )

    def iter_position_metrics(
        self, coin: str, segment_id: int, *, start: datetime | str, page_size: int = CURSOR_PAGE_MAX, **kw: Any
    ) -> AsyncIterator[PositionMetricsPage]:
        async def fetch(cursor: str | None) -> tuple[PositionMetricsPage, tuple[Any, ...], str | None]:
            page = await self.position_metrics(
                coin, segment_id, start=start, limit=page_size, next_cursor=cursor, **kw
            )
            return page, tuple(m.created_at for m in page.metrics), page.next_cursor

        return self._cursor_pages(f"/position-metrics/coin/{_path_segment(coin)}/segment/{segment_id}", fetch)

    async def heatmap(self, opened_within: str = "all") -> Heatmap:
        """`GET /positions/heatmap`: every coin with per-cohort totals."""
        if opened_within == "all":
            return await self._get("/positions/heatmap", [], Heatmap)
        return await self._checked_filter(
            "openedWithin",
            lambda: self._get("/positions/heatmap", [("openedWithin", opened_within)], Heatmap),
            lambda: self._get("/positions/heatmap", [], Heatmap),
            lambda heatmap: heatmap.heatmap,
        )

    async def _checked_filter(
        self,
        param: str,
        filtered: Callable[[], Awaitable[F]],
        unfiltered: Callable[[], Awaitable[F]],
        rows: Callable[[F], list[Any]],
    ) -> F:
        """The answer to a filter the public docs do not list (the contract does): a server may
        ignore it and send every position's data, which must not be labelled as filtered.

        The first filtered answer with rows is compared with the unfiltered one, asked alongside
        (one request more, once): the same rows mean the filter was ignored, and from then on
        the unfiltered answer is asked for instead, marked `unfiltered`.
        """
        applied = self._filter_applied.get(param)
        if applied:
            return await filtered()
        if applied is False:
            everything = await unfiltered()
        else:
            answer, everything = await asyncio.gather(filtered(), unfiltered())
            if rows(answer) != rows(everything):
                self._filter_applied[param] = True
                return answer
            if not rows(answer):  # empty both ways: nothing to tell by yet
                return answer
            self._filter_applied[param] = False
            log.warning("%s is ignored by this server: its answers are shown for every position", param)
        return everything.model_copy(update={"unfiltered": True})

    async def liquidation_risk(self, segment_id: int, *, offset: int = 0, limit: int = 100) -> LiquidationRiskPage:
        """`GET /{id}/assets/liquidation-risk` (no `segments/` prefix), offset paging."""
        params = [("offset", str(offset)), ("limit", str(limit))]
        return await self._get(f"/{segment_id}/assets/liquidation-risk", params, LiquidationRiskPage)

    async def iter_liquidation_risk(
        self, segment_id: int, *, page_size: int = RISK_PAGE_MAX
    ) -> AsyncIterator[LiquidationRiskPage]:
        offset = 0
        while True:
            page = await self.liquidation_risk(segment_id, offset=offset, limit=page_size)
            if not page.items:
                return
            yield page
            offset += len(page.items)
            if offset >= page.total_count:
                return

    async def segments_bias_24h(self) -> SegmentsBias24h:
        """`GET /exports/segments-bias-charts-data-24h` (redirect): every cohort, ~72 h."""
        return await self._get("/exports/segments-bias-charts-data-24h", [], SegmentsBias24h, export=True)

    async def state_status(self) -> StateStatus:
        """`GET /hypertracker/state/status`: when the data last changed and will next."""
        self.status = await self._get(STATUS_PATH, [], StateStatus)
        if self.shared is not None:  # once per check: the desk's count stays as fresh as the data
            await self.shared.read_desk_tokens(self._today)
        return self.status

    @property
    def tokens_today(self) -> dict[str, int]:
        """Tokens (authenticated API requests) spent today, UTC, by endpoint: by every process
        sharing the store."""
        return self.store.tokens(self._today)

    @property
    def desk_tokens(self) -> int | None:
        """Tokens spent today by the whole desk (every hypertui on the shared cache); None without one."""
        return None if self.shared is None else self.shared.desk_tokens.get(self._today, 0)

    @property
    def tokens_spent_today(self) -> int:
        """What the daily budget plans against: the desk's count with a shared cache (never less
        than this machine's), else this machine's."""
        return max(sum(self.tokens_today.values()), self.desk_tokens or 0)

    @property
    def shared_cache_down(self) -> bool:
        """A shared cache is set but not answering: everything is fetched directly meanwhile."""
        return self.shared is not None and self.shared.down

    @property
    def _today(self) -> str:
        return self._clock().date().isoformat()

    # --- plumbing --------------------------------------------------------------------------

    async def _cursor_pages(self, endpoint: str, fetch: Any) -> AsyncIterator[Any]:
        """Send `nextCursor` back until it is null or a page comes back empty.

        `fetch(cursor)` returns (page, its items' keys, next cursor). A server whose cursors go
        round (A → B → A), or change while the same items come back, would be followed for ever:
        a cursor already sent, or a page whose keys were already read, ends the paging with an
        error before that page is handed on. Only one hash per page is kept, not every item.
        """
        cursor: str | None = None
        sent: set[str | None] = set()
        pages_read: set[int] = set()
        while True:
            sent.add(cursor)
            page, keys, next_cursor = await fetch(cursor)
            if not keys:
                return
            fingerprint = hash(keys)
            if fingerprint in pages_read:
                raise BadResponseError(endpoint, "nextCursor", "led back to a page already read (a cursor loop)")
            pages_read.add(fingerprint)
            yield page
            if not next_cursor:
                return
            if next_cursor in sent:
                raise BadResponseError(endpoint, "nextCursor", "repeats a cursor already sent (a cursor loop)")
            cursor = next_cursor

    async def _get(self, path: str, params: Params, model: Any, *, export: bool = False, paged: bool = False) -> Any:
        """GET and validate, sharing an identical request already in flight.

        A polled (not `paged`) answer whose body is byte-for-byte the last one is not parsed
        again: the same object comes back, so callers can tell "unchanged" by identity.
        """
        key = (path, tuple(params))
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            tolerant = RowTolerant(model, partial(self._rows_dropped, path))
            result = None if paged else await self._stored(key, tolerant)
            if result is None:
                fetch = partial(self._fetch, path, params, tolerant, export, None if paged else key)
                result = await (fetch() if paged else self._shared_or_fetched(key, tolerant, fetch))
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc)
                future.exception()  # mark retrieved: waiters, if any, get it themselves
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[key]

    async def _stored(self, key: tuple[str, tuple[tuple[str, str], ...]], model: Any) -> Any:
        """The answer held for the current update, validated as a fresh one is; None if none.

        The current update is the `lastUpdate` of the last state/status read; with none read
        yet, it is asked for first (one request, which every panel shares), so that a restart
        within an update costs only that check.
        """
        path, params = key
        if not self._keeps_answers or path == STATUS_PATH:
            return None
        update = await self._update_known()
        if not update:
            return None
        held = self._last_parsed.get(key)
        if held is not None and self._parsed_under.get(key) == update:  # parsed here for this update already
            return held[1]
        body = self.store.answer(path, normalised_params(params), update)
        if body is None:
            return None
        try:
            answer = self._parsed(path, body, model, key)
        except BadResponseError:  # kept by a version that validated differently: asked again
            return None
        self._parsed_under[key] = update
        return answer

    async def _update_known(self) -> str:
        """The current update (`_current_update`), state/status asked first if none was read yet."""
        if self.status is None and not self._status_failed:
            try:
                await self.state_status()
            except ApiError:  # a server without it (404), or down: ask as if there were no store
                self._status_failed = True
        return self._current_update

    async def _shared_or_fetched(
        self, key: tuple[str, tuple[tuple[str, str], ...]], model: Any, fetch: Callable[[], Awaitable[Any]]
    ) -> Any:
        """An answer not held here: the desk's from the shared cache, validated as the API's is
        and kept in the store; else `fetch()`ed, here or by the desk member holding its lock."""
        path, params = key
        if self.shared is None:
            return await fetch()
        if path == STATUS_PATH:
            name = "status"
        elif update := await self._update_known():
            name = f"answer:{path}?{normalised_params(params)}@{update}"
        else:  # no update known to key it by: nothing to share
            return await fetch()

        def read(body: bytes) -> Any:
            try:
                answer = self._parsed(path, body, model, key)
            except BadResponseError:  # another member's build, older or broken: logged by the cache
                return None
            self._keep(key, body, answer)
            return answer

        async def fetched() -> tuple[Any, bytes | None, float]:
            answer = await fetch()
            held = self._last_parsed.get(key)  # the body it was parsed from, just put there
            body = held[0] if held is not None and held[1] is answer else None
            return answer, body, self._shared_for(path, answer)

        return await self.shared.through(name, read, fetched)

    def _shared_for(self, path: str, answer: Any) -> float:
        """Seconds the desk may reuse `answer`: a status until its nextUpdate (nothing changes
        before it: one check per update for the desk, whatever each one's refresh interval) or
        STATUS_SHARED_FOR once past it; anything else until its update's nextUpdateThreshold."""
        now = self._clock()
        if path == STATUS_PATH:
            until = (answer.next_update - now).total_seconds() if answer.next_update else 0.0
            return until if until > 0 else STATUS_SHARED_FOR
        threshold = self.status.next_update_threshold if self.status is not None else None
        until = (threshold - now).total_seconds() if threshold is not None else 0.0
        return until if until > 0 else ANSWER_SHARED_FOR

    async def _fetch(self, path: str, params: Params, model: Any, export: bool, reuse_key: Any) -> Any:
        """One GET, retried with capped exponential backoff and jitter when the fault is transient,
        all of it within `deadline` seconds."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retries + 1),
            retry=retry_if_exception(self._is_transient),
            wait=self._retry_wait,
            sleep=self._sleep,
            reraise=True,
        )
        link = _Link() if export else None
        try:
            try:
                async with asyncio.timeout(self._deadline):
                    async for attempt in retrying:
                        with attempt:
                            return await self._fetch_once(path, params, model, reuse_key, link)
            except TimeoutError:
                raise NetworkError(path, f"no complete answer within {self._deadline:g}s") from None
        except ApiError as exc:
            # The log names endpoint and field; the token is never part of an error message.
            log.warning("%s failed after %d attempt(s): %s", path, retrying.statistics.get("attempt_number", 1), exc)
            raise
        raise AssertionError("unreachable: tenacity reraises the last error")

    def _rows_dropped(self, endpoint: str, count: int, first: ErrorDetails) -> None:
        self.rows_dropped += count
        field = ".".join(str(p) for p in first["loc"])
        reason = one_line(first["msg"].lower())
        log.warning("%s: %d bad row(s) dropped, the rest kept (first: %s %s)", endpoint, count, field, reason)

    def _is_transient(self, exc: BaseException) -> bool:
        # A daily quota will not come back within a refresh; a long per-minute wait is left
        # to the caller's schedule rather than holding this request open.
        if isinstance(exc, RateLimitError):
            return not exc.daily and exc.retry_after is not None and exc.retry_after <= self._max_retry_after
        # An expired export link is fixed by asking for a fresh one (see _Link).
        return isinstance(exc, (NetworkError, ServerError, ExportExpiredError))

    def _retry_wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitError) and exc.retry_after is not None:
            return exc.retry_after
        return _BACKOFF(state)

    async def _fetch_once(self, path: str, params: Params, model: Any, reuse_key: Any, link: _Link | None) -> Any:
        """One attempt; `link` (an export's) carries the download link over to the next attempt."""
        endpoint = path
        if link is None or link.url is None:
            response, body = await self._send(endpoint, httpx.URL(self.base_url + path), params)
            if link is None or response.status_code not in _REDIRECTS:
                return self._result(endpoint, response, body, model, reuse_key, download=False)
            link.url = self._download_link(endpoint, response)
        response, body = await self._send(endpoint, link.url, [], download=True)
        try:
            return self._result(endpoint, response, body, model, reuse_key, download=True)
        except ExportExpiredError:
            link.url = None  # the next attempt asks for a new one
            raise

    def _download_link(self, endpoint: str, redirect: httpx.Response) -> httpx.URL:
        location = redirect.headers.get("location")
        if not location:
            raise BadResponseError(endpoint, "Location", "missing from the redirect")
        link = redirect.url.join(location)
        if not self._may_download_from(link):
            target = one_line(f"{link.scheme}://{link.host}")
            raise BadResponseError(endpoint, "Location", f"is {target}: refused, https only (http to this machine)")
        return link

    def _result(
        self, endpoint: str, response: httpx.Response, body: bytes, model: Any, reuse_key: Any, *, download: bool
    ) -> Any:
        """The answer as `model`, or its status as a typed error; an unchanged polled body is not parsed again."""
        if response.status_code != 200:
            self._raise_for_status(endpoint, response, body, download=download)
        if reuse_key is None:
            return parse_answer(endpoint, body, model)
        answer = self._parsed(endpoint, body, model, reuse_key)
        self._keep(reuse_key, body, answer)
        return answer

    def _parsed(self, endpoint: str, body: bytes, model: Any, reuse_key: Any) -> Any:
        """`body` as `model`; the same object as last time for the same body under `reuse_key`."""
        last = self._last_parsed.pop(reuse_key, None)
        if last is None or last[0] != body:
            last = (body, parse_answer(endpoint, body, model))
        self._last_parsed[reuse_key] = last  # re-inserted: the oldest key is dropped first
        if len(self._last_parsed) > _LAST_PARSED_KEEP:
            oldest = next(iter(self._last_parsed))
            del self._last_parsed[oldest]
            self._parsed_under.pop(oldest, None)
        return last[1]

    def _may_download_from(self, link: httpx.URL) -> bool:
        """The base URL's rule, applied to an export's link before anything is sent to it: https,
        or plain http to a loopback host (a file in plain text could be altered on its way).

        Behind a plain-http base URL, which only a loopback server or the in-process simulator
        has (the settings refuse any other), the base's own host and its subdomains are allowed
        too: the simulator's links point at `downloads.<its host>`.
        """
        if is_safe_to_fetch(link):
            return True
        host = self._api_host
        return link.scheme == "http" == self._api_scheme and (link.host == host or link.host.endswith("." + host))

    def _keep(self, key: tuple[str, tuple[tuple[str, str], ...]], body: bytes, answer: Any) -> None:
        """Into the store under the current update ('' while none is known): the recording. A
        status names its own update: kept under it, not under the one it replaces."""
        if not self._keeps_answers:
            return
        path, params = key
        update = update_key(answer.last_update) if path == STATUS_PATH else self._current_update
        self.store.keep(path, normalised_params(params), update, self._clock(), body)
        if update:
            self._parsed_under[key] = update

    @property
    def _current_update(self) -> str:
        """The `lastUpdate` of the last state/status read, as the store keys it ('' while none is)."""
        return update_key(self.status.last_update if self.status is not None else None)

    async def _send(
        self, endpoint: str, url: httpx.URL, params: Params, *, download: bool = False
    ) -> tuple[httpx.Response, bytes]:
        """The answer's head and its body, read as it streams in and cut off past `max_body`."""
        self.requests_made += 1
        # Pass no params at all for a download: even [] would drop the link's signed query.
        request = self._http.build_request("GET", url, params=tuple(params) if params else None)
        try:
            response = await self._http.send(request, auth=None if download else self._auth, stream=True)
            # The API's token count: a download from the export's host costs none, nor does a
            # request the rate limit refused (a daily 429's `current` does not grow) or one whose
            # token was rejected (401: no account to charge).
            if not download and response.status_code not in (401, 429):
                self.store.spend_token(self._today, endpoint)
                if self.shared is not None:
                    await self.shared.spend_token(self._today)
            try:
                return response, await self._read_body(endpoint, response)
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            raise NetworkError(endpoint, "timed out") from None
        except httpx.TransportError as exc:
            raise NetworkError(endpoint, _transport_reason(exc)) from None

    async def _read_body(self, endpoint: str, response: httpx.Response) -> bytes:
        """Both the bytes sent and the bytes they unpack to are held to `max_body`."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_body:
            raise TooLargeError(endpoint, self._max_body)
        encoding = response.headers.get("content-encoding", "").strip().lower()
        # gzip and deflate are unpacked here, never further than the limit: httpx unpacks each
        # piece read from the socket whole (64 KB of a gzip bomb is ~64 MB at once).
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32) if encoding in ("gzip", "x-gzip", "deflate") else None
        pieces = response.aiter_raw() if inflater else response.aiter_bytes()
        body = bytearray()
        try:
            async for piece in pieces:
                while piece:
                    room = self._max_body + 1 - len(body)
                    body += inflater.decompress(piece, room) if inflater else piece
                    piece = inflater.unconsumed_tail if inflater else b""
                    if len(body) > self._max_body or response.num_bytes_downloaded > self._max_body:
                        raise TooLargeError(endpoint, self._max_body)
            if inflater:
                body += inflater.flush()  # all its input was taken: what is left is a few bytes at most
        except (httpx.DecodingError, zlib.error):
            shown = one_line(encoding) or "its encoding"
            raise BadResponseError(endpoint, "(body)", f"cannot be unpacked ({shown})") from None
        return bytes(body)

    def _raise_for_status(self, endpoint: str, response: httpx.Response, content: bytes, *, download: bool) -> None:
        status = response.status_code
        body = _json_or_none(content)
        is_xml = "xml" in response.headers.get("content-type", "") or content.lstrip().startswith(b"<")
        if download and is_xml and status == 403:
            raise ExportExpiredError(endpoint, "export link expired before download; try again")
        if download and status in (401, 403):  # no token is sent to the file's host
            raise ApiError(endpoint, f"the export file's host refused the download ({status})")
        if status == 400:
            raise BadRequestError(endpoint, _validation_messages(body, content.decode("utf-8", "replace")))
        if status in (401, 403):
            raise AuthError(endpoint, f"token rejected ({status}): check the API token")
        if status == 404:
            message = body.get("message") if isinstance(body, dict) else None
            if not isinstance(message, str):
                message = "export file not found" if is_xml else "not found"
            raise NotFoundError(endpoint, one_line(message))
        if status == 429:
            error = _rate_limit_error(endpoint, response, body)
            if error.daily and error.limit and self.daily_limit is None:
                self.daily_limit = error.limit  # the config's, if set, is the user's word
            raise error
        if status >= 500:
            raise ServerError(endpoint, status)
        raise ApiError(endpoint, f"unexpected HTTP {status}")


def parse_answer(endpoint: str, content: bytes, model: RowTolerant) -> Any:
    """`content` as `model`, or a BadResponseError naming the field: a fresh answer's path and a
    recorded one's (hypertui.api.recording) alike."""
    try:
        return model.model_validate_json(content)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        if err["type"] == "json_invalid":
            raise BadResponseError(endpoint, "(body)", "is not valid JSON") from None
        field = ".".join(str(p) for p in err["loc"]) or "(body)"
        raise BadResponseError(endpoint, field, one_line(err["msg"].lower())) from None


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def _validation_messages(body: Any, text: str) -> list[str]:
    """Flatten `{"errors":[{"property":..., "errors":[...]}]}` into readable lines."""
    out: list[str] = []
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        for item in body["errors"]:
            if isinstance(item, dict):
                for msg in item.get("errors") or []:
                    out.append(one_line(str(msg)))
    elif isinstance(body, dict) and body.get("message"):
        out.append(one_line(str(body["message"])))
    elif text:
        out.append(one_line(text))
    return out


def _rate_limit_error(endpoint: str, response: httpx.Response, body: Any) -> RateLimitError:
    body = body if isinstance(body, dict) else {}
    asked = next(
        (s for s in (_retry_after_seconds(response), _seconds(body.get("retry_after"))) if s is not None), None
    )
    retry_after = None if asked is None else min(max(asked, 0.0), MAX_RETRY_AFTER)
    # The daily-quota body is {"limit","current","plan"}; per-minute is {"error","retry_after"}.
    daily = "plan" in body or ("current" in body and "retry_after" not in body)
    limit = body.get("limit") if isinstance(body.get("limit"), int) else None
    plan = body.get("plan") if isinstance(body.get("plan"), str) else None
    return RateLimitError(
        endpoint,
        daily=daily,
        retry_after=retry_after,
        limit=limit,
        plan=plan and one_line(plan),
        asked=asked if asked is not None and MAX_RETRY_AFTER < asked < math.inf else None,
    )


def _retry_after_seconds(response: httpx.Response) -> float | None:
    """The `Retry-After` header in seconds: a number, or an HTTP-date counted from the answer's
    own `Date` (the server's clock, not ours) or else from now."""
    value = response.headers.get("retry-after", "").strip()
    seconds = _seconds(value)
    if seconds is not None or not value:
        return seconds
    try:
        when = parsedate_to_datetime(value)
        sent = parsedate_to_datetime(response.headers["date"]) if "date" in response.headers else datetime.now(UTC)
        return (when - sent).total_seconds()
    except (TypeError, ValueError):  # not a date either (or a naive one): unknown
        return None


def _seconds(value: Any) -> float | None:
    """Seconds from a JSON number or a numeric string; None for anything else, NaN included
    (an infinite wait is kept: the cap makes it finite)."""
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(seconds) else seconds


def _transport_reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect: " + (one_line(str(exc)) or "connection failed")
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection dropped: " + (one_line(str(exc)) or "protocol error")
    return "network error: " + (one_line(str(exc)) or type(exc).__name__)
