"""Time travel on the dashboard: which recorded update a key steps to, a recorded update's
answers as the requests that would have brought them (for `DashboardState.fill_from`), and the
update a change view compares with; what moved since a previous session's last update; and
the newest update recorded, which a warm start shows before the first live answer.

No Textual and no request: the screen reads the recording (api/recording.py), keeps the update
replayed here, and draws the state this fills; the live state goes on filling underneath.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from pydantic import TypeAdapter

from hypertui.api.models import Segment, StateStatus
from hypertui.api.recording import HEATMAP_PATH, LEGEND_PATH, DashboardAnswers, Recording, cohort_paths
from hypertui.api.requests import Request
from hypertui.monitor import format as fmt
from hypertui.monitor.changes import REFERENCES, SinceLastLooked, reference_update, since_last_looked
from hypertui.monitor.dashboard_state import DashboardState
from hypertui.monitor.rows import CohortTotals, cohort_totals

DAY = timedelta(days=1)
_LEGEND = TypeAdapter(list[Segment])
NOT_RECORDED = "not recorded at this update"  # a panel the recorded update holds nothing for


def step_back(updates: Sequence[datetime], current: datetime | None, by: timedelta | None = None) -> datetime | None:
    """The newest of `updates` before `current` (None: live with no update known, so the newest
    of all), or, `by` given, at least that long before it; None when the recording has none."""
    if current is None:
        return max(updates, default=None)
    if by is None:
        return max((at for at in updates if at < current), default=None)
    return max((at for at in updates if at <= current - by), default=None)


def step_forward(updates: Sequence[datetime], current: datetime, by: timedelta | None = None) -> datetime | None:
    """The oldest of `updates` after `current`, or, `by` given, at least that long after it; None
    past the newest: back to live."""
    if by is None:
        return min((at for at in updates if at > current), default=None)
    return min((at for at in updates if at >= current + by), default=None)


def recorded_answers(recorded: DashboardAnswers) -> list[tuple[Request, Any]]:
    """The recorded update's answers as (request, model) pairs, under a status that names it."""
    answers: list[tuple[Request, Any]] = [(Request("state_status"), StateStatus(last_update=recorded.at))]
    answers += [(Request("summary", (sid, "all")), summary) for sid, summary in recorded.summaries.items()]
    answers += [(Request("liquidation_risk", (sid, 0, len(page.items))), page) for sid, page in recorded.risk.items()]
    if recorded.heatmap is not None:
        answers.append((Request("heatmap", ("all",)), recorded.heatmap))  # the recorder asks every position's
    return answers


class Replay:
    """One recorded update on screen: a state with the live one's selections holding the
    recorded answers, built again when a selection changes (another cohort, age, window)."""

    def __init__(self, recorded: DashboardAnswers) -> None:
        self.recorded = recorded
        self._state: DashboardState | None = None
        self._selections: tuple | None = None

    @property
    def at(self) -> datetime:
        return self.recorded.at

    def state(self, live: DashboardState) -> DashboardState:
        """What the panels show: the recorded update, as `live`'s selections ask to see it."""
        selections = live.selections()
        if self._state is None or selections != self._selections:
            self._state, self._selections = live.recorded(recorded_answers(self.recorded), self.at), selections
        return self._state


def with_panels(recording: Recording, cohort: int) -> list[datetime]:
    """The updates recorded with something the panels show for `cohort` (the one on screen): the
    heatmap (the cohort list's figures too), or that cohort's summary or risk; those a replay
    steps through. Not one whose status alone was checked (the day's budget skipping its
    panels), nor one holding another cohort's answers alone (a cohort the cursor left keeps its
    answers at the last update it was asked at): every panel there would be empty."""
    shown = {HEATMAP_PATH, *cohort_paths(cohort)}
    return [update.at for update in recording.updates() if update.endpoints & shown]


def with_heatmap(recording: Recording) -> list[datetime]:
    """The updates recorded with a heatmap: those a change can be taken against (an update whose
    status alone was checked, the budget skipping its panels, has nothing to compare)."""
    return [update.at for update in recording.updates() if HEATMAP_PATH in update.endpoints]


class ChangeReference:
    """The update the change mode compares with: the newest recorded with a heatmap at least the
    reference's time (1h, 4h, 24h, 7d) before the update shown, and what it held. The store is
    read again only when the update shown or the reference chosen changes, not at every draw."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self._key: tuple[datetime, str] | None = None
        self.answers: DashboardAnswers | None = None
        self.totals: dict[int, CohortTotals] | None = None  # the cohort list's figures at it

    def compare(self, shown: datetime, reference: str) -> DashboardAnswers | None:
        """The reference update's answers for `shown` (None: nothing recorded that long before)."""
        if (shown, reference) != self._key:
            at = reference_update(with_heatmap(self.recording), shown, REFERENCES[reference])
            self.answers = None if at is None else self.recording.dashboard_at(at)
            heatmap = self.answers.heatmap if self.answers else None
            self.totals = None if heatmap is None else cohort_totals(heatmap)
            self._key = (shown, reference)
        return self.answers


def since_previous_session(recording: Recording, first: datetime) -> tuple[datetime, SinceLastLooked] | None:
    """The update recorded last before `first` (this session's first: so a previous session's,
    or the recorder's) and the moves from it to `first`; None when nothing was recorded before."""
    before = step_back(with_heatmap(recording), first)
    if before is None:
        return None
    now, then = recording.dashboard_at(first), recording.dashboard_at(before)
    heatmaps = (now.heatmap, then.heatmap) if now.heatmap is not None and then.heatmap is not None else None
    return before, since_last_looked((now.summaries, then.summaries), heatmaps, (now.risk, then.risk))


def since_lines(since: SinceLastLooked, segments: list[Segment]) -> list[str]:
    """The moves in words, one a line, biggest first within each kind (names as the API sent them:
    the caller shows them as text, never markup)."""
    names = {s.id: " ".join(filter(None, (s.emoji, s.name))) for s in segments}

    def name(sid: int) -> str:
        return names.get(sid, f"cohort {sid}")

    lines = [
        f"{name(sid)} turned {'long' if now > 0 else 'short'}: perp bias {fmt.signed(then)} → {fmt.signed(now)}"
        for sid, then, now in since.flips
    ]
    lines += [
        f"{coin} × {name(sid)}: long share {change.share * 100:+.1f} pt on {fmt.money(change.weight)}"
        for (coin, sid), change in since.moves
    ]
    lines += [
        f"{move.coin} × {name(move.cohort)}: {'entered' if move.entered else 'left'} the {move.band:g} % risk band"
        + ("" if move.percent is None else f" (now {fmt.percent(move.percent, 2)})")
        for move in since.bands
    ]
    return lines


def newest_recorded(recording: Recording) -> tuple[list[Segment], DashboardAnswers] | None:
    """The legend and answers of the newest update recorded with a heatmap: what a warm start
    shows (None: nothing recorded, or no legend to draw it with)."""
    at = max(with_heatmap(recording), default=None)
    # Typed for a model class; a TypeAdapter validates there as well (RowTolerant takes either).
    legend = None if at is None else recording.answer(LEGEND_PATH, [], cast("type[list[Segment]]", _LEGEND), at)
    if at is None or legend is None or not legend[1]:
        return None
    return legend[1], recording.dashboard_at(at)
