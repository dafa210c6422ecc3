"""A cohort's history (GET /segments/{id}/bias-history): perp bias and exposure over a window.

Pushed over the dashboard, which stays alive underneath. The snapshots (2-hourly, newest first,
the newest one live) are fetched in a worker, paging with `iter_bias_history` from
`now - window`; a failure is shown on one line and the last data stays on screen.

Kept between openings: opened again (for any cohort) it starts from the default window and
recency. Closed, it keeps the snapshots of its cohort's default window (a few hundred at most)
and drops any other; opened again on that cohort while the API's update they are of is current
(state/status, as last read, names it and its next update is not due), it shows them in its first
frame and asks nothing (a request costs a token); otherwise it starts empty and asks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Static

from hypertui.api.client import HyperTrackerClient
from hypertui.api.errors import error_line
from hypertui.api.models import BiasSnapshot
from hypertui.api.position_age import POSITION_AGES, PositionAge
from hypertui.monitor import format as fmt
from hypertui.monitor.export import Table, snapshot_json
from hypertui.ui.screens.drilldown import Clock, DrillDownScreen, drill_down_bindings, reload_binding, status_line
from hypertui.ui.signals import Signals, signals_of
from hypertui.ui.widgets.chart import Chart
from hypertui.ui.widgets.footer import Footer
from hypertui.ui.widgets.synced_table import Column, Row, SyncedTable

WINDOWS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "60d": timedelta(days=60),
}
DEFAULT: tuple[str, PositionAge] = ("7d", "all")  # the window and recency a screen opens on
COLUMNS: list[Column] = [
    ("time", "Time (UTC)", 16),
    *((key, Text(label.rjust(width)), width) for key, label, width in (  # numbers: right-aligned
        ("bias", "Perp bias", 9),
        ("exposure", "Exposure ×", 10),
        ("open", "Open value", 10),
        ("long", "Long", 10),
        ("short", "Short", 10),
        ("equity", "Active equity", 13),
    )),
]


WIDTH = {key: width for key, _, width in COLUMNS}


def _right(text: str, column: str) -> Text:
    return Text(text.rjust(WIDTH[column]))


def _money(value: float | None, column: str) -> Text:
    return _right(fmt.money(value), column)


def snapshot_row(s: BiasSnapshot, signals: Signals) -> Row:
    bias = _right(fmt.signed(s.bias, 4), "bias")
    if s.bias is not None:
        bias.stylize(signals.sign(s.bias))
    exposure = _right(fmt.ratio(s.exposure_ratio, 3) + ("×" if s.exposure_ratio is not None else ""), "exposure")
    return (
        s.timestamp.isoformat(),
        [
            Text(s.timestamp.strftime("%Y-%m-%d %H:%M")),
            bias,
            exposure,
            _money(s.open_value, "open"),
            _money(s.open_long_value, "long"),
            _money(s.open_short_value, "short"),
            _money(s.active_perp_equity, "equity"),
        ],
    )


class HistoryScreen(DrillDownScreen):
    BINDINGS = drill_down_bindings(
        "history",
        Binding("1", "window('24h')", "24h", show=False, id="history.24h"),
        Binding("2", "window('7d')", "7d", show=False, id="history.7d"),
        Binding("3", "window('30d')", "30d", show=False, id="history.30d"),
        Binding("4", "window('60d')", "60d", show=False, id="history.60d"),
        Binding("t", "cycle_window", "Window", id="history.window"),
        Binding("f", "cycle_recency", "Position recency", id="history.recency"),
        reload_binding("history"),
    )

    def __init__(self, client: HyperTrackerClient, clock: Clock, segment_id: int, cohort: str) -> None:
        super().__init__(client, clock, id="history")
        self.segment_id = segment_id
        self.cohort = cohort
        self.window, self.recency = DEFAULT
        self.snapshots: list[BiasSnapshot] = []  # newest first, the last good load
        self.error: str | None = None
        self.fetching = False
        self.started: datetime | None = None  # `start` of the last request
        # The cohort, window, recency and API update (None: not known) the snapshots held are of,
        # loaded; None while a load is on its way or failed.
        self.held_for: tuple[int, str, str, datetime | None] | None = None
        self._mounted = False  # an answer that comes in before on_mount is shown by it

    def refill(self) -> None:
        """Afresh for `segment_id` and `cohort` (set before): a new screen's window and recency,
        its cursor and scroll, and a load, unless it holds this cohort's snapshots of that window
        and recency in the API's current update (then they are shown as they are, asked for by
        nobody). Drawn now, before the screen is pushed: in the resume's full frame."""
        self.workers.cancel_group(self, "history")
        self.window, self.recency = DEFAULT
        held = self.held_for
        if held is None or held[:3] != (self.segment_id, *DEFAULT) or not self.update_is_current(held[3]):
            self._drop()
            held = None
        self._show_crumb()
        self.table.move_cursor(row=0, scroll=False)
        self.table.scroll_home(animate=False, immediate=True)
        if held is None:
            self.load()
        else:
            self._show()

    def release(self) -> None:
        """Closed: the snapshots of the cohort's default window stay for a reopening in the same
        update; any others go (a load cancelled on its way held none)."""
        self.workers.cancel_group(self, "history")
        if self.held_for is None or self.held_for[1:3] != DEFAULT:
            self._drop()
            self._show()  # the table's rows and the charts' points go too

    def _drop(self) -> None:
        self.snapshots, self.error, self.fetching, self.held_for = [], None, False, None

    def compose(self) -> ComposeResult:
        # The snapshots need nothing from the screen: asked for now, they travel while it is
        # built and styled.
        self._request()
        yield Static(id="history-crumb")
        yield Static(id="history-filters")
        with Horizontal(id="history-charts"):
            yield Chart("Perp bias", lambda v: fmt.signed(v, 4), origin=0.0, id="bias-chart", classes="history-chart")
            yield Chart("Exposure ratio", lambda v: fmt.ratio(v, 3) + "×", id="exposure-chart", classes="history-chart")
        yield SyncedTable(id="history-table")
        yield Static(id="history-cursor")
        yield Static(id="history-status")
        yield Footer()

    def _show_crumb(self) -> None:
        crumb = Text.assemble(("Dashboard", "dim"), " › ", self.cohort, " › ", ("history", "bold"))
        self.query_one("#history-crumb", Static).update(crumb)

    def on_mount(self) -> None:
        self._show_crumb()
        table = self.table
        table.cursor_type = "row"
        table.set_columns(COLUMNS)
        table.focus()
        self._mounted = True
        self._show()
        self.app.theme_changed_signal.subscribe(self, lambda _: self._show())  # recolour the bias

    @property
    def table(self) -> SyncedTable:
        return self.query_one("#history-table", SyncedTable)

    # --- fetching ----------------------------------------------------------------------------

    def load(self) -> None:
        """(Re)fetch the window in a worker; an older load still on its way is dropped."""
        self._request()
        self._show()

    def _request(self) -> None:
        self.started = self.clock() - WINDOWS[self.window]
        self.fetching = True
        self.held_for = None
        self._load(self.segment_id, self.started, self.window, self.recency)

    @work(exclusive=True, group="history", exit_on_error=False)  # a new window or recency cancels the old load
    async def _load(self, segment_id: int, start: datetime, window: str, recency: str) -> None:
        asked_in = self.api_update()
        rows: list[BiasSnapshot] = []
        try:
            async for page in self.client.iter_bias_history(segment_id, start=start, recency=recency):
                rows.extend(page.snapshots)
        except Exception as exc:  # noqa: BLE001 - shown on the status line; the last data stays
            self.error = error_line(exc)
            self.fetching = False
            self._show()
            return
        rows.sort(key=lambda s: s.timestamp, reverse=True)
        self.snapshots = rows
        self.held_for = segment_id, window, recency, self.answered_in(asked_in)
        self.error = None
        self.fetching = False
        self._show()

    # --- showing -----------------------------------------------------------------------------

    def _show(self) -> None:
        if not (self._mounted and self.is_attached):
            return
        filters = Text.assemble(
            " window ", (self.window, "bold"), " ", ("(1 2 3 4 / t)", "dim"),
            " · positions opened ", (self.recency, "bold"), " ", ("(f)", "dim"),
        )
        self.query_one("#history-filters", Static).update(filters)
        oldest_first = list(reversed(self.snapshots))
        for chart, field in (("#bias-chart", "bias"), ("#exposure-chart", "exposure_ratio")):
            known = [s for s in oldest_first if getattr(s, field) is not None]
            values, times = [getattr(s, field) for s in known], [s.timestamp for s in known]
            self.query_one(chart, Chart).show(values, times=times, loading=self.fetching)
        self.table.sync([snapshot_row(s, signals_of(self)) for s in self.snapshots])
        self._show_cursor()
        self.query_one("#history-status", Static).update(self.status_text())

    def status_text(self) -> Text:
        n = len(self.snapshots)
        count = f" {fmt.count(n)} snapshot{'' if n == 1 else 's'}"
        if n:
            count += f" · {self.snapshots[-1].timestamp:%Y-%m-%d %H:%M} → {self.snapshots[0].timestamp:%Y-%m-%d %H:%M} UTC"
        return status_line([count], loading=self.fetching, error=self.error)

    def cursor_snapshot(self) -> BiasSnapshot | None:
        row = self.table.cursor_row
        return self.snapshots[row] if 0 <= row < len(self.snapshots) else None

    def _show_cursor(self) -> None:
        s = self.cursor_snapshot()
        line = Text(" ")
        if s is not None:
            line = Text.assemble(
                " at ", (f"{s.timestamp:%Y-%m-%d %H:%M}", "bold"),
                ": bias ", (fmt.signed(s.bias, 4), "bold"),
                " · exposure ", (fmt.ratio(s.exposure_ratio, 3), "bold"),
                " · open ", fmt.money(s.open_value),
                " (long ", fmt.money(s.open_long_value), ", short ", fmt.money(s.open_short_value), ")",
                " · active equity ", fmt.money(s.active_perp_equity),
                no_wrap=True, overflow="ellipsis",
            )
        self.query_one("#history-cursor", Static).update(line)

    def on_data_table_row_highlighted(self, event: SyncedTable.RowHighlighted) -> None:
        event.stop()
        self._show_cursor()

    def on_data_table_row_selected(self, event: SyncedTable.RowSelected) -> None:
        event.stop()  # not the dashboard's: enter here opens nothing

    # --- actions -----------------------------------------------------------------------------

    def action_window(self, window: str) -> None:
        if window != self.window:
            self.window = window
            self.load()

    def action_cycle_window(self) -> None:
        names = list(WINDOWS)
        self.window = names[(names.index(self.window) + 1) % len(names)]
        self.load()

    def action_cycle_recency(self) -> None:
        self.recency = POSITION_AGES[(POSITION_AGES.index(self.recency) + 1) % len(POSITION_AGES)]
        self.load()

    def action_reload(self) -> None:
        self.load()

    def export_tables(self) -> list[Table]:
        rows = list(self.snapshots)
        name = f"history {self.cohort} {self.window} opened-{self.recency}"
        return [Table(name, lambda: [snapshot_json(s) for s in rows])] if rows else []
