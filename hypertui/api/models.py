"""Pydantic models mirroring the HyperTracker responses (see shared/api-reference.md).

Attributes are snake_case, aliases are the API's camelCase; unknown fields are ignored so a new
server field never breaks us. Fields the contract marks [guess] are optional. Columnar payloads
(`historySnapshotStructure` + `history`, `columns` + `data`) become typed rows by column *name*.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, TypeAdapter, ValidationError, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

from hypertui.api.text import ApiName, SafeStr


def iso(value: datetime | str) -> str:
    """ISO 8601 UTC with milliseconds, as the API wants (`2026-02-25T00:00:00.000Z`)."""
    if isinstance(value, str):
        return value
    value = as_utc(value).astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def as_utc(value: datetime) -> datetime:
    """A time sent without a zone, taken as UTC (the contract's times are): left naive, its first
    comparison with the clock's aware time raised TypeError and stopped the refresh loop."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# Always aware; written back (dumps, exports) exactly as the API writes times.
ApiTime = Annotated[datetime, AfterValidator(as_utc), PlainSerializer(iso, when_used="json")]


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
        # 1e309 parses as inf (and NaN is accepted JSON here): one such number made every chart and
        # sum of it NaN. A response holding one is rejected, as a malformed one is.
        allow_inf_nan=False,
        defer_build=True,  # validators are built on first use: start-up only pays for what it parses
    )


# --- segments (cohort legend) ---------------------------------------------------------------


class Criteria(ApiModel):
    min_size: float | None = None
    max_size: float | None = None
    min_pnl: float | None = None
    max_pnl: float | None = None

    @property
    def lower(self) -> float:
        """Lower bound of the range, for ordering cohorts by range rather than by id."""
        low = self.min_size if self.min_size is not None else self.min_pnl
        if low is not None:
            return low
        high = self.max_size if self.max_size is not None else self.max_pnl
        return float("-inf") if high is None else high - 1e18


class Segment(ApiModel):
    id: int
    name: ApiName
    emoji: SafeStr = ""
    category: Literal["size", "pnl"]
    criteria: Criteria = Criteria()


def ordered_by_range(segments: list[Segment], category: str) -> list[Segment]:
    """Cohorts of one axis ordered by their range (Shrimp, id 16, is the smallest size cohort).

    Size cohorts go smallest first; pnl cohorts go most profitable first, as the legend does.
    """
    chosen = [s for s in segments if s.category == category]
    chosen.sort(key=lambda s: s.criteria.lower, reverse=category == "pnl")
    return chosen


# --- summary (export) -----------------------------------------------------------------------


class SideTotals(ApiModel):
    count: int | None = None
    value: float | None = None


class BySide(ApiModel):
    long: SideTotals | None = None
    short: SideTotals | None = None


class TopAsset(ApiModel):
    coin: ApiName
    total_value: float
    total_long_value: float | None = None
    count: int | None = None

    @property
    def long_share(self) -> float | None:
        if self.total_long_value is None or not self.total_value:
            return None
        return self.total_long_value / self.total_value


class CohortFigures(ApiModel):
    count_traders: int | None = None  # absent in 24h/7d/30d variants
    count_traders_in_position: int
    perp_bias: float
    position_value: float
    position_long_value: float
    position_short_value: float
    exposure_ratio: float
    active_perp_equity: float
    perp_equity: float | None = None  # absent in 24h/7d/30d variants
    count_traders_24_hours_ago: int | None = Field(
        default=None, alias="countTraders24HoursAgo"
    )  # [guess]


class OpenPerpsSummary(ApiModel):
    perp_bias: float
    exposure_ratio: float
    count_open_positions: int
    count_traders_in_position: int
    count_traders_in_profit: int
    total_value: float
    total_long_value: float
    total_active_perp_equity: float
    total_perp_equity: float | None = None
    count_assets: int | None = None
    by_side: BySide | None = None

    @property
    def total_short_value(self) -> float:
        return self.total_value - self.total_long_value


