"""The shared cache: one Redis (or Valkey) in front of a desk's hypertuis, so an answer of the
current API update is fetched once for all of them, and their tokens are counted together.

No UI code here; the client (client.py) asks it between its local store and the API. Keys, all
under one prefix per API (`source`: its base URL, as the local store tells them apart):

    hypertui:v1:{source}:answer:{endpoint}?{params}@{lastUpdate}   an answer, until nextUpdateThreshold
    hypertui:v1:{source}:status                                    the last state/status, until its nextUpdate
    hypertui:v1:{source}:lock:{answer or status name}              who is fetching it (SET NX PX, 10 s)
    hypertui:v1:{source}:tokens:{YYYY-MM-DD}                       the desk's tokens that UTC day (INCR)

A value is `MAGIC` and the body exactly as the API sent it: read back, it is validated by the
client as an API body is (another desk member's build may be older or broken). A value without
the mark, or larger than `MAX_VALUE`, is not ours: ignored, logged once, and fetched directly.

One fetch per key across the desk: whoever takes the key's lock fetches and publishes; the others
poll for the answer (bounded) and take the lock themselves if it is let go or expires with no
answer (the holder failed or died). The token (API bearer) is never written here, and the URL's
password is never shown: `redacted_url` is what logs and reprs print.

Redis is a help, never a need: unreachable, killed, slow (every round trip is bounded by
`TIMEOUT`), out of memory (`noeviction` refuses writes) or answering oddly, it is marked down
(`down`, the status bar's badge), everything is fetched directly with the local store, and it is
tried again after 1, 2, 5, 10, then every 30 s. Tokens spent meanwhile are added to the desk's
count once it is back.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio
from pydantic import SecretStr
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from hypertui.api.text import one_line

log = logging.getLogger("hypertui.shared")

SCHEMES = ("redis", "rediss")
MAGIC = b"hypertui:v1\n"  # first bytes of every value written here: anything else is not ours
MAX_VALUE = 16 * 2**20  # the biggest answers are a few MB; a larger value is not read past this
TIMEOUT = 0.5  # seconds for a connection or a round trip: a slow Redis must not slow the dashboard
LOCK_MS = 10_000  # a holder that died stops blocking the others after this
WAIT_POLLS = (0.01, 0.02, 0.04, 0.07, 0.1)  # seconds between looks at a key being fetched elsewhere, then the last
TOKENS_EXPIRE = 2 * 86_400  # a day's counter outlives its day by one: anyone's clock may be a little off
RECONNECT_AFTER = (1.0, 2.0, 5.0, 10.0, 30.0)  # seconds, the last repeated while it stays down
# Deletes the lock only if it is still ours: it may have expired and been taken by someone else.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

T = TypeVar("T")


def redacted_url(url: str) -> str:
    """`url` with its password (in the authority or a `password=` parameter) replaced by ***."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            user, _, host = netloc.rpartition("@")
            netloc = f"{user.partition(':')[0]}:***@{host}"
        query = urlencode([(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)])
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:  # not even a URL: nothing of it can be shown safely
        return "(an invalid URL)"


