"""The command palette shows server names as written (issue 22: a cohort named "[/]" raised
MarkupError as ctrl+p opened, and the app exited with status 0)."""

from __future__ import annotations

from textual.command import CommandList

from hypertui.ui.screenshots import drained, settled
from tests.ui.test_hostile import hostile  # noqa: F401 - the fixture: every cohort and the top coins named with markup


def _titles(app) -> list[str]:
    """The palette's commands as listed: the first line (the title) of each."""
    listed = app.screen.query_one(CommandList)
    return [listed.get_option_at_index(i).prompt.plain.split("\n")[0] for i in range(listed.option_count)]


async def test_the_palette_lists_and_finds_names_with_markup_as_written(hostile):  # noqa: F811 - the fixture
    app, _ = hostile
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        cohorts = {f"Cohort: {s.name} {s.emoji}".rstrip() for s in app.state.cohorts}
        assert cohorts <= set(_titles(app))  # "Cohort: [/]", "Cohort: [b]unclosed", …
        await pilot.press(*"[/]")  # a search: each title's matching characters are marked
        await pilot.pause()
        listed = app.screen.query_one(CommandList)
        first = listed.get_option_at_index(0).prompt
        title = first.plain.split("\n")[0]
        assert "[/]" in title  # the best match, a cohort's, a coin's or the positions under the cursor
        marked = "".join(first.plain[span.start : span.end] for span in first.spans if span.end <= len(title))
        assert "[/]" in marked
        await pilot.press("escape")
        assert app.is_running and app.return_code is None


async def test_the_palette_lists_cohorts_and_keys_and_finds_a_coin_or_a_history_by_name(make_app):
    """Every listed command costs the opening (two lines each, measured on every layout): the
    coins (hundreds) and the cohorts' histories are found by typing, not listed."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        await pilot.press("ctrl+p")
        await drained(pilot)
        listed = _titles(app)
        cohort = app.state.cohorts[0]
        assert f"Cohort: {cohort.name} {cohort.emoji}".rstrip() in listed
        assert "Coin view" in listed  # a key, by its description
        assert not [t for t in listed if t.startswith(("Coin: ", "History of "))]
        coin = max(app.state.heatmap.heatmap, key=lambda r: r.total_value).coin
        await pilot.press(*f"coin: {coin}")
        await drained(pilot)
        assert _titles(app)[0] == f"Coin: {coin}"
        await pilot.press("ctrl+u", *f"history of {cohort.name}")
        await drained(pilot)
        assert _titles(app)[0] == f"History of {cohort.name} {cohort.emoji}".rstrip()


async def test_a_drill_downs_palette_finds_the_coins_and_cohorts_and_the_keys_that_work_there(make_app):
    from hypertui.ui.screens.coin import CoinScreen

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        rows = sorted(app.state.heatmap.heatmap, key=lambda r: r.total_value, reverse=True)
        app.open_coin(rows[0].coin)
        await drained(pilot)
        coin_view = app.screen
        await pilot.press("ctrl+p")
        await drained(pilot)
        listed = _titles(app)
        cohort = app.state.cohorts[0]
        assert f"Cohort: {cohort.name} {cohort.emoji}".rstrip() in listed
        assert {"Positions", "Series window", "Reload", "Help"} <= set(listed)  # the coin view's keys, the app's
        assert "Refresh" not in listed and "Pause" not in listed  # r and p are the coin view's own here
        await pilot.press(*f"coin: {rows[1].coin}")
        await drained(pilot)
        assert _titles(app)[0] == f"Coin: {rows[1].coin}"
        await pilot.press("enter")
        await drained(pilot)
        assert app.screen is coin_view and isinstance(coin_view, CoinScreen) and coin_view.coin == rows[1].coin
        await pilot.press("ctrl+p", *f"cohort: {cohort.name}")
        await drained(pilot)
        await pilot.press("enter")
        await drained(pilot)
        assert app.screen is app.dashboard and app.state.view.cohort_id == cohort.id  # back on the dashboard
