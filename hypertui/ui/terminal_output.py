"""Fewer bytes to the terminal for the same picture.

Textual writes every segment as `SGR text RESET`. Neighbouring segments often look the same
(a table's cells differ only by the click metadata Textual keeps per cell), so most of a refresh's
bytes are a reset followed by the very attributes it just cleared. Over SSH those bytes are the
cost. `compact_sgr` drops such pairs and nothing else; the app's driver passes its output through it.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from textual.driver import Driver

RESETS = ("\x1b[0m", "\x1b[m")
# An SGR (attributes) or a cursor move: the only sequences whose order with SGRs is known to be safe.
_TOKEN = re.compile(r"\x1b\[[0-9;]*m|\x1b\[\d*;?\d*H")


def compact_sgr(data: str) -> str:
    """`data` without resets that are immediately undone (across cursor moves) by the same SGR."""
    out: list[str] = []
    current: str | None = RESETS[0]  # the SGR that set the attributes in effect; None: not known
    pending = False  # a reset not written yet
    position = 0
    for match in _TOKEN.finditer(data):
        start, end = match.span()
        if start > position:  # text, or another escape (erasing uses the background): as meant
            if pending:
                out.append(RESETS[0])
                pending, current = False, RESETS[0]
            out.append(data[position:start])
        token = match.group()
        position = end
        if token.endswith("H"):  # moving the cursor does not touch the attributes
            out.append(token)
        elif token in RESETS:
            pending = current != RESETS[0]
        elif pending and token == current:
            pending = False  # reset, then the same again: nothing changes
        elif pending and current is not None and _covers(token, current):
            out.append(token)  # sets everything the reset would clear: the reset is not needed
            pending, current = False, token
        else:
            if pending:
                out.append(RESETS[0])
                pending, current = False, RESETS[0]
            out.append(token)
            # On top of attributes already set, the result is a mix this does not track.
            current = token if current == RESETS[0] or token.startswith("\x1b[0;") else None
    if position < len(data):
        if pending:
            out.append(RESETS[0])
            pending = False
        out.append(data[position:])
    if pending:
        out.append(RESETS[0])
    return "".join(out)


@lru_cache(maxsize=4096)  # a few hundred distinct SGRs: the styles of the themes' colours
def _attributes(sgr: str) -> tuple[frozenset[str], bool, bool]:
    """(flags such as bold or underline, sets the foreground, sets the background) of one SGR."""
    params = sgr[2:-1].split(";")
    flags, fg, bg, i = set(), False, False, 0
    while i < len(params):
        p = params[i]
        if p in ("38", "48"):  # 38;5;n or 38;2;r;g;b
            fg, bg = fg or p == "38", bg or p == "48"
            i += 3 if i + 1 < len(params) and params[i + 1] == "5" else 5
            continue
        if p.isdigit() and (30 <= int(p) <= 37 or 90 <= int(p) <= 97 or p == "39"):
            fg = True
        elif p.isdigit() and (40 <= int(p) <= 47 or 100 <= int(p) <= 107 or p == "49"):
            bg = True
        else:
            flags.add(p)
        i += 1
    return frozenset(flags), fg, bg


def _covers(new: str, old: str) -> bool:
    """`new` alone leaves the terminal as `reset` + `new` would after `old`."""
    new_flags, new_fg, new_bg = _attributes(new)
    old_flags, old_fg, old_bg = _attributes(old)
    return old_flags <= new_flags and (new_fg or not old_fg) and (new_bg or not old_bg)


@cache
def compacting(driver: type[Driver]) -> type[Driver]:
    """`driver` writing its output through `compact_sgr`."""

    def write(self: Driver, data: str) -> None:
        driver.write(self, compact_sgr(data))

    return type(driver.__name__, (driver,), {"write": write, "__doc__": driver.__doc__})
