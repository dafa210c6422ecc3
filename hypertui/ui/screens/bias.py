"""Every cohort's perp bias over the last ~72 h (GET /exports/segments-bias-charts-data-24h).

The export's bias is of positions opened within 24 h, not of every open position (the
dashboard's perp bias): it is labelled so everywhere here. One strip per cohort: its name, last
value, min and max, and a SignedPlot; size cohorts by range, then pnl cohorts. Every strip is
drawn on one scale, ±the largest |bias| of any cohort, over one time span, ticked at the bottom,
so strips compare by height. Pushed over the dashboard; the export loads in a worker and a
failure is shown on one line while the last data stays on screen. Kept between openings: opened
again in the API update its export is of, it shows it and asks nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from hypertui.api.client import HyperTrackerClient
from hypertui.api.errors import error_line
from hypertui.api.models import SegmentsBias24h
from hypertui.monitor import export
from hypertui.monitor.coin_rows import BiasStrip, bias_strips
from hypertui.monitor.export import Table
from hypertui.monitor.scale import scale_label, symmetric_bound
from hypertui.ui.screens.drilldown import Clock, DrillDownScreen, Part, drill_down_bindings, reload_binding, retext, status_line
from hypertui.ui.widgets.chart import SignedPlot
from hypertui.ui.widgets.footer import Footer

AXIS_TITLE = {"size": "Size cohorts (perp equity)", "pnl": "PnL cohorts (all-time perp PnL)"}
WHAT = "perp bias of positions opened within 24 h, not the dashboard's (of every open position)"
NAME_WIDTH = 18
LABEL_WIDTH = 51  # the widest strip_label: the plots start in one column


def strip_label(strip: BiasStrip) -> Text:
    return Text.assemble(
        (strip.cohort.ljust(NAME_WIDTH), "bold"),
        ("last ", "dim"), (strip.last.rjust(5), "bold"),
        ("  min ", "dim"), strip.low.rjust(5),
        ("  max ", "dim"), strip.high.rjust(5),
        no_wrap=True, overflow="ellipsis",
    )


class BiasOverviewScreen(DrillDownScreen):
    BINDINGS = drill_down_bindings("bias", reload_binding("bias"))
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]  # noqa: RUF012 - Textual types it `ClassVar[...] | None`, which mypy reads as an instance variable

    def __init__(self, client: HyperTrackerClient, clock: Clock) -> None:
        super().__init__(client, clock, id="bias")
        self.data: SegmentsBias24h | None = None
        self.data_update: datetime | None = None  # the API update `data` is of (None: not known)
        self.error: str | None = None
        self.fetching = False
        self._mounted = False  # an answer that comes in before on_mount is shown by it

    def compose(self) -> ComposeResult:
        # The series need nothing from the screen: asked for now, they travel while it is built
        # and styled.
        self._request()
        yield Static(id="bias-crumb")
        yield Static(id="bias-about")
        yield VerticalScroll(id="bias-strips")
        yield SignedPlot(ticks=True, label_width=LABEL_WIDTH, id="bias-ticks")  # under the strips, however they scroll
        yield Static(id="bias-status")
        yield Footer()

    async def on_mount(self) -> None:
        crumb = Text.assemble(("Dashboard", "dim"), " › ", ("24h-opened bias of every cohort, last ~72 h", "bold"))
        self.query_one("#bias-crumb", Static).update(crumb)
        self.query_one("#bias-strips").focus()
        self._mounted = True
        if self.data is not None:
            await self._show_strips()
        self._show_status()

    def load(self) -> None:
        self._request()
        self._show_status()

    def refill(self) -> None:
        """The strips of the last opening stay, scrolled to the top as a new screen's; asked again
        unless they are of the current update (then the new answer replaces them, repainting
        only what changed)."""
        self.query_one("#bias-strips", VerticalScroll).scroll_home(animate=False, immediate=True)
        if self.data is None or not self.update_is_current(self.data_update):
            self.load()

    def _request(self) -> None:
        self.fetching = True
        self.data_update = None
        self._load()

    @work(exclusive=True, group="bias", exit_on_error=False)
    async def _load(self) -> None:
        asked_in = self.api_update()
        try:
            data = await self.client.segments_bias_24h()
        except Exception as exc:  # noqa: BLE001 - shown on the status line; the last data stays
            self.error = error_line(exc)
        else:
            self.data, self.error, self.data_update = data, None, self.answered_in(asked_in)
            if self._mounted:
                await self._show_strips()
        self.fetching = False
        self._show_status()

    @property
    def strips(self) -> list[BiasStrip]:
        return bias_strips(self.data) if self.data is not None else []

    def scale(self, strips: list[BiasStrip]) -> tuple[float, tuple[datetime, datetime] | None]:
        """The bound and time span every strip is drawn on: ±the largest |bias| of any cohort (perp
        bias exceeds ±1 with leverage, so not a fixed ±1), from the first snapshot to the last."""
        times = [t for s in strips for t in s.times]
        return symmetric_bound(v for s in strips for v in s.values), (min(times), max(times)) if times else None

    async def _show_strips(self) -> None:
        """Update the strips in place; rebuild them first only when the cohorts changed."""
        box = self.query_one("#bias-strips", VerticalScroll)
        strips = self.strips
        ids = [f"bias-{s.segment_id}" for s in strips]
        if [w.id for w in box.query(".bias-strip")] != ids:
            widgets: list[Any] = []
            axis = None
            for strip, widget_id in zip(strips, ids, strict=True):
                if strip.category != axis:
                    axis = strip.category
                    widgets.append(Static(Text(AXIS_TITLE.get(axis, axis), style="underline"), classes="bias-axis"))
                widgets.append(SignedPlot(label_width=LABEL_WIDTH, id=widget_id, classes="bias-strip"))
            with self.app.batch_update():
                await box.remove_children()
                await box.mount_all(widgets)
        bound, span = self.scale(strips)
        for strip, widget_id in zip(strips, ids, strict=True):
            points = list(zip(strip.times, strip.values, strict=True))
            box.query_one(f"#{widget_id}", SignedPlot).show(points, bound=bound, span=span, label=strip_label(strip))
        self.query_one("#bias-ticks", SignedPlot).show([], bound=bound, span=span)

    def _show_status(self) -> None:
        if not (self._mounted and self.is_attached):
            return
        series = self.data.data if self.data else []
        times = sorted(s.timestamp for one in series for s in one.snapshots)
        about = Text(f" {WHAT}", style="dim", no_wrap=True, overflow="ellipsis")
        if times:
            bound = scale_label(self.scale(self.strips)[0]).lstrip("+")
            about.append(f" · one scale ±{bound}, ▔ = 0 · {times[0]:%Y-%m-%d %H:%M} → {times[-1]:%m-%d %H:%M} UTC")
        retext(self.query_one("#bias-about", Static), about)
        n = len(series)
        parts: list[Part] = [f" {n} cohort{'' if n == 1 else 's'}"]
        if series:
            parts.append(f" · up to {max(len(one.snapshots) for one in series)} snapshots each")
        retext(self.query_one("#bias-status", Static), status_line(parts, loading=self.fetching, error=self.error))

    def action_reload(self) -> None:
        self.load()

    def export_tables(self) -> list[Table]:
        data = self.data
        return [] if data is None else [Table("bias-72h every cohort", lambda: export.bias_24h_records(data))]
