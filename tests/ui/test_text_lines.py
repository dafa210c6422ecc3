"""TextLines draws what Static draws (what the terminal gets, and the text offsets) while every line fits; Static's way otherwise."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.segment import Segments
from rich.style import Style as RichStyle
from rich.text import Text
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widgets import Static

from hypertui.ui.widgets.text_lines import TextLines

TEXTS = {
    "spans": Text.assemble((" SIMULATOR ", "bold reverse"), (" │ ", "dim"), "updated 08:30:00 UTC", (" │ ", "dim"), "35 req"),
    "lines": Text.assemble(("Traders     ", "dim"), "   307  ", ("▲", "green"), "\n", ("Bias", "dim"), "  +0.12 ", ("▼", "bold red")),
    "blank line and wide chars": Text("🦐 Shrimp\n\n🐋 Whale  x"),
    "plain": Text("waiting for data…", style="dim"),
    "base colour": Text("no data yet: /segments: refused", style="bold red"),
    "base Style": Text.assemble("✗ ", ("refused", "italic"), style=RichStyle(color="red", bold=True)),
    "tab": Text("a\tb"),
    "Rich-only style words": Text("docs", style="link https://example.com"),
    "wider than the widget": Text("a line far longer than the fifty cells this widget is given, so Static wraps it onto a second line"),
}


def _look(strip: Strip) -> tuple[str, list]:
    """What a terminal gets (a colour's name aside: "green" and "color(2)" write the same) and the meta."""
    console = Console(color_system="truecolor", force_terminal=True, width=200)
    with console.capture() as written:
        console.print(Segments(list(strip)), end="")
    return written.get(), [segment.style.meta if segment.style else {} for segment in strip]


class Pair(App):
    CSS = "Static { width: 50; height: auto; padding: 0 1; }"

    def __init__(self, text: Text) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield Static(self.text, id="static")
        yield TextLines(self.text, id="lines")


@pytest.mark.parametrize("name", TEXTS)
async def test_lines_are_static_s_lines(name):
    app = Pair(TEXTS[name])
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        static, lines = app.query_one("#static", Static), app.query_one("#lines", TextLines)
        assert static.size == lines.size
        for y in range(lines.size.height):
            assert _look(lines.render_line(y)) == _look(static.render_line(y)), f"line {y}"
        # Drawn by Rich once per text while it fits; a line too wide is wrapped by Static.
        assert (lines._drawn[3] is None) == (name in ("wider than the widget", "tab", "Rich-only style words"))


async def test_a_new_text_is_drawn_anew():
    app = Pair(TEXTS["plain"])
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        lines = app.query_one("#lines", TextLines)
        lines.update(Text("updated"))
        await pilot.pause()
        assert "".join(segment.text for segment in lines.render_line(0)).startswith("updated")
