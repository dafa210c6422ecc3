"""The [keys] table: remaps work where the binding lives, problems are reported, help follows."""

from __future__ import annotations

import re

import pytest

from hypertui.ui import keymap
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.commands import DashboardCommands
from hypertui.ui.prefs import Preferences
from hypertui.ui.screens.help import HelpScreen, LegendScreen, key_table
from hypertui.ui.screens.positions import PositionsScreen
from hypertui.ui.screenshots import settled as settle
from tests.ui.test_themes import recording


def _refreshes(app) -> int:
    return sum(name == "heatmap" for name, _, _ in app.client.calls)


@pytest.mark.parametrize("refresh_id", ["app.refresh", "refresh"])  # "refresh": a config from before the ids were dotted
async def test_a_remapped_key_runs_the_action_and_the_old_one_does_not(make_app, refresh_id):
    app = make_app(prefs=Preferences(keys={refresh_id: "f5", "table.down": "n"}))
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        before = _refreshes(app)
        await pilot.press("r")
        await settle(pilot)
        assert _refreshes(app) == before
        await pilot.press("f5")
        await settle(pilot)
        assert _refreshes(app) == before + 1
        # A widget's binding too: the heatmap's j is now n.
        app.dashboard.query_one("#heatmap").focus()
        await pilot.pause()
        table = app.dashboard.query_one("#heatmap")
        await pilot.press("j")
        assert table.cursor_row == 0
        await pilot.press("n")
        assert table.cursor_row == 1


async def test_help_and_palette_show_the_keys_in_effect(make_app):
    app = make_app(prefs=Preferences(keys={"app.refresh": "f5,ctrl+r", "app.help": "f1"}))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = [tuple(re.split(r"\s{2,}", line.strip())) for line in _plain(app.key_sections()).splitlines()]
        assert ("f5 / ctrl+r", "Refresh") in rows and ("f1", "Help") in rows
        assert ("p", "Pause") in rows and ("r", "Refresh") not in rows  # untouched keys as before
        commands = {c.title: c.help for c in DashboardCommands(app.dashboard).commands()}
        assert commands["Refresh"] == "key: f5 / ctrl+r"


async def test_an_old_bare_id_of_the_dashboard_still_remaps(make_app):
    app = make_app(prefs=Preferences(keys={"legend": "f2"}))  # now dashboard.legend
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("L")
        await pilot.pause()
        assert not isinstance(app.screen, LegendScreen)
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, LegendScreen)


def test_an_old_id_is_renamed_and_the_new_one_wins():
    assert keymap.normalize({"refresh": "f5", "sort_risk": "f6"}) == {"app.refresh": "f5", "dashboard.sort_risk": "f6"}
    assert keymap.normalize({"segments.down": "n"}) == {"cohorts.down": "n"}
    assert keymap.normalize({"app.refresh": "f7", "refresh": "f5"}) == {"app.refresh": "f7"}
    assert keymap.problems({"refresh": "f5", "heatmap_mode": "f6"}, HyperTuiApp) == []  # no "no binding has the id"
    assert keymap.deprecations({"refresh": "f5", "table.down": "n"}) == [
        '[keys] "refresh" is now "app.refresh"; the old id still works'
    ]


def test_every_binding_id_names_its_owner():
    assert {i for i in keymap.known_ids() if not re.fullmatch(r"[a-z_]+\.[^.]+", i)} == set()
    assert set(keymap.RENAMED_IDS.values()) <= keymap.known_ids()  # each old id leads somewhere


def _plain(sections) -> str:
    from rich.console import Console

    console = Console(width=100, record=True, color_system=None)
    console.print(key_table(sections))
    return console.export_text()


def test_unknown_ids_and_clashes_are_found():
    found = keymap.problems({"app.refesh": "f5", "app.pause": "r", "history.window": "f", "app.quit": ""}, HyperTuiApp)
    assert "keys: no binding has the id 'app.refesh' (did you mean 'app.refresh'?)" in found
    assert any("'r' is bound to both app.pause and app.refresh in HyperTuiApp" in p for p in found)
    assert any("'f' is bound to both history.window and history.recency in HistoryScreen" in p for p in found)
    assert "keys: 'app.quit' is given no key" in found
    # The app's key under a screen that binds it first.
    found = keymap.problems({"app.refresh": "tab"}, HyperTuiApp)
    assert any(
        "'tab' is bound to both dashboard.next_panel and app.refresh (DashboardScreen comes before HyperTuiApp)" in p
        for p in found
    )
    # x is the dashboard screen's heatmap axis, not bound over a drill-down: no clash...
    assert keymap.problems({"app.refresh": "f5", "positions.back": "escape,backspace,x"}, HyperTuiApp) == []
    # ...but p (pause) acts everywhere.
    assert any("'p' is bound to both" in p for p in keymap.problems({"positions.back": "escape,p"}, HyperTuiApp))


async def test_problems_are_toasts_at_start_and_when_a_screen_opens(make_app):
    app = make_app(prefs=Preferences(keys={"nothing.here": "x", "positions.back": "escape,h"}))
    toasts = recording(app)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert any("no binding has the id 'nothing.here'" in t for t in toasts)
        assert not any("positions.back" in t for t in toasts)
        app.open_positions(app.state.heatmap.heatmap[0].coin, app.state.view.cohort_id)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, PositionsScreen)
        # The positions table has the focus and takes h (scroll left) before the screen's back.
        assert any("'h' is bound to both positions.left and positions.back" in t for t in toasts)


async def test_help_lists_the_keys_of_the_screen_it_is_opened_on_first_then_those_that_work_everywhere(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)

        async def help_sections() -> list[str]:
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            shown = [s.name for s in app.screen.query(".help-keys")]
            await pilot.press("escape")
            await pilot.pause()
            return shown

        first = await help_sections()
        assert first[:3] == ["Dashboard", "Everywhere", "Panels"]
        dashboard, everywhere = (dict(s)[title] for s in [app.key_sections()] for title in first[:2])
        assert {b.key for b in everywhere} >= {"q", "question_mark", "exclamation_mark", "minus"}
        assert not {b.key for b in dashboard} & {b.key for b in everywhere}  # each key in one of them
        app.open_positions(app.state.heatmap.heatmap[0].coin, None)
        await pilot.pause()
        assert (await help_sections())[:2] == ["Positions", "Everywhere"]
        await pilot.press("escape")
        await pilot.pause()
        app.open_coin(app.state.heatmap.heatmap[0].coin)
        await pilot.pause()
        shown = await help_sections()  # the kept help, its sections moved
        assert shown[:2] == ["Coin view", "Everywhere"] and sorted(shown) == sorted(first)
        await pilot.press("escape")
        await settle(pilot)
        assert await help_sections() == first
