"""The `/` coin-name filter: an Input without the ctrl+a/ctrl+k defaults (tmux, readline clashes)."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input

FORBIDDEN_KEYS = {"ctrl+a", "ctrl+s", "ctrl+q", "ctrl+h", "ctrl+j", "ctrl+k", "ctrl+l"}


def _without_forbidden(bindings: list[BindingType]) -> list[BindingType]:
    out: list[BindingType] = []
    for b in bindings:
        assert isinstance(b, Binding), b  # Input declares Binding objects, not (key, action) tuples
        keys = [k for k in b.key.split(",") if k not in FORBIDDEN_KEYS]
        if keys:
            out.append(replace(b, key=",".join(keys), id=b.id or f"filter.{b.action}"))
    return out


class CoinFilter(Input, inherit_bindings=False):
    BINDINGS: ClassVar[list[BindingType]] = [
        *_without_forbidden(Input.BINDINGS),
        Binding("escape", "clear", "Clear the filter", id="filter.clear"),
    ]

    def __init__(self) -> None:
        super().__init__(placeholder="filter coins…", id="coin-filter", select_on_focus=False)
        self.cursor_blink = False  # a blinking cursor would make snapshots flaky

    def action_clear(self) -> None:
        self.value = ""
        self.post_message(self.Submitted(self, ""))
