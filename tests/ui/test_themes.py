"""Theme files: the shipped ones, validation, the user's folder, choosing one and saving it."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import pytest
from textual.color import Color
from textual.css.stylesheet import Stylesheet
from textual.theme import BUILTIN_THEMES

from hypertui.config_edit import set_setting
from hypertui.ui.prefs import Preferences
from hypertui.ui.screenshots import settled as settle
from hypertui.ui.signals import Signals
from hypertui.ui.themes import SHIPPED_DIR, ThemeError, load_themes, read_theme
from hypertui.ui.widgets.risk_table import RiskTable

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(SHIPPED_DIR.glob("*.toml"))
GOOD = 'name = "mine"\nprimary = "#112233"\n[hypertui]\nlong = "hsl(200,80%,60%)"\nheatmap-long = "blue"\n'


def recording(app):
    """The messages of the app's toasts, as they are posted."""
    seen = []
    notify = app.notify

    def record(message, **kwargs):
        seen.append(message)
        return notify(message, **kwargs)

    app.notify = record
    return seen


def test_top_level_themes_folder_is_the_shipped_one():
    # One copy: themes/ links to the package's folder, so users copy what the package ships.
    assert (ROOT / "themes").resolve() == SHIPPED_DIR
    assert {p.stem for p in SHIPPED} >= {"hypertui-dark", "hypertui-light", "hypertui-colorblind", "hypertui-mono"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_each_shipped_theme_is_valid_and_named_after_its_file(path):
    theme = read_theme(path)
    assert theme.name == path.stem
    signals = Signals.of(theme.variables)
    assert all(c.startswith("#") and len(c) == 7 for c in (signals.palette.low, signals.palette.neutral, signals.palette.high))


def test_default_theme_draws_like_textual_dark():
    # The snapshot SVGs were rendered with textual-dark: the default must give the same CSS.
    ours = read_theme(SHIPPED_DIR / "hypertui-dark.toml").to_color_system().generate()
    assert ours == BUILTIN_THEMES["textual-dark"].to_color_system().generate()
    assert Signals.of(read_theme(SHIPPED_DIR / "hypertui-dark.toml").variables) == Signals()


def test_colorblind_theme_is_blue_and_orange():
    signals = Signals.of(read_theme(SHIPPED_DIR / "hypertui-colorblind.toml").variables)
    assert signals.palette.name == "orange-blue" and signals.long == "#56b4e9" and signals.short == "#e69f00"
    assert [p.name for p in signals.palettes()] == ["orange-blue", "red-green"]  # c still switches


def test_c_in_a_light_theme_keeps_the_themes_light_neutral():
    """`c` switched a light theme's heatmap to the built-in palettes, whose neutral is dark grey."""
    light = Signals.of(read_theme(SHIPPED_DIR / "hypertui-light.toml").variables)
    cycle = light.palettes()
    assert len(cycle) > 1  # c still switches palettes
    assert {p.neutral for p in cycle} == {light.palette.neutral}
    assert Color.parse(light.palette.neutral).brightness > 0.6


async def test_the_heatmap_names_its_palette_for_c_in_the_light_theme_as_in_the_dark(make_app):
    """In hypertui-light the subtitle said `theme (c)`: its red and green on a light grey were not
    taken for the red-green palette (c keeps a theme's neutral: they are red-green)."""
    light = Signals.of(read_theme(SHIPPED_DIR / "hypertui-light.toml").variables)
    assert [p.name for p in light.palettes()] == ["red-green", "orange-blue"]
    app = make_app(prefs=Preferences(theme="hypertui-light"))
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        panel = app.dashboard.query_one("#heatmap-panel")
        assert "· red-green (c)" in str(panel.border_subtitle)
        await pilot.press("c")
        await pilot.pause()
        assert "· orange-blue (c)" in str(panel.border_subtitle)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('name = "x"\n', "missing key 'primary'"),
        ('name = "x"\nprimary = "blurple"\n', "primary: 'blurple' is not a colour"),
        ('name = "x"\nprimary = "#000"\n[hypertui]\nshort = "#12"\n', "hypertui.short: '#12' is not a colour"),
        ('name = "x"\nprimary = "#000"\nprimay = "#fff"\n', "unknown key 'primay'"),
        ('name = "x"\nprimary = "#000"\n[variables]\nfooter-key-foreground = "nope 20%"\n', "'nope' is not a colour"),
        ("name = \n", "not valid TOML"),
    ],
)
def test_a_broken_theme_file_names_the_file_and_the_problem(tmp_path, text, problem):
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(ThemeError) as err:
        read_theme(path)
    assert str(path) in str(err.value) and problem in str(err.value)


