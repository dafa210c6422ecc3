"""What every drill-down screen (positions, coin view, history, bias overview) shares.

Each is pushed over the dashboard, which stays alive underneath, and:
- has the same keys around its own: back first, export last (e CSV, E JSON), and r to reload;
  binding ids dotted by the screen's name (`coin.back`), as `[keys]` in the config names them;
- asks the client and reads the clock it is given (typed), not ones reached for through the app;
- loads in workers each screen declares `@work(exclusive=True, group=...)`: a new load cancels the
  one still on its way (its answer is for filters no longer shown), and popping the screen
  cancels them all (Textual cancels a removed node's workers);
- ends with a status line: what is shown, `⋯ loading…` while a load is on its way, headed by the
  last error and how to retry while the last data stays on screen;
- has the app's commands in its palette (ctrl+p): coins and cohorts by name, the keys that work there;
- is kept between openings (`KeptScreen`, as the alerts and help are too: the app installs them):
  opened again it is refilled (`refill`) before it is shown, not composed, styled and mounted anew;
  closed, it is not taken apart widget by widget, and lets go of the rows it held (`release`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import Static

from hypertui.api.client import HyperTrackerClient
from hypertui.monitor.export import Table
from hypertui.ui.export_key import export_tables
from hypertui.ui.textual_internals import HookedScreen

if TYPE_CHECKING:
    from textual.command import Provider

    from hypertui.ui.app import HyperTuiApp

Clock = Callable[[], datetime]
Part = str | tuple[str, str]  # a piece of a status line, as Text.assemble takes it
Result = TypeVar("Result")


def drill_down_bindings(screen: str, *own: Binding) -> list[BindingType]:
    """Back, the screen's own keys in the order the footer shows them, then the two exports."""
    return [
        Binding("escape,backspace", "back", "Back", id=f"{screen}.back"),
        *own,
        Binding("e", "export('csv')", "Export CSV", id=f"{screen}.export_csv"),
        Binding("E", "export('json')", "Export JSON", id=f"{screen}.export_json"),
    ]


def reload_binding(screen: str) -> Binding:
    return Binding("r", "reload", "Reload", id=f"{screen}.reload")


def status_line(parts: list[Part], *, loading: bool = False, error: str | None = None) -> Text:
    """One line, cut with an ellipsis: `parts`, `· ⋯ loading…` while loading, and the last error
    first (the data shown is then the last that loaded)."""
    pieces = list(parts)
    if loading:
        pieces.append((" · ⋯ loading…", "dim"))
    if error is not None:
        pieces = [(f" ✗ {error}", "bold red"), " (r retries) │", *pieces]
    return Text.assemble(*pieces, no_wrap=True, overflow="ellipsis")


def retext(static: Static, text: Text) -> None:
    """A one-line Static's new text, not laid out again (its size stays); none when it reads the
    same (Text's == leaves the base style out: a recoloured line must count as new)."""
    shown = static.content
    if not (isinstance(shown, Text) and (shown.plain, shown.style, shown.spans) == (text.plain, text.style, text.spans)):
        static.update(text, layout=False)


class KeptScreen(HookedScreen[Result]):
    """A screen the app builds on its first opening and keeps (installed) between openings.

    Opened again, it is refilled (`refill`: everything it holds as a new one's, then a load)
    before it is shown, so its requests are on their way at once (the embedded simulator's answers
    often come in time for the first frame); its new lines (a layout) are written in its resume's
    whole repaint, not in a frame of their own before it (HookedScreen). Closed, it is not taken
    apart widget by widget (after which Textual repainted the dashboard a second time), and it
    lets go of the rows it held (`release`). Its resume restyles it only if the theme changed
    since it was last styled.
    """

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)  # Screen's: a ModalScreen's comes first in the help's
        self._styled_under: str | None = None  # the theme its widgets were last styled under

    def refill(self) -> None:
        """Opened again: show afresh what a new screen would, and load it."""
        raise NotImplementedError(f"{type(self).__name__} has nothing to refill")

    def release(self) -> None:
        """Closed: drop what a refill would replace anyway (rows, answers on their way)."""

    @property
    def closed(self) -> bool:
        """Off the screen stack: kept for the next opening, not under another screen."""
        return self not in self.app.screen_stack

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual restyles every widget of a screen on each resume (~10-30 ms for the coin view's
        # 40): a kept screen back under the theme it was styled under looks the same without.
        if self._styled_under == self.app.theme:
            event.refresh_styles = False
        self._styled_under = self.app.theme

    def on_screen_suspend(self) -> None:
        if self.closed:  # not merely under a modal or a wallet's book
            self.release()


def drill_down_commands() -> type[Provider]:
    """The palette's provider, imported when the palette first opens (see hypertui.ui.commands)."""
    from hypertui.ui.commands import DrillDownCommands

    return DrillDownCommands


class DrillDownScreen(KeptScreen[None]):
    """A screen over the dashboard that loads with `client`, at times read from `clock`, and
    exports what `export_tables` returns."""

    COMMANDS: ClassVar[set[Any]] = {drill_down_commands}  # the dashboard's coins and cohorts, the keys that work here

    def __init__(self, client: HyperTrackerClient, clock: Clock, *, id: str) -> None:
        super().__init__(id=id)
        self.client = client
        self.clock = clock

    def api_update(self) -> datetime | None:
        """The API's update (`lastUpdate`) as state/status last said; None while none was read."""
        status = self.client.status
        return status.last_update if status is not None else None

    def answered_in(self, asked_in: datetime | None) -> datetime | None:
        """The update an answer asked for in update `asked_in` is of: that one if state/status
        still names it now it is in; None (not known) if it changed on the way."""
        return asked_in if asked_in == self.api_update() else None

    def update_is_current(self, update: datetime | None) -> bool:
        """`update` is the API's current one, and stays so for now: state/status, as last read,
        names it, and its next update is not due (nothing changes before it): what a kept
        screen holds of it need not be asked again."""
        status = self.client.status
        return (
            update is not None and status is not None and status.last_update == update
            and status.next_update is not None and self.clock() < status.next_update
        )

    def action_back(self) -> None:
        self.app.pop_screen()

    def open_positions(self, coin: str, segment_id: int, age: str = "all") -> None:
        """The positions of coin × cohort opened within position age `age`, opened as the
        dashboard opens them (the app keeps one such screen: another built here would take its id)."""
        cast("HyperTuiApp", self.app).open_positions(coin, segment_id, age)

    def export_tables(self) -> list[Table]:
        """What the export keys write: what the screen holds now (none: a toast says so)."""
        return []

    def export_note(self, fmt: str) -> str:
        """A line the toast of an export to `fmt` ends with (what the files leave out, say)."""
        return ""

    def action_export(self, fmt: str) -> None:
        export_tables(self, self.export_tables(), fmt, self.clock(), self.export_note(fmt))
