"""Clocks: the real UTC now, and a frozen one for byte-stable screenshots and tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utc_now() -> datetime:
    return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to (`advance`), so ages and times on screen are stable."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
