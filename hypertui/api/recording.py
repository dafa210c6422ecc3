"""Reading the recording: the answers the snapshot store holds per API update (`lastUpdate`).

No UI code here, and no request: everything comes from the store (store.py), which the client
fills with every answer it gets, one per request per update. Bodies are parsed as a fresh answer
is (client.parse_answer, the same models and the same dropping of bad rows); a recorded body
that no longer validates (kept by a version whose models differed) is skipped and logged, never
raised. `RecordingTransport` serves the recording to a `HyperTrackerClient` as if it were the
API at one moment in the past: `hypertui dump KIND --at TIME` is the usual dump through it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic_core import ErrorDetails

from hypertui.api.client import parse_answer
from hypertui.api.errors import BadResponseError
from hypertui.api.models import (
    Heatmap,
    LiquidationRiskPage,
    RowTolerant,
    SegmentSummary,
)
from hypertui.api.store import SnapshotStore, normalised_params, update_key
from hypertui.api.text import one_line

log = logging.getLogger("hypertui.recording")

M = TypeVar("M")
# What a dashboard shows, by endpoint: what `hypertui record` keeps and `dump --at` can answer.
HEATMAP_PATH = "/positions/heatmap"
LEGEND_PATH = "/segments"
BIAS_24H_PATH = "/exports/segments-bias-charts-data-24h"
SUMMARY_PATHS = "/segments/%/summary"  # SQL LIKE patterns of the per-cohort endpoints
RISK_PATHS = "/%/assets/liquidation-risk"
# The updates whose parsed dashboard answers a Recording keeps: the few a replay steps back and
# forth between (a heatmap takes ~10 ms to parse, half a step's time).
KEPT_UPDATES = 8


@dataclass(frozen=True)
class RecordedUpdate:
    """One API update the store holds answers of."""

    at: datetime  # its lastUpdate
    endpoints: frozenset[str]  # the API paths answered at it
    answers: int  # rows held (a path asked with different parameters counts once each)


@dataclass(frozen=True)
class DashboardAnswers:
    """The dashboard's answers recorded at one update: what a replay shows and a change view
    compares (monitor/changes.py). A part not recorded then is empty, or None."""

    at: datetime
    summaries: dict[int, SegmentSummary]  # every position's, by cohort id
    heatmap: Heatmap | None  # every position's
    risk: dict[int, LiquidationRiskPage]  # each cohort's first page, the longest held


def cohort_paths(cohort: int) -> tuple[str, str]:
    """The paths of one cohort's summary and liquidation risk (as SUMMARY_PATHS and RISK_PATHS match)."""
    return f"/segments/{cohort}/summary", f"/{cohort}/assets/liquidation-risk"


def risk_cohort(endpoint: str) -> int:
    """The cohort of a liquidation-risk path (/9/assets/liquidation-risk)."""
    return int(endpoint.split("/")[1])


def _time(key: str) -> datetime:
    return datetime.fromisoformat(key)


