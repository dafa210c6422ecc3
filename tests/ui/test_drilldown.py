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
        await app.push_screen(CoinScreen(app.client, app.clock, "BTC", app.segments))
        await drained(pilot)
        assert not app.dashboard.is_current
        app.dashboard.set_title("risk-panel", "Redrawn-while-hidden")
        app.pop_screen()
        await drained(pilot)
        assert app.dashboard.is_current
        assert "Redrawn-while-hidden" in app.export_screenshot()
