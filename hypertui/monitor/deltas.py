"""What changed between two refreshes: per-value change marks (↑ rose, ↓ fell).

Arrows, not triangles: ▲▼ say which way a cohort leans (long, short) and ▾▴ a header's sort
order, so one glyph never means two things, even side by side (`+0.09 ▲ ↑`).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)

UP, DOWN, SAME = 1, -1, 0
ROSE, FELL = "↑", "↓"


def change(old: float | None, new: float | None, rel_tol: float = 1e-9) -> int:
    """UP, DOWN or SAME; SAME when either side is unknown (nothing to compare)."""
    if old is None or new is None or math.isclose(old, new, rel_tol=rel_tol, abs_tol=1e-12):
        return SAME
    return UP if new > old else DOWN


def mark(delta: int) -> str:
    return ROSE if delta == UP else FELL if delta == DOWN else ""


def changes(old: Mapping[Key, float | None] | None, new: Mapping[Key, float | None]) -> dict[Key, int]:
    """Direction of every key of `new` against `old` (all SAME on the first refresh)."""
    if not old:
        return dict.fromkeys(new, SAME)
    return {key: change(old.get(key), value) for key, value in new.items()}
