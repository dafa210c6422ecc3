"""The one sanitising step for strings that come from the server.

Terminal escape sequences and control/format characters (bidi overrides included) are removed,
so nothing the server sends can move the cursor, retitle the terminal or reorder a line.
Markup is *not* escaped here: the UI renders these strings as `Text`, never as markup.
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
