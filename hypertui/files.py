"""Files that show what was watched: the log, alerts.log and exports.

On a shared host other users must not read them, nor list an export folder whose file names say
which coins and cohorts were looked at: files are 0600 and the directories made for them 0700.
A file an older version left 0644 is narrowed the next time it is opened.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, TextIO


def make_private_dirs(directory: Path) -> None:
    """Create `directory` and its missing parents 0700; existing ones are the user's and kept as they are."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)


def private_opener(path: str, flags: int) -> int:
    """`open(..., opener=private_opener)`: a new file is 0600, an existing one is made 0600."""
    fd = os.open(path, flags, 0o600)
    if os.name == "posix":
        os.fchmod(fd, 0o600)
    return fd


def open_private(path: Path, mode: Literal["x", "a", "w"], *, encoding: str, newline: str | None = None) -> TextIO:
    """`path.open(mode, ...)` for text in a 0700 directory, the file 0600."""
    make_private_dirs(path.parent)
    return open(path, mode, encoding=encoding, newline=newline, opener=private_opener)  # the caller closes it
