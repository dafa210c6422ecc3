"""The main screen: segment list, cohort summary, heatmap and liquidation risk, plus status.

From 120 columns every panel is on screen: the cohorts (list and summary) on the left, the
heatmap on the right with the risk table under it, or beside it from 150 columns; from 200 the
heatmap shows both axes' cohorts, the risk table under it again. Narrower terminals show one
page at a time under tabs. The screen only displays what the app hands it; it never fetches.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, OptionList, Tab, Tabs

from hypertui.monitor.plan import BOTH_AXES_COLUMNS, THREE_COLUMNS, WIDE_COLUMNS
from hypertui.ui.widgets.cohort_summary import CohortSummary
from hypertui.ui.widgets.coin_filter import CoinFilter
from hypertui.ui.widgets.footer import Footer
from hypertui.ui.widgets.heatmap import HeatmapTable
from hypertui.ui.widgets.risk_table import RiskTable
from hypertui.ui.widgets.segment_list import SegmentList
from hypertui.ui.widgets.status_bar import StatusBar
from hypertui.ui.widgets.synced_table import SyncedTable

# Panels in tab order, the page each lives on (narrow layout), and the widget that takes focus.
PANELS = ("segments", "summary", "heatmap", "risk")
PAGE_OF = {"segments": "cohorts", "summary": "cohorts", "heatmap": "heatmap", "risk": "risk"}
FOCUS_TARGET = {"segments": "#segments", "summary": "#top-assets", "heatmap": "#heatmap", "risk": "#risk"}
# The panel a focused widget belongs to, by widget id.
PANEL_OF_ID = {
    "segments": "segments",
    "top-assets": "summary",
    "heatmap": "heatmap",
    "coin-filter": "heatmap",
    "risk": "risk",
}
PAGES = ("cohorts", "heatmap", "risk")


class DashboardScreen(Screen):
    HORIZONTAL_BREAKPOINTS = [
        (0, "-narrow"),
        (WIDE_COLUMNS, "-two-columns"),
        (THREE_COLUMNS, "-wide"),
        (190, "-very-wide"),
        (BOTH_AXES_COLUMNS, "-both-axes"),
    ]
    BINDINGS = [
        Binding("tab", "next_panel", "Next panel", show=False, id="next_panel"),
        Binding("shift+tab", "previous_panel", "Previous panel", show=False, id="previous_panel"),
        Binding("i", "coin_view", "Coin view", show=False, id="coin_view"),
        Binding("L", "legend", "Legend: what the marks mean", show=False, id="legend"),
    ]

    class PageChanged(Message):
        """Another page is on screen (narrow layout): the app may fetch what it now shows."""

    class LayoutChanged(PageChanged):
        """Another layout (the width crossed a breakpoint): panels may have come into view, and
        the heatmap may show one axis or both."""

    def __init__(self) -> None:
        super().__init__(id="dashboard")
        self.page = "cohorts"
        self._border_texts: dict[tuple[str, str], str] = {}  # (panel id, title or subtitle) -> text
        self.status_bar = StatusBar()  # kept: the status tick would otherwise search the DOM for it
        self._stale: set[str] = set()
        self._resumed = False

    def compose(self) -> ComposeResult:
        # The breakpoint class the first Resize would set, set before the panels mount: styled
        # once rather than restyled and repainted whole right after the first frame.
        current = self._get_breakpoint_classes(self.app.size.width, self.HORIZONTAL_BREAKPOINTS)  # Textual's own choice
        self.update_classes({name: name in current for _, name in self.HORIZONTAL_BREAKPOINTS})
        tabs = Tabs(
            Tab("Cohorts", id="tab-cohorts"), Tab("Heatmap", id="tab-heatmap"), Tab("Risk", id="tab-risk"), id="pages"
        )
        tabs.can_focus = False  # tab/shift+tab move between panels instead
        yield tabs
        with Horizontal(id="main", classes="-page-cohorts"):
            with Vertical(id="left", classes="panel-page"):
                yield SegmentList()
                yield CohortSummary()
            with Vertical(id="heatmap-panel", classes="panel-page"):
                yield CoinFilter()
                yield HeatmapTable()
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
        self.query_one("#segments").border_title = "Cohorts"
        self.query_one("#heatmap-panel").border_title = "Heatmap"
        self.query_one("#risk-panel").border_title = "Liquidation risk"
        self.query_one("#segments").focus()

    # --- layout and panel navigation -------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        # Called before Screen's own handler sets the breakpoint class: the new one from the size.
        # (A screen under a drill-down gets its resize when it is back on top.)
        layout = self._get_breakpoint_classes(event.size.width, self.HORIZONTAL_BREAKPOINTS)
        if not self.has_class(*layout):
            self.post_message(self.LayoutChanged())  # handled once the class is set

    @property
    def narrow(self) -> bool:
        return self.has_class("-narrow")

    @property
    def both_axes(self) -> bool:
        """Wide enough for the heatmap to show the size and PnL cohorts side by side."""
        return self.has_class("-both-axes")

    def visible_panels(self) -> frozenset[str]:
        if not self.narrow:
            return frozenset(PANELS)
        return frozenset(p for p in PANELS if PAGE_OF[p] == self.page)

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
                self._focus_panel(next(p for p in PANELS if PAGE_OF[p] == page))

    def _current_panel(self) -> str:
        focused = self.focused
        return PANEL_OF_ID.get(focused.id or "", PANELS[0]) if focused else PANELS[0]

    def _focus_panel(self, panel: str) -> None:
        self.show_page(PAGE_OF[panel])
        # At once, not as Widget.focus does (after the messages already queued): keys that
        # arrive together (a held Tab) each step from where the one before left the focus.
        self.set_focus(self.query_one(FOCUS_TARGET[panel]))

    def action_next_panel(self) -> None:
        i = PANELS.index(self._current_panel())
        self._focus_panel(PANELS[(i + 1) % len(PANELS)])

    def action_previous_panel(self) -> None:
        i = PANELS.index(self._current_panel())
        self._focus_panel(PANELS[(i - 1) % len(PANELS)])

    def action_legend(self) -> None:
        from hypertui.ui.screens.help import LegendScreen

        self.app.push_screen(LegendScreen())

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
        """Enter on a coin: its positions for `segment_id` (None: the cohort selected in the app)."""

        def __init__(self, coin: str, segment_id: int | None, all_cohorts: bool = False) -> None:
            self.coin = coin
            self.segment_id = segment_id
            self.all_cohorts = all_cohorts
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
            self.post_message(self.PositionsWanted(chosen[0], chosen[1], all_cohorts=chosen[1] is None))

    def on_heatmap_table_cursor_detail(self, message: HeatmapTable.CursorDetail) -> None:
        message.stop()
        self.set_title("heatmap-panel", f"Heatmap · {message.text}" if message.text else "Heatmap")

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
            self.post_message(self.PositionsWanted(coin, None))

    class CoinWanted(Message):
        """`i`: the coin view of the coin under the cursor."""

        def __init__(self, coin: str) -> None:
            self.coin = coin
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
            self.post_message(self.CoinWanted(coin))
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

    def set_stale(self, panels: set[str]) -> None:
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
        if self._border_texts.get((panel_id, which)) != text:  # setting one repaints the whole panel, even if equal
            self._border_texts[panel_id, which] = text
            setattr(self.query_one(f"#{panel_id}"), which, Text(text))  # Text: never markup
