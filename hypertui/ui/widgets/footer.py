"""Textual's Footer, without two stylesheet passes per key each time a screen opens, nor a
recompose per binding change when several come together."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer as TextualFooter

from hypertui.ui.textual_internals import FooterKey, mark_footer_bindings_ready

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

    _recompose_due = False
    _composed_for: tuple = ()

    def compose(self) -> ComposeResult:
        # Textual composes no keys until the screen signals its bindings, then recomposes; the
        # keys known now are composed at once, and a signal recomposes only if they changed.
        mark_footer_bindings_ready(self)
        self._composed_for = self._shown()
        # Narrow terminals: keys without padding, so "/ Filter coins" is not cut at 80 columns.
        self.set_reactive(TextualFooter.compact, self._narrow())
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # The command palette's key is not bound to the footer: it stays compact.
                compact = True if widget.has_class("-command-palette") else self.compact
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget

    def bindings_changed(self, screen: Screen) -> None:
        # Textual's, but one recompose for the changes that come before it runs, and none if
        # the keys did not change: start-up signalled three (focus twice, screen resume), each
        # a compose, nine keys mounted and a repaint (~25 ms) before data could be drawn.
        mark_footer_bindings_ready(self)
        if screen.app.app_focus and self.is_attached and screen is self.screen and not self._recompose_due:
            self._recompose_due = True
            self.call_after_refresh(self._recompose_once)

    async def _recompose_once(self) -> None:
        self._recompose_due = False  # a change from here on is composed by another recompose
        if self.is_attached and self._shown() != self._composed_for:
            await self.recompose()

    def _shown(self) -> tuple:
        """What the keys are composed from: the shown bindings and the command palette's."""
        bindings = self.screen.active_bindings
        palette = bindings.get(self.app.COMMAND_PALETTE_BINDING)
        shown = tuple((binding, enabled, tooltip) for _, binding, enabled, tooltip in bindings.values() if binding.show)
        return shown, palette and palette[1:]

    def _narrow(self) -> bool:
        return self.app.size.width < NARROW

    def on_resize(self) -> None:
        self.compact = self._narrow()
