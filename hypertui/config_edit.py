"""Write one top-level setting back into the config file (the theme chosen in the app).

tomllib only reads and tomli-w would drop the user's comments, so this edits with tomlkit,
which keeps comments, order and formatting. With no file yet, the commented template is
written first, so the new file documents every other option too.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError

from hypertui.config import CONFIG_TEMPLATE, ConfigError
from hypertui.files import make_private_dirs


def set_setting(path: Path, key: str, value: str) -> None:
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        text, mode = CONFIG_TEMPLATE, 0o600
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    if doc.get(key) == value:
        return
    doc[key] = value
    # Through a symlink (a config kept in a dotfiles repository) to the file it names: the rename
    # below would otherwise put a copy in the link's place.
    target = Path(os.path.realpath(path))
    make_private_dirs(target.parent)
    # A temporary file renamed over the old one: a crash never leaves half a config file.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".config-", suffix=".toml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(tomlkit.dumps(doc))
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write config file {path}: {exc.strerror}") from None
