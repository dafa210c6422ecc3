"""What the four drill-downs share (ui/screens/drilldown.py): the client and clock they are given,
their keys around their own, and one status line."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hypertui.api.errors import NetworkError
from hypertui.clock import FrozenClock
from hypertui.monitor.positions import PositionQuery
from hypertui.source import simulator_client
from hypertui.testing import FaultyClient
from hypertui.ui.screens.bias import BiasOverviewScreen
from hypertui.ui.screens.coin import CoinScreen
from hypertui.ui.screens.drilldown import DrillDownScreen
from hypertui.ui.screens.history import HistoryScreen
from hypertui.ui.screens.positions import PositionsScreen
from hypertui.ui.screenshots import drained, settled

SCREENS = {
    "positions": (lambda client, clock, segments: PositionsScreen(
        client, clock, PositionQuery(coin="BTC", segment_id=segments[0].id, window="24h"), "a cohort", segments
    ), "positions"),
    "coin": (lambda client, clock, segments: CoinScreen(client, clock, "BTC", segments), "position_breakdown"),
    "history": (lambda client, clock, segments: HistoryScreen(client, clock, segments[0].id, "a cohort"), "iter_bias_history"),
    "bias": (lambda client, clock, _: BiasOverviewScreen(client, clock), "segments_bias_24h"),
}


@pytest.mark.parametrize("name", list(SCREENS))
async def test_a_drill_down_asks_the_client_and_clock_it_is_given_not_the_apps(make_app, clock, name):
    make, endpoint = SCREENS[name]
    app = make_app()
    own_clock = FrozenClock(clock() - timedelta(days=2))  # another time than the app's
    own = FaultyClient(simulator_client(seed=7, scale="small", clock=own_clock))
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        asked_before = len(app.client.calls)
        await app.push_screen(make(own, own_clock, app.cohorts))
        await drained(pilot)
        assert len(app.client.calls) == asked_before  # nothing through the app's client
        kwargs, *_ = [kwargs for called, _, kwargs in own.calls if called == endpoint]
        if name == "history":
            assert kwargs["start"] == own_clock() - timedelta(days=7)  # the default window before the screen's now
        if name == "positions":
            assert kwargs["start"] == own_clock() - timedelta(hours=24)  # "24h" before the screen's now


@pytest.mark.parametrize("screen", [PositionsScreen, CoinScreen, HistoryScreen, BiasOverviewScreen])
def test_every_drill_down_has_back_first_and_the_exports_last_with_dotted_ids(screen: type[DrillDownScreen]):
    bindings = screen.BINDINGS
    prefix = {PositionsScreen: "positions", CoinScreen: "coin", HistoryScreen: "history", BiasOverviewScreen: "bias"}[screen]
    assert [b.action for b in bindings[:1] + bindings[-2:]] == ["back", "export('csv')", "export('json')"]
    assert all(b.id and b.id.startswith(f"{prefix}.") for b in bindings)


async def test_coin_and_history_say_loading_last_and_their_error_first(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        for screen in (
            CoinScreen(app.client, app.clock, "BTC", app.cohorts),
            HistoryScreen(app.client, app.clock, app.cohorts[0].id, "a cohort"),
        ):
            await app.push_screen(screen)
            await drained(pilot)
            screen.fetching = True
            assert str(screen.status_text()).endswith(" · ⋯ loading…")
            app.client.error = NetworkError("/x", "cannot connect: connection refused")
            screen.action_reload()
            await drained(pilot)
            app.client.error = None
            assert str(screen.status_text()).startswith(" ✗ /x: cannot connect: connection refused (r retries) │")
            app.pop_screen()
            await pilot.pause()


async def test_the_dashboard_under_a_drill_down_stops_painting_and_its_resume_shows_what_changed(make_app):
    """An opaque drill-down hides the dashboard: it is no longer current (no layout, no paint, no
    repaint of the drill-down over it); a see-through modal (help) leaves it showing; back on top,
    its resume repaints it with what changed while it was hidden."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        from hypertui.ui.screens.help import HelpScreen

        await app.push_screen(HelpScreen(app.key_sections()))
        await drained(pilot)
        assert app.dashboard.is_current  # seen through the modal
        app.pop_screen()
        await app.push_screen(CoinScreen(app.client, app.clock, "BTC", app.cohorts))
        await drained(pilot)
        assert not app.dashboard.is_current
        app.dashboard.set_title("risk-panel", "Redrawn-while-hidden")
        app.pop_screen()
        await drained(pilot)
        assert app.dashboard.is_current
        assert "Redrawn-while-hidden" in app.export_screenshot()


async def test_the_coin_view_and_the_bias_overview_are_kept_and_refilled_when_opened_again(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        first, second = (line.coin for line in app.state.heatmap.heatmap[:2])
        app.open_coin(first)
        await drained(pilot)
        coin = app.screen
        assert isinstance(coin, CoinScreen)
        await pilot.press("f", "t")  # another position age and series window
        await drained(pilot)
        app.pop_screen()
        await pilot.pause()
        app.open_coin(second)
        await drained(pilot)
        assert app.screen is coin  # the same widgets: not composed, styled and mounted again
        assert (coin.coin, coin.age, coin.window, coin.errors) == (second, "all", "7d", {})  # as a new one
        assert coin.breakdown is not None and coin.breakdown.coin == second
        assert second in str(coin.query_one("#coin-crumb").render())
        app.pop_screen()
        await pilot.pause()
        app.open_bias_overview()
        await drained(pilot)
        bias = app.screen
        asked = [name for name, _, _ in app.client.calls].count("segments_bias_24h")
        app.pop_screen()
        await pilot.pause()
        app.open_bias_overview()
        await drained(pilot)
        assert app.screen is bias and isinstance(bias, BiasOverviewScreen)
        assert [name for name, _, _ in app.client.calls].count("segments_bias_24h") == asked + 1  # loaded again


async def test_a_kept_drill_down_opened_again_is_restyled_only_under_another_theme_and_takes_a_new_size(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        app.open_bias_overview()
        await drained(pilot)
        bias = app.screen
        restyled: list[str] = []
        restyle = bias.update_node_styles

        def counted(animate: bool = True) -> None:
            restyled.append(app.theme)
            restyle(animate)

        bias.update_node_styles = counted  # type: ignore[method-assign]
        for theme in (app.theme, "textual-light"):
            app.pop_screen()
            await pilot.pause()
            app.theme = theme
            app.open_bias_overview()
            await drained(pilot)
        assert restyled == ["textual-light"]  # the same theme: styled already
        assert app.screen.has_class("-tall")
        app.pop_screen()
        await pilot.resize_terminal(80, 24)  # while it is off the screen
        await pilot.pause()
        app.open_bias_overview()
        await drained(pilot)
        assert app.screen.has_class("-short") and app.screen.size == (80, 24)
