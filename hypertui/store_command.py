"""`hypertui store`: what the snapshot store file holds (the recording), and `hypertui store prune`.

No UI code here and no request. The file is read whatever the data source: every API it holds
answers of is listed, one line each.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hypertui.api.store import SnapshotStore, default_path
from hypertui.clock import utc_now
from hypertui.config import Settings
from hypertui.monitor.format import count


class StoreUnusable(Exception):
    """The file cannot be read here (corrupt, locked, of a newer hypertui): one line saying why."""


def size(n: float) -> str:
    """Bytes as people read them: 812 B, 94.1 KB, 12.3 MB (powers of 1000, as disks are sold)."""
    for unit in ("B", "KB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _minute(key: str | None) -> str:
    return "—" if key is None else f"{datetime.fromisoformat(key):%Y-%m-%d %H:%M}"


def _on_disk(path: Path) -> int:
    """The file and its write-ahead log, as they take room now."""
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def describe(store: SnapshotStore, keep_days: float) -> list[str]:
    """The lines `hypertui store` prints: the file, then one per source."""
    assert store.path is not None
    lines = [f"{store.path}: {size(_on_disk(store.path))} on disk, answers kept {keep_days:g} days"]
    for source, updates, first, last, rows, stored in store.held():
        per_update = f" ({size(stored / updates)} per update)" if updates else ""
        lines.append(
            f"{source}: {count(updates)} updates, {_minute(first)} – {_minute(last)} UTC, "
            f"{count(rows)} answers, {size(stored)}{per_update}"
        )
    if len(lines) == 1:
        lines.append("no answers held yet")
    return lines


def run_store(settings: Settings, action: str | None, keep_days: float | None) -> list[str]:
    """`hypertui store [prune]`: the lines to print. A file not made yet is not made here."""
    path = settings.store_path or default_path()
    if not path.exists():
        return [f"{path}: no store yet (one is kept once hypertui runs against an API with a token)"]
    store = SnapshotStore(path)
    try:
        if store.problem:
            raise StoreUnusable(store.problem)
        if action == "prune":
            days = settings.keep_days if keep_days is None else keep_days
            answers, tokens = store.prune(days, utc_now())
            return [f"pruned {count(answers)} answers and {count(tokens)} token counts older than {days:g} days"]
        return describe(store, settings.keep_days)
    finally:
        store.close()
