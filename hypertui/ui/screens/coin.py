"""A coin's view: its positions by cohort, each cohort's history, one cohort's per-update series.

Pushed over the dashboard. Three endpoints: position-breakdown-by-cohort (the table) and
segment-metrics (12-hourly, ~7 d, every cohort at once) load together; position-metrics for
the cohort under the cursor loads when the cursor rests there, and is kept per cohort, so
moving back is free; its newest row's unrealised PnL and funding head the series. A failure is
shown on one line; the last data stays on screen.

Kept between openings: opened again on the coin it holds, it shows what it holds in its first
frame, and asks again only if the API's update it is of may have passed (state/status, as last
read, names another or its next update is due). Widgets are repainted only where their data
changed, one-line texts without a layout: answers that come together are one frame, and the
same answers again repaint nothing.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Static

from hypertui.api.client import HyperTrackerClient
from hypertui.api.errors import error_line
from hypertui.api.models import PositionBreakdown, PositionMetric, Segment, SegmentMetrics
from hypertui.api.position_age import POSITION_AGES, PositionAge
from hypertui.monitor import export
from hypertui.monitor.coin_rows import (
    SERIES,
    BreakdownLine,
    MetricTotals,
    Points,
    breakdown_lines,
    metric_series,
    metric_totals,
    position_metric_series,
)
from hypertui.monitor.export import Table
from hypertui.ui.screens.drilldown import Clock, DrillDownScreen, Part, drill_down_bindings, reload_binding, retext, status_line
from hypertui.ui.screens.positions import cohort_label
from hypertui.ui.signals import Signals, signals_of
from hypertui.ui.widgets.chart import Chart
from hypertui.ui.widgets.footer import Footer
from hypertui.ui.widgets.synced_table import Column, Row, SyncedTable

WINDOWS: dict[str, timedelta] = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
ORIGIN = {"long": 0.5}  # series drawn as bars about a neutral value: a long share about 50 %
SERIES_DELAY = 0.3  # seconds the cursor rests on a cohort before its series is asked for (quota)
COLUMNS: list[tuple[str, str, int]] = [  # key, label, width; all but the cohort right-aligned
    ("cohort", "Cohort", 17),
    ("positions", "Positions", 9),
    ("positions_change", "Δ 24h", 6),
    ("value", "Value", 7),
    ("value_change", "Δ 24h", 7),  # only when the server sends the value 24 h ago
    ("long", "Long", 7),
    ("near", "Near liq.", 9),
    ("near_share", "% near", 6),
]
WIDTH = {key: width for key, _, width in COLUMNS}


def table_columns(with_value_change: bool) -> list[Column]:
    return [
        (key, label if key == "cohort" else Text(label.rjust(width)), width)
        for key, label, width in COLUMNS
        if with_value_change or key != "value_change"
    ]


def _right(text: str, key: str, style: str = "") -> Text:
    return Text(text.rjust(WIDTH[key]), style=style)


def breakdown_row(line: BreakdownLine, with_value_change: bool, signals: Signals) -> Row:
    cells = {
        "cohort": Text(line.cohort, no_wrap=True, overflow="ellipsis"),
        "positions": _right(line.positions, "positions"),
        "positions_change": _right(line.positions_change, "positions_change", signals.sign(line.positions_trend)),
        "value": _right(line.value, "value"),
        "value_change": _right(line.value_change, "value_change", signals.sign(line.value_trend)),
        "long": Text.assemble(line.long_share.rjust(WIDTH["long"] - 2), " ", (line.lean, signals.mark(line.lean))),
        "near": _right(line.near_liq, "near"),
        "near_share": _right(line.near_liq_share, "near_share", signals.risk(line.near_level)),
    }
    return str(line.segment_id), [cells[key] for key, _, _ in table_columns(with_value_change)]


def _totals_parts(totals: MetricTotals, window: str, signals: Signals) -> list[tuple[str, str]]:
    """"  uPnL +$1.2M (-$300K over 7d) · funding -$31K", each figure coloured by its sign."""
    parts = [("  uPnL ", "dim"), (totals.pnl, f"bold {signals.sign(totals.pnl_sign)}")]
    if totals.pnl_change:
        parts += [(" (", "dim"), (totals.pnl_change, signals.sign(totals.pnl_change_sign)), (f" over {window})", "dim")]
    return [*parts, (" · funding ", "dim"), (totals.funding, signals.sign(totals.funding_sign))]


class CoinScreen(DrillDownScreen):
    BINDINGS = drill_down_bindings(
        "coin",
        Binding("p", "positions", "Positions", id="coin.positions"),
        Binding("f", "cycle_age", "Position age", id="coin.age"),
        Binding("t", "cycle_window", "Series window", id="coin.window"),
        reload_binding("coin"),
    )

    def __init__(self, client: HyperTrackerClient, clock: Clock, coin: str, cohorts: list[Segment] | None) -> None:
        super().__init__(client, clock, id="coin")
        self.coin = coin
        self.cohorts = cohorts
        self.age: PositionAge = "all"
        self.window = "7d"
        self.breakdown: PositionBreakdown | None = None
        self.metrics: SegmentMetrics | None = None
        self.series: dict[tuple[int, str, str], list[PositionMetric]] = {}  # (cohort, window, age) -> rows
        self.unfiltered_series: set[tuple[int, str, str]] = set()  # series the server sent for every age
        self.stale_series: set[tuple[int, str, str]] = set()  # held from another update maybe: shown, asked again
        self.errors: dict[str, str] = {}  # part -> one-line error of its last attempt
        self.fetching = False
        self.series_loading: tuple[int, str, str] | None = None
        # The cohort the cursor opens on, set by the opener before each opening (the dashboard's
        # heatmap cell or selected cohort; None: the first row); placed once the breakdown lists it.
        self.start_cohort: int | None = None
        # The coin, position age and API update (None: not known) the breakdown and metrics held
        # are of, both loaded.
        self.held_for: tuple[str, str, datetime | None] | None = None
        self._mounted = False  # answers that come in before on_mount are shown by it

    def compose(self) -> ComposeResult:
        # The breakdown and metrics need nothing from the screen: asked for now, they travel
        # while it is built and styled; on_mount shows them if they are already in.
        self._request()
        yield Static(id="coin-crumb")
        yield Static(id="coin-filters")
        yield SyncedTable(id="coin-table")
        yield Static(id="metrics-title", classes="coin-charts-title")
        with Horizontal(id="metrics-charts", classes="coin-charts"):
            for key, title, f in SERIES:
                yield Chart(title, f, origin=ORIGIN.get(key), id=f"metrics-{key}", classes="coin-chart")
        yield Static(id="series-title", classes="coin-charts-title")
        with Horizontal(id="series-charts", classes="coin-charts"):
            for key, title, f in SERIES:
                yield Chart(title, f, origin=ORIGIN.get(key), id=f"series-{key}", classes="coin-chart")
        yield Static(id="coin-status")
        yield Footer()

    def refill(self) -> None:
        """Afresh for `coin` (set before), as a new screen: its filters, and a load. What it holds
        of this coin stays on screen until the answers replace it, and is not asked again while
        the update it is of is current. Drawn now, before the screen is pushed: what does not
        change the layout is then in the resume's full frame, not in a frame of its own."""
        self.workers.cancel_group(self, "series")
        self.age, self.window = "all", "7d"
        self.errors.clear()
        self.series_loading = None
        held = self.held_for
        if held is None or held[:2] != (self.coin, self.age):
            held = None
            self.breakdown = self.metrics = None
            self.series.clear()
            self.unfiltered_series.clear()
        if held is None or not self.update_is_current(held[2]):
            self.stale_series = set(self.series)
            self._request()
        self._show_crumb()
        self.table.move_cursor(row=0)
        self._show()
        self.load_series()  # the cursor cohort's, held or asked

    def _show_crumb(self) -> None:
        retext(self.query_one("#coin-crumb", Static), Text.assemble(("Dashboard", "dim"), " › ", (self.coin, "bold")))

    def on_mount(self) -> None:
        self._show_crumb()
        table = self.table
        table.cursor_type = "row"
        table.set_columns(table_columns(False))
        table.focus()
        self._mounted = True
        self._show()
        self.load_series()  # no-op until the breakdown is in

    @property
    def table(self) -> SyncedTable:
        return self.query_one("#coin-table", SyncedTable)

    @property
    def cohort_id(self) -> int | None:
        """The cohort under the table's cursor."""
        key = self.table.cursor_key
        return int(key) if key is not None and key.isdigit() else None

    # --- fetching ----------------------------------------------------------------------------

    def load(self) -> None:
        """(Re)fetch the breakdown and every cohort's metrics; then the cursor cohort's series."""
        self._request()
        self._show()

    def _request(self) -> None:
        self.fetching = True
        self.held_for = None
        self._load(self.age)

    @work(exclusive=True, group="coin", exit_on_error=False)  # a new age cancels the old load
    async def _load(self, age: str) -> None:
        asked_in = self.api_update()
        breakdown, metrics = await asyncio.gather(
            self.client.position_breakdown(self.coin, age), self.client.segment_metrics(self.coin, age),
            return_exceptions=True,
        )
        if not isinstance(breakdown, BaseException) and not isinstance(metrics, BaseException):
            self.held_for = self.coin, age, self.answered_in(asked_in)
        for part, result in (("breakdown", breakdown), ("metrics", metrics)):
            if isinstance(result, BaseException):
                self.errors[part] = error_line(result)
            else:
                self.errors.pop(part, None)
                setattr(self, part, result)
        self.fetching = False
        self._show()
        self.load_series()

    def load_series(self, delay: float = 0.0) -> None:
        """Fetch the cursor cohort's position-metrics, after `delay` seconds unless the cursor moves
        on (each cohort passed over would cost a request), unless held or already on their way."""
        sid = self.cohort_id
        if sid is None or not self.is_attached:
            return
        key = (sid, self.window, self.age)
        if (key in self.series and key not in self.stale_series) or key == self.series_loading:
            self._show_series()
            return
        self.series_loading = key
        self._show_series()
        self._load_series(key, delay)

    @work(exclusive=True, group="series", exit_on_error=False)  # the cursor's cohort only
    async def _load_series(self, key: tuple[int, str, str], delay: float) -> None:
        sid, window, age = key
        rows: list[PositionMetric] = []
        unfiltered = False
        if delay:
            await asyncio.sleep(delay)  # cancelled here if the cursor moves on
        try:
            pages = self.client.iter_position_metrics(self.coin, sid, start=self.clock() - WINDOWS[window], recency=age)
            async for page in pages:
                rows.extend(page.metrics)
                unfiltered |= page.unfiltered
        except Exception as exc:  # noqa: BLE001 - shown on the status line
            self.errors["series"] = error_line(exc)
        else:
            self.errors.pop("series", None)
            self.series[key] = rows
            self.stale_series.discard(key)
            # Kept in step with the rows held: a reload that the server now filters says so no more.
            (self.unfiltered_series.add if unfiltered else self.unfiltered_series.discard)(key)
        finally:
            if self.series_loading == key:
                self.series_loading = None
        self._show()

    # --- showing -----------------------------------------------------------------------------

    def _show(self) -> None:
        if not (self._mounted and self.is_attached):
            return
        self._show_filters()
        items = self.breakdown.data if self.breakdown else []
        with_change = any(c.past_total_position_value for c in items)
        self.table.set_columns(table_columns(with_change))
        signals = signals_of(self)
        self.table.sync(
            [breakdown_row(line, with_change, signals) for line in breakdown_lines(self.breakdown)] if self.breakdown else []
        )
        self._cursor_to_start()
        self._show_series()
        retext(self.query_one("#coin-status", Static), self.status_text())

    def _cursor_to_start(self) -> None:
        """The cursor onto `start_cohort` once a breakdown is in (the first row stays if the cohort
        holds none of the coin); from then on it is the user's to move."""
        sid = self.start_cohort
        if sid is None or self.breakdown is None:
            return
        self.start_cohort = None
        keys = self.table.row_keys
        if str(sid) in keys:
            self.table.move_cursor(row=keys.index(str(sid)))

    def _show_filters(self) -> None:
        """The line naming the position age and the series window on screen, and what the server
        could not filter by."""
        filters = Text.assemble(
            " position age ", (self.age, "bold"), " ", ("(f)", "dim"),
            " · cohort series over ", (self.window, "bold"), " ", ("(t)", "dim"),
            no_wrap=True, overflow="ellipsis",
        )
        if any(answer is not None and answer.unfiltered for answer in (self.breakdown, self.metrics)):
            filters.append(f" · {self.age} unavailable on this server: every position shown", "bold yellow")
        if self.breakdown is not None and self.breakdown.timestamp is not None:
            filters.append(f" · as of {self.breakdown.timestamp:%Y-%m-%d %H:%M} UTC", "dim")
        retext(self.query_one("#coin-filters", Static), filters)

    def _show_series(self) -> None:
        sid = self.cohort_id
        cohort = cohort_label(self.cohorts, sid) if sid is not None else "—"
        rows = next((c.rows for c in self.metrics.data if c.segment.id == sid), []) if self.metrics else []
        self._fill("metrics", metric_series(rows), loading=self.fetching)
        retext(
            self.query_one("#metrics-title", Static),
            Text.assemble(" ", (cohort, "bold"), f" on {self.coin}", ("  12-hourly, last ~7 d (segment-metrics)", "dim"),
                          no_wrap=True, overflow="ellipsis")
        )
        key = (sid, self.window, self.age) if sid is not None else None
        held = self.series.get(key) if key else None
        self._fill("series", position_metric_series(held or []), loading=self.fetching or key == self.series_loading)
        note = "  ⋯ loading…" if key is not None and key == self.series_loading else ""
        if key in self.unfiltered_series:
            note += f"  {self.age} unavailable on this server: every position"
        totals = metric_totals(held or [])
        retext(
            self.query_one("#series-title", Static),
            Text.assemble(" ", (cohort, "bold"), f" on {self.coin}",
                          *(_totals_parts(totals, self.window, signals_of(self)) if totals else ()),
                          (f"  every update, last {self.window} (position-metrics)", "dim"), (note, "dim"),
                          no_wrap=True, overflow="ellipsis")
        )

    def _fill(self, prefix: str, series: dict[str, Points], *, loading: bool) -> None:
        for key, _, _ in SERIES:
            points = series[key]
            self.query_one(f"#{prefix}-{key}", Chart).show([v for _, v in points], times=[t for t, _ in points], loading=loading)

    def status_text(self) -> Text:
        n = len(self.breakdown.data) if self.breakdown else 0
        parts: list[Part] = [
            f" {n} cohort{'' if n == 1 else 's'} hold {self.coin} ·" if self.breakdown else "",
            (" enter or p: positions of the cohort", "dim"),
        ]
        newest_error = next(reversed(self.errors.values()), None)
        return status_line(parts, loading=self.fetching, error=newest_error)

    def on_data_table_row_highlighted(self, event: SyncedTable.RowHighlighted) -> None:
        event.stop()
        self.load_series(SERIES_DELAY)

    def on_data_table_row_selected(self, event: SyncedTable.RowSelected) -> None:
        event.stop()
        self.action_positions()

    # --- actions -----------------------------------------------------------------------------

    def action_positions(self) -> None:
        sid = self.cohort_id
        if sid is not None:  # opened on the age the breakdown's counts are of
            self.open_positions(self.coin, sid, self._covered_age(self.breakdown is not None and self.breakdown.unfiltered))

    def action_cycle_age(self) -> None:
        self.age = POSITION_AGES[(POSITION_AGES.index(self.age) + 1) % len(POSITION_AGES)]
        self.load()

    def action_cycle_window(self) -> None:
        names = list(WINDOWS)
        self.window = names[(names.index(self.window) + 1) % len(names)]
        self._show_filters()  # a window held is shown without a load, whose answer would say it
        self.load_series()

    def action_reload(self) -> None:
        self.series.clear()
        self.unfiltered_series.clear()
        self.load()

    def export_tables(self) -> list[Table]:
        tables = []
        if self.breakdown is not None:
            breakdown = self.breakdown
            age = self._covered_age(breakdown.unfiltered)
            tables.append(Table(f"coin {self.coin} breakdown {age}", lambda: export.breakdown_records(breakdown)))
        if self.metrics is not None:
            metrics = self.metrics
            age = self._covered_age(metrics.unfiltered)
            tables.append(Table(f"coin {self.coin} segment-metrics {age}", lambda: export.segment_metric_records(metrics)))
        sid = self.cohort_id
        key = (sid, self.window, self.age) if sid is not None else None
        held = self.series.get(key) if key is not None else None
        if held is not None:
            age = self._covered_age(key in self.unfiltered_series)
            name = f"coin {self.coin} {cohort_label(self.cohorts, sid)} position-metrics {self.window} {age}"
            tables.append(Table(name, lambda: [export.api_json(m) for m in held]))
        return tables

    def _covered_age(self, unfiltered: bool) -> str:
        """The position age data covers: "all" where the server could not filter by the one asked."""
        return "all" if unfiltered else self.age
