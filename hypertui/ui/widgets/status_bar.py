"""One line: source, replay/paused/stale/shared-cache badges, error, the data's own time (the API's
lastUpdate, LATE when a check past its nextUpdateThreshold found it), the last check and its age,
next refresh, tokens spent today (and the desk's, on a shared cache)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from hypertui.api.models import StateStatus
from hypertui.monitor import format as fmt
from hypertui.monitor.staleness import Freshness
from hypertui.ui.widgets.text_lines import TextLines

# "/segments/9/summary: " in front of an error: the reason matters more than the path when narrow.
_ENDPOINT = re.compile(r"^/\S*: ")


class StatusBar(TextLines):
    def __init__(self) -> None:
        super().__init__(id="status-bar")
        self._last: Text | None = None

    def show(
        self,
        *,
        source: str,
        freshness: Freshness,
        now: datetime,
        tokens: int,
        daily_limit: int | None,
        interval: float | None,
        notes: Sequence[str] = (),
        status: StateStatus | None = None,
        desk_tokens: int | None = None,
        shared_down: bool = False,
        replay: datetime | None = None,
    ) -> None:
        """`tokens`: spent today (UTC) out of `daily_limit` (None: unknown). `notes`: what the
        server could not serve as asked (shown after the cadence). `status`: the last
        state/status read, whose lastUpdate is the data's own time. `desk_tokens`: the whole
        desk's today, on a shared cache (None: none is set); `shared_down`: it is not answering.
        `replay`: the recorded update the panels show (None: live)."""
        spent = f"tokens today {fmt.count(tokens)}" + ("" if daily_limit is None else f"/{fmt.count(daily_limit)}")
        if desk_tokens is not None:
            spent += f" · desk {fmt.count(desk_tokens)}"
        badge = None if replay is None else (f" REPLAY {replay:%Y-%m-%d %H:%M} UTC ", self._replay_style())
        text = self._line(source, freshness, now, spent, interval, notes, status, shared_down, badge, compact=False)
        width = self.size.width
        if width and text.cell_len > width:  # a narrow terminal: say the same in fewer cells
            text = self._line(source, freshness, now, spent, interval, notes, status, shared_down, badge, compact=True)
        if text != self._last:  # the bar ticks every few seconds: repaint only if the line moved
            self._last = text
            self.update(text, layout=False)  # fixed height 1: a relayout would repaint every scrollbar

    def _replay_style(self) -> str:
        """The theme's accent, reversed: a colour no live badge uses, and reverse video in NO_COLOR."""
        return f"bold reverse {self.app.current_theme.accent or 'magenta'}"

    @staticmethod
    def _line(
        source: str,
        freshness: Freshness,
        now: datetime,
        spent: str,
        interval: float | None,
        notes: Sequence[str],
        status: StateStatus | None,
        shared_down: bool,
        replay: tuple[str, str] | None,
        *,
        compact: bool,
    ) -> Text:
        sep = (" │ ", "dim")
        age = fmt.age(freshness.age(now))
        parts: list[tuple[str, str] | str] = [(f" {source} ", "bold reverse")]
        if replay is not None:  # first: what the panels show is not the live data the rest describes
            parts += [" ", replay]
        if freshness.paused:
            parts += [" ", (" PAUSED ", "bold black on yellow")]
        if freshness.stale:
            badge = " NO DATA " if freshness.last_ok is None else f" STALE {age} "
            parts += [" ", (badge, "bold white on red")]
        if shared_down:  # still served, each answer fetched here: the desk's tokens go faster
            parts += [" ", (" shared cache down ", "bold black on yellow")]
        parts.append(sep)
        if freshness.last_error:  # before the rest: on a narrow terminal the line is cut at the right
            error = _ENDPOINT.sub("", freshness.last_error) if compact else freshness.last_error
            parts += [("✗ " + error, "bold red"), sep]
        if status is not None and status.last_update is not None:
            late = status.next_update_threshold
            parts += [*_data_time(status.last_update, late, freshness.last_ok, now, compact=compact), sep]
        # Within its first minute the time alone says how fresh it is.
        ago = f" ({age} ago)" if (freshness.age(now) or 0) >= 60 else ""
        if freshness.last_ok is None:
            parts.append("waiting for data…")
        elif compact:
            parts.append(f"{freshness.last_ok:%H:%M:%S}{ago}")
        else:
            parts.append(f"updated {freshness.last_ok:%H:%M:%S} UTC{ago}")
        parts += [sep, freshness.describe_next(now)]
        if not compact:
            cadence = "auto cadence" if interval is None else f"every {fmt.interval(interval)}"
            wait = freshness.next_in(now)
            if interval is not None and wait is not None and wait > interval + 1:  # see plan.next_delay
                cadence += " once the update is due"
            parts.append(f" · {cadence}")
        for note in notes:
            parts += [sep, ("⚠ " + note, "yellow")]
        if not compact:
            parts += [sep, spent]
        return Text.assemble(*parts, no_wrap=True, overflow="ellipsis")


def _data_time(
    data: datetime, late_after: datetime | None, checked: datetime | None, now: datetime, *, compact: bool
) -> list[tuple[str, str] | str]:
    """When the API's data was last updated (`data`), told apart from when it was last checked:
    an upstream still on it when `checked` past its own nextUpdateThreshold (`late_after`) is LATE,
    with the day its data is from. The threshold passing since the check (paused, or the next
    check still to come) says nothing of the API: the data's age says how old it is."""
    if late_after is not None and checked is not None and checked > late_after:
        return [("LATE", "bold yellow"), f" · data {data:%Y-%m-%d %H:%M} UTC"]
    shown = f"{data:%H:%M}" if data.date() == now.date() else f"{data:%Y-%m-%d %H:%M}"
    if compact:
        return [f"data {shown}"]
    seconds = (now - data).total_seconds()
    return [f"data {shown} UTC" + (f", {fmt.age(seconds)} ago" if seconds >= 60 else "")]
