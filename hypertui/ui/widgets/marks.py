"""The dashboard's one-cell marks in the theme's colours; the glyph alone carries the meaning.

A lean (▲ long, ▼ short, · balanced) takes the long/short colours. A change since the last
refresh (↑ ↓) is bold and uncoloured, so green never says "up" where it says "long" elsewhere,
except where a rise is bad news (more value within reach of liquidation): that ↑ is danger.
"""

from __future__ import annotations

from rich.text import Text

from hypertui.monitor.deltas import ROSE
from hypertui.ui.signals import Signals


def lean_text(lean: str, signals: Signals) -> Text:
    """A one-cell lean mark, blank when there is none."""
    return Text(lean or " ", style=signals.mark(lean))


def change_text(change: str, signals: Signals, rise_is_danger: bool = False) -> Text:
    """A one-cell change mark, blank when nothing changed (so numbers line up either way)."""
    return Text(change or " ", style=signals.risk(2) if rise_is_danger and change == ROSE else "bold")
