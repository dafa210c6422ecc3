"""Charts: any finite series is drawn (Textual's Sparkline divides by max - min, which overflows);
signed ones about a zero line on a shared scale, in time, with ticks; the bias overview's strips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.color import Color, ColorTriplet
from textual.app import App, ComposeResult

from hypertui.monitor import format as fmt
from hypertui.monitor.scale import EIGHTHS, ZERO_LINE, scale_label
from hypertui.ui.screens.bias import BiasOverviewScreen
from hypertui.ui.screenshots import drained, settled
from hypertui.ui.widgets.chart import LABEL_GAP, Chart, SignedPlot
from tests.ui.wire import rewritten_app


class ChartApp(App[None]):
    CSS = "Chart { height: 2; }"  # the label, a row of bars

    def compose(self) -> ComposeResult:
        yield Chart("Value", lambda v: f"{v:.3g}")


def _text(widget: Any, y: int, start: int = 0) -> str:
    """Line `y` of a widget as drawn, from cell `start` on."""
    return "".join(segment.text for segment in widget.render_line(y).crop(start))


def _strip(plot: SignedPlot, y: int) -> str:
    """Line `y` of a bias strip, right of its label."""
    return _text(plot, y, plot.label_width + len(LABEL_GAP))


def _bars(app: App, row: int = 0) -> str:
    """A row of bars, the first under the chart's label unless told."""
    return _text(app.query_one(Chart), 1 + row)


def _plot(chart: Chart) -> list[str]:
    """The lines of a chart under its label."""
    return [_text(chart, y) for y in range(1, chart.size.height)]


