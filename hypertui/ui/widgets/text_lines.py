"""A Static for Rich Text whose lines fit: each line drawn once by Rich, not on every repaint."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.style import Style as TextualStyle
from textual.widgets import Static


class TextLines(Static):
    """Static lays a text out through Textual's Content each time it is drawn (wrapping, span
    styles, links); the status bar and the cohort figures are drawn on every refresh: ~3.3 ms
    of a ~32 ms refresh at 160x45, ~2.5 ms this way. While every line fits the width and
    nothing else is asked of the layout (selection, alignment), each line is drawn by Rich once
    per text, width and style, with the same segments, styles and text offsets (test);
    otherwise Static draws it as ever."""

    _drawn: tuple[Text, int, Style, list[Strip] | None] | None = None

    def render_line(self, y: int) -> Strip:
        strips = self._strips()
        if strips is None or self._drawn is None:  # (strips come with _drawn set)
            return super().render_line(y)
        return strips[y] if y < len(strips) else Strip.blank(self.size.width, self._drawn[2])

    def _strips(self) -> list[Strip] | None:
        text = self.content
        if not isinstance(text, Text) or self.text_selection is not None:
            return None
        width, style = self.size.width, self.visual_style.rich_style
        drawn = self._drawn
        if drawn is None or drawn[0] is not text or drawn[1] != width or drawn[2] != style:
            drawn = self._drawn = (text, width, style, self._draw(text, width, style))
        return drawn[3]

    def _draw(self, text: Text, width: int, style: Style) -> list[Strip] | None:
        rules = self.styles
        if rules.text_align not in ("start", "left") or tuple(rules.content_align) != ("left", "top"):
            return None
        lines = text.split("\n", allow_blank=True)
        if "\t" in text.plain or any(line.cell_len > width for line in lines):  # expanded, wrapped or cut: Static's way
            return None
        # Text.render leaves the text's own style out (Rich lays it under the spans when printing);
        # Static reads a style given as a string the way Textual's CSS does ("red" is #ff0000).
        try:
            own = TextualStyle.parse(text.style).rich_style if isinstance(text.style, str) else text.style
        except Exception:  # noqa: BLE001 - Rich-only style words (a link): Static's way
            return None
        base = style + own
        console = self.app.console
        return [_with_offsets(list(Segment.apply_style(line.render(console), base)), y) for y, line in enumerate(lines)]


def _with_offsets(segments: list[Segment], y: int) -> Strip:
    """Each segment with where its text starts, as Textual's Content gives it (text selection reads it)."""
    x, out = 0, []
    for text, style, _ in segments:
        out.append(Segment(text, (style or Style()) + Style.from_meta({"offset": (x, y)})))
        x += len(text)
    return Strip(out)
