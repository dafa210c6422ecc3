"""Textual's Footer, without two stylesheet passes per key each time a screen opens."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey


NARROW = 100  # columns


class Footer(TextualFooter):
    """Each FooterKey starts out compact (its reactive's default) and is then bound to the
    footer's `compact`: a class added and removed after mount, each a full restyle of the key.
    That was most of the time from a keypress to a drill-down's first page (≈ 0.2 s of 0.3 s
    on a 2-core box). Keys are given the footer's value before they mount instead."""

    # Compact keys get a right margin; on the docked palette key it left the last column showing
    # whatever key text ran beneath it.
    DEFAULT_CSS = """
    Footer.-compact FooterKey.-command-palette {
        margin-right: 0;
        padding-right: 1;
    }
    """

    def compose(self) -> ComposeResult:
        # Narrow terminals: keys without padding, so "/ Filter coins" is not cut at 80 columns.
        self.set_reactive(TextualFooter.compact, self._narrow())
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # The command palette's key is not bound to the footer: it stays compact.
                compact = True if widget.has_class("-command-palette") else self.compact
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget

    def _narrow(self) -> bool:
        return self.app.size.width < NARROW

    def on_resize(self) -> None:
        self.compact = self._narrow()
