"""The user's look-and-feel choices (theme, keys) put into the app, and what went wrong doing so.

Problems (a broken theme file, an unknown theme, a remap onto a taken key) never stop the app:
each is shown as a toast once it runs and written to the log, and the defaults are used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.screen import Screen
from textual.theme import BUILTIN_THEMES

from hypertui.config import ConfigError
from hypertui.ui import keymap
from hypertui.ui.themes import DEFAULT_THEME, MONO_THEME, SHIPPED_DIR, load_themes, user_themes_dir

log = logging.getLogger("hypertui.ui")


@dataclass(frozen=True)
class Preferences:
    theme: str | None = None  # None: hypertui-dark (hypertui-mono when NO_COLOR is set)
    user_themes: Path | None = None  # a folder of the user's own theme files
    keys: Mapping[str, str] = field(default_factory=dict)  # binding id -> keys
    remember_theme: Callable[[str], None] | None = None  # saves a theme chosen in the app


def from_settings(settings: Any) -> Preferences:
    """The preferences of `hypertui.config.Settings`; a theme chosen in the app is saved to its file."""

    def remember_theme(name: str) -> None:
        from hypertui.config_edit import set_setting  # tomlkit (~40 ms): not before the first frame

        set_setting(settings.config_file, "theme", name)

    return Preferences(theme=settings.theme, user_themes=user_themes_dir(), keys=settings.keys, remember_theme=remember_theme)


def apply_preferences(app: Any, prefs: Preferences) -> list[str]:
    """Register the themes, choose one and set the keymap (before the app runs); the problems."""
    folders = [SHIPPED_DIR] + ([prefs.user_themes] if prefs.user_themes else [])
    themes, problems = load_themes(folders)
    for theme in themes.values():
        app.register_theme(theme)
    wanted = prefs.theme or (MONO_THEME if app.no_color else DEFAULT_THEME)
    if wanted not in app.available_themes:
        problems.append(f"theme {wanted!r} not found (ctrl+p → Theme lists them): using {DEFAULT_THEME}")
        wanted = DEFAULT_THEME
    app.theme = wanted
    if prefs.keys:
        app.set_keymap(keymap.normalize(prefs.keys))
        problems += keymap.problems(prefs.keys, type(app))
    return problems


def start(app: Any, problems: list[str]) -> None:
    """Once the app runs: show the problems, and check each screen's keys as it is shown."""
    reported: set[str] = set()

    def report(found: list[str]) -> None:
        for problem in found:
            if problem not in reported:
                reported.add(problem)
                log.warning("%s", problem)
                app.notify(problem, title="Preferences", severity="warning", timeout=12, markup=False)

    report(problems)
    keys = app.prefs.keys
    if not keys:
        return

    def check(screen: Screen) -> None:
        app.call_after_refresh(lambda: report(keymap.screen_problems(screen, keys)))

    check(app.screen)
    app.screen_change_signal.subscribe(app, check)


def remember_theme(app: Any, name: str) -> None:
    """Save a theme chosen in the app to the config file; say so if that fails."""
    save = app.prefs.remember_theme
    if save is None:
        return
    try:
        save(name)
    except ConfigError as exc:  # a config file we cannot write must not end the app
        log.warning("cannot save the theme: %s", exc)
        app.notify(f"theme not saved: {exc}", severity="warning", markup=False)


def check(settings: Any, app_class: type) -> tuple[list[str], list[str]]:
    """For `hypertui config check`: what the settings choose, and every problem with them."""
    user_dir = user_themes_dir()
    themes, problems = load_themes([SHIPPED_DIR, user_dir])
    wanted = settings.theme or DEFAULT_THEME
    if wanted not in themes and wanted not in BUILTIN_THEMES:
        problems.append(f"theme {wanted!r} not found: {DEFAULT_THEME} is used instead")
    problems += keymap.problems(settings.keys, app_class)
    facts = [
        f"config file: {settings.config_file}",
        f"your themes: {user_dir}",
        f"themes: {', '.join(sorted(themes))} (and Textual's: {', '.join(sorted(BUILTIN_THEMES))})",
        f"theme: {wanted}",
        f"keys remapped: {len(settings.keys)}",
        *keymap.deprecations(settings.keys),
    ]
    return facts, problems
