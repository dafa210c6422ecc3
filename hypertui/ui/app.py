"""The App: wiring (client, clock, config, store), screen navigation, help, and the exit code.

The dashboard is a screen of its own (hypertui.ui.screens.dashboard): it draws from the
DashboardState its refresh loop fills, and binds the keys that act on it. The app builds those
from the settings, opens drill-downs over it when asked (the *Wanted messages, the palette),
and keeps the keys that work on every screen: quit, help, refresh, pause, interval, alerts.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.screen import Screen
from textual.worker import WorkerFailed

from hypertui.api.client import HyperTrackerClient
from hypertui.api.models import Segment
from hypertui.clock import utc_now
from hypertui.monitor.dashboard_state import DashboardState
from hypertui.monitor.plan import TIMED
from hypertui.ui import prefs as preferences
from hypertui.ui.alert_center import AlertCenter
from hypertui.ui.escape_key import prompt_escape
from hypertui.ui.hangup import watch_terminal
from hypertui.ui.keymap import remapped
from hypertui.ui.no_color import replace_monochrome
from hypertui.ui.screens.dashboard import DASHBOARD_KEYS, PANEL_KEYS, REPLAY_KEYS, DashboardScreen  # others: where opened
from hypertui.ui.signals import Signals
from hypertui.ui.terminal_output import compacting
from hypertui.ui.textual_internals import HookedApp, line_filters, set_line_filters
from hypertui.ui.widgets.coin_filter import CoinFilter
from hypertui.ui.widgets.heatmap import HeatmapTable
from hypertui.ui.widgets.synced_table import SyncedTable

if TYPE_CHECKING:
    from hypertui.api.prefetch import Prefetch
    from hypertui.ui.screens.drilldown import KeptScreen  # with the drill-downs, after the first frame

log = logging.getLogger("hypertui.ui")
Kept = TypeVar("Kept", bound="KeptScreen")  # a screen the app keeps between openings

# The app's keys that act on the dashboard (a drill-down binds r and p itself): the help lists
# them with the dashboard's, the app's others under "Everywhere".
DASHBOARD_APP_KEYS = ("app.refresh", "app.pause")
# The help's "Dashboard" and "Everywhere" keys, by id, in the order it has always listed them.
DASHBOARD_HELP_ORDER = (
    "app.quit", "app.help", "app.refresh", "app.pause", "dashboard.position_age", "dashboard.heatmap_axis",
    "dashboard.heatmap_mode", "dashboard.opened_within", "dashboard.palette", "dashboard.filter",
    "dashboard.bias_overview", "app.alerts", "dashboard.alert_rule", "dashboard.sort_risk",
    "dashboard.sort_risk_reverse", "app.slower", "app.faster", "app.quit_ctrl_c",
)  # fmt: skip


class HyperTuiApp(HookedApp[int], inherit_bindings=False):
    """The live dashboard. `refresh=None` follows the data's cadence (`state/status`)."""

    CSS_PATH = "hypertui.tcss"
    TITLE = "hypertui"
    DASHBOARD = DashboardScreen  # its class (the soak's also records its workers' errors)
    # No ctrl+a/s/q/h/j/k/l: terminals, tmux and screen own those.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("r", "refresh", "Refresh", id="app.refresh"),
        Binding("p", "pause", "Pause", id="app.pause"),
        Binding("exclamation_mark", "alerts", "Alerts", key_display="!", show=False, id="app.alerts"),
        Binding("plus,equals_sign", "slower", "Slower refresh", key_display="+", show=False, id="app.slower"),
        Binding("minus", "faster", "Faster refresh", key_display="-", show=False, id="app.faster"),
        Binding("ctrl+c", "quit", show=False, id="app.quit_ctrl_c"),
    ]

    def __init__(
        self,
        client: HyperTrackerClient,
        source_label: str,
        *,
        refresh: float | None = 15.0,
        clock: Callable[[], datetime] = utc_now,
        export_dir: str | None = None,
        alerts: AlertCenter | None = None,
        prefs: preferences.Preferences = preferences.Preferences(),
        prefetch: Prefetch | None = None,
    ) -> None:
        """`prefetch`: the first screen's requests, already sent (else sent when the screen is up)."""
        super().__init__()
        self.alerts = alerts or AlertCenter()
        set_line_filters(self, replace_monochrome(line_filters(self)))  # NO_COLOR: keep red text readable
        self.client = client
        self.clock = clock
        self.export_dir = export_dir  # None: Downloads/hypertui (hypertui.monitor.export.default_dir)
        self.state = DashboardState()
        self.dashboard = self.DASHBOARD(
            self.state, client, source_label=source_label, clock=clock, interval=refresh, prefetch=prefetch
        )
        self.refresh_loop = self.dashboard.refresh_loop
        self.prefs = prefs
        self.signals = Signals()  # the theme's, from watch_theme
        self._prefs_problems = preferences.apply_preferences(self, prefs)  # sets the theme

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def cohorts(self) -> list[Segment] | None:
        """The cohort legend once in: drill-downs name cohorts with it."""
        return self.state.cohorts

    def get_default_screen(self) -> Screen:
        return self.dashboard

    def get_driver_class(self) -> type[Driver]:
        # Same screen, fewer bytes (terminal_output); esc without a tenth of a second's wait (escape_key).
        return compacting(prompt_escape(super().get_driver_class()))

    def refresh_css(self, animate: bool = True) -> None:
        # The theme set in __init__ queues a refresh before any screen exists: its re-parse of
        # every stylesheet would be thrown away (~10-20 ms of the start). The new variables are
        # all the first parse needs.
        if not self.screen_stack:
            self.stylesheet.set_variables(self.get_css_variables())
            return
        super().refresh_css(animate)

    def on_ready(self) -> None:  # the dashboard is composed: start ticking and fetching
        self.dashboard.start()
        watch_terminal(self)
        if self.alerts.problems:
            self.notify("Press ! to see which and why", title="Invalid alert rules skipped", severity="error", timeout=10)
        preferences.start(self, self._prefs_problems)

    def on_unhandled_error(self, error: Exception) -> None:
        # A bug nothing caught: Textual shows its traceback and exits with return code 1. The log
        # keeps the traceback too, for after the screen is gone (see exit_code): a worker's error
        # comes wrapped in WorkerFailed, which was never raised and has none.
        log.critical("unhandled error: the dashboard stops", exc_info=error.error if isinstance(error, WorkerFailed) else error)

    async def on_unmount(self) -> None:
        self.refresh_loop.close()
        await self.client.aclose()

    def watch_theme(self) -> None:
        self.signals = Signals.of(self.current_theme.variables)
        self.state.palette_index = 0  # the theme chooses the heatmap palette
        if self.is_running:  # chosen in the app: the first theme is set before it runs
            self.dashboard.draw_all()
            preferences.remember_theme(self, self.theme)

    # --- navigation -------------------------------------------------------------------------

    def on_dashboard_screen_positions_wanted(self, message: DashboardScreen.PositionsWanted) -> None:
        sid = message.segment_id
        if sid is None and not message.all_cohorts:
            sid = self.state.view.cohort_id if self.state.view else None
        self.open_positions(message.coin, sid, message.opened_within)

    def open_positions(self, coin: str, segment_id: int | None, age: str = "all") -> None:
        """Push the positions drill-down for coin × cohort over the (living) dashboard, of the
        positions opened within position age `age` (the number it was opened from counts those)."""
        # Imported here: the positions' query language is not needed to draw the first frame.
        from hypertui.monitor.positions import PositionQuery, window_of_age
        from hypertui.ui.screens.positions import PositionsScreen, cohort_label

        query = PositionQuery(coin=coin, segment_id=segment_id, window=window_of_age(age))
        label = cohort_label(self.state.cohorts, segment_id)
        self._open_kept(
            PositionsScreen, lambda: PositionsScreen(self.client, self.clock, query, label, self.state.cohorts),
            filters=query, cohort=label, cohorts=self.state.cohorts,
        )

    def on_dashboard_screen_history_wanted(self, message: DashboardScreen.HistoryWanted) -> None:
        self.open_history(message.segment_id)

    def open_history(self, segment_id: int) -> None:
        """Push the cohort's bias history over the (living) dashboard."""
        from hypertui.ui.screens.history import HistoryScreen
        from hypertui.ui.screens.positions import cohort_label

        label = cohort_label(self.state.cohorts, segment_id)
        self._open_kept(
            HistoryScreen, lambda: HistoryScreen(self.client, self.clock, segment_id, label), segment_id=segment_id, cohort=label
        )

    def on_dashboard_screen_coin_wanted(self, message: DashboardScreen.CoinWanted) -> None:
        self.open_coin(message.coin, message.segment_id)

    def open_coin(self, coin: str, segment_id: int | None = None) -> None:
        """Push the coin view (breakdown by cohort, cohort series) over the (living) dashboard, its
        cursor on cohort `segment_id` (None: the selected cohort)."""
        from hypertui.ui.screens.coin import CoinScreen

        cohorts = self.state.cohorts
        if segment_id is None and self.state.view is not None:
            segment_id = self.state.view.cohort_id

        self._open_kept(
            CoinScreen, lambda: CoinScreen(self.client, self.clock, coin, cohorts),
            coin=coin, cohorts=cohorts, start_cohort=segment_id,  # its cursor's cohort: no constructor argument
        )

    def open_bias_overview(self) -> None:
        """Push every cohort's bias over the last ~72 h."""
        from hypertui.ui.screens.bias import BiasOverviewScreen

        self._open_kept(BiasOverviewScreen, lambda: BiasOverviewScreen(self.client, self.clock))

    def _open_kept(self, kind: type[Kept], make: Callable[[], Kept], **shown: Any) -> None:
        """Open the screen of `kind`, built by `make` on its first opening and kept (installed),
        given what it is to show now (`shown`: attributes, most of which a new one also takes in
        its constructor): opened again, it is refilled, not composed, styled and mounted anew;
        closed, it is not taken apart widget by widget (after which Textual repaints the
        dashboard a second time)."""
        name = kind.__name__
        if not self.is_screen_installed(name):
            self.install_screen(make(), name)
        screen = self.get_screen(name, kind)
        for attribute, value in shown.items():
            setattr(screen, attribute, value)
        if screen.is_mounted:
            screen.refill()
        self._push_drill_down(screen)

    def _push_drill_down(self, screen: Screen) -> None:
        """Push `screen`, replacing a drill-down of the same kind on top (the palette can open one
        from another), so escape always leads back towards the dashboard: a kept screen already
        under the top one (a coin view under the positions opened from it) is shown by popping
        what is over it, never stacked twice."""
        if self.screen is screen:
            return  # refilled in place
        if screen in self.screen_stack:
            while self.screen is not screen:
                self.pop_screen()
            return
        if type(self.screen) is type(screen):
            self.pop_screen()
        self.push_screen(screen)

    # --- actions --------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.refresh_loop.request_refresh(TIMED)

    def action_pause(self) -> None:
        self.refresh_loop.toggle_pause()
        self.dashboard.draw_status()

    def action_slower(self) -> None:
        self.dashboard.step_interval(1)

    def action_faster(self) -> None:
        self.dashboard.step_interval(-1)

    def action_bias_overview(self) -> None:
        self.open_bias_overview()

    def action_alerts(self) -> None:
        from hypertui.ui.screens.alerts import AlertsScreen

        if not isinstance(self.screen, AlertsScreen):
            self._open_kept(AlertsScreen, lambda: AlertsScreen(self.alerts), center=self.alerts)

    def action_alert_rule(self) -> None:
        from hypertui.ui.screens.alert_form import open_alert_form

        open_alert_form(self)

    def action_help(self) -> None:
        from hypertui.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            sections = self.key_sections()  # the keys are fixed at start: the first opening's are kept
            first = self.help_section(self.screen, sections)
            self._open_kept(HelpScreen, lambda: HelpScreen(sections, first), first=first)

    def action_legend(self) -> None:
        from hypertui.ui.screens.help import LegendScreen

        if not isinstance(self.screen, LegendScreen):
            self._open_kept(LegendScreen, LegendScreen)

    def key_sections(self) -> list[tuple[str, list[Binding]]]:
        """The bindings by where they work, with the keys in effect (after the [keys] remaps)."""
        from hypertui.ui.screens.alerts import AlertsScreen
        from hypertui.ui.screens.bias import BiasOverviewScreen
        from hypertui.ui.screens.coin import CoinScreen
        from hypertui.ui.screens.help import EVERYWHERE
        from hypertui.ui.screens.history import HistoryScreen
        from hypertui.ui.screens.positions import PositionsScreen

        app_keys = self.app_keys()
        dashboard = [*(b for b in app_keys if b.id in DASHBOARD_APP_KEYS), *DASHBOARD_KEYS]
        everywhere = [b for b in app_keys if b.id not in DASHBOARD_APP_KEYS]
        sections: list[tuple[str, list[Binding]]] = [
            ("Dashboard", sorted(dashboard, key=lambda b: DASHBOARD_HELP_ORDER.index(b.id or ""))),
            (EVERYWHERE, sorted(everywhere, key=lambda b: DASHBOARD_HELP_ORDER.index(b.id or ""))),
            ("Panels", PANEL_KEYS),
            ("Time travel", REPLAY_KEYS),
            ("Lists and tables", list(SyncedTable.BINDINGS)),  # type: ignore[arg-type]
            ("Heatmap", list(HeatmapTable.BINDINGS)),  # type: ignore[arg-type]
            ("Coin filter", [b for b in CoinFilter.BINDINGS if isinstance(b, Binding) and b.id == "filter.clear"]),
            ("Positions", list(PositionsScreen.BINDINGS)),  # type: ignore[arg-type]
            ("Cohort history", list(HistoryScreen.BINDINGS)),  # type: ignore[arg-type]
            ("Coin view", list(CoinScreen.BINDINGS)),  # type: ignore[arg-type]
            ("Bias overview", list(BiasOverviewScreen.BINDINGS)),  # type: ignore[arg-type]
            ("Alerts", list(AlertsScreen.BINDINGS)),  # type: ignore[arg-type]
        ]
        return [(title, remapped(bindings, self.prefs.keys)) for title, bindings in sections]

    @staticmethod
    def help_section(screen: Screen, sections: list[tuple[str, list[Binding]]]) -> str:
        """The title of the help's section of `screen`'s own keys (by their ids); the dashboard's
        for a screen with none listed (a modal)."""
        ids = {b.id for b in type(screen).BINDINGS if isinstance(b, Binding)}
        return next((title for title, bindings in sections if any(b.id in ids for b in bindings)), "Dashboard")

    def app_keys(self) -> list[Binding]:
        """The keys that work on every screen."""
        return [b for b in self.BINDINGS if isinstance(b, Binding)]


async def run_app(settings: Any, client: HyperTrackerClient, label: str, prefetch: Prefetch | None) -> int:
    """Open the dashboard for `settings` (hypertui.config.Settings) on `client`; the exit code."""
    refresh = settings.refresh
    if refresh is None and settings.uses_simulator:
        refresh = settings.sim_update_interval
    from hypertui.monitor.alert_rules import alerts_log_path

    alerts = AlertCenter(settings.alerts, settings.alert_problems, alerts_log_path(), settings.config_file)
    prefs = preferences.from_settings(settings)
    app = HyperTuiApp(
        client, label, refresh=refresh, export_dir=settings.export_dir, alerts=alerts, prefs=prefs, prefetch=prefetch
    )
    return exit_code(app, await app.run_async())


def exit_code(app: HyperTuiApp, result: int | None) -> int:
    """The process's exit code for an app that has stopped with `result`: that (a hang-up's 129),
    or 0, unless an unhandled exception stopped it: Textual keeps that in `return_code`, apart."""
    if app.return_code:
        from hypertui.config import log_path

        print(f"hypertui: stopped by an internal error; the traceback is in {log_path()}", file=sys.stderr)
        return app.return_code
    return result or 0