class SegmentSummary(ApiModel):
    segment: Segment
    summary: CohortFigures
    open_perps_summary: OpenPerpsSummary
    count_traders_24_hours_ago: int | None = Field(
        default=None, alias="countTraders24HoursAgo"
    )  # [guess]
    top_open_perps: list[TopAsset] = []  # [guess]

    @property
    def traders_24h_ago(self) -> int | None:
        if self.count_traders_24_hours_ago is not None:
            return self.count_traders_24_hours_ago
        return self.summary.count_traders_24_hours_ago


# --- positions (cursor) ---------------------------------------------------------------------


class Profile(ApiModel):
    address: SafeStr | None = None
    segments: list[int] = []


class Position(ApiModel):
    id: SafeStr
    address: SafeStr
    coin: ApiName
    dex: SafeStr | None = None
    side: Literal["long", "short"]
    size: float
    entry_price: float | None = None
    mark_price: float | None = None
    mid_price: float | None = None
    premium_price: float | None = None
    position_value: float
    liquidation_price: float | None = None
    unrealized_pnl: float | None = None
    funding: float | None = None
    cross_leverage: float | None = None
    isolated_leverage: float | None = None
    max_leverage: float | None = None
    asset_max_leverage: float | None = None
    sz_decimals: int | None = None
    open_time: ApiTime
    close_time: ApiTime | None = None
    created_at: ApiTime | None = None
    updated_at: ApiTime | None = None
    profile: Profile | None = None

    @property
    def is_open(self) -> bool:
        return self.close_time is None

    @property
    def leverage(self) -> tuple[float, str] | None:
        """(leverage, "cross"|"isolated"); one of the two fields is 0 on the wire."""
        if self.isolated_leverage:
            return self.isolated_leverage, "isolated"
        if self.cross_leverage:
            return self.cross_leverage, "cross"
        return None

    @property
    def liquidation_distance(self) -> float | None:
        """Fraction the mark must move to hit the liquidation price (0.1 = 10 %)."""
        if not self.liquidation_price or not self.mark_price:
            return None
        return abs(self.mark_price - self.liquidation_price) / self.mark_price


class PositionsPage(ApiModel):
    positions: list[Position]
    next_cursor: str | None = None


# --- columnar time series ------------------------------------------------------------------


def rows_by_column(columns: list[str], data: list[list[Any]], row_model: type[BaseModel]) -> list[dict[str, Any]]:
    """Turn columnar rows into dicts keyed by `row_model`'s field names, looking columns up by name.

    Columns the model does not know are skipped; a missing required column raises ValueError
    naming it (pydantic turns that into a validation error with the field's location).
    """
    index = {name: i for i, name in enumerate(columns)}
    fields = row_model.model_fields
    missing = sorted(alias for name, f in fields.items() if f.is_required() and (alias := f.alias or name) not in index)
    if missing:
        raise ValueError(f"column {missing[0]!r} missing from {columns!r}")
    picks = [(name, index[f.alias]) for name, f in fields.items() if f.alias in index]
    width = len(columns)
    out = []
    for row in data:
        if len(row) != width:
            raise ValueError(f"row has {len(row)} values for {width} columns")
        out.append({name: row[i] for name, i in picks})
    return out


class BiasSnapshot(ApiModel):
    timestamp: ApiTime
    bias: float | None = None
    exposure_ratio: float | None = None
    open_value: float | None = None
    open_long_value: float | None = None
    open_short_value: float | None = None
    active_perp_equity: float | None = None


