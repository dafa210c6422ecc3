"""Direction marks (▲ up/long, ▼ down/short) in the theme's colours; the glyph carries the meaning."""

from __future__ import annotations

from rich.text import Text

from hypertui.ui.signals import Signals


def mark_text(mark: str, signals: Signals) -> Text:
    """A one-cell mark, blank when there is none."""
    return Text(mark or " ", style=signals.mark(mark))
