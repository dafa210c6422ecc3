"""UI fixtures: the small simulator (seed 7) behind the frozen `clock` of tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from hypertui.ui import screenshots
from hypertui.ui.app import HyperTuiApp


@pytest.fixture
def make_app(clock: Callable[[], datetime]) -> Callable[..., HyperTuiApp]:
    def make(*, refresh: float | None = 15.0, scale: str = "small") -> HyperTuiApp:
        return screenshots.make_app(scale=scale, clock=clock, refresh=refresh)

    return make
