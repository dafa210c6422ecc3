"""The refresh loop goes on whatever a cycle meets: a cycle that raises is logged, shown, and
followed by the next one (issue 24 item 3: the worker died, with no timer and nothing said).
An error nothing catches stops the app with a non-zero exit code (item 4: it exited 0)."""

from __future__ import annotations

import logging
import math
from datetime import UTC, timedelta
from typing import Any

import pytest

from hypertui.api.errors import RateLimitError
from hypertui.config import log_path
from hypertui.monitor import plan
from hypertui.ui.app import HyperTuiApp, exit_code
from hypertui.ui.hangup import HANGUP_EXIT
from hypertui.ui.refresh_loop import BROKEN_CYCLE_RETRY
from hypertui.ui.screenshots import settled
from hypertui.ui.widgets.status_bar import StatusBar
from tests.ui.wire import rewritten_app


def _status(app: HyperTuiApp) -> str:
    return app.dashboard.query_one(StatusBar)._last.plain


def _zoneless_status(path: str, answer: Any) -> Any:
    """`state/status` times sent without their zone ("…T08:40:00.000")."""
    if path.endswith("/state/status"):
        return {key: value.removesuffix("Z") if isinstance(value, str) else value for key, value in answer.items()}
    return answer


async def test_status_times_without_a_zone_are_utc_and_the_next_cycle_follows_them(clock):
    app = rewritten_app(clock, _zoneless_status, refresh=None)  # None: follow state/status
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        assert app.state.status is not None and app.state.status.next_update.tzinfo is UTC
        assert app.refresh_loop.last_error is None
        assert app.refresh_loop.timer is not None  # naive - aware raised TypeError here: no timer, no next cycle
        assert app.refresh_loop.next_at == clock() + timedelta(seconds=plan.next_delay(None, app.state.status, clock()))


async def test_a_retry_after_of_inf_waits_a_day_and_the_loop_goes_on(make_app, clock):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        app.client.error = RateLimitError("/positions/heatmap", daily=False, retry_after=math.inf)
        await pilot.press("r")
        await settled(pilot)
        assert app.refresh_loop.timer is not None and app.refresh_loop.next_at == clock() + timedelta(days=1)  # OverflowError before
        assert "rate limited" in _status(app)
        app.client.error = None
        await pilot.press("r")
        await settled(pilot)
        assert app.refresh_loop.last_error is None and app.refresh_loop.next_at == clock() + timedelta(seconds=15)


async def test_a_cycle_whose_end_raises_is_logged_shown_and_followed_by_the_next(make_app, clock, monkeypatch, caplog):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        cycles = app.refresh_loop.cycles_done

        def broken(*args: object, **kwargs: object) -> float:
            raise ZeroDivisionError("a bug in the plan")

        monkeypatch.setattr(plan, "next_delay", broken)  # any bug where the cycle arms its timer
        with caplog.at_level(logging.ERROR, logger="hypertui"):
            await pilot.press("r")
            await settled(pilot)
        assert app.refresh_loop.cycles_done == cycles + 1
        (record,) = [r for r in caplog.records if r.name == "hypertui.ui"]
        assert record.exc_info[0] is ZeroDivisionError  # in the log file, with its traceback
        assert "internal error: ZeroDivisionError: a bug in the plan" in _status(app)
        assert "STALE" in _status(app) and app.dashboard.query_one("#heatmap-panel").has_class("-stale")
        assert app.refresh_loop.timer is not None and app.refresh_loop.next_at == clock() + timedelta(seconds=BROKEN_CYCLE_RETRY)
        assert not any(w.state.name == "ERROR" for w in app.workers)
        monkeypatch.undo()
        await pilot.press("r")  # the next cycle, here asked for by hand: it runs, and clears the error
        await settled(pilot)
        assert app.refresh_loop.last_error is None and "STALE" not in _status(app)


async def test_an_unhandled_error_exits_non_zero_with_the_log_path_on_stderr(make_app, caplog, capsys):
    app = make_app()
    with caplog.at_level(logging.ERROR, logger="hypertui"), pytest.raises(ZeroDivisionError):
        async with app.run_test(size=(160, 45)) as pilot:
            await settled(pilot)
            app.call_later(lambda: 1 / 0)  # a bug in any handler: Textual stops the app
            await pilot.pause()
    assert exit_code(app, app.return_value) == 1  # `run_async() or 0` made it 0
    last = capsys.readouterr().err.rstrip("\n").split("\n")[-1]
    assert last == f"hypertui: stopped by an internal error; the traceback is in {log_path()}"
    (record,) = [r for r in caplog.records if r.name == "hypertui.ui"]
    assert record.exc_info[0] is ZeroDivisionError


async def test_a_quit_exits_0_and_a_hang_up_129(make_app):
    for key, code in (("q", 0), (None, HANGUP_EXIT)):
        app = make_app()
        async with app.run_test(size=(160, 45)) as pilot:
            await settled(pilot)
            if key:
                await pilot.press(key)
            else:
                app.exit(HANGUP_EXIT)  # as hypertui.ui.hangup does
            await pilot.pause()
        assert exit_code(app, app.return_value) == code


async def test_a_refresh_asked_for_as_the_app_exits_starts_no_cycle(make_app):
    """A key read after q (the rest of a pasted word, a held r): its cycle's coroutine never ran,
    and Python said "coroutine '_run_cycle' was never awaited" on the terminal after exiting."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        app.exit()
        app.refresh_loop.request_refresh(plan.TIMED)
        assert not app.refresh_loop.refreshing  # no worker was given the coroutine: none was made