class BiasHistoryPage(ApiModel):
    segment: Segment
    next_cursor: str | None = None
    position_recency_timeframe: SafeStr | None = None
    start: ApiTime | None = None
    end: ApiTime | None = None
    page_start: ApiTime | None = None
    page_end: ApiTime | None = None
    history_snapshot_structure: list[str]
    history: list[list[Any]]
    snapshots: list[BiasSnapshot] = Field(default=[], exclude=True)  # `history` rows by column name

    @model_validator(mode="before")
    @classmethod
    def _columns_to_rows(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and "snapshots" not in raw:
            cols, rows = raw.get("historySnapshotStructure"), raw.get("history")
            if isinstance(cols, list) and isinstance(rows, list):
                raw = {**raw, "snapshots": rows_by_column(cols, rows, BiasSnapshot)}
        return raw


class Columnar(ApiModel):
    columns: list[str]
    data: list[list[Any]]


class CoinCohortBreakdown(ApiModel):
    segment: Segment
    position_count: int
    past_position_count: int | None = None
    total_position_value: float
    total_position_value_long: float | None = None
    past_total_position_value: float | None = None
    value_close_to_liquidation: float | None = None
    bias: float | None = None  # long share
    timestamp: ApiTime | None = None


# Set by the client, never sent: the filter asked for is not applied by this server, so the
# answer covers every position (see HyperTrackerClient._coin_export and _checked_filter).
Unfiltered = Annotated[bool, Field(exclude=True)]


class PositionBreakdown(ApiModel):
    coin: ApiName | None = None
    timestamp: ApiTime | None = None
    data: list[CoinCohortBreakdown]
    unfiltered: Unfiltered = False


class SegmentMetricRow(ApiModel):
    timestamp: ApiTime
    position_count: int | None = None
    position_count_long: int | None = None
    total_position_value: float | None = None
    total_position_value_long: float | None = None
    bias: float | None = None


class CohortMetrics(ApiModel):
    segment: Segment
    metrics: Columnar
    rows: list[SegmentMetricRow] = Field(default=[], exclude=True)  # derived, newest first as sent

    @model_validator(mode="before")
    @classmethod
    def _columns_to_rows(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and "rows" not in raw and isinstance(raw.get("metrics"), dict):
            m = raw["metrics"]
            if isinstance(m.get("columns"), list) and isinstance(m.get("data"), list):
                rows = rows_by_column(m["columns"], m["data"], SegmentMetricRow)
                raw = {**raw, "rows": rows}
        return raw


class SegmentMetrics(ApiModel):
    coin: ApiName | None = None
    data: list[CohortMetrics]
    unfiltered: Unfiltered = False


class PositionMetric(ApiModel):
    created_at: ApiTime
    coin: ApiName | None = None
    segment_id: int | None = None
    position_count: int
    position_count_long: int | None = None
    total_position_value: float
    total_position_value_long: float | None = None
    total_position_size: float | None = None
    total_position_size_long: float | None = None
    total_funding: float | None = None
    total_unrealized_pnl: float | None = None

    @property
    def long_share(self) -> float | None:
        if self.total_position_value_long is None or not self.total_position_value:
            return None
        return self.total_position_value_long / self.total_position_value


class PositionMetricsPage(ApiModel):
    metrics: list[PositionMetric]
    next_cursor: str | None = None
    unfiltered: Unfiltered = False


# --- heatmap --------------------------------------------------------------------------------


class HeatmapCell(ApiModel):
    segment_id: int
    total_value: float
    total_long_value: float
    total_short_value: float
    count: int
    count_long: int | None = None
    count_short: int | None = None
    bias: float  # long share in [0, 1]


class HeatmapRow(ApiModel):
    coin: ApiName
    total_value: float
    total_long_value: float
    total_short_value: float
    count: int
    count_long: int | None = None
    count_short: int | None = None
    segments: list[HeatmapCell] = []

    @cached_property
    def by_segment(self) -> dict[int, HeatmapCell]:
        # A heatmap refresh asks every row for every cohort: a scan of the row each time adds up.
        return {c.segment_id: c for c in reversed(self.segments)}  # the first of a repeated id wins

    def cell(self, segment_id: int) -> HeatmapCell | None:
        return self.by_segment.get(segment_id)


class Heatmap(ApiModel):
    heatmap: list[HeatmapRow]
    unfiltered: Unfiltered = False


# --- liquidation risk (offset) --------------------------------------------------------------


class RiskItem(ApiModel):
    coin: ApiName
    total_value: float
    risk_value: float
    percent_risk: float


class LiquidationRiskPage(ApiModel):
    total_count: int
    items: list[RiskItem]


# --- all-cohort bias, last ~72 h (export) -----------------------------------------------------


class CohortBiasSeries(ApiModel):
    segment: Segment
    history: Columnar
    snapshots: list[BiasSnapshot] = Field(default=[], exclude=True)  # derived

    @model_validator(mode="before")
    @classmethod
    def _columns_to_rows(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and "snapshots" not in raw and isinstance(raw.get("history"), dict):
            h = raw["history"]
            if isinstance(h.get("columns"), list) and isinstance(h.get("data"), list):
                rows = rows_by_column(h["columns"], h["data"], BiasSnapshot)
                raw = {**raw, "snapshots": rows}
        return raw


class SegmentsBias24h(ApiModel):
    data: list[CohortBiasSeries]


# --- state status ---------------------------------------------------------------------------


class StateStatus(ApiModel):
    last_update: ApiTime | None = None
    next_update: ApiTime | None = None
    next_update_threshold: ApiTime | None = None


# --- rows: a bad one is dropped, not the whole answer ------------------------------------------


class RowTolerant:
    """Validates JSON as `model` (a model class or a TypeAdapter) does, except that a row that
    fails is dropped rather than the answer: one unknown `side` must not cost a 1000-row page,
    nor one unknown `category` the legend (and with it the dashboard).

    Only an answer that failed validation pays for this; a clean one is parsed as before.
    `dropped(count, first_error)` hears of each answer that lost rows.
    """

    def __init__(self, model: Any, dropped: Callable[[int, ErrorDetails], None]) -> None:
        if isinstance(model, TypeAdapter):
            self._from_json, self._from_python = model.validate_json, model.validate_python
        else:
            self._from_json, self._from_python = model.model_validate_json, model.model_validate
        self._dropped = dropped

    def model_validate_json(self, content: bytes) -> Any:
        try:
            return self._from_json(content)
        except ValidationError as exc:
            rejected = exc
        errors = rejected.errors(include_url=False)
        if errors[0]["type"] == "json_invalid":
            raise rejected
        raw, count = json.loads(content), 0
        while dropped := drop_bad_rows(raw, errors):
            count += dropped
            try:
                answer = self._from_python(raw)
            except ValidationError as exc:
                errors = exc.errors(include_url=False)
                continue
            self._dropped(count, rejected.errors(include_url=False)[0])
            return answer
        raise rejected  # an error outside every row: the answer as a whole is bad


def drop_bad_rows(raw: Any, errors: list[ErrorDetails]) -> int:
    """Remove from `raw` (parsed JSON) each row an error is in; how many went (0, with nothing
    removed, when an error is outside every row).

    A row is an object in a list, the innermost one around the error: a bad heatmap cell goes
    and its coin stays; a bad value in a position's `profile.segments` takes the position.
    """
    doomed: dict[int, tuple[list[Any], set[int]]] = {}
    for error in errors:
        row = _row_around(raw, error["loc"])
        if row is None:
            return 0
        rows, index = row
        doomed.setdefault(id(rows), (rows, set()))[1].add(index)
    for rows, indexes in doomed.values():
        rows[:] = [item for i, item in enumerate(rows) if i not in indexes]
    return sum(len(indexes) for _, indexes in doomed.values())


def _row_around(raw: Any, loc: tuple[int | str, ...]) -> tuple[list[Any], int] | None:
    """(list, index) of the innermost object in a list on the way to `loc`, if any."""
    row, node = None, raw
    for key in loc:
        if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            if isinstance(node[key], dict):
                row = (node, key)
            node = node[key]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            break
    return row
