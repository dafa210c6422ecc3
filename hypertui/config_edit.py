"""Write back into the config file: the theme chosen in the app, an alert rule made from the screen.

tomllib only reads and tomli-w would drop the user's comments, so this edits with tomlkit,
which keeps comments, order and formatting. With no file yet, the commented template is
written first, so the new file documents every other option too.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Array
from tomlkit.toml_document import TOMLDocument

from hypertui.config import CONFIG_TEMPLATE, ConfigError
from hypertui.files import make_private_dirs


def set_setting(path: Path, key: str, value: str) -> None:
    """Set one top-level setting (the theme chosen in the app)."""

    def change(doc: TOMLDocument) -> bool:
        if doc.get(key) == value:
            return False
        doc[key] = value
        return True

    _edit(path, change)


def add_alert(path: Path, rule: Mapping[str, Any]) -> int:
    """Append `rule` as an [[alerts]] table; its number in the file (1 = the first [[alerts]])."""
    number = 0

    def change(doc: TOMLDocument) -> bool:
        nonlocal number
        alerts = doc.get("alerts")
        if alerts is None:
            alerts = tomlkit.aot()
            doc.append("alerts", alerts)
        if isinstance(alerts, AoT):
            table = tomlkit.table()
            table.update(rule)
            table.trivia.indent = "\n"  # a blank line before its [[alerts]] header, as a person writes it
            alerts.append(table)
        elif isinstance(alerts, Array):  # alerts = [{...}, ...]: the user's inline form, kept
            inline = tomlkit.inline_table()
            inline.update(rule)
            alerts.append(inline)
        else:
            raise ConfigError(f"config file {path}: alerts is not a list of [[alerts]] tables; the rule was not saved")
        number = len(alerts)
        return True

    _edit(path, change)
    return number


def _edit(path: Path, change: Callable[[TOMLDocument], bool]) -> None:
    """Apply `change` to the file's document and write it back, unless it says nothing changed."""
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
    if not change(doc):
        return
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
