"""How old the data on screen is, and whether it should be called stale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Freshness:
    last_ok: datetime | None  # end of the last fully successful refresh
    last_error: str | None  # one line, from the last refresh if it failed
    next_at: datetime | None  # when the next automatic refresh starts
    busy: bool  # a refresh is running now
    paused: bool

    def age(self, now: datetime) -> float | None:
        return None if self.last_ok is None else (now - self.last_ok).total_seconds()

    @property
    def stale(self) -> bool:
        """The last refresh failed: what is on screen is the last good data, not current."""
        return self.last_error is not None

    def next_in(self, now: datetime) -> float | None:
        if self.paused or self.busy or self.next_at is None:
            return None
        return max(0.0, (self.next_at - now).total_seconds())

    def describe_next(self, now: datetime) -> str:
        if self.busy:
            return "refreshing…"
        if self.paused:
            return "paused"
        # A clock time, not a countdown: it does not change every second (see format.age).
        return "next —" if self.next_in(now) is None else f"next {self.next_at:%H:%M:%S}"
