"""Alerts in the app: a rule fires a toast, the bell and a log line once, and the alerts screen shows it."""

from __future__ import annotations

from textual.widgets._toast import Toast

from hypertui.monitor.alerts import parse_rules
from hypertui.ui.alerts import AlertCenter
from hypertui.ui.screens.alerts import AlertsScreen
from hypertui.ui.screenshots import settled


def toasts(app) -> list[str]:
    return [str(t.render()) for t in app.screen.query(Toast)]


async def test_a_rule_fires_once_and_shows_on_the_alerts_screen(make_app, tmp_path):
    app = make_app()
    bells: list[int] = []
    async with app.run_test(size=(160, 45), notifications=True) as pilot:  # run_test hides toasts by default
        await settled(pilot)
        selected = app.view.segment_id
        other = next(s for s in app.segments if s.id != selected)
        bias = app.list_summaries[selected].open_perps_summary.perp_bias
        level = round(round(bias, 2) - 0.05, 2)
        # Levels relative to what the simulator (seed 7, frozen clock) shows: the first is crossed.
        rules, problems = parse_rules([
            {"kind": "bias", "cohort": selected, "above": level},
            {"kind": "bias", "cohort": selected, "below": level},
            {"kind": "liquidation_risk", "cohort": other.name, "above": 50},
            {"kind": "bias"},
        ])
        log = tmp_path / "alerts.log"
        app.alerts = AlertCenter(rules, problems, log)
        app.bell = lambda: bells.append(1)  # type: ignore[method-assign]

        await pilot.press("r")
        await settled(pilot)
        (text,) = [a.text for a in app.alerts.fired]
        assert text.endswith(f"is above {level:+.2f} (when first seen)")
        assert bells == [1]
        await pilot.pause()
        assert any(text in t for t in toasts(app))
        assert log.read_text(encoding="utf-8").endswith(f"\t#1\tbias\t{text}\n")

        await pilot.press("r")  # same values (frozen clock): nothing fires again
        await settled(pilot)
        assert len(app.alerts.fired) == 1 and bells == [1]
        assert len(log.read_text(encoding="utf-8").splitlines()) == 1

        await pilot.press("exclamation_mark")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        rules_table = screen.query_one("#alerts-rules")
        assert rules_table.row_keys == ["1", "2", "3"]
        assert rules_table.cell_text("1", "value").plain.strip() == f"{bias:+.2f}"
        assert [c.label.plain for c in rules_table.columns.values()] == ["#", "      Now", "Rule", "State"]
        assert rules_table.cell_text("1", "state").plain == "fired, waiting to re-arm"
        assert rules_table.cell_text("2", "state").plain == "armed"
        assert rules_table.cell_text("3", "state").plain == (
            f"no data: liquidation risk is fetched for the selected cohort only: select {other.name}"
        )
        fired = screen.query_one("#alerts-fired")
        assert fired.row_count == 1 and fired.cell_text("0", "text").plain == text
        assert "[[alerts]] #4 (kind bias): cohort: Field required" in str(screen.query_one("#alerts-problems").render())

        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard


async def test_invalid_rules_are_announced_at_start_and_listed(make_app):
    app = make_app()
    rules, problems = parse_rules([{"kind": "bias", "cohort": "Whale"}])
    app.alerts = AlertCenter(rules, problems)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settled(pilot)
        assert any("Invalid alert rules skipped" in t for t in toasts(app))
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert "none: add [[alerts]] tables to the config file" in str(app.screen.query_one("#alerts-rules-title").render())
        assert "#1 (kind bias): set exactly one of above" in str(app.screen.query_one("#alerts-problems").render())
        await pilot.press("exclamation_mark")  # ! closes it too
        await pilot.pause()
        assert app.screen is app.dashboard


async def test_a_rule_for_an_unknown_cohort_is_announced_once_the_legend_is_in(make_app):
    app = make_app()
    rules, problems = parse_rules([{"kind": "bias", "cohort": "Nobody", "above": 0.5}])
    app.alerts = AlertCenter(rules, problems)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await settled(pilot)
        assert [t for t in toasts(app) if "no cohort 'Nobody' in the legend" in t] != []
        await pilot.press("r")
        await settled(pilot)
        assert len([t for t in toasts(app) if "no cohort 'Nobody'" in t]) == 1  # said once, not per refresh
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert "no cohort 'Nobody'" in str(app.screen.query_one("#alerts-problems").render())
