"""Alerts in the app: a rule fires a toast, the bell and a log line once, and the alerts screen shows it."""

from __future__ import annotations

from textual.widgets._toast import Toast

from hypertui.monitor.alert_rules import parse_rules
from hypertui.monitor.plan import IF_UPDATED, TIMED
from hypertui.source import simulator_client
from hypertui.ui.alert_center import AlertCenter
from hypertui.ui.screens.alerts import AlertsScreen
from hypertui.ui.screenshots import settled
from hypertui.ui.widgets.cohort_list import CohortList


def toasts(app) -> list[str]:
    return [str(t.render()) for t in app.screen.query(Toast)]


async def test_a_rule_fires_once_and_shows_on_the_alerts_screen(make_app, tmp_path):
    app = make_app()
    bells: list[int] = []
    async with app.run_test(size=(160, 45), notifications=True) as pilot:  # run_test hides toasts by default
        await settled(pilot)
        selected = app.state.view.cohort_id
        other = next(s for s in app.state.cohorts if s.id != selected)
        bias = app.state.list_summaries[selected].open_perps_summary.perp_bias
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
        assert rules_table.cell_text("3", "state").plain == "armed"  # the other cohort's risk, fetched for it
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
        assert "none: A on a heatmap cell or risk row, or [[alerts]] tables in the config file" in str(app.screen.query_one("#alerts-rules-title").render())
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


async def test_a_risk_rule_of_a_cohort_not_selected_fetches_its_risk_once_per_update_and_fires(make_app, clock):
    app = make_app()
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await settled(pilot)
        selected = app.state.view.cohort_id
        other, third = [s for s in app.state.cohorts if s.id != selected][:2]
        async with simulator_client(seed=7, scale="small", clock=clock) as same_market:  # what the app will be sent
            page = await same_market.liquidation_risk(other.id, offset=0, limit=500)
        highest = max(i.percent_risk for i in page.items)
        level = round(highest - 0.5, 2)
        app.alerts = AlertCenter(*parse_rules([{"kind": "liquidation_risk", "cohort": other.name, "above": level}]))

        async def risk_requests_for_other(cycle) -> int:
            app.client.calls.clear()
            await cycle()
            await settled(pilot)
            return sum(1 for name, args, _ in app.client.calls if name == "liquidation_risk" and args[0] == other.id)

        async def timer_cycle() -> None:
            app.refresh_loop.request_refresh(TIMED | {IF_UPDATED})  # what the refresh timer asks for

        async def choose_third() -> None:
            app.dashboard.query_one(CohortList).select(third.id)

        assert await risk_requests_for_other(lambda: pilot.press("r")) == 1
        (alert,) = app.alerts.fired
        assert alert.text == f"{other.emoji} {other.name} liquidation risk {highest:.2f}% is above {level:.2f}% (when first seen)"
        assert app.alerts.evaluator.states[1].reading.value == highest
        # Which update that was is not known yet (no state/status asked): the next timer cycle, which
        # learns it and fetches the panels again for it, fetches it too.
        assert await risk_requests_for_other(timer_cycle) == 1 and "heatmap" in {name for name, _, _ in app.client.calls}
        assert await risk_requests_for_other(timer_cycle) == 0  # no new data: no token spent
        assert await risk_requests_for_other(choose_third) == 0  # another cohort chosen: its own risk only
        assert app.state.view.cohort_id == third.id
        assert await risk_requests_for_other(lambda: pilot.press("r")) == 0  # the panels again, the same update
        assert "heatmap" in {name for name, _, _ in app.client.calls}
        clock.advance(15)  # the market's next update
        assert await risk_requests_for_other(timer_cycle) == 1
        assert len(app.alerts.fired) == 1  # fired once per crossing


async def test_a_bias_rule_on_a_cohort_not_selected_fetches_that_cohorts_summary_alone(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        selected = app.state.view.cohort_id
        other = next(s for s in app.cohorts if s.id != selected)
        assert set(app.state.list_summaries) == {selected}  # the list needs no summary: its figures are the heatmap's
        rules, problems = parse_rules([{"kind": "bias", "cohort": other.name, "above": 5}])
        app.alerts = AlertCenter(rules, problems, tmp_path / "alerts.log")
        await pilot.press("r")
        await settled(pilot)
        assert set(app.state.list_summaries) == {selected, other.id}