def test_user_folder_adds_themes_and_reports_broken_ones(tmp_path):
    (tmp_path / "mine.toml").write_text(GOOD)
    (tmp_path / "bad.toml").write_text('name = "bad"\n')
    (tmp_path / "notes.txt").write_text("not a theme")
    themes, problems = load_themes([SHIPPED_DIR, tmp_path])
    assert "mine" in themes and "hypertui-dark" in themes and "bad" not in themes
    assert problems == [f"theme file {tmp_path / 'bad.toml'}: missing key 'primary'"]
    signals = Signals.of(themes["mine"].variables)
    assert signals.long == "#47b4eb"  # hsl() is not Rich's: converted to #rrggbb
    assert signals.palette.name == "theme" and signals.palette.high == "#0000ff"


async def test_broken_theme_gives_a_toast_and_the_default_theme(make_app, tmp_path):
    (tmp_path / "bad.toml").write_text('name = "bad"\nprimary = "#000"\naccent = 7\n')
    app = make_app(prefs=Preferences(theme="bad", user_themes=tmp_path))
    toasts = recording(app)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert app.theme == "hypertui-dark"
        assert any(str(tmp_path / "bad.toml") in t and "accent" in t for t in toasts)
        assert any("theme 'bad' not found" in t for t in toasts)


async def test_theme_from_the_user_folder_is_used(make_app, tmp_path):
    (tmp_path / "mine.toml").write_text(GOOD)
    app = make_app(prefs=Preferences(theme="mine", user_themes=tmp_path))
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert app.theme == "mine" and app.signals.long == "#47b4eb"


async def test_the_first_frame_has_the_chosen_theme_without_parsing_the_css_twice(make_app, tmp_path, monkeypatch):
    (tmp_path / "deep.toml").write_text('name = "deep"\nprimary = "#112233"\nbackground = "#102030"\n')
    reparses = []
    reparse = Stylesheet.reparse
    monkeypatch.setattr(Stylesheet, "reparse", lambda sheet: (reparses.append(1), reparse(sheet))[1])
    app = make_app(prefs=Preferences(theme="deep", user_themes=tmp_path))
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert app.screen.styles.background == Color.parse("#102030")
        assert not reparses  # the theme set before the first screen needs no second parse
        app.theme = "hypertui-light"  # a change once running still re-parses and recolours
        await settle(pilot)
        assert reparses and app.screen.styles.background == Color.parse(app.get_css_variables()["background"])


async def test_no_color_defaults_to_the_mono_theme(make_app, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert make_app().theme == "hypertui-mono"
    assert make_app(prefs=Preferences(theme="hypertui-light")).theme == "hypertui-light"


async def test_theme_chosen_in_the_palette_recolours_and_is_saved(make_app, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('# my settings\nrefresh = 30  # slow\n\n[simulator]\nseed = 3\n')
    save = partial(set_setting, config, "theme")
    app = make_app(prefs=Preferences(remember_theme=save))
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert not config.read_text().count("theme")  # starting up does not write
        await pilot.press("ctrl+p")
        await pilot.press(*"theme", "enter")  # Textual's "Theme" command opens the theme list
        await pilot.pause()
        await pilot.press(*"hypertui-colorblind", "enter")
        await settle(pilot)
        assert app.theme == "hypertui-colorblind"
        risk = app.dashboard.query_one(RiskTable)
        first = risk.row_keys[0]
        assert "#d55e00" in str(risk.cell_text(first, "percent_risk").spans)  # danger, from the theme
        assert "orange-blue (c)" in app.dashboard.query_one("#heatmap-panel").border_subtitle
    text = config.read_text()
    assert text.startswith("# my settings\nrefresh = 30  # slow\n") and 'theme = "hypertui-colorblind"' in text
    assert "[simulator]\nseed = 3" in text


def test_saving_the_theme_creates_a_private_documented_file(tmp_path):
    config = tmp_path / "sub" / "config.toml"
    set_setting(config, "theme", "hypertui-light")
    text = config.read_text()
    assert 'theme = "hypertui-light"' in text and "# token" in text  # the template's comments too
    if os.name == "posix":
        assert config.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("theme", [p.stem for p in SHIPPED])
async def test_panel_borders_stand_out_from_the_background_in_every_shipped_theme(make_app, theme):
    """A resting panel's border was $panel-lighten-2 everywhere: near-white on light grey in
    hypertui-light (231 on 252 in 256 colours). Each border must differ from what is behind it."""
    app = make_app(prefs=Preferences(theme=theme))
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        app.set_focus(None)
        await pilot.pause()
        for selector in ("#cohorts", "#summary", "#heatmap-panel", "#risk-panel"):
            panel = app.dashboard.query_one(selector)
            border = panel.styles.border_top[1]
            behind = panel.background_colors[0]
            assert abs(border.brightness - behind.brightness) > 0.2, (selector, border.hex, behind.hex)
        app.set_focus(app.dashboard.query_one("#heatmap"))
        await pilot.pause()
        focused = app.dashboard.query_one("#heatmap-panel").styles.border_top[1]
        assert focused == Color.parse(app.get_css_variables()["accent"])  # focus still wins over the resting colour
