"""The main screen: cohort list, cohort summary, heatmap and liquidation risk, plus status.

From 120 columns every panel is on screen: the cohorts (list and summary) on the left, the
heatmap on the right with the risk table under it, or beside it from 150 columns; from 200 the
heatmap shows both axes' cohorts, the risk table under it again. Narrower terminals show one
page at a time under tabs.

The screen draws from the DashboardState (hypertui.monitor.dashboard_state), which its refresh
loop (hypertui.ui.refresh_loop) fills; it never fetches. Its keys change the state's selections
and ask the loop for what they now need; drill-downs are the app's to open (the *Wanted messages).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, OptionList, Tab, Tabs

from hypertui.api.client import HyperTrackerClient
from hypertui.api.models import ordered_by_range
from hypertui.api.recording import DashboardAnswers, Recording
from hypertui.monitor import format as fmt
from hypertui.monitor.dashboard_state import DashboardState, cycle
from hypertui.monitor.heat import MODES
from hypertui.monitor.plan import (
    ALERT_RISK,
    BACKGROUND,
    BOTH_AXES_COLUMNS,
    HEATMAP,
    PANELS,
    RISK,
    RISK_MORE,
    STATUS,
    SUMMARY,
    THREE_COLUMNS,
    TIERS,
    WIDE_COLUMNS,
)
from hypertui.monitor.replay import (
    DAY,
    NOT_RECORDED,
    ChangeReference,
    Replay,
    newest_recorded,
    recorded_answers,
    since_lines,
    since_previous_session,
    step_back,
    step_forward,
    with_panels,
)
from hypertui.monitor.rows import (
    AXES,
    CohortLine,
    cohort_groups,
    cohort_line,
    heatmap_lines,
    risk_lines,
    summary_figures,
    top_assets,
    top_assets_note,
)
from hypertui.ui.refresh_loop import INTERNAL, LEGEND, RefreshLoop
from hypertui.ui.signals import signals_of
from hypertui.ui.textual_internals import breakpoint_classes, set_border_text
from hypertui.ui.widgets.cohort_list import CohortList
from hypertui.ui.widgets.cohort_summary import CohortSummary
from hypertui.ui.widgets.coin_filter import CoinFilter
from hypertui.ui.widgets.footer import Footer
from hypertui.ui.widgets.heatmap import HeatmapTable
from hypertui.ui.widgets.risk_table import RiskTable
from hypertui.ui.widgets.status_bar import StatusBar
from hypertui.ui.widgets.synced_table import SyncedTable

if TYPE_CHECKING:
    from textual.command import Provider

    from hypertui.api.prefetch import Prefetch

# Panels in tab order, the page each lives on (narrow layout), and the widget that takes focus.
FOCUS_ORDER = ("cohorts", "summary", "heatmap", "risk")
PAGE_OF = {"cohorts": "cohorts", "summary": "cohorts", "heatmap": "heatmap", "risk": "risk"}
FOCUS_TARGET = {"cohorts": "#cohorts", "summary": "#top-assets", "heatmap": "#heatmap", "risk": "#risk"}
# The panel a focused widget belongs to, by widget id.
PANEL_OF_ID = {
    "cohorts": "cohorts",
    "top-assets": "summary",
    "heatmap": "heatmap",
    "coin-filter": "heatmap",
    "risk": "risk",
}
PAGES = ("cohorts", "heatmap", "risk")
# The panel marked stale when a part's refresh fails ("main": all of them).
STALE_PANEL = {
    LEGEND: "main",
    INTERNAL: "main",
    STATUS: "main",
    SUMMARY: "left",
    BACKGROUND: "left",
    RISK: "risk-panel",
    HEATMAP: "heatmap-panel",
    ALERT_RISK: "alert-rules",  # no panel shows it: the status line says what failed
}
HEATMAP_TITLE = "Heatmap · "  # before the cell under the cursor
STATUS_TICK = 5.0  # seconds; see start
# Fastest to slowest; None (auto) follows the data's own cadence, which on the real API is the slowest.
INTERVALS: tuple[float | None, ...] = (5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, None)

PANEL_KEYS = [
    Binding("tab", "next_panel", "Next panel", show=False, id="dashboard.next_panel"),
    Binding("shift+tab", "previous_panel", "Previous panel", show=False, id="dashboard.previous_panel"),
    Binding("i", "coin_view", "Coin view", show=False, id="dashboard.coin_view"),
    Binding("L", "app.legend", "Legend: what the marks mean", show=False, id="dashboard.legend"),
]
# The keys that act on what the dashboard shows: bound here, so they do nothing over a drill-down
# (the app's own keys, quit, help, refresh, pause, work on every screen).
DASHBOARD_KEYS = [
    Binding("a", "position_age", "Age filter", id="dashboard.position_age"),
    Binding("x", "axis", "Axis", id="dashboard.heatmap_axis"),
    Binding("v", "heat_mode", "Mode", id="dashboard.heatmap_mode"),
    Binding("w", "opened_within", "Opened within", show=False, id="dashboard.opened_within"),
    Binding("c", "palette", "Colour-blind palette", show=False, id="dashboard.palette"),
    Binding("slash", "filter", "Filter coins", key_display="/", id="dashboard.filter"),
    Binding("b", "app.bias_overview", "Bias overview", show=False, id="dashboard.bias_overview"),
    Binding("A", "app.alert_rule", "New alert rule (heatmap cell, risk row)", show=False, id="dashboard.alert_rule"),
    # The risk table owns s/S when focused; from any other panel but the heatmap (its own) they sort it too.
    Binding("s", "sort_risk", "Sort risk table", show=False, id="dashboard.sort_risk"),
    Binding("S", "sort_risk_reverse", "Reverse risk sort", show=False, id="dashboard.sort_risk_reverse"),
]
# Time travel through the updates the store recorded (hypertui.monitor.replay); G ("go live"),
# not the L: L is the legend.
REPLAY_KEYS = [
    Binding("left_square_bracket", "replay(-1)", "The recorded update before", key_display="[", show=False,
            id="dashboard.replay_back"),
    Binding("right_square_bracket", "replay(1)", "The update after (past the newest: live)", key_display="]",
            show=False, id="dashboard.replay_forward"),
    Binding("left_curly_bracket", "replay_day(-1)", "A day before", key_display="{", show=False,
            id="dashboard.replay_day_back"),
    Binding("right_curly_bracket", "replay_day(1)", "A day after (past the newest: live)", key_display="}",
            show=False, id="dashboard.replay_day_forward"),
    Binding("G", "go_live", "Back to live (go live)", show=False, id="dashboard.go_live"),
    Binding("d", "change_reference", "Change mode (v) against 1h/4h/24h/7d before", show=False,
            id="dashboard.change_reference"),
    Binding("y", "since", "Since you last looked: moves since then", show=False,
            id="dashboard.since_last_looked"),
]  # fmt: skip


def dashboard_commands() -> type[Provider]:
    """The palette's provider, imported when the palette first opens (see hypertui.ui.commands)."""
    from hypertui.ui.commands import DashboardCommands

    return DashboardCommands


