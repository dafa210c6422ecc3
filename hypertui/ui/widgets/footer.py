"""The footer: the screen's shown keys on one line, drawn by one widget.

Textual's Footer is a widget per key (FooterKey), composed again whenever the bindings change
(the focus moves, a screen opens or resumes): each screen's opening composed, styled and mounted
nine or ten of them, and the dashboard's, suspended under it, recomposed too, each a frame more
of the new screen. This one renders the same line from `screen.active_bindings` and repaints it
only when the keys shown differ. The command palette's key sits at the right end after a bar,
always compact; a click runs the key under the pointer (no hover highlight, no tooltips).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

NARROW = 100  # columns: under it, keys without padding, so "/ Filter coins" is not cut at 80 columns

Shown = tuple[tuple[Binding, bool], ...]  # (binding, enabled) in the order drawn


class Footer(Widget):
    DEFAULT_CSS = """
    Footer {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    Footer > .footer--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    Footer > .footer--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    Footer > .footer--bar {
        color: $foreground 20%;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"footer--key", "footer--description", "footer--bar"}

    def __init__(self) -> None:
        super().__init__()
        self._drawn: Shown = ()  # the keys the last render drew
        self._spans: list[tuple[int, int, Binding, bool]] = []  # columns [from, to) of each key, for clicks

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        # Signalled on every focus change and screen resume: the keys are mostly the same. Under
        # another screen (a see-through one shows this footer, dimmed) the keys are not this
        # screen's to act on: it is drawn again when it resumes, if they differ then, not twice.
        if screen is self.screen is self.app.screen and self.is_attached and self._shown() != self._drawn:
            self.refresh()

    def _shown(self) -> Shown:
        """The shown bindings, one per action (its first key), and the command palette's last."""
        bindings = self.screen.active_bindings
        palette_key = self.app.COMMAND_PALETTE_BINDING
        by_action: dict[str, tuple[Binding, bool]] = {}
        for key, binding, enabled, _ in bindings.values():
            if binding.show and key != palette_key:
                by_action.setdefault(binding.action, (binding, enabled))
        palette = bindings.get(palette_key) if self.app.ENABLE_COMMAND_PALETTE else None
        return (*by_action.values(), *([(palette.binding, palette.enabled)] if palette else []))

    def render(self) -> Text:
        self._drawn = shown = self._shown()
        keys = list(shown)
        palette = keys.pop() if keys and keys[-1][0].key == self.app.COMMAND_PALETTE_BINDING else None
        compact = self.size.width < NARROW
        line = Text(no_wrap=True, overflow="crop", end="")
        self._spans = []
        for binding, enabled in keys:
            start = line.cell_len
            line.append_text(self._key(binding, enabled, compact=compact))
            self._spans.append((start, line.cell_len, binding, enabled))
        if palette is not None:  # at the right end, over any keys that do not fit
            tail = Text.assemble(("▏", self.get_component_rich_style("footer--bar")), self._key(*palette, compact=True))
            at = max(self.size.width - tail.cell_len, 0)
            line.truncate(at, pad=True)
            self._spans = [span for span in self._spans if span[1] <= at]
            self._spans.append((at, self.size.width, *palette))
            line.append_text(tail)
        return line

    def _key(self, binding: Binding, enabled: bool, *, compact: bool) -> Text:
        """" q Quit " ("q Quit " when compact), dim if disabled."""
        key, description = self.app.get_key_display(binding), binding.description
        return Text.assemble(
            (key if compact else f" {key} ", self.get_component_rich_style("footer--key")),
            (f" {description} " if compact else f"{description} ", self.get_component_rich_style("footer--description")),
            style="dim" if not enabled else "",
        )

    def on_mouse_down(self, event: events.MouseDown) -> None:
        for start, end, binding, enabled in self._spans:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(binding.key)
                else:
                    self.app.bell()
                return
