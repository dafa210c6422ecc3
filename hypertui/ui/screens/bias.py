"""Every cohort's perp bias over the last ~72 h (GET /exports/segments-bias-charts-data-24h).

One strip per cohort: its name, last value, min and max, and a Sparkline; size cohorts by
range, then pnl cohorts. Pushed over the dashboard; the export loads in a worker and a failure
is shown on one line while the last data stays on screen.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from hypertui.api.errors import error_line
from hypertui.api.models import SegmentsBias24h
from hypertui.monitor import export
from hypertui.monitor.coin_rows import BiasStrip, bias_strips
from hypertui.monitor.export import Table
from hypertui.ui.export_key import export_tables
from hypertui.ui.widgets.chart import Sparkline
from hypertui.ui.widgets.footer import Footer

AXIS_TITLE = {"size": "Size cohorts (perp equity)", "pnl": "PnL cohorts (all-time perp PnL)"}
NAME_WIDTH = 18


def strip_label(strip: BiasStrip) -> Text:
    return Text.assemble(
        (strip.cohort.ljust(NAME_WIDTH), "bold"),
        ("last ", "dim"), (strip.last.rjust(5), "bold"),
        ("  min ", "dim"), strip.low.rjust(5),
        ("  max ", "dim"), strip.high.rjust(5),
        no_wrap=True, overflow="ellipsis",
    )


class BiasOverviewScreen(Screen):
    BINDINGS = [
        Binding("escape,backspace", "back", "Back", id="bias.back"),
        Binding("r", "reload", "Reload", id="bias.reload"),
        Binding("e", "export('csv')", "Export CSV", id="bias.export_csv"),
        Binding("E", "export('json')", "Export JSON", id="bias.export_json"),
    ]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]

    def __init__(self) -> None:
        super().__init__(id="bias")
        self.data: SegmentsBias24h | None = None
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
        yield Static(id="bias-status")
        yield Footer()

    async def on_mount(self) -> None:
        crumb = Text.assemble(("Dashboard", "dim"), " › ", ("bias of every cohort, last ~72 h", "bold"))
        self.query_one("#bias-crumb", Static).update(crumb)
        self.query_one("#bias-strips").focus()
        self._mounted = True
        if self.data is not None:
            await self._show_strips()
        self._show_status()

    def load(self) -> None:
        self._request()
        self._show_status()

    def _request(self) -> None:
        self.workers.cancel_group(self, "bias")
        self.fetching = True
        self.run_worker(self._load(), group="bias", exit_on_error=False)

    async def _load(self) -> None:
        app: Any = self.app
        try:
            data = await app.client.segments_bias_24h()
        except Exception as exc:  # noqa: BLE001 - shown on the status line; the last data stays
            self.error = error_line(exc)
        else:
            self.data, self.error = data, None
            if self._mounted:
                await self._show_strips()
        self.fetching = False
        self._show_status()

    @property
    def strips(self) -> list[BiasStrip]:
        return bias_strips(self.data) if self.data is not None else []

    async def _show_strips(self) -> None:
        """Update the strips in place; rebuild them only when the cohorts changed."""
        box = self.query_one("#bias-strips", VerticalScroll)
        strips = self.strips
        ids = [f"bias-{s.segment_id}" for s in strips]
        if [w.id for w in box.query(".bias-strip")] == ids:
            for strip, widget_id in zip(strips, ids, strict=True):
                row = box.query_one(f"#{widget_id}")
                row.query_one(".bias-label", Static).update(strip_label(strip))
                row.query_one(Sparkline).data = strip.values
            return
        widgets: list[Any] = []
        axis = None
        for strip, widget_id in zip(strips, ids, strict=True):
            if strip.category != axis:
                axis = strip.category
                widgets.append(Static(Text(AXIS_TITLE.get(axis, axis), style="underline"), classes="bias-axis"))
            label = Static(strip_label(strip), classes="bias-label")
            widgets.append(Horizontal(label, Sparkline(strip.values), id=widget_id, classes="bias-strip"))
        with self.app.batch_update():
            await box.remove_children()
            await box.mount_all(widgets)

    def _show_status(self) -> None:
        if not (self._mounted and self.is_attached):
            return
        series = self.data.data if self.data else []
        times = sorted(s.timestamp for one in series for s in one.snapshots)
        about = Text(" perp bias, positions opened within 24 h", style="dim", no_wrap=True, overflow="ellipsis")
        if times:
            about.append(f" · {times[0]:%Y-%m-%d %H:%M} → {times[-1]:%m-%d %H:%M} UTC")
        self.query_one("#bias-about", Static).update(about)
        n = len(series)
        parts: list[Any] = [f" {n} cohort{'' if n == 1 else 's'}"]
        if series:
            parts.append(f" · up to {max(len(one.snapshots) for one in series)} snapshots each")
        if self.fetching:
            parts.append((" · ⋯ loading…", "dim"))
        if self.error is not None:
            parts = [(f" ✗ {self.error}", "bold red"), " (r retries) │", *parts]
        self.query_one("#bias-status", Static).update(Text.assemble(*parts, no_wrap=True, overflow="ellipsis"))

    def action_back(self) -> None:
        self.workers.cancel_group(self, "bias")
        self.app.pop_screen()

    def action_reload(self) -> None:
        self.load()

    def action_export(self, fmt: str) -> None:
        data = self.data
        tables = [] if data is None else [Table("bias-72h every cohort", lambda: export.bias_24h_records(data))]
        export_tables(self, tables, fmt)
