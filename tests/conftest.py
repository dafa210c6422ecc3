"""Shared fixtures: a small simulated market with a fixed seed and a frozen clock."""

from datetime import UTC, datetime

import pytest

from hypertui.clock import FrozenClock

FROZEN_NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
SEED = 7


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(FROZEN_NOW)
