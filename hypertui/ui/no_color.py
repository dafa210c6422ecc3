"""NO_COLOR output that stays readable.

Textual's own monochrome filter maps each colour to its luminance, so red text (the highest
liquidation risk, a negative bias) becomes dark grey on a near-black panel. This filter does
the same conversion, then lifts any foreground too close to its background to full contrast,
in bold, so what colour used to single out is still the most visible thing on the line.
"""

from __future__ import annotations

from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import LineFilter, Monochrome

MIN_CONTRAST = 0.35  # difference in brightness (0-1) below which text counts as unreadable


@lru_cache(1024)
def readable_monochrome(style: Style, fallback_background: Color) -> Style:
    fg = Color.from_rich_color(style.color).monochrome if style.color else None
    bg = Color.from_rich_color(style.bgcolor).monochrome if style.bgcolor else fallback_background.monochrome
    if fg is not None and abs(fg.brightness - bg.brightness) < MIN_CONTRAST:
        fg = Color(255, 255, 255) if bg.brightness < 0.5 else Color(0, 0, 0)
        style = style + Style(bold=True)
    return style + Style.from_color(
        fg.rich_color if fg is not None else None, bg.rich_color if style.bgcolor else None
    )


class ReadableMonochrome(LineFilter):
    """Greyscale with a minimum contrast between text and its background."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            Segment(text, None if style is None else readable_monochrome(style, background), None)
            for text, style, _ in segments
        ]


def replace_monochrome(filters: list[LineFilter]) -> list[LineFilter]:
    """The app's filters with Textual's Monochrome swapped for the readable one."""
    return [ReadableMonochrome() if isinstance(f, Monochrome) else f for f in filters]
