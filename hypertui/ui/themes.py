"""Theme files: TOML, one theme per file, validated on load.

The shipped themes live in hypertui/themes/ (the repository's top-level themes/ is a link to
it, so the files users copy are the ones the package ships). Users add their own to
`user_themes_dir()`; one there with a shipped theme's name replaces it. A file that does not
validate is skipped and reported (the app shows a toast); an unknown theme name falls back to
the default. Textual's built-in themes stay available in the command palette.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from rich.color import Color as RichColor
from rich.color import ColorParseError as RichColorParseError
from textual.color import Color, ColorParseError
from textual.theme import Theme

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "themes"
DEFAULT_THEME = "hypertui-dark"
MONO_THEME = "hypertui-mono"  # the default when NO_COLOR is set
TEXT_STYLES = frozenset({"none", "bold", "dim", "italic", "underline", "reverse", "strike", "not"})


class ThemeError(ValueError):
    """A theme file cannot be used; the message names the file and the problem."""


def _colour(value: str) -> str:
    try:
        Color.parse(value)
    except ColorParseError:
        raise ValueError(f"{value!r} is not a colour") from None
    return value


def _variable(value: str) -> str:
    """A Textual variable: a colour (maybe with an alpha like "#81a1c1 35%") or text styles."""
    words = value.split()
    if words and all(w in TEXT_STYLES for w in words):
        return value
    _colour(words[0] if words else value)
    return value


Colour = Annotated[str, AfterValidator(_colour)]


def _rich(value: str) -> str:
    """As Rich takes it in a style: named ANSI colours stay names, anything else becomes #rrggbb."""
    try:
        RichColor.parse(value)
    except RichColorParseError:
        return Color.parse(value).hex6.lower()
    return value


class SignalColours(BaseModel):
    """The [hypertui] table: colours hypertui's panels use by meaning."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    long: Colour = "green"
    short: Colour = "red"
    caution: Colour = "yellow"
    danger: Colour = "red"
    heatmap_long: Colour = Field("#1a9850", alias="heatmap-long")
    heatmap_neutral: Colour = Field("#3a3a3a", alias="heatmap-neutral")
    heatmap_short: Colour = Field("#d73027", alias="heatmap-short")

    def variables(self) -> dict[str, str]:
        heat = {"long": self.heatmap_long, "neutral": self.heatmap_neutral, "short": self.heatmap_short}
        out = {f"hypertui-{k}": _rich(getattr(self, k)) for k in ("long", "short", "caution", "danger")}
        # The heatmap mixes its colours itself, from #rrggbb.
        return out | {f"hypertui-heatmap-{k}": Color.parse(v).hex6.lower() for k, v in heat.items()}


class ThemeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)
    dark: bool = True
    primary: Colour
    secondary: Colour | None = None
    accent: Colour | None = None
    warning: Colour | None = None
    error: Colour | None = None
    success: Colour | None = None
    foreground: Colour | None = None
    background: Colour | None = None
    surface: Colour | None = None
    panel: Colour | None = None
    boost: Colour | None = None
    luminosity_spread: float = Field(0.15, ge=0, le=1)
    text_alpha: float = Field(0.95, ge=0, le=1)
    hypertui: SignalColours = SignalColours()
    variables: dict[str, Annotated[str, AfterValidator(_variable)]] = {}

    def to_theme(self) -> Theme:
        fields = self.model_dump(exclude={"hypertui", "variables"})
        return Theme(**fields, variables={**self.variables, **self.hypertui.variables()})


def _problem(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"])
        if error["type"] == "missing":
            parts.append(f"missing key {where!r}")
        elif error["type"] == "extra_forbidden":
            parts.append(f"unknown key {where!r}")
        else:
            parts.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    more = len(exc.errors()) - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def read_theme(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ThemeError(f"theme file {path}: cannot read it: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ThemeError(f"theme file {path}: not valid TOML: {exc}") from None
    try:
        return ThemeFile.model_validate(data).to_theme()
    except ValidationError as exc:
        raise ThemeError(f"theme file {path}: {_problem(exc)}") from None


def load_themes(directories: Iterable[Path]) -> tuple[dict[str, Theme], list[str]]:
    """Every valid theme in `directories` (a later one wins a name) and a problem per bad file."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for directory in directories:
        for path in sorted(directory.glob("*.toml")) if directory.is_dir() else ():
            try:
                theme = read_theme(path)
            except ThemeError as exc:
                problems.append(str(exc))
            else:
                themes[theme.name] = theme
    return themes, problems


def user_themes_dir() -> Path:
    """Where users put their own theme files."""
    import platformdirs

    return platformdirs.user_data_path("hypertui") / "themes"
