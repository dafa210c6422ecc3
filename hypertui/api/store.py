"""The snapshot store: every API answer kept with the update (`lastUpdate`) it belongs to, and
the tokens spent per UTC day.

No UI code here. One SQLite file (stdlib `sqlite3`, WAL mode, so a second hypertui and
`hypertui dump` read it while the dashboard writes), or a database in memory (`--no-store`).
An answer is keyed by where it came from (the API or a simulator), its endpoint path, its query
parameters in a fixed order, and the `lastUpdate` it was fetched under: kept per update, the
same rows are a recording of what the API said at each one.

A store that cannot be used (corrupt, locked, unwritable, a full disk) never stops hypertui:
its contents go on in memory for this session, `problem` says why in one line, and a corrupt
file is moved aside under a name that says so, never deleted. In memory (the embedded
simulator's, `--no-store`) only the last MEMORY_UPDATES updates of each request are kept: this
session's recent past to replay, bounded, and nothing outlives the process.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import zlib
from collections.abc import Generator, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from hypertui.files import make_private_dirs

log = logging.getLogger("hypertui.store")

STORE_FILE = "store.sqlite3"
# 2: the recording read by update (an index on source and lastUpdate) and `meta` (when the
# store was last pruned); a file of version 1 gains them and keeps its rows.
_SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    source TEXT NOT NULL,       -- the API's base URL, or the simulator with its seed and scale
    endpoint TEXT NOT NULL,     -- the API path, e.g. /segments/9/summary
    params TEXT NOT NULL,       -- the query parameters, sorted and URL-encoded
    last_update TEXT NOT NULL,  -- state/status lastUpdate (ISO 8601) when fetched; '' unknown
    fetched_at TEXT NOT NULL,   -- when this answer arrived (ISO 8601, UTC)
    body BLOB NOT NULL,         -- the answer as the API sent it, zlib-compressed
    PRIMARY KEY (source, endpoint, params, last_update)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens (
    source TEXT NOT NULL,
    day TEXT NOT NULL,          -- the UTC day, YYYY-MM-DD
    endpoint TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (source, day, endpoint)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS answers_by_update ON answers (source, last_update);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"""
# A lock held by another program is waited for this long (seconds), then the store is given up:
# lookups run on the UI's thread.
_BUSY_TIMEOUT = 0.5
# The updates of each request a store in memory keeps: a heatmap is ~100 KB packed, so ~2 MB of
# them, the last 5 minutes of the simulator's 15 s updates, hours of the API's.
MEMORY_UPDATES = 20


def default_path() -> Path:
    """Where the store lives unless the settings say otherwise: the user data dir."""
    import platformdirs

    return platformdirs.user_data_path("hypertui") / STORE_FILE


