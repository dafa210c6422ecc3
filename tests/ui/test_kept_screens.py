"""Screens the app keeps between openings (KeptScreen in ui/screens/drilldown.py): a reopened one
is a new one's twin whatever was done on it before, closed it holds no rows, and it is never
stacked twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from textual._compositor import LayoutUpdate

from hypertui.monitor.positions import PositionQuery
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.screens.coin import CoinScreen
from hypertui.ui.screens.positions import PositionDetail, PositionsScreen
from hypertui.ui.screenshots import drained, settled

Open = Callable[[HyperTuiApp, int], None]  # opens the screen for the n-th coin and cohort


def _positions(app: HyperTuiApp, n: int) -> None:
    app.open_positions(app.state.heatmap.heatmap[n].coin, app.state.cohorts[n].id)


def _coin(app: HyperTuiApp, n: int) -> None:
    app.open_coin(app.state.heatmap.heatmap[n].coin)


def _history(app: HyperTuiApp, n: int) -> None:
    app.open_history(app.state.cohorts[n].id)


async def _opened(pilot: Any, open_screen: Open, n: int, *keys: str) -> Any:
    """The screen `open_screen` opened for the n-th, once loaded and `keys` pressed on it."""
    open_screen(pilot.app, n)
    await drained(pilot)
    screen = pilot.app.screen
    if keys:
        await pilot.press(*keys)
        await drained(pilot)
    return screen


# Each screen, how it is opened, and keys that change everything it holds (filters, held pages,
# sort, cursor, scroll, the address box), then close it (or not: the palette opens over it).
KEPT: dict[str, tuple[Open, tuple[str, ...]]] = {
    "positions": (_positions, ("pagedown", "pagedown", "s", "S", "o", "slash", "0")),
    "history": (_history, ("3", "f", "j", "j", "right", "escape")),
    "alerts": (lambda app, _: app.action_alerts(), ("j", "exclamation_mark")),
    "help": (lambda app, _: app.action_help(), ("j", "j", "j", "escape")),
    "legend": (lambda app, _: app.action_legend(), ("j", "j", "escape")),
}


@pytest.mark.parametrize("name", list(KEPT))
async def test_a_kept_screen_opened_again_for_another_is_a_new_ones_twin(make_app, name):
    """Opened for one coin and cohort, changed in every way it can be, closed, then opened for
    another, it is the screen it was (not built again) and looks exactly as a new one opened for
    that other does in a fresh app, under the theme chosen while it was closed."""
    open_screen, keys = KEPT[name]
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        first = await _opened(pilot, open_screen, 0, *keys)
        if app.screen is not app.dashboard:
            app.pop_screen()
        app.theme = "textual-light"
        await pilot.pause()
        again = await _opened(pilot, open_screen, 1)
        assert again is first
        reopened = app.export_screenshot()
    fresh = make_app()
    async with fresh.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        fresh.theme = "textual-light"
        await pilot.pause()
        await _opened(pilot, open_screen, 1)
        assert fresh.export_screenshot() == reopened


async def test_a_closed_positions_screen_holds_no_rows_but_one_under_its_details_or_a_book_does(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        screen = await _opened(pilot, _positions, 0, "pagedown")
        assert isinstance(screen, PositionsScreen)
        held = screen.rows_held
        assert held > 0
        await pilot.press("enter")  # a position's details over it
        await drained(pilot)
        assert isinstance(app.screen, PositionDetail) and screen.rows_held == held
        await pilot.press("b")  # its wallet's book, over it
        await drained(pilot)
        assert app.screen is not screen and app.screen.filters.book and screen.rows_held == held
        await pilot.press("escape", "escape")
        await drained(pilot)
        assert app.screen is app.dashboard
        assert screen.rows_held == 0 and screen.view.window is screen.window  # the view holds none either
        assert not [w for w in app.workers if w.node is screen]


async def test_a_kept_screen_under_the_top_one_is_shown_by_popping_never_stacked_twice(make_app):
    """The coin view's p opens the app's kept positions; the palette opening the coin view from
    there goes back to it (refilled), as opening positions from a wallet's book does."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        coin = await _opened(pilot, _coin, 0, "p")
        positions = app.screen
        assert isinstance(positions, PositionsScreen) and positions.filters.coin == coin.coin
        await _opened(pilot, _coin, 1)
        assert app.screen_stack == [app.dashboard, coin] and isinstance(coin, CoinScreen)
        assert coin.coin == app.state.heatmap.heatmap[1].coin
        app.pop_screen()
        await _opened(pilot, _positions, 0, "b")
        assert app.screen is not positions and app.screen.filters.book
        _positions(app, 1)
        await drained(pilot)
        expected = PositionQuery(coin=app.state.heatmap.heatmap[1].coin, segment_id=app.state.cohorts[1].id)
        assert app.screen_stack == [app.dashboard, positions] and positions.filters == expected


async def test_a_kept_screen_opened_again_while_on_top_is_refilled_in_place(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        history = await _opened(pilot, _history, 0, "3")
        await _opened(pilot, _history, 1)  # the palette's "History of …" over it
        assert app.screen_stack == [app.dashboard, history]
        assert (history.segment_id, history.window) == (app.state.cohorts[1].id, "7d")


@contextmanager
def _frames(app: HyperTuiApp) -> Iterator[list[bool]]:
    """Each frame the app writes from now on: True for one of the whole screen, False for lines of
    it (the headless driver writes none, but every frame goes through App._display, as in
    benchmarks/transition_profile.py, which drops those that come during a batch)."""
    written: list[bool] = []
    display = app._display

    def recorded(screen: Any, renderable: Any) -> None:
        if renderable is not None and not app._batch_count:
            written.append(isinstance(renderable, LayoutUpdate))
        display(screen, renderable)

    app._display = recorded  # type: ignore[method-assign]
    try:
        yield written
    finally:
        del app._display


@pytest.mark.parametrize("name", ["history", "help"])
async def test_a_screen_opened_again_is_written_whole_in_one_frame_with_nothing_before(make_app, name):
    """Reopened, history's refill lays out new lines in the same frame as its resume's whole
    repaint: one frame of the whole screen, no frame of those lines before it (Textual's update
    wrote the layout's lines, then the whole screen again). Help, see-through, draws the dashboard
    under it in that frame: the dashboard's own whole repaint on its suspend came a frame later."""
    open_screen, _ = KEPT[name]
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        await _opened(pilot, open_screen, 0, "escape")
        with _frames(app) as frames:
            await _opened(pilot, open_screen, 1)
        assert frames[0] is True and frames.count(True) == 1  # then the data, lines of it


async def test_a_screen_not_kept_closed_repaints_the_one_under_it_once(make_app):
    """A position's details closed: the positions screen under it is repainted whole by its
    resume, and not again once the details are taken apart (Textual refreshed the App then)."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        await _opened(pilot, _positions, 0, "enter")
        assert isinstance(app.screen, PositionDetail)
        with _frames(app) as frames:
            await pilot.press("escape")
            await drained(pilot)
        assert frames.count(True) == 1


@pytest.mark.parametrize("name", ["alerts", "positions"])
async def test_a_screen_opened_for_the_first_time_is_written_whole_once_it_has_mounted(make_app, name):
    """Not laid out and written whole before its widgets have mounted, then again once they have."""
    open_screen, _ = KEPT[name]
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        with _frames(app) as frames:
            await _opened(pilot, open_screen, 0)
        assert frames[0] is True and frames.count(True) == 1