class DashboardScreen(Screen):
    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012 - Screen declares it an instance variable: mypy refuses a ClassVar
        (0, "-narrow"),
        (WIDE_COLUMNS, "-two-columns"),
        (THREE_COLUMNS, "-wide"),
        (190, "-very-wide"),
        (BOTH_AXES_COLUMNS, "-both-axes"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [*PANEL_KEYS, *DASHBOARD_KEYS, *REPLAY_KEYS]
    COMMANDS: ClassVar[set[Any]] = {dashboard_commands}  # cohorts, coins and keys by name; server names never read as markup

    class PageChanged(Message):
        """Another page is on screen (narrow layout): its panels are fetched if not current."""

    class LayoutChanged(PageChanged):
        """Another layout (the width crossed a breakpoint): panels may have come into view, and
        the heatmap may show one axis or both."""

    def __init__(
        self,
        state: DashboardState,
        client: HyperTrackerClient,
        *,
        source_label: str,
        clock: Callable[[], datetime],
        interval: float | None,
        prefetch: Prefetch | None = None,
    ) -> None:
        """`prefetch`: the first screen's requests, already sent (else sent when the screen is up)."""
        super().__init__(id="dashboard")
        self.state = state
        self.client = client
        self.clock = clock
        self.source_label = source_label
        self.refresh_loop = RefreshLoop(self, client, state, clock=clock, interval=interval, prefetch=prefetch)
        self.page = "cohorts"
        self._border_texts: dict[tuple[str, str], str] = {}  # (panel id, title or subtitle) -> text
        self.status_bar = StatusBar()  # kept: the status tick would otherwise search the DOM for it
        self._stale: set[str] = set()
        self._resumed = False
        self.replay: Replay | None = None  # the recorded update on screen; None: live
        self.recording = Recording(client.store)  # one for every look back: the updates it keeps parsed
        self.references = ChangeReference(self.recording)
        self._session_first: datetime | None = None  # the first update this session showed live
        self._since: tuple[datetime, list[str]] | None = None  # the previous session's last update, and the moves since

    @property
    def shown(self) -> DashboardState:
        """What the panels draw: the replayed update, or the live state."""
        return self.state if self.replay is None else self.replay.state(self.state)

    def start(self) -> None:
        """Once the first frame is up: start ticking and fetching."""
        # Ages show whole minutes and the next check a clock time, so nothing needs a 1 s tick:
        # every 5 s an age turns over at most 5 s late, and an idle app costs what htop does.
        self.set_interval(STATUS_TICK, self._tick)
        self.draw_status()
        self.refresh_loop.start()

    def compose(self) -> ComposeResult:
        # The breakpoint class the first Resize would set, set before the panels mount: styled
        # once rather than restyled and repainted whole right after the first frame.
        current = breakpoint_classes(self, self.app.size.width)  # Textual's own choice
        self.update_classes({name: name in current for _, name in self.HORIZONTAL_BREAKPOINTS})
        tabs = Tabs(
            Tab("Cohorts", id="tab-cohorts"), Tab("Heatmap", id="tab-heatmap"), Tab("Risk", id="tab-risk"), id="pages"
        )
        tabs.can_focus = False  # tab/shift+tab move between panels instead
        yield tabs
        with Horizontal(id="main", classes="-page-cohorts"):
            with Vertical(id="left", classes="panel-page"):
                yield CohortList(self.cohort_chosen)
                yield CohortSummary()
            with Vertical(id="heatmap-panel", classes="panel-page"):
                yield CoinFilter()
                yield HeatmapTable(self.show_heatmap_detail)
            with Vertical(id="risk-panel", classes="panel-page"):
                yield RiskTable()
        yield self.status_bar
        yield Footer()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Each widget was styled as it mounted, a moment before the first resume: restyling the
        # whole screen again (~30 ms of the start) changes nothing. Later resumes (back from a
        # drill-down, perhaps under another theme) restyle as usual.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    def on_mount(self) -> None:
        self.query_one("#cohorts").border_title = "Cohorts"
        self.query_one("#heatmap-panel").border_title = "Heatmap"
        self.query_one("#risk-panel").border_title = "Liquidation risk"
        self.query_one("#cohorts").focus()
        if not self.refresh_loop.draw_prefetched():  # the live answers already in, else the recorded ones
            self._warm_start()

    def _warm_start(self) -> None:
        """The newest recorded update in every panel for the first frame, aged, until live data
        replaces it (the list's rows dim with their age, the status bar's data time says when)."""
        found = newest_recorded(self.recording)
        if found is None:
            return
        legend, recorded = found
        self.state.warm_start(legend, recorded_answers(recorded), recorded.at)
        self.draw_held()

    def draw_held(self) -> None:
        """Every panel from what the state holds, before the first frame (the legend's too)."""
        self.draw_legend()  # with the rows' figures: the list is not laid out yet for draw_list
        self._draw_summary()
        self._draw_risk()
        self._draw_heatmap()
        self.draw_status()  # the data's time and age, in the same first frame

    # --- layout and panel navigation -------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        # Called before Screen's own handler sets the breakpoint class: the new one from the size.
        # (A screen under a drill-down gets its resize when it is back on top.)
        layout = breakpoint_classes(self, event.size.width)
        if not self.has_class(*layout):
            self.post_message(self.LayoutChanged())  # handled once the class is set
        elif event.size == self.size:
            # The screen's own layout tells it its size too, and Screen's handler takes that for
            # the terminal's: it laid the screen out again at the size it had just laid it out
            # at, a second full frame after the first. A terminal resize comes before its layout
            # (and one while a drill-down was on top, with its breakpoint class still to set).
            event.prevent_default()

    @property
    def narrow(self) -> bool:
        return self.has_class("-narrow")

    @property
    def both_axes(self) -> bool:
        """Wide enough for the heatmap to show the size and PnL cohorts side by side."""
        return self.has_class("-both-axes")

    def visible_panels(self) -> frozenset[str]:
        if not self.narrow:
            return frozenset(FOCUS_ORDER)
        return frozenset(p for p in FOCUS_ORDER if PAGE_OF[p] == self.page)

    def show_page(self, page: str) -> None:
        if page == self.page:
            return
        self.page = page
        main = self.query_one("#main")
        for p in PAGES:
            main.set_class(p == page, f"-page-{p}")
        self.query_one(Tabs).active = f"tab-{page}"
        self.post_message(self.PageChanged())

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        page = (event.tab.id or "").removeprefix("tab-")
        # A tab chosen with the mouse. show_page's own activations name the page already shown,
        # and one overtaken by a later key (a held Tab) no longer names the active tab.
        if page in PAGES and page != self.page and event.tab.id == event.tabs.active:
            self.show_page(page)
            if self.narrow:
                self._focus_panel(next(p for p in FOCUS_ORDER if PAGE_OF[p] == page))

    def _current_panel(self) -> str:
        focused = self.focused
        return PANEL_OF_ID.get(focused.id or "", FOCUS_ORDER[0]) if focused else FOCUS_ORDER[0]

    def _focus_panel(self, panel: str) -> None:
        self.show_page(PAGE_OF[panel])
        # At once, not as Widget.focus does (after the messages already queued): keys that
        # arrive together (a held Tab) each step from where the one before left the focus.
        self.set_focus(self.query_one(FOCUS_TARGET[panel]))

    def action_next_panel(self) -> None:
        i = FOCUS_ORDER.index(self._current_panel())
        self._focus_panel(FOCUS_ORDER[(i + 1) % len(FOCUS_ORDER)])

    def action_previous_panel(self) -> None:
        i = FOCUS_ORDER.index(self._current_panel())
        self._focus_panel(FOCUS_ORDER[(i - 1) % len(FOCUS_ORDER)])

    def focus_heatmap(self) -> None:
        self._focus_panel("heatmap")

    # --- the coin filter ------------------------------------------------------------------

    def open_filter(self) -> None:
        self.show_page("heatmap")
        box = self.query_one(CoinFilter)
        box.display = True
        self.call_after_refresh(box.focus)  # a page just shown can take focus only once laid out

    def on_input_submitted(self, event: CoinFilter.Submitted) -> None:
        event.stop()
        box = self.query_one(CoinFilter)
        if not box.value:
            box.display = False
        self.focus_heatmap()

    # --- drill-downs ------------------------------------------------------------------------

    class PositionsWanted(Message):
        """Enter on a coin: its positions for `segment_id` (None: the cohort selected in the app),
        opened within `opened_within` (a heatmap cell's: the window its number counts)."""

        def __init__(self, coin: str, segment_id: int | None, all_cohorts: bool = False, opened_within: str = "all") -> None:
            self.coin = coin
            self.segment_id = segment_id
            self.all_cohorts = all_cohorts
            self.opened_within = opened_within
            super().__init__()

    def heatmap_selection(self) -> tuple[str, int | None] | None:
        """(coin, cohort id or None for the coin and value columns) under the heatmap cursor."""
        table = self.query_one(HeatmapTable)
        keys = table.row_keys
        if not keys or not 0 <= table.cursor_row < len(keys):
            return None
        return keys[table.cursor_row], table.cursor_cohort

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        if event.data_table.id != "heatmap":
            return
        chosen = self.heatmap_selection()
        if chosen is not None:
            self._live_positions_note()
            heatmap, view = self.shown.shown_heatmap, self.shown.view
            within = view.opened_within if view and heatmap and not heatmap.unfiltered else "all"  # as it counted
            self.post_message(self.PositionsWanted(chosen[0], chosen[1], all_cohorts=chosen[1] is None, opened_within=within))

    def show_heatmap_detail(self, forms: tuple[str, ...]) -> None:
        """The heatmap's cell under the cursor, in words (none: no cell), in the panel's title: the
        fullest form that fits, so that Textual's ellipsis never cuts a figure (the shortest, the
        cell's name, if none does)."""
        # Textual's room for a title (_border.render_border_label): the panel's width but, on
        # either side, its corner, a border cell and a blank ("╭─ title ─╮").
        room = self.query_one("#heatmap-panel").outer_size.width - 6 - cell_len(HEATMAP_TITLE)
        text = next((form for form in forms if cell_len(form) <= room), forms[-1] if forms else "")
        self.set_title("heatmap-panel", f"{HEATMAP_TITLE}{text}" if text else "Heatmap")

    @staticmethod
    def _row_coin(table: DataTable, row: int) -> str:
        """The coin on a row of the risk table or top assets: both keyed by the coin as the API sent
        it, not by its cell's text (a cleaned name is shown marked and would ask for another coin)."""
        keys = table.row_keys if isinstance(table, SyncedTable) else []
        return keys[row] if 0 <= row < len(keys) else ""

    def on_key(self, event: events.Key) -> None:
        # Enter on a table with no rows (a filter that matches nothing, a cohort with no risk):
        # DataTable does nothing at all. Seen here, before the app looks up the table's binding.
        if event.key == "enter" and isinstance(self.focused, DataTable) and not self.focused.row_count:
            event.stop()
            self._no_coin()

    def _no_coin(self) -> None:
        self.notify("No coin under the cursor: the table is empty", severity="warning", timeout=2)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        coin = self._row_coin(event.data_table, event.cursor_row)
        if coin:
            self._live_positions_note()
            view = self.shown.view
            # A top asset's value is counted at the summary's position age: its list holds what it counted.
            within = view.position_age if event.data_table.id == "top-assets" and view is not None else "all"
            self.post_message(self.PositionsWanted(coin, None, opened_within=within))

    class CoinWanted(Message):
        """`i`: the coin view of the coin under the cursor, its cursor on `segment_id` (None: the first)."""

        def __init__(self, coin: str, segment_id: int | None = None) -> None:
            self.coin = coin
            self.segment_id = segment_id
            super().__init__()

    def action_coin_view(self) -> None:
        """The focused panel's coin; from the cohort list, the heatmap's (else the top asset's)."""
        focused = self.focused
        chosen = self.heatmap_selection()
        if isinstance(focused, DataTable) and focused.id in ("risk", "top-assets"):
            coin = self._row_coin(focused, focused.cursor_row)
        elif chosen or self._current_panel() == "heatmap":  # an empty heatmap: not some other panel's coin
            coin = chosen[0] if chosen else ""
        else:
            top = self.query_one("#top-assets", DataTable)
            coin = self._row_coin(top, top.cursor_row)
        if coin:
            self._live_positions_note()
            # The heatmap cell's cohort; from any other panel (or the coin column), the selected one.
            cohort = chosen[1] if chosen and focused is not None and focused.id == "heatmap" else None
            if cohort is None and self.state.view is not None:
                cohort = self.state.view.cohort_id
            self.post_message(self.CoinWanted(coin, cohort))
        else:
            self._no_coin()

    class HistoryWanted(Message):
        """Enter on a cohort in the list: its bias history."""

        def __init__(self, segment_id: int) -> None:
            self.segment_id = segment_id
            super().__init__()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        sid = event.option.id
        if sid and sid.isdigit():
            self.post_message(self.HistoryWanted(int(sid)))

    def _set_stale(self, panels: set[str]) -> None:
        """Mark the panels (ids; "main" for all) whose last refresh failed."""
        if panels == self._stale:  # asked every status tick; the query walks the whole screen
            return
        self._stale = set(panels)
        for panel in self.query(".panel-page"):
            panel.set_class("main" in panels or panel.id in panels, "-stale")

    def set_title(self, panel_id: str, text: str) -> None:
        self._set_border_text(panel_id, "border_title", text)

    def set_subtitle(self, panel_id: str, text: str) -> None:
        self._set_border_text(panel_id, "border_subtitle", text)

    def _set_border_text(self, panel_id: str, which: str, text: str) -> None:
        if self._border_texts.get((panel_id, which)) != text:  # setting one repaints its line, even if equal
            self._border_texts[panel_id, which] = text
            set_border_text(self.query_one(f"#{panel_id}"), which, Text(text))  # Text: never markup

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Under a modal (help, legend, alert form) its keys do nothing, and the footer left
        # showing beneath the modal does not list them.
        if action == "clear_filter" and not self.state.coin_filter:
            return False  # no filter to clear: esc is not taken
        return self.app.screen is self

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        # The footer lists keys in this order: the focused widget's, the app's, then this
        # screen's, as when the dashboard's keys were the app's ("q Quit ? Help r Refresh p Pause"
        # first, as on every drill-down's footer after its own keys).
        bindings = super().active_bindings
        return dict(sorted(bindings.items(), key=lambda item: item[1].node is self))

    # --- drawing (the state → widgets) ------------------------------------------------------

    def draw(self, parts: set[str]) -> None:
        """Draw what the loop says changed: plan parts, or LEGEND for everything."""
        if LEGEND in parts:
            self.draw_all()
            return
        if HEATMAP in parts:
            self.draw_list()  # the list's figures are the heatmap's
        if parts & {SUMMARY, HEATMAP}:
            self._draw_summary()  # top assets come from the heatmap
        if RISK in parts:
            self._draw_risk()
        if HEATMAP in parts:
            self._draw_heatmap()

    def draw_all(self) -> None:
        self.draw_list()
        self._draw_summary()
        self._draw_risk()
        self._draw_heatmap()

    def draw_legend(self) -> None:
        """The cohort list's rows, once the legend is in (with the figures held: a warm start's)."""
        segments, view = self.state.cohorts, self.state.view
        assert segments is not None and view is not None
        self.query_one(CohortList).set_groups(cohort_groups(segments), self._list_lines(self.shown), view.cohort_id)

    def draw_list(self) -> None:
        state = self.shown
        if state.cohorts is None:
            return
        self.query_one(CohortList).update_lines(self._list_lines(state))
        within = state.heatmap_for or "all"
        shown = "long-share change" if state.heat_mode == "change" else "long share"
        self.set_title("cohorts", f"Cohorts · value, {shown}" + ("" if within == "all" else f" · opened {within}"))

    def _list_lines(self, state: DashboardState) -> dict[int, CohortLine]:
        age = state.list_age(self.clock())
        reference = self._change_reference(state)
        totals = None  # the reference's figures in the change mode ({}: none recorded, every row —)
        if state.heat_mode == "change":
            totals = (self.references.totals if reference else None) or {}
        return {s.id: cohort_line(s, state.cohort_totals.get(s.id), age, totals) for s in state.cohorts or []}

    def show_waiting(self, error: str | None) -> None:
        """Nothing on screen yet: the summary panel says why, not just the status bar."""
        for summary in self.query(CohortSummary):  # none once the app is closing
            summary.waiting(error)

    def _draw_summary(self) -> None:
        state = self.shown
        if state.view is None:
            return
        title = state.cohort_title() or "Cohort"
        s = state.shown_summary
        if s is None:
            self.query_one(CohortSummary).show(title, state.view.position_age, [], [], self._not_recorded())
            return
        assets = top_assets(s, state.heatmap)
        self.query_one(CohortSummary).show(
            title, state.view.position_age, summary_figures(s, state.prev_summary), assets, top_assets_note(s, assets)
        )

    def _draw_risk(self) -> None:
        state = self.shown
        if state.view is None:
            return
        current = state.risk_current
        column, descending = state.risk_sort
        lines = risk_lines(state.risk_items if current else [], state.prev_risk if current else None, column, descending)
        table = self.query_one(RiskTable)
        table.show(lines, state.risk_total if current else 0, column, descending)
        # Named: in the narrow layout's Risk tab no other panel says whose risk this is.
        cohort = state.cohort_title()
        self.set_title("risk-panel", f"Liquidation risk · {cohort}" if cohort else "Liquidation risk")
        self.set_subtitle("risk-panel", table.describe() if current else self._not_recorded() or table.describe())

    def _draw_heatmap(self) -> None:
        state = self.shown
        if state.cohorts is None:
            return
        # Wide enough for both axes side by side: x swaps which comes first.
        axes = sorted(AXES, key=lambda axis: axis != state.axis) if self.both_axes else [state.axis]
        cohorts = [c for axis in axes for c in ordered_by_range(state.cohorts, axis)]
        heatmap = state.shown_heatmap
        palette = signals_of(self).palettes()[state.palette_index]
        reference = self._change_reference(state)
        lines = heatmap_lines(
            heatmap, [c.id for c in cohorts], state.heat_mode, palette, state.coin_filter, state.prev_heatmap, state.heat_sort,
            reference.heatmap if reference else None,
        )
        self.query_one(HeatmapTable).show(cohorts, lines, state.heat_sort)
        within = state.view.opened_within if state.view else "all"
        if heatmap is not None and heatmap.unfiltered:
            within += " unavailable here, all shown"
        shown = {"share": "long share", "change": self._change_title(state, reference)}.get(state.heat_mode, state.heat_mode)
        filt = f" · filter “{state.coin_filter}”" if state.coin_filter else ""
        if heatmap is None and self._not_recorded():
            filt += f" · {NOT_RECORDED}"
        keys = " | ".join(axes) + (" (x swaps)" if len(axes) > 1 else " (x)")
        self.set_subtitle("heatmap-panel", f"{keys} · {shown} (v) · opened {within} (w) · {palette.name} (c){filt}")

    def _change_reference(self, state: DashboardState) -> DashboardAnswers | None:
        """In the change mode, the update the figures shown are compared with (None: none recorded)."""
        shown_at = self.replay.at if self.replay else state.heatmap_update
        if state.heat_mode != "change" or shown_at is None:
            return None
        return self.references.compare(shown_at, state.reference)

    @staticmethod
    def _change_title(state: DashboardState, reference: DashboardAnswers | None) -> str:
        if reference is None or reference.heatmap is None:
            return f"change: nothing recorded {state.reference} before (d)"
        return f"change vs {reference.at:%Y-%m-%d %H:%M} UTC, {state.reference} before (d)"

    def _not_recorded(self) -> str:
        """What an empty panel says while replaying ("" when live: it is waiting, not missing)."""
        return NOT_RECORDED if self.replay is not None else ""

    def draw_status(self) -> None:
        bar = self.status_bar
        if not bar.is_attached:  # closing: the status tick can outlive the dashboard's widgets
            return
        loop = self.refresh_loop
        bar.show(
            source=self.source_label,
            freshness=loop.freshness(),
            now=self.clock(),
            tokens=sum(self.client.tokens_today.values()),
            daily_limit=self.client.daily_limit,
            desk_tokens=self.client.desk_tokens,
            shared_down=self.client.shared_cache_down,
            interval=loop.cadence,
            notes=self._status_notes(),
            status=self.state.status,
            replay=self.replay.at if self.replay else None,
        )
        self._set_stale({STALE_PANEL[part] for part in loop.failures})

    def _status_notes(self) -> list[str]:
        """What the server could not do, so the screen does not look better served than it is."""
        notes = ["no state/status: timed refresh"] if self.state.status_missing else []
        budget = self.refresh_loop.token_budget
        if budget is not None and (note := budget.note(TIERS)):
            notes.append(note)
        if self.client.store.problem:  # the store is given up: each answer costs a token again after a restart
            notes.append(self.client.store.problem)
        if dropped := self.client.rows_dropped:  # models.RowTolerant: the rest of those answers is shown
            notes.append(f"{fmt.count(dropped)} bad row{'' if dropped == 1 else 's'} dropped")
        return notes

    def _tick(self) -> None:
        self.draw_status()
        # The rows' ages (only the prompts whose text changed are redrawn); none while closing,
        # when the list may be gone before the tick stops.
        if self.query(CohortList):
            self.draw_list()

    # --- keys: what is shown and asked for ---------------------------------------------------

    def action_position_age(self) -> None:
        if self.state.view is None:
            return
        self.state.next_position_age()
        self._draw_summary()
        self.refresh_loop.request_refresh({SUMMARY})

    def action_opened_within(self) -> None:
        if self.state.view is None:
            return
        self.state.next_opened_within()
        self._draw_heatmap()
        self.refresh_loop.request_refresh({HEATMAP})

    def action_axis(self) -> None:
        self.state.axis = cycle(AXES, self.state.axis)
        self._draw_heatmap()

    def action_heat_mode(self) -> None:
        self.state.heat_mode = cycle(MODES, self.state.heat_mode)
        self.draw_list()  # the change mode's list shows changes too
        self._draw_heatmap()

    def action_change_reference(self) -> None:
        self.state.next_reference()
        if self.state.heat_mode != "change":
            self.notify(f"Changes against {self.state.reference} before: v for the change mode", timeout=2)
        self.draw_list()
        self._draw_heatmap()

    def action_palette(self) -> None:
        self.state.palette_index = (self.state.palette_index + 1) % len(signals_of(self).palettes())
        self._draw_heatmap()

    def action_filter(self) -> None:
        self.open_filter()

    def action_clear_filter(self) -> None:
        """esc on the heatmap (see HeatmapTable): as the box's own esc, once it has lost the focus."""
        self.query_one(CoinFilter).action_clear()

    def action_sort_risk(self) -> None:
        self.query_one(RiskTable).action_sort()

    def action_sort_risk_reverse(self) -> None:
        self.query_one(RiskTable).action_sort_reverse()

    def step_interval(self, step: int) -> None:
        """One step faster or slower, stopping at either end (no wrap from 5 s round to auto)."""
        loop = self.refresh_loop
        current = INTERVALS.index(loop.interval if loop.interval in INTERVALS else 15.0)
        index = min(max(current + step, 0), len(INTERVALS) - 1)
        end = "" if index != current else " (the slowest)" if step > 0 else " (the fastest)"
        loop.set_interval(INTERVALS[index])
        self.draw_status()
        every = "with the data's updates" if loop.interval is None else f"every {fmt.interval(loop.interval)}"
        self.notify(f"Refresh {every}{end}", timeout=2)

    # --- time travel ---------------------------------------------------------------------------

    def action_replay(self, step: int) -> None:
        self._travel(step, None)

    def action_replay_day(self, step: int) -> None:
        self._travel(step, DAY)

    def action_go_live(self) -> None:
        if self.replay is not None:
            self._show_update(None)

    def _travel(self, step: int, by: timedelta | None) -> None:
        """One update (or a day, `by`) back or forward from the one on screen; forward to the
        update live shows, or past it, is live again."""
        if self.state.view is None:  # no legend yet: nothing to draw a recorded update with
            self.notify("Nothing to replay until the cohorts are in", severity="warning", timeout=3)
            return
        live, cohort = self.state.heatmap_update, self.state.view.cohort_id
        if step > 0:
            if self.replay is not None:  # live is already the newest
                at = step_forward(self._recorded_updates(cohort), self.replay.at, by)
                self._show_update(None if at is None or (live is not None and at >= live) else at)
            return
        updates = self._recorded_updates(cohort)
        at = step_back(updates, self.replay.at if self.replay else live, by)
        if at is None:
            before = "a day before" if by else "before"
            said = f"{before} the update shown" if updates else "yet: the store keeps each update the dashboard sees"
            self.notify(f"Nothing recorded {said}", severity="warning", timeout=3)
            return
        self._show_update(at)

    def look_back(self) -> None:
        """Once, after this session's first cycle with a heatmap (all its answers recorded): the
        moves since the update recorded last before it, shown at once if any (y shows them again)."""
        first = self.state.heatmap_update
        if self._session_first is not None or first is None or self.state.cohorts is None or self.state.warm:
            return
        self._session_first = first
        found = since_previous_session(self.recording, first)
        if found is None:
            return
        before, since = found
        self._since = (before, since_lines(since, self.state.cohorts))
        if not since.empty:
            self.action_since()

    def action_since(self) -> None:
        if self._since is None or self._session_first is None:
            self.notify("Nothing recorded before this session to compare with", severity="warning", timeout=3)
            return
        from hypertui.ui.screens.since import SinceScreen

        before, lines = self._since
        self.app.push_screen(SinceScreen(before, self._session_first, lines))

    def _recorded_updates(self, cohort: int) -> list[datetime]:
        """The updates the store holds panels of for this source and `cohort`, the one on screen
        (read when a key asks: it grows underneath)."""
        return with_panels(self.recording, cohort)

    def _show_update(self, at: datetime | None) -> None:
        """Draw the recorded update `at` in every panel (None: live again)."""
        self.replay = None if at is None else Replay(self.recording.dashboard_at(at))
        with self.app.batch_update():
            self.draw_all()
            self.draw_status()

    def _live_positions_note(self) -> None:
        """A drill-down opened while replaying asks the API now: it says so rather than pass for the past."""
        if self.replay is not None:
            self.notify(f"Positions are LIVE, not of the replayed {self.replay.at:%Y-%m-%d %H:%M} UTC", timeout=4)

    # --- messages from the panels --------------------------------------------------------------

    def cohort_chosen(self, segment_id: int) -> None:
        """The list's highlight moved (called in the cursor's frame, see CohortList)."""
        if self.state.select_cohort(segment_id):
            # What is known shows at once (the list's own summary); the panels once the cursor rests.
            self._draw_summary()
            self._draw_risk()
            self.refresh_loop.cohort_chosen()

    def on_risk_table_sort_changed(self, message: RiskTable.SortChanged) -> None:
        if self.state.sort_risk(message.column, message.descending):
            self.refresh_loop.request_refresh({RISK_MORE})
        self._draw_risk()
        table = self.query_one(RiskTable)
        table.move_cursor(row=0)  # the top of the new order is what was asked for
        table.scroll_home(animate=False)

    def on_risk_table_more_wanted(self, _: RiskTable.MoreWanted) -> None:
        if self.state.more_risk():
            self.refresh_loop.request_refresh({RISK_MORE})

    def on_heatmap_table_sort_wanted(self, message: HeatmapTable.SortWanted) -> None:
        self.state.sort_heatmap(message.cohort_id, message.descending)
        self._draw_heatmap()
        self.query_one(HeatmapTable).move_cursor(row=0)  # the top of the new order, in the sorted column

    @on(CoinFilter.Changed, "#coin-filter")
    def _coin_filter_changed(self, event: CoinFilter.Changed) -> None:
        self.state.coin_filter = event.value.strip()
        self._draw_heatmap()

    def on_dashboard_screen_layout_changed(self, message: DashboardScreen.LayoutChanged) -> None:
        self._draw_heatmap()  # one axis or both
        self.on_dashboard_screen_page_changed(message)

    def on_dashboard_screen_page_changed(self, _: DashboardScreen.PageChanged) -> None:
        """Another page or layout: fetch a panel that comes into view if its data is not current."""
        if self.state.view is None:
            return
        self.refresh_loop.refresh_if_stale(self.visible_panels() & PANELS)
