"""Which recorded update the time-travel keys step to (hypertui.monitor.replay)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypertui.api.recording import HEATMAP_PATH, Recording, cohort_paths
from hypertui.api.store import SnapshotStore, update_key
from hypertui.monitor.replay import step_back, step_forward, with_panels

BASE = datetime(2026, 12, 6, tzinfo=UTC)
UPDATES = [BASE + timedelta(hours=h) for h in (0, 1, 2, 30)]  # a gap: hypertui was off for a day
DAY = timedelta(days=1)


def test_back_from_live_is_the_newest_and_before_the_oldest_is_nothing():
    assert step_back(UPDATES, None) == UPDATES[-1]
    assert step_back(UPDATES, UPDATES[2]) == UPDATES[1]
    assert step_back(UPDATES, UPDATES[0]) is None
    assert step_back([], None) is None


def test_a_day_steps_over_the_gap_and_forward_past_the_newest_is_live():
    assert step_back(UPDATES, UPDATES[3], DAY) == UPDATES[2]  # 28 h before: the newest a day or more back
    assert step_back(UPDATES, UPDATES[2], DAY) is None
    assert step_forward(UPDATES, UPDATES[0], DAY) == UPDATES[3]
    assert step_forward(UPDATES, UPDATES[1]) == UPDATES[2]
    assert step_forward(UPDATES, UPDATES[3]) is None


def test_the_keys_step_only_to_updates_holding_the_heatmap_or_the_shown_cohorts_panels():
    store = SnapshotStore()
    summary, risk = cohort_paths(2)
    held = {0: [cohort_paths(1)[0]], 1: [HEATMAP_PATH], 2: [risk], 30: [summary, "/hypertracker/state/status"]}
    for hours, endpoints in held.items():  # update 0 holds another cohort's summary alone
        for endpoint in endpoints:
            store.keep(endpoint, "", update_key(BASE + timedelta(hours=hours)), BASE, b"{}")
    assert with_panels(Recording(store), 2) == [UPDATES[3], UPDATES[2], UPDATES[1]]
    assert with_panels(Recording(store), 1) == [UPDATES[1], UPDATES[0]]
