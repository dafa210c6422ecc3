"""compact_sgr writes fewer bytes and a terminal shows exactly the same (pyte as the terminal)."""

from __future__ import annotations

import random

import pyte
import pytest
from rich.color import ColorSystem
from rich.style import Style

from hypertui.ui.terminal_output import compact_sgr, compacting

STYLES = [
    Style(color="grey89", bgcolor="grey11"),
    Style(color="grey89", bgcolor="grey11", bold=True),
    Style(color="white", bgcolor="#1a9850", bold=True, underline=True),
    Style(color="white", bgcolor="#1a9850"),
    Style(color="#d73027", bgcolor="grey11", bold=True),
    Style(bgcolor="grey11"),
    Style(color="red"),
    Style(reverse=True, bold=True),
    Style(italic=True, dim=True, bgcolor="blue"),
    Style(),
]


def screen_of(data: str) -> list[list[tuple]]:
    screen = pyte.Screen(40, 8)
    pyte.Stream(screen).feed(data)
    return [[(c.data, c.fg, c.bg, c.bold, c.italics, c.underscore, c.reverse) for c in row.values()] for row in
            (screen.buffer[y] for y in range(8))]


def textual_like(rng: random.Random, system: ColorSystem) -> str:
    """What Textual writes for an update: per line a cursor move, then each segment as SGR text RESET."""
    out = []
    for _ in range(rng.randint(1, 6)):
        out.append(f"\x1b[{rng.randint(1, 8)};{rng.randint(1, 20)}H")
        for _ in range(rng.randint(1, 5)):
            style = rng.choice(STYLES)
            text = rng.choice(["ab", " ", "▓▲62%", "$1.2M", "x"])
            out.append(style.render(text, color_system=system) if style else text)
        if rng.random() < 0.2:
            out.append("\x1b[K")  # erase to end of line: uses the background in effect
    return "".join(out)


@pytest.mark.parametrize("system", [ColorSystem.TRUECOLOR, ColorSystem.EIGHT_BIT, ColorSystem.STANDARD])
def test_the_terminal_shows_the_same_with_fewer_bytes(system):
    rng = random.Random(7)
    before = after = 0
    for _ in range(300):
        data = "".join(textual_like(rng, system) for _ in range(3))
        compact = compact_sgr(data)
        assert screen_of(compact) == screen_of(data)
        before, after = before + len(data), after + len(compact)
    assert after < before * 0.9


def test_a_reset_before_other_escapes_and_at_the_end_is_kept():
    bold = "\x1b[1;38;5;231m"
    assert compact_sgr(f"{bold}a\x1b[0m\x1b[K") == f"{bold}a\x1b[0m\x1b[K"  # erase must not be bold-backed
    assert compact_sgr(f"{bold}a\x1b[0m") == f"{bold}a\x1b[0m"  # the terminal is left as found
    assert compact_sgr(f"{bold}a\x1b[0m\x1b[2;1H{bold}b\x1b[0m") == f"{bold}a\x1b[2;1Hb\x1b[0m"


def test_attributes_set_on_top_of_others_are_not_assumed_known():
    # Not Textual's output, but a write must stay correct whatever it holds.
    data = "\x1b[31m\x1b[1ma\x1b[0m\x1b[1mb\x1b[0m"
    assert screen_of(compact_sgr(data)) == screen_of(data)


def test_the_driver_writes_through_it():
    written: list[str] = []

    class Recording:
        def write(self, data: str) -> None:
            written.append(data)

    compacting(Recording).write(compacting(Recording).__new__(compacting(Recording)), "\x1b[1ma\x1b[0m\x1b[1mb\x1b[0m")
    assert written == ["\x1b[1mab\x1b[0m"]


def test_turning_off_bold_keeps_dim():
    # 22 turns off bold and dim together (pyte does not show dim, so this is checked by hand).
    from hypertui.ui.terminal_output import Attributes, _transition

    both, dim = Attributes(frozenset({"1", "2"}), (), ()), Attributes(frozenset({"2"}), (), ())
    assert _transition(both, dim) == "\x1b[22;2m"
    assert _transition(dim, dim) == ""