class SharedCache:
    """A desk's Redis, as the client uses it: answers, their locks, and the tokens per day."""

    def __init__(
        self,
        url: str,
        *,
        source: str,
        lock_ms: int = LOCK_MS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`source`: the API these answers come from (keys of different APIs never meet).
        `monotonic`: the clock of the reconnection's backoff (tests move it by hand)."""
        self._url = SecretStr(url)
        self.url = redacted_url(url)
        # No retries of its own: a failure is handled here, once, by marking the cache down.
        self._redis = redis.asyncio.from_url(
            url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT, retry=Retry(NoBackoff(), 0)
        )
        self._prefix = f"hypertui:v1:{source}:"
        self._lock_ms = lock_ms
        self._monotonic = monotonic
        self._failures = 0  # in a row; 0 while it works
        self._retry_at = 0.0
        self.problem: str | None = None  # why it is down, one line (the log has it too)
        self.round_trips = 0
        self.desk_tokens: dict[str, int] = {}  # day -> the desk's count, as last read or incremented
        self._unsent_tokens: dict[str, int] = {}  # day -> tokens spent while it was down
        self._ignored: set[str] = set()  # endpoints whose values were ignored, logged once each

    def __repr__(self) -> str:
        return f"SharedCache({self.url!r})"

    @property
    def down(self) -> bool:
        return self._failures > 0

    async def aclose(self) -> None:
        await self._redis.aclose()

    # --- answers --------------------------------------------------------------------------

    async def through(
        self,
        name: str,
        read: Callable[[bytes], T | None],
        fetch: Callable[[], Awaitable[tuple[T, bytes | None, float]]],
    ) -> T:
        """The answer called `name`: the desk's, if `read` accepts the body held, else fetched here
        (under the key's lock, then published) or by the instance that holds the lock.

        `read(body)`: the answer, or None for a body it refuses. `fetch()`: the answer, its body
        (None: not to be shared) and how many seconds the desk may reuse it.
        """
        body, held = await self._look(name)
        answer = self._accepted(name, body, read)
        waits = 0
        while answer is None:
            lock, body = await self._claim(name) if not self.down else (None, None)
            # Published by a holder that let go between the look and the claim: not fetched again.
            answer = self._accepted(name, body, read)
            if answer is not None:
                if lock is not None:
                    await self._release(name, lock)
                return answer
            if lock is not None or self.down or waits >= self._max_waits:
                return await self._fetch_and_publish(name, fetch, lock)
            # Someone else is fetching it: its answer, or its lock let go (failed, died).
            held = True
            while held and answer is None and waits < self._max_waits:
                await asyncio.sleep(WAIT_POLLS[min(waits, len(WAIT_POLLS) - 1)])
                waits += 1
                body, held = await self._look(name)
                answer = self._accepted(name, body, read)
        return answer

    @property
    def _max_waits(self) -> int:
        """Polls that outlast a lock: past them the holder is not waited for any longer."""
        return len(WAIT_POLLS) + int(self._lock_ms / 1000 / WAIT_POLLS[-1]) + 1

    async def _fetch_and_publish(
        self, name: str, fetch: Callable[[], Awaitable[tuple[T, bytes | None, float]]], lock: str | None
    ) -> T:
        published = False
        try:
            answer, body, seconds = await fetch()
            if lock is not None and body is not None and len(MAGIC) + len(body) <= MAX_VALUE and seconds > 0:
                pipe = self._redis.pipeline(transaction=False)
                pipe.set(self._key(name), MAGIC + body, px=max(1, int(seconds * 1000)))
                pipe.eval(_RELEASE, 1, self._lock_key(name), lock)
                published = await self._run(pipe.execute()) is not None
            return answer
        finally:
            if lock is not None and not published:  # failed: the others need not wait for the lock's expiry
                await self._release(name, lock)

    async def _look(self, name: str) -> tuple[bytes | None, bool]:
        """The value held under `name` (at most MAX_VALUE + 1 bytes of it) and whether its lock is held."""
        if self.down and not self._time_to_retry():
            return None, False
        pipe = self._redis.pipeline(transaction=False)
        pipe.getrange(self._key(name), 0, MAX_VALUE)
        pipe.exists(self._lock_key(name))
        replies = await self._run(pipe.execute())
        if replies is None:
            return None, False
        value, locked = replies
        return value or None, bool(locked)

    def _accepted(self, name: str, value: bytes | None, read: Callable[[bytes], T | None]) -> T | None:
        if value is None:
            return None
        if value.startswith(MAGIC) and len(value) <= MAX_VALUE:
            answer = read(value[len(MAGIC) :])
            if answer is not None:
                return answer
            why = "not a valid answer"
        else:
            why = "too big" if len(value) > MAX_VALUE else "not hypertui's"
        endpoint = name.partition("?")[0].removeprefix("answer:")
        if endpoint not in self._ignored:
            self._ignored.add(endpoint)
            log.warning("shared cache: a value for %s is %s: ignored, fetched directly", one_line(endpoint), why)
        return None

    async def _claim(self, name: str) -> tuple[str | None, bytes | None]:
        """A token for the key's lock if it is ours now (None: someone holds it, or Redis is down),
        and the value held once it is: a holder publishes before it lets go, so a value published
        after our look is seen here, in the same round trip."""
        token = secrets.token_hex(8)
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(self._lock_key(name), token, nx=True, px=self._lock_ms)
        pipe.getrange(self._key(name), 0, MAX_VALUE)
        replies = await self._run(pipe.execute())
        if replies is None:
            return None, None
        taken, value = replies
        return token if taken else None, value or None

    async def _release(self, name: str, lock: str) -> None:
        await self._run(self._redis.eval(_RELEASE, 1, self._lock_key(name), lock))

    # --- tokens ---------------------------------------------------------------------------

    async def spend_token(self, day: str) -> None:
        """One token more on the desk's count of `day` (UTC), with any spent while Redis was down."""
        spent = 1 + self._unsent_tokens.pop(day, 0)
        if not self.down or self._time_to_retry():
            pipe = self._redis.pipeline(transaction=False)
            pipe.incrby(self._tokens_key(day), spent)
            pipe.expire(self._tokens_key(day), TOKENS_EXPIRE)
            replies = await self._run(pipe.execute())
            if replies is not None:
                self.desk_tokens[day] = replies[0]
                return
        self._unsent_tokens[day] = spent
        self.desk_tokens[day] = self.desk_tokens.get(day, 0) + 1

    async def read_desk_tokens(self, day: str) -> int:
        """The desk's tokens of `day`, read again (the last known count while Redis is down)."""
        if not self.down or self._time_to_retry():
            unsent = self._unsent_tokens.get(day, 0)  # added to Redis's count if this read finds it back
            count = await self._run(self._redis.get(self._tokens_key(day)))
            if not self.down:
                self.desk_tokens[day] = (int(count) if count and count.isdigit() else 0) + unsent  # not ours: none
        return self.desk_tokens.get(day, 0)

    # --- plumbing -------------------------------------------------------------------------

    def _key(self, name: str) -> str:
        return self._prefix + name

    def _lock_key(self, name: str) -> str:
        return f"{self._prefix}lock:{name}"

    def _tokens_key(self, day: str) -> str:
        return f"{self._prefix}tokens:{day}"

    def _time_to_retry(self) -> bool:
        return self._monotonic() >= self._retry_at

    async def _run(self, command: Awaitable[Any]) -> Any:
        """`command`'s reply, or None if Redis failed it (then marked down until the next try)."""
        if self.down and not self._time_to_retry():
            if asyncio.iscoroutine(command):
                command.close()
            return None
        self.round_trips += 1
        try:
            reply = await command
        except (RedisError, OSError, TimeoutError) as exc:
            self._failed(exc)
            return None
        if self.down:
            log.warning("shared cache %s is back: answers are shared again", self.url)
            self._failures, self.problem = 0, None
            for day, spent in list(self._unsent_tokens.items()):  # counted while it was down
                if await self._run(self._redis.incrby(self._tokens_key(day), spent)) is not None:
                    self._unsent_tokens.pop(day, None)
        return reply

    def _failed(self, exc: BaseException) -> None:
        wait = RECONNECT_AFTER[min(self._failures, len(RECONNECT_AFTER) - 1)]
        self._failures += 1
        self._retry_at = self._monotonic() + wait
        reason = one_line(str(exc)) or type(exc).__name__
        if self.problem is None:  # once per outage, not at every retry
            log.warning("shared cache %s down (%s): fetching directly, trying again in %g s", self.url, reason, wait)
        self.problem = "shared cache down"
