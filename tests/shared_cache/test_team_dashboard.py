"""Two dashboards of one desk on a shared cache: the second draws its first screen from Redis
with no token spent, the status bar shows the desk's tokens beside its own, the budget plans
against the desk's, and a Redis that goes away shows a badge while the dashboard goes on."""

from __future__ import annotations

from hypertui.monitor.plan import IF_UPDATED, TIMED
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.screenshots import settled
from hypertui.ui.widgets.status_bar import StatusBar

SIZE = (200, 45)  # wide enough for the status line in full


def status_line(app: HyperTuiApp) -> str:
    return app.dashboard.query_one(StatusBar)._last.plain


async def test_the_second_dashboard_shows_the_desks_tokens_and_a_badge_while_redis_is_down(server, desk, upstream, clock):
    first = HyperTuiApp(desk(server.url, daily_tokens=100), "desk-api", clock=clock)
    async with first.run_test(size=SIZE) as pilot:
        await settled(pilot)
        spent = sum(first.client.tokens_today.values())
        assert spent > 0 and status_line(first).endswith(f"│ tokens today {spent}/100 · desk {spent}")
    asked = upstream.requests
    # 3 tokens left to the desk: too few for the panels' next fetch (a status check and 3), which
    # on its own count (0 spent) would come every few updates.
    second = HyperTuiApp(desk(server.url, daily_tokens=spent + 3), "desk-api", clock=clock)
    async with second.run_test(size=SIZE) as pilot:
        await settled(pilot)
        assert upstream.requests == asked and second.client.tokens_today == {}  # its first screen, all from Redis
        assert status_line(second).endswith(f"│ tokens today 0/{spent + 3} · desk {spent}")
        assert "budget: spent until 00:00 UTC" in status_line(second)
        assert "shared cache down" not in status_line(second)
        second.client.daily_limit = None  # a bigger plan: the refresh below asks its status check
        server.kill()
        clock.advance(20 * 60)  # the next update: nothing of it is held here, so Redis is asked first
        second.refresh_loop.request_refresh(TIMED | {IF_UPDATED})
        await settled(pilot)
        assert second.state.summary is not None and second.refresh_loop.last_error is None
        assert " shared cache down " in status_line(second) and "Traceback" not in status_line(second)
