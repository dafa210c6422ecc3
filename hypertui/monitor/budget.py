"""The daily token budget: what to fetch at each API update so that the day never runs out.

The API charges a token per request and resets the count at midnight UTC (Free plan: 100 a
day); its data changes once per update, every 15-30 minutes. Given the limit, what is spent
and the time left, the planner keeps, in this order, the selected cohort's panels and the
heatmap, then the cohort list's summaries, then the rest (the risk alert rules read), and when
even the panels alone at every update would spend more than is left, it fetches them at every
2nd, 3rd... update instead. Pure: the caller gives the clock and the costs, and plans again at
each update, so tokens spent elsewhere (a drill-down, a late upstream's checks) are taken into
account from the next update on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypertui.api.models import StateStatus

# The cadence assumed while state/status has not told it: the documented shortest, so an
# unknown cadence never spends faster than a known one.
DEFAULT_UPDATE_EVERY = 15 * 60.0
STATUS_COST = 1  # the state/status check that tells whether an update has come (a token too)


@dataclass(frozen=True)
class Tier:
    """Requests the dashboard makes at an update, in the planner's order of importance.

    `now`: what this update would cost (the first one fetches every missing cohort's summary);
    `per_update`: what each later update costs once everything is held.
    """

    name: str
    now: int
    per_update: int


@dataclass(frozen=True)
class Budget:
    """The plan for the rest of the day: fetch the `tiers` named at every `stride`-th update,
    each `update_every` seconds apart; `stride` 0: nothing is left until the quota resets."""

    stride: int
    tiers: frozenset[str]
    update_every: float
    reset_at: datetime

    @property
    def exhausted(self) -> bool:
        return self.stride == 0

    def delay(self, status: StateStatus | None, now: datetime, *, grace: float = 10.0) -> float:
        """Seconds to the next check this plan allows: a little after the `stride`-th update
        from the last one (`status.next_update` is the first), or the quota's reset."""
        if self.exhausted:
            return max(0.0, (self.reset_at - now).total_seconds())
        if status is None or status.next_update is None:
            return self.stride * self.update_every
        due = status.next_update + timedelta(seconds=(self.stride - 1) * self.update_every + grace)
        return max(0.0, (due - now).total_seconds())

    def note(self, all_tiers: Sequence[str]) -> str | None:
        """What the status bar says when the budget fetches less than everything at every update."""
        if self.exhausted:
            return f"budget: spent until {self.reset_at:%H:%M} UTC"
        if self.stride > 1:
            return f"budget: every {spoken_interval(self.stride * self.update_every)}"
        # Tiers are dropped from the last: the first one dropped says the rest are too.
        dropped = next((name for name in all_tiers if name not in self.tiers), None)
        return None if dropped is None else f"budget: no {dropped}"


def update_every(status: StateStatus | None) -> float:
    """Seconds between API updates, as state/status tells them (nextUpdate - lastUpdate)."""
    if status is None or status.last_update is None or status.next_update is None:
        return DEFAULT_UPDATE_EVERY
    seconds = (status.next_update - status.last_update).total_seconds()
    return seconds if seconds > 0 else DEFAULT_UPDATE_EVERY


def next_reset(now: datetime) -> datetime:
    """When the daily quota resets: the next midnight UTC."""
    return (now.astimezone(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def plan_budget(limit: int, spent: int, now: datetime, every: float, tiers: Sequence[Tier]) -> Budget:
    """The most the day's remaining tokens allow from `now` on, each fetch one status check
    plus its tiers' requests: every tier at every update if that fits; else the last tiers
    dropped one by one; else the first tier alone, at every 2nd, 3rd... update. A budget too
    small for one more fetch of the first tier waits for the reset."""
    reset = next_reset(now)
    left = limit - spent
    updates_left = max(1, math.ceil((reset - now).total_seconds() / every))  # this one included

    def fits(stride: int, kept: Sequence[Tier]) -> bool:
        fetches = math.ceil(updates_left / stride)
        first = STATUS_COST + sum(t.now for t in kept)
        return first + (fetches - 1) * (STATUS_COST + sum(t.per_update for t in kept)) <= left

    for n in range(len(tiers), 0, -1):
        if fits(1, tiers[:n]):
            return Budget(1, frozenset(t.name for t in tiers[:n]), every, reset)
    first = tiers[:1]
    for stride in range(2, updates_left + 1):
        if fits(stride, first):
            return Budget(stride, frozenset(t.name for t in first), every, reset)
    return Budget(0, frozenset(), every, reset)


def spoken_interval(seconds: float) -> str:
    """45 min, 1 h 30 min, 3 h: the interval the budget allows, as the status bar says it."""
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" + (f" {rest} min" if rest else "")
