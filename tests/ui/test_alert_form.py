"""`A`: an alert rule made from a heatmap cell or a risk row, saved to the config file, in effect at once."""

from __future__ import annotations

import os
import tomllib

from textual.widgets import Input

from hypertui.monitor.alert_rules import LongShareRule, RiskRule, parse_rules
from hypertui.ui.alert_center import AlertCenter
from hypertui.ui.screens.alert_form import AlertFormScreen
from hypertui.ui.screenshots import settled
from hypertui.ui.widgets.heatmap import HeatmapTable
from hypertui.ui.widgets.risk_table import RiskTable
from tests.ui.test_alerts_screen import toasts

MINE = '# my settings\nrefresh = 30  # slow\n\n[[alerts]]\n# watch the whales\nkind = "bias"\ncohort = "Whale"\nabove = 5\n\n[keys]\nquit = "q"\n'


def value_of(form: AlertFormScreen, field: str) -> str:
    return form.query_one(f"#alert-{field}", Input).value


async def fill(pilot, field: str, text: str) -> None:
    """Replace the text of one of the form's inputs, as typed."""
    box = pilot.app.screen.query_one(f"#alert-{field}", Input)
    box.focus()
    box.value = ""
    await pilot.press(*text)


async def test_a_heatmap_cell_makes_a_long_share_rule_saved_with_the_comments_that_fires_at_the_next_refresh(make_app, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(MINE)
    config.chmod(0o600)
    app = make_app()
    app.alerts = AlertCenter(*parse_rules(tomllib.loads(MINE)["alerts"]), None, config)  # as run_app builds it
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await settled(pilot)
        await pilot.press("tab", "tab")  # cohorts → summary → heatmap
        heat = app.dashboard.query_one(HeatmapTable)
        assert app.focused is heat
        await pilot.press("l", "l")  # the first cohort column of the first coin
        await pilot.pause()
        coin, sid = app.dashboard.heatmap_selection()
        cohort = next(s for s in app.state.cohorts if s.id == sid)
        share = app.state.heatmap.heatmap[[r.coin for r in app.state.heatmap.heatmap].index(coin)].cell(sid).bias

        await pilot.press("A")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, AlertFormScreen)
        subject = str(form.query_one("#alert-form-subject").render())
        assert subject == f"{coin} × {cohort.emoji} {cohort.name} long share, now {share * 100:.1f}%"
        assert (value_of(form, "direction"), value_of(form, "level")) == ("above", f"{share * 100:.1f}")
        assert len(app.alerts.evaluator.rules) == 1  # nothing added before enter

        level = round(share * 100 - 5, 1)  # 5 points under the share now: the rule fires when first seen
        await fill(pilot, "level", f"{level}")
        await fill(pilot, "name", "A quiet whale")  # A and q are the app's keys: here, letters
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is app.dashboard

        text = config.read_text()
        assert text.startswith(MINE.split("[keys]")[0])  # the user's lines and comments, untouched
        assert '[keys]\nquit = "q"' in text
        saved = tomllib.loads(text)["alerts"]
        assert saved[1] == {"kind": "long_share", "cohort": str(cohort.name), "coin": coin, "above": round(level / 100, 6), "name": "A quiet whale"}
        if os.name == "posix":
            assert config.stat().st_mode & 0o777 == 0o600
        (_, (number, rule)) = app.alerts.evaluator.rules
        assert number == 2 and isinstance(rule, LongShareRule)  # numbered as in the file
        assert any("Alert rule #2 saved to" in t for t in toasts(app))

        await pilot.press("r")
        await settled(pilot)
        (alert,) = app.alerts.fired
        assert alert.number == 2
        assert alert.text == f"A quiet whale {share * 100:.1f}% is above {level:.1f}% (when first seen)"


async def test_a_risk_row_makes_a_risk_rule_for_the_selected_cohort(make_app, tmp_path):
    config = tmp_path / "config.toml"
    app = make_app()
    app.alerts = AlertCenter([], [], None, config)
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        await pilot.press("shift+tab")  # cohorts → risk
        risk = app.dashboard.query_one(RiskTable)
        assert app.focused is risk
        await pilot.press("j")
        coin = risk.cursor_key
        item = next(i for i in app.state.risk_items if i.coin == coin)
        cohort = next(s for s in app.state.cohorts if s.id == app.state.view.cohort_id)

        await pilot.press("A")
        await pilot.pause()
        form = app.screen
        subject = str(form.query_one("#alert-form-subject").render())
        assert subject == f"{cohort.emoji} {cohort.name} {coin} liquidation risk, now {item.percent_risk:.2f}%"
        assert value_of(form, "level") == f"{item.percent_risk:.2f}"
        await fill(pilot, "direction", "below")
        await fill(pilot, "level", "150")
        await pilot.press("enter")
        await pilot.pause()
        assert str(form.query_one("#alert-form-problem").render()) == "Level: a percentage from 0 to 100"
        await fill(pilot, "direction", "sideways")
        await fill(pilot, "level", "2")
        await pilot.press("enter")
        await pilot.pause()
        assert str(form.query_one("#alert-form-problem").render()) == "Fire when: type above or below"
        assert app.screen is form and not config.exists()  # nothing saved while the form is wrong

        await fill(pilot, "direction", "below")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is app.dashboard
        text = config.read_text()
        assert "# token" in text  # a new file: the commented template first
        assert tomllib.loads(text)["alerts"] == [{"kind": "liquidation_risk", "cohort": str(cohort.name), "coin": coin, "below": 2.0}]
        ((number, rule),) = app.alerts.evaluator.rules
        assert number == 1 and isinstance(rule, RiskRule) and rule.coin == coin


async def test_a_outside_a_cell_or_row_says_where_and_escape_saves_nothing(make_app, tmp_path):
    config = tmp_path / "config.toml"
    app = make_app()
    app.alerts = AlertCenter([], [], None, config)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await settled(pilot)
        await pilot.press("A")  # the cohort list has focus
        await pilot.pause()
        assert app.screen is app.dashboard
        assert any("made from a heatmap cell or a risk row" in t for t in toasts(app))
        await pilot.press("tab", "tab", "A")  # the heatmap's coin column: no cohort
        await pilot.pause()
        assert any("Move the cursor to a cohort's column" in t for t in toasts(app))
        await pilot.press("l", "l", "A")
        await pilot.pause()
        assert isinstance(app.screen, AlertFormScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard and not config.exists() and app.alerts.evaluator.rules == []

        await pilot.press("w")  # the heatmap of positions opened within 24h: a rule reads the "all" one
        await settled(pilot)
        await pilot.press("A")
        await pilot.pause()
        subject = str(app.screen.query_one("#alert-form-subject").render())
        assert subject.endswith("long share, no value yet: no heatmap of all positions yet (fetched while its panel shows opened all)")
        assert value_of(app.screen, "level") == ""