@pytest.mark.parametrize(
    "values",
    [
        [1.7e308, -1.7e308, 0.0],  # max - min is inf, then inf / inf is NaN
        [-1.7e308, 0.0, 1.7e308],
        [5e-324, 0.0, 1e-323],  # subnormals: the range is tiny, not zero
    ],
)
async def test_a_chart_draws_the_widest_finite_range(values):
    app = ChartApp()
    async with app.run_test(size=(30, 4)) as pilot:
        chart = app.query_one(Chart)
        chart.show(values)
        await pilot.pause()
        bars = _bars(app)
        middle = [bars[(2 * i + 1) * len(bars) // 6] for i in range(3)]  # of each value's third
        assert middle[values.index(min(values))] == "▁" and middle[values.index(max(values))] == "█"
        assert middle[values.index(sorted(values)[1])] == "▄"  # halfway
        assert f"{values[-1]:.3g}" in _text(chart, 0)  # the label, last value first


async def test_a_chart_skips_a_value_no_bar_can_show():
    # A long share of two finite numbers can still be inf (1e308 / 1e-308).
    app = ChartApp()
    async with app.run_test(size=(30, 4)) as pilot:
        app.query_one(Chart).show([0.0, float("inf"), 1.0, float("nan")])
        await pilot.pause()
        bars = _bars(app)
        assert bars == "▁" * 16 + "█" * 14  # the two finite values, about half each (Textual's buckets)


async def test_a_chart_with_times_is_drawn_in_time_with_ticks():
    # Snapshots at 0 h, 1 h and 9 h: each is as wide as the time it is nearest, not a third.
    t0 = datetime(2026, 11, 17, 12, 10, tzinfo=UTC)
    app = ChartApp()
    async with app.run_test(size=(30, 6)) as pilot:
        chart = app.query_one(Chart)
        chart.styles.height = 4  # the label, two rows of bars (the ticks take no chart's only row), the ticks
        chart.show([1.0, 2.0, 3.0], times=[t0, t0 + timedelta(hours=1), t0 + timedelta(hours=9)])
        await pilot.pause()
        assert (_bars(app), _bars(app, 1)) == (" " * 17 + "█" * 13, "▁" * 2 + "█" * 28)  # half of two rows: the lower one
        ticks = _text(chart, 3).rstrip()
        assert ticks.startswith("11-17 12:10") and ticks.endswith("11-17 21:10 UTC")


@pytest.mark.parametrize("shares", [[], [0.5, 0.5]], ids=["no data yet", "all at 50 %"])
async def test_a_chart_about_50_percent_shows_no_scale_with_nothing_off_the_line(shares):
    t0 = datetime(2026, 11, 17, 12, 10, tzinfo=UTC)
    app = App[None]()
    async with app.run_test(size=(40, 6)) as pilot:
        await app.mount(Chart("Long share", fmt.long_share, origin=0.5))
        chart = app.query_one(Chart)
        chart.styles.height = 6  # the label, four rows of bars, the ticks
        chart.show(shares, times=[t0 + timedelta(hours=h) for h in range(len(shares))])
        await pilot.pause()
        lines = [line.split() for line in _plot(chart)[:4]]
        assert lines == [[], [], ["50.0%", ZERO_LINE * (40 - len("50.0% "))], []]  # not 150.0% … -50.0%


def _extreme_bias(path: str, answer: Any) -> Any:
    """The first cohort's perp bias in the 24 h export at 1.7e308 and -1.7e308 (finite)."""
    if path.startswith("/downloads/segments-bias-charts-data-24h/"):  # where the export redirects
        history = answer["data"][0]["history"]
        bias = history["columns"].index("bias")
        for row, value in zip(history["data"], (1.7e308, -1.7e308), strict=False):
            row[bias] = value
    return answer


async def _bias_overview(pilot) -> BiasOverviewScreen:
    """Open the bias overview from the dashboard and wait for its export to be drawn."""
    await settled(pilot)
    await pilot.press("b")
    await settled(pilot)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, BiasOverviewScreen)
    return screen


async def test_the_bias_overview_draws_a_strip_wider_than_the_largest_float(clock):
    app = rewritten_app(clock, _extreme_bias)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _bias_overview(pilot)
        assert screen.error is None
        extreme = screen.data.data[0]
        assert {s.bias for s in extreme.snapshots} >= {1.7e308, -1.7e308}
        plot = screen.query_one(f"#bias-{extreme.segment.id}", SignedPlot)
        top, bottom = (_strip(plot, y) for y in range(2))
        # Drawn (Textual's Sparkline raised ValueError, NaN), on ±1.7e308: the max fills the upper
        # row, the min the lower one, and the cohort's ordinary values are slivers at the zero line.
        assert top.startswith("+1.7e+308 ") and bottom.startswith("-1.7e+308 ")
        assert "█" in top and "█" in bottom and set(top[10:]) <= {" ", "▁", "█"}
        assert app.is_running


async def test_the_bias_overview_draws_every_cohort_on_one_scale_about_zero(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _bias_overview(pilot)
        series = {one.segment.id: [s.bias for s in one.snapshots if s.bias is not None] for one in screen.data.data}
        bound = max(abs(v) for values in series.values() for v in values)
        for sid, values in series.items():
            plot = screen.query_one(f"#bias-{sid}", SignedPlot)
            up, down = (_strip(plot, y) for y in range(2))
            # One scale for every cohort, the largest |bias| of any: its bars compare by height.
            assert up.startswith(f"{scale_label(bound)} ") and down.startswith(f"{scale_label(-bound)} ")
            bars_up, bars_down = up[len(scale_label(-bound)) + 1 :], down[len(scale_label(-bound)) + 1 :]
            if max(map(abs, values)) == bound:  # the cohort that sets the scale fills it
                assert "█" in bars_up + bars_down
            if min(values) > 0:  # all above zero: the zero line runs under them, readable without colour
                assert set(bars_down) == {ZERO_LINE} and set(bars_up) - set(EIGHTHS) == set()
        times = sorted(s.timestamp for one in screen.data.data for s in one.snapshots)
        ticks_row = screen.query_one("#bias-ticks")
        ticks = _text(ticks_row, 0)
        for strip in screen.query(".bias-strip"):  # the ticks' columns are the strips' columns
            assert (strip.content_region.x, strip.content_region.right) == (ticks_row.content_region.x, ticks_row.content_region.right)
        assert ticks.split()[:2] == [f"{times[0]:%m-%d}", f"{times[0]:%H:%M}"]
        assert ticks.rstrip().endswith(f"{times[-1]:%m-%d %H:%M} UTC")
        # This bias is of positions opened within 24 h, said apart from the dashboard's.
        about = str(screen.query_one("#bias-about").render())
        assert "perp bias of positions opened within 24 h, not the dashboard's" in about
        assert f"one scale ±{scale_label(bound)[1:]}" in about
        assert "24h-opened bias" in str(screen.query_one("#bias-crumb").render())


async def _coin_view(pilot) -> Any:
    """Open BTC's coin view from the dashboard and wait for its data to be drawn."""
    await settled(pilot)
    pilot.app.open_coin("BTC")
    await drained(pilot)
    return pilot.app.screen


async def test_the_coin_views_long_share_is_drawn_about_50_percent(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _coin_view(pilot)
        sid = screen.cohort_id
        shares = [r.bias for r in next(c for c in screen.metrics.data if c.segment.id == sid).rows]
        assert max(shares) < 0.5  # this cohort is short-heavy on BTC all week
        lines = _plot(screen.query_one("#metrics-long", Chart))
        rows = (len(lines) - 1) // 2 * 2
        bound = max(abs(s - 0.5) for s in shares)
        gutter = len(fmt.long_share(0.5 + bound)) + 1
        # The scale about neutral reads as shares: 50.0% beside the line, ±the widest lean at the ends.
        labels = [line[:gutter].strip() for line in lines[:rows]]
        assert [labels[0], labels[rows // 2], labels[rows - 1]] == [
            fmt.long_share(0.5 + bound), "50.0%", fmt.long_share(0.5 - bound)
        ]
        # Every bar hangs below 50 %: short-heavy reads without colour (min…max scaling hid it).
        assert all(set(line[gutter:]) == {" "} for line in lines[: rows // 2])
        assert "█" in "".join(lines[rows // 2 : rows])
        assert lines[-1].split()[-1] == "UTC"  # time ticks under it


def _bias_a_hair_below_zero(path: str, answer: Any) -> Any:
    """The first cohort's perp bias in the 24 h export at -0.001 at every snapshot."""
    if path.startswith("/downloads/segments-bias-charts-data-24h/"):
        history = answer["data"][0]["history"]
        bias = history["columns"].index("bias")
        for row in history["data"]:
            row[bias] = -0.001
    return answer


async def test_a_strips_figures_that_round_to_zero_read_0_00_not_minus_0_00(clock):
    app = rewritten_app(clock, _bias_a_hair_below_zero)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _bias_overview(pilot)
        plot = screen.query_one(f"#bias-{screen.data.data[0].segment.id}", SignedPlot)
        assert "last  0.00  min  0.00  max  0.00" in plot.label.plain


def _hostile_cohort(path: str, answer: Any) -> Any:
    """The first cohort in the 24 h export named as markup."""
    if path.startswith("/downloads/segments-bias-charts-data-24h/"):
        answer["data"][0]["segment"]["name"] = HOSTILE_NAME
    return answer


HOSTILE_NAME = "[bold red]x[/] [link=https://e.example]y"


async def test_a_strips_cohort_name_is_drawn_as_sent_not_as_markup(clock):
    app = rewritten_app(clock, _hostile_cohort)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _bias_overview(pilot)
        plot = screen.query_one(f"#bias-{screen.data.data[0].segment.id}", SignedPlot)
        assert HOSTILE_NAME[:16] in _text(plot, 0) and not any(s.style and s.style.link for s in plot.render_line(0))


def _bar_colours(widget: Any, rows: range) -> set[ColorTriplet]:
    bars = (s for y in rows for s in widget.render_line(y) if s.text.strip() and set(s.text) <= set(EIGHTHS))
    return {s.style.color.get_truecolor() for s in bars}


def _signals(app: Any) -> set[ColorTriplet]:
    return {Color.parse(app.signals.long).get_truecolor(), Color.parse(app.signals.short).get_truecolor()}


async def test_the_bias_strips_take_the_new_themes_colours(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _bias_overview(pilot)
        plot = screen.query_one(".bias-strip", SignedPlot)
        assert _bar_colours(plot, range(2)) and _bar_colours(plot, range(2)) <= _signals(app)
        app.theme = "hypertui-colorblind"
        await pilot.pause()
        assert app.signals.long == "#56b4e9"
        assert _bar_colours(plot, range(2)) and _bar_colours(plot, range(2)) <= _signals(app)  # redrawn, not as cached


async def test_a_chart_is_one_widget_whose_lines_are_drawn_anew_for_a_new_theme(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        chart = (await _coin_view(pilot)).query_one("#metrics-long", Chart)
        assert not chart.children  # its label, plot and ticks are lines of its own, not widgets
        plot = range(1, chart.size.height - 1)  # under the label, above the ticks
        assert _bar_colours(chart, plot) and _bar_colours(chart, plot) <= _signals(app)
        app.theme = "hypertui-colorblind"
        await pilot.pause()
        assert _bar_colours(chart, plot) and _bar_colours(chart, plot) <= _signals(app)  # its kept lines dropped
