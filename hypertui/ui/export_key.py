"""The `e` / `E` keys of the drill-downs: write what the screen shows to files, off the UI thread."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from textual.screen import Screen

from hypertui.api.text import one_line
from hypertui.monitor.export import Table, default_dir, write_table


def export_dir(app: Any) -> Path:
    """The app's configured directory (`export_dir` in the config file), else Downloads/hypertui."""
    configured = getattr(app, "export_dir", None)
    return Path(configured) if configured else default_dir()


def export_tables(screen: Screen, tables: list[Table], fmt: str, now: datetime, note: str = "") -> None:
    """Write each table to its own file in a worker thread, named with the time `now`; a toast
    names the files (or the error) and ends with `note` (what the files leave out, say)."""
    app: Any = screen.app
    if not tables:
        app.notify("Nothing loaded to export yet", severity="warning", timeout=3)
        return
    directory = export_dir(app)

    def write() -> list[tuple[Path, int]]:
        return [write_table(directory, table, fmt, now) for table in tables]

    async def run() -> None:
        try:
            written = await asyncio.to_thread(write)
        except Exception as exc:  # noqa: BLE001 - a full disk or a bad directory: say so, keep going
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else f"{type(exc).__name__}: {exc}"
            where = getattr(exc, "filename", None) or directory
            app.notify(one_line(f"{reason}: {where}"), title="Export failed", severity="error", markup=False)
            return
        lines = [f"{path} ({n:,} row{'' if n == 1 else 's'})" for path, n in written] + ([note] if note else [])
        app.notify("\n".join(lines), title=f"Exported {fmt.upper()}", markup=False, timeout=10)

    screen.run_worker(run(), group="export", exit_on_error=False)
