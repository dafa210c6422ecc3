"""Textual's Footer, without two stylesheet passes per key each time a screen opens."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey


class Footer(TextualFooter):
    """Each FooterKey starts out compact (its reactive's default) and is then bound to the
    footer's `compact`: a class added and removed after mount, each a full restyle of the key.
    That was most of the time from a keypress to a drill-down's first page (≈ 0.2 s of 0.3 s
    on a 2-core box). Keys are given the footer's value before they mount instead."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # The command palette's key is not bound to the footer: it stays compact.
                compact = True if widget.has_class("-command-palette") else self.compact
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget
