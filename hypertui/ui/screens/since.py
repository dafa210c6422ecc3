"""`y`: what moved between the update a previous session (or the recorder) saw last and this
session's first: cohorts whose bias turned, the largest long-share moves by cell (weighted by
value), coins that entered or left the 2 % and 10 % risk bands (hypertui.monitor.replay).

Opened by itself once at start when there is something to say; escape closes it. Every line is
built as Text: cohort and coin names are the server's, never markup.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from hypertui.ui.screens.help import _scroll_keys, _ScrollingBox


class SinceScreen(_ScrollingBox):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,y", "dismiss", "Close", id="since.close"),
        *_scroll_keys("since"),
    ]

    def __init__(self, since: datetime, first: datetime, lines: list[str]) -> None:
        super().__init__(id="since")
        self._since, self._first, self._lines = since, first, lines

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="since-box") as box:
            box.border_title = f"Since you last looked: {self._since:%Y-%m-%d %H:%M} → {self._first:%H:%M} UTC"
            box.border_subtitle = "escape closes · y reopens"
            lines = self._lines or ["Nothing moved past the marks: no bias turned, no cell moved, no risk band crossed"]
            yield Static(Group(*(Text(line, no_wrap=True, overflow="ellipsis") for line in lines)))
