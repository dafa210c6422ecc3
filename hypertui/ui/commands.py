"""The command palette: cohorts, coins, positions under the dashboard's cursors, and every key
by name (Textual Providers: the dashboard's, and the drill-downs', which find the same coins and
cohorts, from the dashboard's state, and the keys that work on the screen they are opened on).

Opened, the palette lists what one picks from a short list (the positions under the cursors, the
cohorts, the keys); a coin's view and a cohort's history are found by typing the name. Every
listed command costs the opening: Textual turns each hit into a two-line option and measures all
of them on every layout, and the ~210 coins made the list 270 long (ctrl+p took 184 ms, and the
keys sat below the coins).

Titles hold cohort and coin names from the server, so they are shown as `Text`, never read as
markup (a cohort named "[/]" raised MarkupError as the palette opened, taking the app down), and
a search's matches are marked on that literal text. Help lines are escaped for the same reason.
Imported when the palette first opens, as Textual's own provider is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from rich.text import Text
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from hypertui.monitor.rows import cohort_groups
from hypertui.ui.keymap import remapped
from hypertui.ui.screens.positions import cohort_label
from hypertui.ui.widgets.cohort_list import CohortList
from hypertui.ui.widgets.risk_table import RiskTable
from hypertui.ui.widgets.synced_table import SyncedTable

if TYPE_CHECKING:
    from hypertui.ui.app import HyperTuiApp
    from hypertui.ui.screens.dashboard import DashboardScreen


class Command(NamedTuple):
    title: str  # may hold server names: shown as Text
    help: str
    callback: Callable[[], Any]


class AppCommands(Provider):
    """What the palette finds on any screen: the cohorts, every coin by name, each cohort's
    history, and the keys that work on the screen it is opened on (`self.screen`)."""

    @property
    def dashboard(self) -> DashboardScreen:
        return self.hypertui.dashboard

    @property
    def hypertui(self) -> HyperTuiApp:
        return cast("HyperTuiApp", self.app)

    def listed(self) -> Iterator[Command]:
        """The commands the palette lists before anything is typed."""
        yield from self._cohort_commands()
        yield from self._key_commands()

    def commands(self) -> Iterator[Command]:
        """Every command a search is matched against."""
        yield from self.listed()
        yield from self._history_commands()
        yield from self._coin_commands()

    async def discover(self) -> Hits:
        for command in self.listed():
            yield DiscoveryHit(Text(command.title), command.callback, text=command.title, help=escape(command.help))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        style = matcher.match_style.rich_style
        for command in self.commands():
            score, offsets = matcher.fuzzy_search.match(matcher.query, command.title)
            if score > 0:
                shown = Text(command.title)
                for offset in offsets:  # Matcher.highlight's marks, on the literal title
                    if not command.title[offset].isspace():
                        shown.stylize(style, offset, offset + 1)
                yield Hit(score, shown, command.callback, text=command.title, help=escape(command.help))

    def _key_commands(self) -> Iterator[Command]:
        """Every key with a description, where it works: the screen's own, and the app's it leaves
        to the app (a drill-down's r reloads it: not the app's refresh)."""
        app, screen = self.hypertui, self.screen
        own = remapped([b for b in screen.BINDINGS if isinstance(b, Binding)], app.prefs.keys)
        taken = {key for b in own for key in b.key.split(",")}
        keys = [b for b in remapped(app.app_keys(), app.prefs.keys) if b.action != "quit" and not set(b.key.split(",")) <= taken]
        for owner, bindings in ((app, keys), (screen, own)):
            for binding in bindings:
                if binding.description:
                    run = partial(owner.run_action, binding.action)
                    yield Command(binding.description, f"key: {binding.key_display or binding.key}", run)

    def _cohort_commands(self) -> Iterator[Command]:
        """"Cohort: Whale 🐋" for each cohort, so one can be chosen by typing its name."""
        for _, segments in cohort_groups(self.dashboard.state.cohorts or []):
            for seg in segments:
                yield Command(
                    f"Cohort: {seg.name} {seg.emoji}".rstrip(),  # name first: the palette lists commands by title
                    f"{seg.category} cohort: its summary, top assets and liquidation risk{self.cohort_where}",
                    partial(self.select_cohort, seg.id),
                )

    cohort_where = ""  # where a cohort chosen is shown, if not on the screen the palette is opened on

    def select_cohort(self, segment_id: int) -> None:
        self.dashboard.query_one(CohortList).select(segment_id)

    def _history_commands(self) -> Iterator[Command]:
        """"History of Whale 🐋" for each cohort."""
        for _, segments in cohort_groups(self.dashboard.state.cohorts or []):
            for seg in segments:
                yield Command(
                    f"History of {seg.name} {seg.emoji}".rstrip(),
                    "perp bias and exposure over time (GET /segments/{id}/bias-history)",
                    partial(self.hypertui.open_history, seg.id),
                )

    def _coin_commands(self) -> Iterator[Command]:
        """"Coin: BTC" for every coin in the heatmap (biggest first), then the top assets' and the risk
        table's (the narrow layout fetches only the page on screen): any coin's view by name."""
        state = self.dashboard.state
        rows = sorted(state.heatmap.heatmap, key=lambda r: r.total_value, reverse=True) if state.heatmap else []
        top = state.summary.top_open_perps if state.summary else []
        for coin in dict.fromkeys([*(r.coin for r in rows), *(a.coin for a in top), *(i.coin for i in state.risk_items)]):
            yield Command(
                f"Coin: {coin}",
                "breakdown by cohort and cohort series (position-breakdown-by-cohort, segment-metrics)",
                partial(self.hypertui.open_coin, coin),
            )

class DashboardCommands(AppCommands):
    """The dashboard's palette: the positions under its cursors first."""

    def listed(self) -> Iterator[Command]:
        yield from self._positions_commands()
        yield from super().listed()

    def _positions_commands(self) -> Iterator[Command]:
        """"Positions for <coin> × <cohort>" for what the heatmap and risk cursors are on."""
        dashboard, state = self.dashboard, self.dashboard.state
        if state.cohorts is None or state.view is None:
            return
        picks: list[tuple[str, int | None]] = []
        chosen = dashboard.heatmap_selection()
        if chosen is not None:
            picks.append(chosen)
        risk = dashboard.query_one(RiskTable)
        if risk.cursor_key is not None:
            picks.append((risk.cursor_key, state.view.cohort_id))
        top = dashboard.query_one("#top-assets", SyncedTable)
        if 0 <= top.cursor_row < len(top.row_keys):
            picks.append((top.row_keys[top.cursor_row], state.view.cohort_id))
        for coin, sid in dict.fromkeys(picks):
            yield Command(
                f"Positions for {coin} × {cohort_label(state.cohorts, sid)}",
                "open the positions drill-down (GET /positions)",
                partial(self.hypertui.open_positions, coin, sid),
            )


class DrillDownCommands(AppCommands):
    """A drill-down's palette: a cohort chosen is shown on the dashboard, back under it."""

    cohort_where = " (back on the dashboard)"

    def select_cohort(self, segment_id: int) -> None:
        app = self.hypertui
        while app.screen is not app.dashboard:
            app.pop_screen()
        super().select_cohort(segment_id)
