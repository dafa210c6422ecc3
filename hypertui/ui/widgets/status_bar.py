"""One line: source, last update and its age, next refresh, paused/stale badges, requests, error."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from hypertui.monitor import format as fmt
from hypertui.monitor.staleness import Freshness


class StatusBar(Static):
    def __init__(self) -> None:
        super().__init__(id="status-bar")
        self._last: Text | None = None

    def show(self, *, source: str, freshness: Freshness, now: datetime, requests: int, interval: float | None) -> None:
        sep = (" │ ", "dim")
        parts: list[tuple[str, str] | str] = [(f" {source} ", "bold reverse")]
        if freshness.paused:
            parts += [" ", (" PAUSED ", "bold black on yellow")]
        if freshness.stale:
            parts += [" ", (f" STALE {fmt.age(freshness.age(now))} ", "bold white on red")]
        parts.append(sep)
        if freshness.last_error:  # before the rest: on a narrow terminal the line is cut at the right
            parts += [("✗ " + freshness.last_error, "bold red"), sep]
        if freshness.last_ok is None:
            parts.append("waiting for data…")
        else:
            parts.append(f"updated {freshness.last_ok:%H:%M:%S} UTC ({fmt.age(freshness.age(now))} ago)")
        cadence = "auto cadence" if interval is None else f"every {fmt.interval(interval)}"
        parts += [sep, freshness.describe_next(now), f" · {cadence}"]
        parts += [sep, f"{fmt.count(requests)} req"]
        text = Text.assemble(*parts, no_wrap=True, overflow="ellipsis")
        if text != self._last:  # the bar ticks every second: repaint only if the line moved
            self._last = text
            self.update(text, layout=False)  # fixed height 1: a relayout would repaint every scrollbar
