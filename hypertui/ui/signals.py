"""Colours that carry meaning (long/up, short/down, caution, danger, the heatmap palette).

They come from the theme, as Textual theme variables named `hypertui-*`, so a theme file can
change them (hypertui-colorblind: blue and orange) and Textual's own themes get the defaults.
Widgets read `signals_of(self)` when they build their rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from hypertui.monitor.heat import PALETTES, Palette

# Defaults: how hypertui looked before themes (ANSI green/red/yellow, the red-green heatmap).
VARIABLES = {
    "hypertui-long": "green",
    "hypertui-short": "red",
    "hypertui-caution": "yellow",
    "hypertui-danger": "red",
    "hypertui-heatmap-long": PALETTES[0].high,
    "hypertui-heatmap-neutral": PALETTES[0].neutral,
    "hypertui-heatmap-short": PALETTES[0].low,
}


def _colours(p: Palette) -> tuple[str, str, str]:
    return p.low.lower(), p.neutral.lower(), p.high.lower()


@dataclass(frozen=True)
class Signals:
    long: str = VARIABLES["hypertui-long"]
    short: str = VARIABLES["hypertui-short"]
    caution: str = VARIABLES["hypertui-caution"]
    danger: str = VARIABLES["hypertui-danger"]
    palette: Palette = PALETTES[0]

    @classmethod
    def of(cls, variables: Mapping[str, str]) -> Signals:
        v = {**VARIABLES, **variables}
        low, neutral, high = v["hypertui-heatmap-short"], v["hypertui-heatmap-neutral"], v["hypertui-heatmap-long"]
        # Named by its two sides: a light theme's red and green on its light grey are still the
        # red-green palette (the heatmap's subtitle names it by what `c` switches between).
        named = next((p for p in PALETTES if (p.low.lower(), p.high.lower()) == (low.lower(), high.lower())), None)
        return cls(
            long=v["hypertui-long"],
            short=v["hypertui-short"],
            caution=v["hypertui-caution"],
            danger=v["hypertui-danger"],
            palette=replace(named, neutral=neutral) if named else Palette("theme", low=low, neutral=neutral, high=high),
        )

    def mark(self, mark: str) -> str:
        """The style of a lean mark: ▲ long, ▼ short (a change is ↑↓, hypertui.ui.widgets.marks)."""
        return self.long if mark == "▲" else self.short if mark == "▼" else ""

    def sign(self, value: float | None) -> str:
        return "" if value is None else self.long if value > 0 else self.short if value < 0 else ""

    def risk(self, level: int) -> str:
        """Liquidation risk level 0 (calm), 1 (caution), 2 (danger)."""
        return ("", self.caution, f"bold {self.danger}")[level]

    def palettes(self) -> tuple[Palette, ...]:
        """What `c` cycles through: the theme's heatmap palette first, then the other built-in ones
        on the theme's neutral (the built-in neutral is a dark grey: light cells in a light theme)."""
        others = (replace(p, neutral=self.palette.neutral) for p in PALETTES)
        return (self.palette, *(p for p in others if _colours(p) != _colours(self.palette)))


DEFAULT = Signals()


def signals_of(node: Any) -> Signals:
    """The signals of the app a widget belongs to (the defaults outside hypertui's app)."""
    return getattr(node.app, "signals", DEFAULT)