def update_key(last_update: datetime | None) -> str:
    """An API update (`lastUpdate`), or any time, as answers are keyed by it: ISO 8601 in UTC,
    so that keys sort as times do; '' for none known."""
    if last_update is None:
        return ""
    return (last_update if last_update.tzinfo else last_update.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def normalised_params(params: Iterable[tuple[str, str]]) -> str:
    """The query parameters as one key: the same set in any order is the same answer."""
    return urlencode(sorted(params))


class NewerStoreError(Exception):
    """The file was written by a newer hypertui, whose schema this one does not know."""


class SnapshotStore:
    """Answers per (source, endpoint, params, lastUpdate) and tokens per (source, day, endpoint)."""

    def __init__(self, path: Path | None = None, *, source: str = "") -> None:
        """`path` None: in memory (nothing outlives the process)."""
        self.path = path
        self.source = source
        self.problem: str | None = None  # why the file is not in use, one line
        self._in_memory = False
        self._db = self._open_file(path) if path is not None else self._open_memory()

    # --- opening --------------------------------------------------------------------------

    def _open_file(self, path: Path) -> sqlite3.Connection:
        try:
            make_private_dirs(path.parent)
            return self._connect(path)
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                return self._without_file(_reason(exc))
        except OSError as exc:
            return self._without_file(_reason(exc))
        except NewerStoreError as exc:  # its rows are left as they are for the version that wrote them
            return self._without_file(str(exc))
        aside = path.with_name(f"{path.name}.corrupt-{datetime.now().strftime('%Y%m%dT%H%M%S')}")
        try:
            path.rename(aside)
            for suffix in ("-wal", "-shm"):  # they belong to the file moved aside
                journal = path.with_name(path.name + suffix)
                if journal.exists():
                    journal.rename(aside.with_name(aside.name + suffix))
            db = self._connect(path)
        except (OSError, sqlite3.Error) as exc:
            return self._without_file(f"corrupt, and cannot be moved aside ({_reason(exc)})")
        self._warn(f"was corrupt: moved aside to {aside.name}, a new one started")
        return db

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)  # what was asked and when says what was watched (see hypertui.files)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; a power cut may lose the last answers
            _create_schema(db)
        except BaseException:
            db.close()
            raise
        return db

    def _open_memory(self) -> sqlite3.Connection:
        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        _create_schema(db)
        self._in_memory = True
        return db

    def _without_file(self, reason: str) -> sqlite3.Connection:
        self._warn(reason + ", kept in memory this session")
        return self._open_memory()

    def _warn(self, problem: str) -> None:
        self.problem = f"store: {problem}"
        log.warning("%s (%s)", self.problem, self.path)

    def _give_up(self, exc: sqlite3.Error) -> None:
        """The file failed in use (a full disk, a lock held too long): what it holds goes on in memory."""
        memory = self._open_memory()
        with contextlib.suppress(sqlite3.Error):  # unreadable too: start empty
            self._db.backup(memory)
        self._db.close()
        self._db = memory
        self._warn(f"{_reason(exc)}; kept in memory from now on")

    # --- answers --------------------------------------------------------------------------

    def answer(self, endpoint: str, params: str, last_update: str) -> bytes | None:
        """The body held for this request at this update, or None."""
        rows = self._execute(
            "SELECT body FROM answers WHERE source=? AND endpoint=? AND params=? AND last_update=?",
            (self.source, endpoint, params, last_update),
        )
        return _unpacked(rows[0][0]) if rows else None  # a damaged row: asked for again, and replaced

    def keep(self, endpoint: str, params: str, last_update: str, fetched_at: datetime, body: bytes) -> None:
        self._execute(
            "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?)",
            (self.source, endpoint, params, last_update, fetched_at.isoformat(), zlib.compress(body)),
        )
        if self._in_memory:
            request = (self.source, endpoint, params)
            self._execute(
                "DELETE FROM answers WHERE source=? AND endpoint=? AND params=? AND last_update NOT IN "
                "(SELECT last_update FROM answers WHERE source=? AND endpoint=? AND params=? "
                "ORDER BY last_update DESC LIMIT ?)",
                (*request, *request, MEMORY_UPDATES),
            )

    # --- the recording ------------------------------------------------------------------------

    def recorded(self) -> list[tuple[str, str]]:
        """(lastUpdate, endpoint) of each answer held under a known update, newest update first:
        read from the index alone, never a body."""
        return self._execute(
            "SELECT last_update, endpoint FROM answers WHERE source=? AND last_update!='' ORDER BY last_update DESC",
            (self.source,),
        )

    def held_at(self, last_update: str) -> int:
        """The answers held at this update (lastUpdate): read from the index alone."""
        return self._execute("SELECT COUNT(*) FROM answers WHERE source=? AND last_update=?", (self.source, last_update))[0][0]

    def answers_until(self, endpoint: str, params: str, until: str) -> Generator[tuple[str, bytes], None, None]:
        """(lastUpdate, body) held for this request at updates at or before `until`, newest first."""
        rows = self._each(
            "SELECT last_update, body FROM answers WHERE source=? AND endpoint=? AND params=? "
            "AND last_update!='' AND last_update<=? ORDER BY last_update DESC",
            (self.source, endpoint, params, until),
        )
        return ((update, body) for update, blob in rows if (body := _unpacked(blob)) is not None)

    def first_update(self, endpoint: str, params: str) -> str | None:
        """The first update (lastUpdate) this request is held at, or None."""
        rows = self._execute(
            "SELECT MIN(last_update) FROM answers WHERE source=? AND endpoint=? AND params=? AND last_update!=''",
            (self.source, endpoint, params),
        )
        return rows[0][0] if rows else None

    def answers_between(self, endpoints: str, since: str, until: str) -> Generator[tuple[str, str, str, bytes], None, None]:
        """(lastUpdate, endpoint, params, body) of the endpoints matching `endpoints` (SQL LIKE)
        at updates from `since` to `until`, oldest first."""
        rows = self._each(
            "SELECT last_update, endpoint, params, body FROM answers WHERE source=? AND endpoint LIKE ? "
            "AND last_update!='' AND last_update>=? AND last_update<=? ORDER BY last_update, endpoint, params",
            (self.source, endpoints, since, until),
        )
        return ((*key, body) for *key, blob in rows if (body := _unpacked(blob)) is not None)

    def held(self) -> list[tuple[str, int, str | None, str | None, int, int]]:
        """Per source, every source in the file: (source, updates, first and last update, rows,
        bytes of the bodies as stored)."""
        return self._execute(
            "SELECT source, COUNT(DISTINCT NULLIF(last_update, '')), MIN(NULLIF(last_update, '')), "
            "MAX(NULLIF(last_update, '')), COUNT(*), SUM(LENGTH(body)) FROM answers GROUP BY source ORDER BY source",
            (),
        )

    # --- retention --------------------------------------------------------------------------

    def prune(self, keep_days: float, now: datetime) -> tuple[int, int]:
        """Drop the answers of updates more than `keep_days` before `now` (of every source: the
        retention is the file's) and the token counts of days before that one's: (answers,
        token counts) dropped."""
        cutoff = update_key(now - timedelta(days=keep_days))
        # Through the index by update, source by source: only the rows dropped are read, not a
        # month of bodies. An answer of no known update ('') goes by when it arrived.
        answers = self._execute(
            "DELETE FROM answers WHERE source IN (SELECT DISTINCT source FROM answers) AND last_update < ? "
            "AND (last_update != '' OR fetched_at < ?) RETURNING 1",
            (cutoff, cutoff),
        )
        tokens = self._execute("DELETE FROM tokens WHERE day < ? RETURNING 1", (cutoff[:10],))
        self._execute("INSERT OR REPLACE INTO meta VALUES ('pruned_on', ?)", (update_key(now)[:10],))
        return len(answers), len(tokens)

    def prune_daily(self, keep_days: float, now: datetime) -> None:
        """`prune`, unless it already ran this UTC day: a start then costs one lookup."""
        if self._execute("SELECT 1 FROM meta WHERE key='pruned_on' AND value>=?", (update_key(now)[:10],)):
            return
        answers, tokens = self.prune(keep_days, now)
        log.info("store pruned: %d answers and %d token counts older than %g days", answers, tokens, keep_days)

    # --- tokens ---------------------------------------------------------------------------

    def spend_token(self, day: str, endpoint: str) -> None:
        self._execute(
            "INSERT INTO tokens VALUES (?, ?, ?, 1) "
            "ON CONFLICT (source, day, endpoint) DO UPDATE SET count = count + 1",
            (self.source, day, endpoint),
        )

    def tokens(self, day: str) -> dict[str, int]:
        """Tokens spent on `day` (YYYY-MM-DD) by endpoint, by every process sharing the file."""
        rows = self._execute(
            "SELECT endpoint, count FROM tokens WHERE source=? AND day=? ORDER BY count DESC, endpoint", (self.source, day)
        )
        return dict(rows)

    # --- plumbing -------------------------------------------------------------------------

    def _execute(self, sql: str, args: tuple) -> list[tuple]:
        """The rows of `sql`; a file that fails is given up for memory and `sql` run there."""
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            self._give_up(exc)
            return self._db.execute(sql, args).fetchall()

    def _each(self, sql: str, args: tuple) -> Iterator[tuple]:
        """The rows of `sql` one at a time (a month of heatmaps is never all in memory); a file
        that fails ends them, and is given up for memory as in `_execute`."""
        try:
            yield from self._db.execute(sql, args)
        except sqlite3.Error as exc:
            self._give_up(exc)

    def close(self) -> None:
        self._db.close()


def _create_schema(db: sqlite3.Connection) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == _SCHEMA_VERSION:
        return
    if version > _SCHEMA_VERSION:
        raise NewerStoreError(f"written by a newer hypertui (schema {version}, this one knows {_SCHEMA_VERSION})")
    db.executescript(_SCHEMA)
    db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")


def _unpacked(blob: bytes) -> bytes | None:
    """A stored body as sent; None for a damaged one."""
    try:
        return zlib.decompress(blob)
    except zlib.error:
        return None


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    code = getattr(exc, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_FULL:
        return "the disk is full"
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return "locked by another program"
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN):
        return "not writable here"
    return str(exc) or type(exc).__name__
