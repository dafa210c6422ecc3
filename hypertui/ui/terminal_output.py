"""Fewer bytes to the terminal for the same picture.

Textual writes every segment as `SGR text RESET`. Neighbouring segments often look the same
(runs are split at every cell and widget edge, and where only click metadata differs), so most of
a refresh's bytes are a reset followed by the very attributes it just cleared. Over SSH those
bytes are the cost. `compact_sgr` writes each change of attributes as the difference from what is
in effect and leaves everything else as it is; the app's driver passes its output through it.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import NamedTuple

from textual.driver import Driver

RESETS = ("\x1b[0m", "\x1b[m")
# An SGR (attributes) or a cursor move: the only sequences whose order with SGRs is known to be safe.
_TOKEN = re.compile(r"\x1b\[[0-9;]*m|\x1b\[\d*;?\d*H")


class Attributes(NamedTuple):
    flags: frozenset[str]  # bold "1", underline "4", …
    fg: tuple[str, ...]  # the parameters that set it ("38", "5", "231"); () for the default
    bg: tuple[str, ...]


DEFAULT = Attributes(frozenset(), (), ())
# Each flag Rich writes, and the code that turns it off (22 turns off both bold and dim).
OFF = {"1": "22", "2": "22", "3": "23", "4": "24", "21": "24", "5": "25", "6": "25", "7": "27", "8": "28",
       "9": "29", "51": "54", "52": "54", "53": "55"}


@lru_cache(maxsize=4096)  # a few hundred distinct SGRs: the styles of the themes' colours
def _attributes(sgr: str) -> Attributes | None:
    """What one SGR sets, or None if it holds anything this does not model (then left as is)."""
    params = sgr[2:-1].split(";")
    flags: set[str] = set()
    fg: tuple[str, ...] = ()
    bg: tuple[str, ...] = ()
    i = 0
    while i < len(params):
        p = params[i]
        if p in ("38", "48"):  # 38;5;n or 38;2;r;g;b
            kind = params[i + 1 : i + 2]
            size = 3 if kind == ["5"] else 5 if kind == ["2"] else 0
            if not size or i + size > len(params):
                return None
            if p == "38":
                fg = tuple(params[i : i + size])
            else:
                bg = tuple(params[i : i + size])
            i += size
            continue
        if p.isdigit() and (30 <= int(p) <= 39 or 90 <= int(p) <= 97):
            fg = (p,)
        elif p.isdigit() and (40 <= int(p) <= 49 or 100 <= int(p) <= 107):
            bg = (p,)
        elif p in OFF:
            flags.add(p)
        else:
            return None
        i += 1
    return Attributes(frozenset(flags), fg, bg)


@lru_cache(maxsize=16384)  # pairs of neighbouring styles recur every refresh
def _transition(old: Attributes, new: Attributes) -> str:
    """The SGR that takes the terminal from `old` to `new` ("" if they are the same)."""
    offs = sorted({OFF[f] for f in old.flags - new.flags})
    cleared = {f for f, off in OFF.items() if off in offs}
    codes = [*offs, *sorted((new.flags - old.flags) | (new.flags & cleared))]
    if new.fg != old.fg:
        codes += new.fg or ("39",)
    if new.bg != old.bg:
        codes += new.bg or ("49",)
    return "\x1b[" + ";".join(codes) + "m" if codes else ""


def compact_sgr(data: str) -> str:
    """`data` with each change of attributes written as the shortest SGR that makes it.

    Textual writes SGR text RESET for every segment. A reset is held back until it is known what
    follows: text or another escape gets it (erasing uses the background), an SGR gets only the
    difference from what is in effect, and a cursor move passes (it does not touch attributes).
    """
    out: list[str] = []
    current: Attributes | None = DEFAULT  # in effect on the terminal; None: not known
    pending = False  # a reset not written yet
    position = 0
    for match in _TOKEN.finditer(data):
        start, end = match.span()
        if start > position:
            if pending:
                out.append(RESETS[0])
                pending, current = False, DEFAULT
            out.append(data[position:start])
        token = match.group()
        position = end
        if token.endswith("H"):
            out.append(token)
            continue
        if token in RESETS:
            pending = current != DEFAULT
            continue
        base = DEFAULT if pending else current  # what the token applies to
        attributes = _attributes(token)
        full = RESETS[0] + token if pending else token
        if base is None or attributes is None:
            out.append(full)
            current = attributes if pending else None
        else:
            target = (
                attributes
                if base is DEFAULT
                else Attributes(base.flags | attributes.flags, attributes.fg or base.fg, attributes.bg or base.bg)
            )
            change = _transition(current, target) if current is not None else full
            out.append(change if len(change) <= len(full) else full)
            current = target
        pending = False
    if position < len(data):
        if pending:
            out.append(RESETS[0])
            pending = False
        out.append(data[position:])
    if pending:
        out.append(RESETS[0])
    return "".join(out)


@cache
def compacting(driver: type[Driver]) -> type[Driver]:
    """`driver` writing its output through `compact_sgr`."""

    def write(self: Driver, data: str) -> None:
        driver.write(self, compact_sgr(data))

    return type(driver.__name__, (driver,), {"write": write, "__doc__": driver.__doc__})