class Recording:
    """The answers of one source (the store's) by API update."""

    def __init__(self, store: SnapshotStore) -> None:
        self.store = store
        # `dashboard_at`'s answers of the updates read last, with the rows held at each then.
        self._parsed: OrderedDict[datetime, tuple[int, DashboardAnswers]] = OrderedDict()

    def updates(self) -> list[RecordedUpdate]:
        """Every update held, newest first, with what each holds."""
        held: dict[str, list[str]] = {}
        for key, endpoint in self.store.recorded():
            held.setdefault(key, []).append(endpoint)
        return [RecordedUpdate(_time(key), frozenset(paths), len(paths)) for key, paths in held.items()]

    def at_or_before(self, when: datetime) -> RecordedUpdate | None:
        """The newest update held at or before `when`, or None."""
        return next((u for u in self.updates() if u.at <= when), None)

    def answer(self, endpoint: str, params: list[tuple[str, str]], model: type[M], when: datetime) -> tuple[datetime, M] | None:
        """The newest answer to this request at or before `when` that still validates, with its
        update; None when none is held."""
        with closing(self.store.answers_until(endpoint, normalised_params(params), update_key(when))) as answers:
            return next(self._valid(endpoint, model, answers), None)

    def body(self, endpoint: str, params: list[tuple[str, str]], when: datetime) -> tuple[datetime, bytes] | None:
        """The newest body held for this request at or before `when`, as sent, with its update."""
        with closing(self.store.answers_until(endpoint, normalised_params(params), update_key(when))) as answers:
            found = next(answers, None)  # closed after: its read of the file ends here
        return None if found is None else (_time(found[0]), found[1])

    def oldest(self, endpoint: str, params: list[tuple[str, str]]) -> datetime | None:
        """The first update this request was recorded at, for an error that says how far back to ask."""
        key = self.store.first_update(endpoint, normalised_params(params))
        return None if key is None else _time(key)

    def series(self, endpoints: str, model: type[M], since: datetime, until: datetime) -> Iterator[tuple[datetime, str, str, M]]:
        """(update, endpoint, params, answer) of the endpoints matching `endpoints` (SQL LIKE,
        e.g. RISK_PATHS) from `since` to `until`, oldest first; answers that no longer validate
        are skipped."""
        for key, endpoint, params, body in self.store.answers_between(endpoints, update_key(since), update_key(until)):
            for at, answer in self._valid(endpoint, model, [(key, body)]):
                yield at, endpoint, params, answer

    def dashboard_at(self, at: datetime) -> DashboardAnswers:
        """What the dashboard's panels held at update `at` itself (see `updates`): parsed once
        while it holds the same rows (the last KEPT_UPDATES read are kept); one that gained rows
        since, as the update the API is on does, is read again."""
        rows = self.store.held_at(update_key(at))
        kept = self._parsed.pop(at, None)
        answers = kept[1] if kept is not None and kept[0] == rows else self._read_dashboard(at)
        self._parsed[at] = (rows, answers)  # the newest read last
        if len(self._parsed) > KEPT_UPDATES:
            self._parsed.popitem(last=False)
        return answers

    def _read_dashboard(self, at: datetime) -> DashboardAnswers:
        summaries = {s.segment.id: s for _, _, params, s in self.series(SUMMARY_PATHS, SegmentSummary, at, at) if not params}
        heatmap = next((h for _, _, params, h in self.series(HEATMAP_PATH, Heatmap, at, at) if not params), None)
        risk: dict[int, LiquidationRiskPage] = {}
        for _, endpoint, params, page in self.series(RISK_PATHS, LiquidationRiskPage, at, at):
            sid = risk_cohort(endpoint)
            if "offset=0" in params.split("&") and len(page.items) > len(risk[sid].items if sid in risk else ()):
                risk[sid] = page
        return DashboardAnswers(at, summaries, heatmap, risk)

    def _valid(self, endpoint: str, model: Any, answers: Any) -> Iterator[tuple[datetime, Any]]:
        tolerant = RowTolerant(model, partial(_rows_dropped, endpoint))
        for key, body in answers:
            try:
                yield _time(key), parse_answer(endpoint, body, tolerant)
            except BadResponseError as exc:
                log.warning("recorded answer of %s at %s skipped: %s", endpoint, key, exc)


def _rows_dropped(endpoint: str, count: int, first: ErrorDetails) -> None:
    field = ".".join(str(p) for p in first["loc"])
    log.warning("recorded %s: %d bad row(s) dropped (first: %s %s)", endpoint, count, field, one_line(first["msg"].lower()))


class RecordingTransport(httpx.AsyncBaseTransport):
    """Answers a client's GETs from the recording as the API answered them at `when`: the
    newest answer held at or before it. A request never recorded answers 404 with a message
    that says so, and how far back the recording goes."""

    def __init__(self, recording: Recording, when: datetime, base_url: str) -> None:
        self._recording = recording
        self._when = when
        self._base_path = httpx.URL(base_url).path.rstrip("/")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        endpoint = request.url.path.removeprefix(self._base_path)
        params = list(request.url.params.multi_items())
        found = self._recording.body(endpoint, params, self._when)
        if found is not None:
            return httpx.Response(200, content=found[1], headers={"content-type": "application/json"})
        return httpx.Response(404, json={"message": self.nothing_held(endpoint, params)})

    async def aclose(self) -> None:
        self._recording.store.close()

    def nothing_held(self, endpoint: str, params: list[tuple[str, str]]) -> str:
        """Why there is no answer, in one line (the endpoint is said before it)."""
        asked = f" with {urlencode(params)}" if params else ""
        oldest = self._recording.oldest(endpoint, params)
        held = f"the oldest is of {oldest:%Y-%m-%d %H:%M} UTC" if oldest else "it was never recorded"
        return f"nothing recorded{asked} at or before {self._when:%Y-%m-%d %H:%M} UTC: {held}"
