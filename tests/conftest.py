"""Shared fixtures: a small simulated market with a fixed seed and a frozen clock."""

from datetime import UTC, datetime

import pytest

FROZEN_NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
SEED = 7


class FrozenClock:
    """A clock tests move by hand: `clock.now = ...` or `clock.advance(seconds)`."""

    def __init__(self, now: datetime = FROZEN_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()
