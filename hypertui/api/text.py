"""The one sanitising step for strings that come from the server.

Terminal escape sequences and control/format characters (bidi overrides included) are removed,
so nothing the server sends can move the cursor, retitle the terminal or reorder a line.
Markup is *not* escaped here: the UI renders these strings as `Text`, never as markup.

A coin or cohort name is also a key: BTC with zero-width characters between its letters must
not become a second "BTC" whose drill-down asks for the real one. A name is shown cleaned and, when characters were removed,
marked with `NAME_MARK` ("BTC�": not the name it looks like); it still carries the name the API
sent (`sent_name`), which requests use.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), other two-byte ESC sequences, and C1 CSI.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]")
_KEEP = {"\u200d"}  # zero-width joiner: part of emoji sequences, harmless
MAX_LEN = 200


def clean(value: str, max_len: int = MAX_LEN) -> str:
    """Printable text only; cut to `max_len` characters with an ellipsis."""
    if not value.isprintable():
        value = _ESCAPES.sub("", value)
        value = "".join(
            ch if ch.isprintable() or ch in _KEEP else (" " if ch in "\t\n\r" else "") for ch in value
        )
    if len(value) > max_len:
        value = value[: max_len - 1] + "…"
    return value


def one_line(value: str, max_len: int = MAX_LEN) -> str:
    """`clean`, with runs of whitespace collapsed: for error messages in a status bar."""
    return " ".join(clean(value, max_len).split())


SafeStr = Annotated[str, AfterValidator(clean)]

NAME_MARK = "\ufffd"  # U+FFFD REPLACEMENT CHARACTER: one cell, the same with or without colour


class CleanedName(str):
    """A name as shown (cleaned, marked if characters were removed), holding the name the API sent."""

    sent: str

    def __new__(cls, shown: str, sent: str) -> CleanedName:
        name = super().__new__(cls, shown)
        name.sent = sent
        return name

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]  # str has one argument; copies and pickles keep `sent`
        return str(self), self.sent


def clean_name(value: str) -> str:
    """`clean`, and when that changed the name, a `CleanedName`: marked if characters were removed."""
    visible = clean(value, max_len=len(value) + 1)  # removed characters only, nothing cut yet
    if visible == value and len(value) <= MAX_LEN:
        return value
    shown = clean(visible, MAX_LEN - 1) + NAME_MARK if visible != value else clean(visible)
    return CleanedName(shown, value)


def sent_name(name: str) -> str:
    """The name as the API sent it: what a request about it must carry."""
    return name.sent if isinstance(name, CleanedName) else name


ApiName = Annotated[str, AfterValidator(clean_name)]
