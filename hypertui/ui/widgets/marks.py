"""Colours of the direction marks (▲ up/long, ▼ down/short); the glyph carries the meaning."""

from __future__ import annotations

from rich.text import Text

MARK_STYLE = {"▲": "green", "▼": "red"}


def mark_text(mark: str) -> Text:
    """A one-cell mark, blank when there is none."""
    return Text(mark or " ", style=MARK_STYLE.get(mark, ""))
