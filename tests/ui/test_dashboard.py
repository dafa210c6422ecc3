"""Pilot tests of the main flows, against the small simulator behind a frozen clock."""

from __future__ import annotations

import asyncio
import gc
import re
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.style import Style
from textual.geometry import Region

from hypertui.api.client import HyperTrackerClient
from hypertui.api.errors import NetworkError
from hypertui.api.models import ordered_by_range
from hypertui.api.prefetch import Prefetch
from hypertui.monitor.first_requests import FirstScreen
from hypertui.monitor.plan import (
    BOTH_AXES_COLUMNS,
    IF_UPDATED,
    NO_STATUS_INTERVAL,
    PANELS,
    THREE_COLUMNS,
    TIMED,
    WIDE_COLUMNS,
    panels_shown_at,
)
from hypertui.monitor.rows import RISK_COLUMNS
from hypertui.source import SIM_BASE_URL, SIMULATOR_LABEL, SIMULATOR_TOKEN, simulator_client
from hypertui.testing import FaultyClient
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.commands import DashboardCommands
from hypertui.ui.screens.dashboard import DashboardScreen
from hypertui.ui.screens.help import HelpScreen
from hypertui.ui.screenshots import settled as settle
from hypertui.ui.widgets.cohort_list import CohortList
from hypertui.ui.widgets.cohort_summary import CohortSummary
from hypertui.ui.widgets.footer import Footer
from hypertui.ui.widgets.heatmap import HeatmapTable
from hypertui.ui.widgets.risk_table import RiskTable
from hypertui.ui.widgets.status_bar import StatusBar


def _status(app) -> str:
    return app.dashboard.query_one(StatusBar)._last.plain


async def test_first_refresh_fills_every_panel(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        size_axis = ordered_by_range(app.state.cohorts, "size")
        assert app.state.view.cohort_id == size_axis[0].id  # Shrimp (id 16) first: by range, not id
        assert app.state.summary.segment.id == size_axis[0].id
        heat = app.dashboard.query_one(HeatmapTable)
        assert heat.row_count == len(app.state.heatmap.heatmap)
        assert [c.key.value for c in heat.columns.values()][2:] == [str(s.id) for s in size_axis]
        assert app.dashboard.query_one(RiskTable).row_count == len(app.state.risk_items) > 0
        assert "SIMULATOR" in _status(app) and "updated" in _status(app)
        assert app.refresh_loop.last_error is None


async def test_the_heatmap_is_asked_for_while_the_legend_is_on_its_way(make_app):
    app = make_app()
    legend, arrived = app.client.segments, asyncio.Event()

    async def slow_legend():
        await arrived.wait()
        return await legend()

    app.client.segments = slow_legend  # the instance attribute wins over FaultyClient's recording
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert [name for name, *_ in app.client.calls] == ["heatmap"]  # needs no cohort: not held back
        arrived.set()
        await settle(pilot)
        assert [name for name, *_ in app.client.calls].count("heatmap") == 1  # used, not asked again
        assert app.dashboard.query_one(HeatmapTable).row_count == len(app.state.heatmap.heatmap) > 0


async def test_selecting_a_cohort_changes_summary_and_risk(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        first_risk = [i.coin for i in app.state.risk_items]
        await pilot.press("j")  # down the cohort list: the next size cohort
        await settle(pilot)
        second = ordered_by_range(app.state.cohorts, "size")[1]
        assert app.state.view.cohort_id == second.id
        assert app.state.summary.segment.id == second.id
        assert app.state.risk_for == second.id
        assert [i.coin for i in app.state.risk_items] != first_risk or app.state.risk_total
        summary = app.dashboard.query_one(CohortSummary)
        assert second.name in str(summary.border_title)
        # Only the selected cohort's summary and risk were asked for: no heatmap.
        kinds = [name for name, *_ in app.client.calls[-3:]]
        assert "heatmap" not in kinds


async def test_sort_and_cursor_survive_a_refresh(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        risk = app.dashboard.query_one(RiskTable)
        risk.focus()
        await pilot.press("s")  # sort by coin, ascending
        await pilot.pause()
        assert app.state.risk_sort == ("coin", False)
        assert risk.row_keys == sorted(risk.row_keys, key=str.casefold)
        await pilot.press("S")  # reverse
        await settle(pilot)
        assert risk.row_keys == sorted(risk.row_keys, key=str.casefold, reverse=True)
        assert risk.cursor_row == 0  # a new order shows its top
        assert risk.row_count == app.state.risk_total  # every coin the cohort holds is in the sort
        await pilot.press("j", "j")
        key = risk.cursor_key
        await pilot.press("r")
        await settle(pilot)
        assert app.state.risk_sort == ("coin", True)
        assert risk.cursor_key == key  # a refresh keeps the cursor on its row


async def test_s_sorts_the_risk_table_from_any_panel(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        app.dashboard.query_one(CohortList).focus()
        await pilot.press("s")
        await settle(pilot)
        assert app.state.risk_sort == ("coin", False)
        assert app.state.view.cohort_id == ordered_by_range(app.state.cohorts, "size")[0].id  # nothing else moved


async def test_filter_coins_by_name(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        heat = app.dashboard.query_one(HeatmapTable)
        await pilot.press("slash", "b", "t", "c")
        await pilot.pause()
        assert heat.row_keys == ["BTC"]
        await pilot.press("enter")
        await pilot.press("r")
        await settle(pilot)
        assert heat.row_keys == ["BTC"]  # the filter survives a refresh
        assert app.focused is heat
        await pilot.press("slash", "escape")
        await pilot.pause()
        assert heat.row_count == len(app.state.heatmap.heatmap)


async def test_esc_on_the_heatmap_clears_the_coin_filter_after_enter_and_after_a_drill_down(make_app):
    """Only the box's own esc cleared it: once enter (or a drill-down) took the focus to the
    heatmap, esc left the filter applied."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        heat = app.dashboard.query_one(HeatmapTable)
        box = app.dashboard.query_one("#coin-filter")
        await pilot.press("slash", "q", "q", "q", "enter")
        await pilot.pause()
        assert app.focused is heat and heat.row_count == 0 and box.display
        await pilot.press("escape")
        await pilot.pause()
        assert heat.row_count == len(app.state.heatmap.heatmap) and not box.display and not app.state.coin_filter
        await pilot.press("slash", "b", "t", "c", "enter", "enter")  # BTC's positions in the cursor's cohort
        await settle(pilot)
        assert app.screen is not app.dashboard
        await pilot.press("escape")  # back to the dashboard, the filter still on
        await settle(pilot)
        assert app.screen is app.dashboard and heat.row_keys == ["BTC"]
        await pilot.press("escape")
        await pilot.pause()
        assert heat.row_count == len(app.state.heatmap.heatmap) and not box.display


async def test_markup_in_server_strings_is_shown_literally(make_app):
    from hypertui.api.models import Heatmap

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        row = app.state.heatmap.heatmap[0].model_copy(update={"coin": "[/]"})
        row2 = app.state.heatmap.heatmap[1].model_copy(update={"coin": "[link=http://x]X"})
        app.state.heatmap = Heatmap(heatmap=[row, row2, *app.state.heatmap.heatmap[2:]])
        app.dashboard._draw_heatmap()
        await pilot.pause()
        heat = app.dashboard.query_one(HeatmapTable)
        assert heat.cell_text("[/]", "coin").plain.strip() == "[/]"
        assert heat.cell_text("[link=http://x]X", "coin").plain.strip() == "[link=http://x]X"


async def test_pause_freezes_tables_but_status_ticks(make_app, clock):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await pilot.pause()
        assert app.refresh_loop.paused and app.refresh_loop.timer is None
        assert "PAUSED" in _status(app)
        calls = len(app.client.calls)
        clock.advance(62)
        app.dashboard._tick()
        assert "(1m ago)" in _status(app)
        assert len(app.client.calls) == calls  # nothing fetched while paused
        await pilot.press("p")
        await settle(pilot)
        assert not app.refresh_loop.paused and "PAUSED" not in _status(app)
        assert len(app.client.calls) > calls


async def test_failed_refresh_keeps_data_marked_stale(make_app, clock):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        rows = app.dashboard.query_one(HeatmapTable).row_count
        app.client.error = NetworkError("/positions/heatmap", "cannot connect: refused")
        clock.advance(75)
        await pilot.press("r")
        await settle(pilot)
        status = _status(app)
        assert "STALE 1m " in status and "cannot connect: refused" in status
        assert app.dashboard.query_one(HeatmapTable).row_count == rows  # last good data stays
        assert app.dashboard.query_one("#heatmap-panel").has_class("-stale")
        app.client.error = None
        await pilot.press("r")
        await settle(pilot)
        assert "STALE" not in _status(app)


async def test_narrow_layout_uses_tabs_and_fetches_on_show(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        screen = app.dashboard
        assert screen.narrow and screen.query_one("#pages").display
        assert screen.visible_panels() == {"cohorts", "summary"}
        await pilot.press("tab", "tab")  # segments → summary → heatmap page
        await settle(pilot)
        assert screen.page == "heatmap" and app.focused is screen.query_one(HeatmapTable)
        await pilot.press("tab")
        await settle(pilot)
        assert screen.page == "risk"
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        assert not screen.narrow and screen.visible_panels() == {"cohorts", "summary", "heatmap", "risk"}


async def test_from_120_columns_every_panel_is_on_screen_the_heatmap_whole_beside_the_cohorts(make_app):
    """Under tabs, a 130-column terminal left a quarter of the width empty; three columns would
    cut a quarter of the heatmap's cohorts. The risk table goes under the heatmap instead."""
    app = make_app()
    async with app.run_test(size=(130, 35)) as pilot:
        await settle(pilot)
        screen = app.dashboard
        assert not screen.narrow and not screen.query_one("#pages").display
        assert screen.visible_panels() == {"cohorts", "summary", "heatmap", "risk"}
        assert {"summary", "heatmap", "liquidation_risk"} <= {name for name, *_ in app.client.calls}
        left, heat, risk = (screen.query_one(f"#{i}").region for i in ("left", "heatmap-panel", "risk-panel"))
        assert left.x == 0 and left.height == heat.height + risk.height  # the cohorts down the whole left
        assert heat.x == left.right and heat.right == 130
        assert (risk.x, risk.width, risk.y) == (heat.x, heat.width, heat.bottom)  # the risk table under the heatmap
        table = screen.query_one(HeatmapTable)
        assert len(table.columns) == 2 + 8 and table.max_scroll_x == 0  # every cohort of the axis in view
        assert table.row_count > 0 and screen.query_one(RiskTable).row_count > 0


async def test_at_120x35_the_top_assets_show_a_few_rows_and_at_160x45_the_list_keeps_its_height(make_app):
    """At 120x35 the list's 20 rows left the summary its figures alone: the top assets had no
    row on screen, yet tab focused them and enter opened a row never seen. The list scrolls instead."""
    app = make_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        table = app.dashboard.query_one("#top-assets")
        assert table.row_count >= 3 and table.content_region.height >= 1 + 3  # its header and 3 rows
        await pilot.resize_terminal(160, 45)
        await pilot.pause()
        assert app.dashboard.query_one("#cohorts").region.height == 20  # room for both: as before


async def test_a_terminal_widened_out_of_the_tabs_fetches_the_panels_it_now_shows(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "liquidation_risk" not in {name for name, *_ in app.client.calls}
        await pilot.resize_terminal(130, 35)
        await settle(pilot)
        assert {"heatmap", "liquidation_risk"} <= {name for name, *_ in app.client.calls}
        assert app.dashboard.query_one(HeatmapTable).row_count > 0 and app.dashboard.query_one(RiskTable).row_count > 0


async def test_from_200_columns_the_heatmap_shows_both_axes_and_x_swaps_them(make_app):
    app = make_app()
    async with app.run_test(size=(BOTH_AXES_COLUMNS, 50)) as pilot:
        await settle(pilot)
        table = app.dashboard.query_one(HeatmapTable)
        panel = app.dashboard.query_one("#heatmap-panel")
        size, pnl = ([str(s.id) for s in ordered_by_range(app.state.cohorts, axis)] for axis in ("size", "pnl"))

        def cohorts() -> list[str]:
            return [c.key.value for c in table.columns.values()][2:]

        assert cohorts() == size + pnl and table.max_scroll_x == 0  # all 16 in view
        assert str(panel.border_subtitle).startswith("size | pnl (x swaps) · ")
        await pilot.press("x")
        await pilot.pause()
        assert cohorts() == pnl + size and str(panel.border_subtitle).startswith("pnl | size (x swaps) · ")
        await pilot.resize_terminal(BOTH_AXES_COLUMNS - 1, 50)
        await pilot.pause()
        assert cohorts() == pnl and str(panel.border_subtitle).startswith("pnl (x) · ")


async def test_value_mode_keeps_each_cells_glyph_and_a_gap_in_narrow_cells(make_app):
    """At 160 columns the cohort columns are 7 wide: '$1.23M' and its glyph filled a cell, and the
    glyph was dropped. The value gives up a digit instead."""
    from hypertui.monitor.heat import GLYPHS

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await pilot.pause()
        table = app.dashboard.query_one(HeatmapTable)
        width = list(table.columns.values())[2].width
        cells = [table.get_cell_at((row, column)).plain for row in range(table.row_count) for column in range(2, 10)]
        shown = [c.strip() for c in cells if c.strip()]
        assert width == 7 and any(len(c) == 6 and c[1] == "$" for c in shown)  # "░$1.2M": long values were met
        assert all(c[0] in GLYPHS[1:] for c in shown) and all(len(c) < width for c in shown)


async def test_narrow_start_fetches_only_what_is_shown(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # The cohort list's figures are the heatmap's: fetched once, though its page is not shown.
        assert sorted(name for name, *_ in app.client.calls) == ["heatmap", "segments", "summary"]
        await pilot.press("tab", "tab")  # the Heatmap page: drawn from what is held
        await settle(pilot)
        assert [name for name, *_ in app.client.calls].count("heatmap") == 1
        assert app.dashboard.query_one(HeatmapTable).row_count > 0
        await pilot.press("tab")  # the Risk page: asked for now
        await settle(pilot)
        assert "liquidation_risk" in [name for name, *_ in app.client.calls]


async def test_heatmap_keys_axis_mode_palette_window(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        heat = app.dashboard.query_one(HeatmapTable)
        await pilot.press("x")
        await pilot.pause()
        pnl = ordered_by_range(app.state.cohorts, "pnl")
        assert [c.key.value for c in heat.columns.values()][2:] == [str(s.id) for s in pnl]
        before = heat.get_cell_at((0, 2)).plain
        await pilot.press("v")
        await pilot.pause()
        assert app.state.heat_mode == "value" and heat.get_cell_at((0, 2)).plain != before
        await pilot.press("c")
        await pilot.pause()
        assert app.state.palette_index == 1
        await pilot.press("w")
        await settle(pilot)
        assert app.state.view.opened_within == "24h" and app.state.heatmap_for == "24h"
        assert ("heatmap", ("24h",), {}) in app.client.calls


async def test_s_on_the_heatmap_sorts_by_the_cursor_cohort_and_a_refresh_keeps_it(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "tab")  # cohorts → summary → heatmap
        heat = app.dashboard.query_one(HeatmapTable)
        by_value = [r.coin for r in sorted(app.state.heatmap.heatmap, key=lambda r: r.total_value, reverse=True)]
        await pilot.press("l", "l", "l", "j", "j")  # the second cohort's column, third row
        await pilot.pause()
        sid = heat.cursor_cohort

        def shares() -> list[float]:
            return [c.bias for coin in heat.row_keys if (c := app.state.heatmap.heatmap[_index(app, coin)].cell(sid))]

        await pilot.press("s")
        await pilot.pause()
        assert app.state.heat_sort is not None and heat.cursor_row == 0 and heat.cursor_cohort == sid
        assert shares() == sorted(shares(), reverse=True) and len(set(shares())) > 1
        assert list(heat.row_keys) != by_value and sorted(heat.row_keys) == sorted(by_value)
        assert heat.columns[heat.ordered_columns[heat.cursor_column].key].label.plain.endswith("▾")
        risk_order = [i.coin for i in app.state.risk_items]
        await pilot.press("S")  # ascending
        await pilot.pause()
        assert shares() == sorted(shares())
        assert "▴" in heat.columns[heat.ordered_columns[heat.cursor_column].key].label.plain
        assert [i.coin for i in app.state.risk_items] == risk_order  # the risk table was not sorted
        await pilot.press("r")
        await settle(pilot)
        assert shares() == sorted(shares())  # kept across a refresh
        await pilot.press("v")  # value mode: by the cohort's value
        await pilot.pause()
        values = [c.total_value for coin in heat.row_keys if (c := app.state.heatmap.heatmap[_index(app, coin)].cell(sid))]
        assert values == sorted(values)
        await pilot.press("S")  # the same key again: back to the order by value
        await pilot.pause()
        assert app.state.heat_sort is None and list(heat.row_keys) == by_value
        assert not any(m in str(c.label) for c in heat.columns.values() for m in "▴▾")


async def test_the_heatmap_title_tells_the_cursor_cell_with_its_long_and_short_counts(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "tab")  # cohorts → summary → heatmap
        panel = app.dashboard.query_one("#heatmap-panel")
        heat = app.dashboard.query_one(HeatmapTable)
        top = max(app.state.heatmap.heatmap, key=lambda r: r.total_value)
        assert str(panel.border_title).startswith(
            f"Heatmap · {top.coin}: {top.count:,} positions ({top.count_long:,} long / {top.count_short:,} short)"
        )
        await pilot.press("l", "l", "j")  # the first cohort on the second coin
        await pilot.pause()
        row = app.state.heatmap.heatmap[_index(app, heat.row_keys[1])]
        cell = row.cell(heat.cursor_cohort)
        assert cell is not None and cell.count_long is not None
        assert f"{cell.count:,} position" in str(panel.border_title)
        assert f"({cell.count_long:,} long / {cell.count_short:,} short)" in str(panel.border_title)


@pytest.mark.parametrize(("wide", "narrow"), [(160, 120), (120, 80), (220, 160)])
async def test_a_resize_keeps_the_heatmap_cursor_on_its_cohort(make_app, wide, narrow):
    """New column widths rebuilt the columns, and the cursor went back to the coin column: enter
    then opened the coin in all cohorts instead of the cell the user was on."""
    app = make_app()
    async with app.run_test(size=(wide, 45)) as pilot:
        await settle(pilot)
        app.dashboard.focus_heatmap()
        await pilot.press("l", "l", "l", "j")  # Fish (the second cohort) on the second coin
        await pilot.pause()
        heat = app.dashboard.query_one(HeatmapTable)
        cohort, coin = heat.cursor_cohort, heat.row_keys[1]
        assert cohort is not None
        for width in (narrow, wide):
            await pilot.resize_terminal(width, 45)
            await settle(pilot)
            if not app.dashboard.narrow or app.dashboard.page == "heatmap":
                assert (heat.cursor_cohort, heat.cursor_key) == (cohort, coin)
        assert app.dashboard.heatmap_selection() == (coin, cohort)


@pytest.mark.parametrize("size", [(120, 35), (160, 45), (220, 50)])
async def test_the_heatmap_title_shows_the_fullest_form_of_the_cell_that_fits_never_a_cut_figure(make_app, size):
    """At 160 columns the title ended `· $65.…` (Textual's ellipsis): whole parts are dropped instead."""
    from hypertui.monitor.heat import cell_detail

    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.dashboard.focus_heatmap()
        panel = app.dashboard.query_one("#heatmap-panel")
        heat = app.dashboard.query_one(HeatmapTable)
        dropped = 0
        for _ in range(len(heat.columns)):
            await pilot.pause()
            line = panel.render_lines(Region(0, 0, panel.outer_size.width, 1))[0].text
            cohort = next((c for c in app.state.cohorts if c.id == heat.cursor_cohort), None)
            forms = cell_detail(app.state.heatmap.heatmap[_index(app, heat.row_keys[0])], cohort)
            shown = str(panel.border_title).removeprefix("Heatmap · ")
            assert "…" not in line and f"─ Heatmap · {shown} ─" in line and shown in forms
            if shown != forms[0]:  # the form one part longer would not have fitted the border's dashes
                dashes = len(line) - len(line.rstrip("╮").rstrip("─")) - 1
                longer = forms[forms.index(shown) - 1]
                assert cell_len(longer) - cell_len(shown) > dashes - 1
                dropped += 1
            await pilot.press("l")
        assert dropped or size == (220, 50)  # the narrower panels had to drop a part


async def test_a_heatmap_cursor_move_retitles_the_panel_at_once_repainting_its_title_line_alone(make_app):
    """The title is the cursor's frame's (not a message's, a frame later), and one line of the
    panel is repainted for it, not its 43."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "tab")  # cohorts → summary → heatmap
        await pilot.pause()  # its frame drawn: nothing left to repaint
        panel = app.dashboard.query_one("#heatmap-panel")
        heat = app.dashboard.query_one(HeatmapTable)
        heat.move_cursor(row=1)  # as the key does, with no await after it
        assert str(panel.border_title).startswith(f"Heatmap · {heat.row_keys[1]}: ")
        assert panel._repaint_regions == {Region(0, 0, panel.outer_size.width, 1)}  # Textual's own: every line


async def test_j_in_the_cohort_list_draws_the_held_summary_and_risk_in_the_cursors_own_frame(make_app):
    """The list calls the screen as its highlight moves (no message a frame later); the risk table
    it empties is sized and its scrollbar settled before that frame, so no layout follows it, and
    no other table's scrollbar is repainted: one frame, one key."""
    app = make_app(scale="default")  # more risk rows than the panel has lines
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        app.refresh_loop.selection_rest = 3600  # the new cohort's panels stay unfetched: its held ones only
        cohorts, risk = app.dashboard.query_one(CohortList), app.dashboard.query_one(RiskTable)
        cohorts.focus()
        await pilot.pause()
        assert risk.show_vertical_scrollbar  # the first cohort's rows overflow the panel
        figures = app.dashboard.query_one("#figures")
        lines = figures.size.height
        frames: list[object] = []
        display = app._display
        app._display = lambda screen, update: (frames.append(update), display(screen, update))  # type: ignore[method-assign]
        cohorts.action_cursor_down()  # as j does, with no await after it
        assert str(app.dashboard.query_one(CohortSummary).border_title) == app.state.cohort_title()
        assert risk.row_count == 0 and not risk.show_vertical_scrollbar  # not its rows: none until fetched
        for _ in range(3):
            await pilot.pause()
        assert len(frames) == 1
        assert app.state.shown_summary is None and figures.size.height == lines  # kept, blank: nothing below moved


async def test_a_summary_without_top_assets_says_so_under_the_list(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        note = app.dashboard.query_one("#top-assets-note")
        assert app.state.summary.top_open_perps and not note.display  # the simulator sends them
        app.state.summary = app.state.summary.model_copy(update={"top_open_perps": []})
        app.dashboard._draw_summary()
        await pilot.pause()
        assert note.display and str(note.content) == "no top assets in this answer: these are from the heatmap"
        assert app.dashboard.query_one("#top-assets").row_count > 0
        app.state.heatmap = None
        app.dashboard._draw_summary()
        await pilot.pause()
        assert note.display and str(note.content) == "no top assets in this answer"
        assert app.dashboard.query_one("#top-assets").row_count == 0


def _index(app, coin: str) -> int:
    return next(i for i, r in enumerate(app.state.heatmap.heatmap) if r.coin == coin)


async def test_position_age_and_interval_keys(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert app.state.view.position_age == "24h"
        assert ("summary", (app.state.view.cohort_id, "24h"), {}) in app.client.calls
        assert "24h" in str(app.dashboard.query_one(CohortSummary).border_subtitle)
        await pilot.press("minus")
        assert app.refresh_loop.interval == 10.0
        await pilot.press("plus", "plus")
        assert app.refresh_loop.interval == 30.0


async def test_refresh_interval_keys_stop_at_either_end(make_app):
    """`-` past 5 s jumped round to auto (the slowest), and `+` past auto to 5 s."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press(*["minus"] * 9)
        assert app.refresh_loop.interval == 5.0
        await pilot.press(*["plus"] * 12)
        assert app.refresh_loop.interval is None  # auto: the data's cadence
        await pilot.press("minus")
        assert app.refresh_loop.interval == 300.0


async def test_every_key_is_safe(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for key in ["enter", "tab", "enter", "tab", "enter", "tab", "enter", "h", "l", "k", "j", "shift+tab"]:
            await pilot.press(key)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await settle(pilot)
        assert app.refresh_loop.last_error is None


def test_bindings_have_ids_and_avoid_reserved_keys():
    from hypertui.ui.app import HyperTuiApp
    from hypertui.ui.screens.help import HelpScreen, LegendScreen
    from hypertui.ui.widgets.coin_filter import CoinFilter
    from hypertui.ui.widgets.synced_table import SyncedTable

    reserved = {"ctrl+a", "ctrl+s", "ctrl+q", "ctrl+h", "ctrl+j", "ctrl+k", "ctrl+l"}
    for owner in (HyperTuiApp, DashboardScreen, HelpScreen, LegendScreen, CohortList, SyncedTable, RiskTable, CoinFilter):
        for binding in owner.BINDINGS:
            assert binding.id, (owner.__name__, binding.key)
            assert not reserved & set(binding.key.split(",")), (owner.__name__, binding.key)
    app = HyperTuiApp.__new__(HyperTuiApp)
    assert not reserved & {k for b in app._merge_bindings().key_to_bindings for k in [b]}


async def test_command_palette_lists_and_runs_every_action(make_app):


    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        titles = {c.title for c in DashboardCommands(app.dashboard).commands()}
        for binding in [*app.BINDINGS, *DashboardScreen.BINDINGS]:
            if binding.description and binding.action != "quit":
                assert binding.description in titles
        await pilot.press("ctrl+p", *"pause", "enter")
        await pilot.pause()
        assert app.refresh_loop.paused
        await pilot.press("ctrl+p", *"reverse risk sort", "enter")
        await pilot.pause()
        assert app.state.risk_sort == ("percent_risk", False)
        leviathan = next(s for s in app.state.cohorts if s.name == "Leviathan")
        assert f"Cohort: Leviathan {leviathan.emoji}" in titles
        await pilot.press("ctrl+p", *"leviathan", "enter")
        await settle(pilot)
        assert app.state.view.cohort_id == leviathan.id and app.state.summary.segment.id == leviathan.id


async def test_risk_loads_the_next_page_past_the_first(make_app):
    app = make_app(scale="default")  # enough coins for more than one page
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        risk = app.dashboard.query_one(RiskTable)
        assert risk.row_count == 100 < app.state.risk_total
        risk.focus()
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert risk.row_count == min(200, app.state.risk_total)
        assert ("liquidation_risk", (app.state.view.cohort_id,), {"offset": 100, "limit": 100}) in app.client.calls
        assert "200 of" in str(app.dashboard.query_one("#risk-panel").border_subtitle)
        # A refresh re-reads all loaded rows in one request, keeping the cursor on its row.
        key = risk.cursor_key
        await pilot.press("r")
        await settle(pilot)
        assert ("liquidation_risk", (app.state.view.cohort_id,), {"offset": 0, "limit": 200}) in app.client.calls
        assert risk.row_count == min(200, app.state.risk_total) and risk.cursor_key == key


def _last_style(cell) -> str:
    """The style of a cell's last character (its change mark), as text."""
    return str(cell.get_style_at_offset(Console(), len(cell.plain) - 1))


async def test_changed_values_are_marked_after_a_refresh(make_app, clock):
    """▲▼ meant a lean, a change and a sort order, and a rise in value at liquidation risk was a
    green ▲. Now a change is ↑/↓ in its own column, coloured only where a rise is bad news."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        heat = app.dashboard.query_one(HeatmapTable)
        assert not any(c.style.underline for r in range(heat.row_count) for c in heat.get_row_at(r)[2:] if c.plain)
        clock.advance(3 * 15)  # three simulated state updates
        await pilot.press("r")
        await settle(pilot)
        cells = [c for r in range(heat.row_count) for c in heat.get_row_at(r)[2:] if c.plain]
        assert any(c.style.underline and c.style.bold for c in cells)  # changed cells stand out
        assert not all(c.style.underline for c in cells)
        risk = app.dashboard.query_one(RiskTable)
        rows = [risk.get_row_at(r) for r in range(risk.row_count)]
        danger = str(Style.parse(app.signals.danger).color.name)
        risen = {column: [c for c in (row[i] for row in rows) if c.plain.endswith("↑")] for i, column in enumerate(RISK_COLUMNS) if i}
        assert risen["total_value"] and risen["risk_value"]
        assert all(danger not in _last_style(c) for c in risen["total_value"])  # more value held: not a danger
        assert all(danger in _last_style(c) for c in risen["risk_value"] + risen["percent_risk"])  # more at risk: danger
        assert not any(mark in c.plain for row in rows for c in row for mark in "▲▼▴▾")
        headers = [str(column.label) for column in risk.columns.values()]
        assert headers[-1] == "% risk▾" and not any(mark in h for h in headers for mark in "▲▼↑↓")
        # The summary: lean and change side by side, and every number ends in one column.
        lines = app.dashboard.query_one("#figures").content.plain.splitlines()
        bias = next(line for line in lines if line.startswith("Perp bias"))
        assert re.fullmatch(r"Perp bias +[+-]\d\.\d\d [▲▼·] [↑↓ ]", bias), bias
        numbers = [line for line in lines if line.split()[0] in ("Traders", "Perp", "Positions")]
        values = [line[: -len(" ▲ ↓")] for line in numbers]  # before the lean and change columns
        assert len({len(v) for v in values}) == 1 and not any(v.endswith(" ") for v in values), numbers


async def test_live_default_follows_the_data_cadence(make_app):
    app = make_app(refresh=None)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert ("state_status", (), {}) in app.client.calls
        assert app.state.status is not None and app.state.status.next_update is not None
        due = (app.state.status.next_update - app.clock()).total_seconds()
        wait = (app.refresh_loop.next_at - app.clock()).total_seconds()
        assert wait == max(30.0, due + 10.0)
        assert "auto cadence" in _status(app)


async def test_command_palette_typing_does_not_filter_coins(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", "p", "a", "u")
        await pilot.pause()
        assert app.state.coin_filter == ""
        await pilot.press("escape")


async def test_no_data_yet_then_recovery(make_app):
    app = make_app()
    app.client.error = NetworkError("/segments", "cannot connect: refused")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert "waiting for data" in _status(app) and "cannot connect" in _status(app)
        assert "NO DATA" in _status(app) and "STALE" not in _status(app)
        figures = app.dashboard.query_one("#figures").render()
        assert "no data yet" in str(figures) and "cannot connect" in str(figures)  # the panel says why too
        for key in ["a", "w", "x", "v", "c", "s", "S", "j", "tab", "enter", "slash", "escape"]:
            await pilot.press(key)
        app.client.error = None
        await pilot.press("r")
        await settle(pilot)
        assert app.refresh_loop.last_error is None and app.state.summary is not None and app.state.heatmap is not None
        listed = app.dashboard.query_one(CohortList)._prompts.values()
        assert len(listed) == 16 and not any("…" in prompt.plain for prompt in listed)  # the list's figures came too


async def test_the_collector_turned_off_for_start_up_is_back_after_a_cycle_with_or_without_data(make_app):
    app = make_app()
    app.client.error = NetworkError("/segments", "cannot connect: refused")
    gc.disable()  # as the command line does before the app starts
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await settle(pilot)
            await pilot.pause()
            assert gc.isenabled()  # an offline start must not run without a collector
            app.client.error = None
            await pilot.press("r")
            await settle(pilot)
            await pilot.pause()
            assert gc.isenabled()
            # What the first data built is frozen: later collections do not walk it again.
            assert app.state.heatmap is not None and not any(o is app.state.heatmap for o in gc.get_objects())
    finally:
        gc.enable()


async def test_the_collector_comes_back_while_the_first_answer_is_still_awaited(make_app, monkeypatch):
    from hypertui.ui import refresh_loop

    monkeypatch.setattr(refresh_loop, "COLLECTOR_BACK", 0.01)
    app = make_app()
    never = asyncio.Event()

    async def no_answer() -> None:  # a server that accepts and never answers (timeouts: ~85 s)
        await never.wait()

    app.client.segments = no_answer
    gc.disable()  # as the command line does before the app starts
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(100):  # the timer's few ticks
                if gc.isenabled():
                    break
                await pilot.pause(0.01)
            assert gc.isenabled() and app.state.cohorts is None
    finally:
        gc.enable()


async def test_the_footer_repaints_only_when_its_keys_change(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        footer = app.dashboard.query_one(Footer)
        rendered = []
        render = footer.render

        def counted():
            rendered.append(footer.screen.focused)
            return render()

        footer.render = counted
        for _ in range(3):  # every panel shows the same keys: focus moves, the keys stay
            await pilot.press("tab")
            await pilot.pause()
        assert rendered == []
        app.set_keymap({"app.refresh": "f5"})
        app.dashboard.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert len(rendered) == 1
        assert " f5 Refresh " in str(footer.render())


async def test_the_dashboards_footer_under_help_is_not_repainted_opening_it_nor_going_back(make_app):
    """Help is see-through: the dashboard's footer stays on screen under it. Its keys changed as
    the focus left for the modal and came back, a one-line frame ~35 ms after each of the two."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        footer = app.dashboard.query_one(Footer)
        before = str(footer.render())
        rendered = []
        render = footer.render

        def counted():
            rendered.append(app.screen)
            return render()

        footer.render = counted
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.pause()
        assert app.screen is app.dashboard
        assert rendered == []
        assert str(render()) == before


@pytest.mark.parametrize("size", [(160, 45), (80, 24)])
async def test_a_click_on_a_footer_key_runs_it_and_the_palettes_is_at_the_right_end(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        footer = app.dashboard.query_one(Footer)
        line = str(footer.render())
        assert line.rstrip().endswith("▏^p palette") and len(line) == size[0]
        await pilot.click(Footer, offset=(line.index("Help"), 0))
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


@pytest.mark.parametrize("size", [(160, 45), (80, 24)])
async def test_tab_keys_that_arrive_together_each_move_one_panel(make_app, size):
    from textual import events

    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for keys, panel, page in ((["tab"] * 3, "risk", "risk"), (["shift+tab"] * 2, "top-assets", "cohorts"), (["tab"], "heatmap", "heatmap")):
            for key in keys:  # queued at once, as a held key or a fast typist sends them
                app.post_message(events.Key(key, "\t" if key == "tab" else None))
            await settle(pilot)
            assert (app.focused.id, app.dashboard.page) == (panel, page), keys


async def test_a_tab_clicked_on_a_narrow_terminal_shows_its_page_and_focuses_it(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for page in ("heatmap", "risk"):
            await pilot.click(f"#tab-{page}")
            await settle(pilot)
            assert (app.dashboard.page, app.focused.id) == (page, page)


async def test_narrow_status_keeps_the_reason_of_a_failure(make_app):
    from hypertui.api.errors import AuthError

    app = make_app()
    app.client.error = AuthError("/segments/16/summary", "token rejected (401): check the API token")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        status = _status(app)
        assert "✗ token rejected (401): check the API token" in status  # the path gave way, not the reason
        assert "/segments" not in status


async def test_header_click_sorts_the_risk_table(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.click(RiskTable, offset=(14, 0))  # the "Value" header
        await pilot.pause()
        assert app.state.risk_sort == ("total_value", True)
        risk = app.dashboard.query_one(RiskTable)
        values = {i.coin: i.total_value for i in app.state.risk_items}
        assert [values[k] for k in risk.row_keys] == sorted(values.values(), reverse=True)


async def test_rate_limit_waits_as_told(make_app, clock):
    from hypertui.api.errors import RateLimitError

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        app.client.error = RateLimitError("/positions/heatmap", daily=False, retry_after=42.0)
        await pilot.press("r")
        await settle(pilot)
        assert (app.refresh_loop.next_at - clock()).total_seconds() == 42.0  # not the 15 s interval
        assert "rate limited, retry in 42s" in _status(app)


async def test_daily_quota_stops_polling_until_utc_midnight(make_app, clock):
    from hypertui.api.errors import RateLimitError

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        app.client.error = RateLimitError("/positions/heatmap", daily=True, retry_after=None, limit=100, plan="FREE")
        await pilot.press("r")
        await settle(pilot)
        assert app.refresh_loop.next_at == clock().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        assert "daily request quota used up" in _status(app)


async def test_a_failure_of_the_cohort_left_while_loading_clears_with_the_next_selection(make_app):
    """The summary of the selected cohort fails after the user moved on: the status must not stay
    STALE until that cohort's background refresh (15 min later)."""
    import asyncio

    from hypertui.api.errors import ServerError

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        first = app.state.view.cohort_id
        gate = asyncio.Event()
        original = app.client.summary

        async def slow_failure(segment_id, position_age="all"):
            if segment_id == first:
                await gate.wait()
                raise ServerError(f"/segments/{segment_id}/summary", 500)
            return await original(segment_id, position_age)

        app.client.summary = slow_failure
        await pilot.press("r")
        await pilot.pause()
        app.dashboard.query_one(CohortList).focus()
        await pilot.press("j")  # another cohort while the first one's summary is out
        await pilot.pause()
        gate.set()
        await settle(pilot)
        assert app.state.view.cohort_id != first
        assert app.refresh_loop.last_error is None and "STALE" not in _status(app)


def test_no_color_keeps_dark_text_readable():
    """Textual's monochrome turns red text dark grey on a dark panel; ours lifts it to full contrast."""
    from rich.segment import Segment
    from rich.style import Style
    from textual.color import Color

    from hypertui.ui.no_color import ReadableMonochrome

    panel = Color.parse("#1e1e1e")
    (red,) = ReadableMonochrome().apply([Segment("‼63%", Style(color="#d03030"))], panel)
    (grey,) = ReadableMonochrome().apply([Segment("ok", Style(color="#c0c0c0"))], panel)
    assert Color.from_rich_color(red.style.color).brightness > 0.9 and red.style.bold
    assert Color.from_rich_color(grey.style.color).brightness > 0.7 and not grey.style.bold
    assert Color.from_rich_color(red.style.color).monochrome == Color.from_rich_color(red.style.color)


async def test_an_unchanged_refresh_repaints_nothing_and_keeps_the_marks(make_app, clock):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        clock.advance(3 * 15)
        await pilot.press("r")
        await settle(pilot)
        heat = app.dashboard.query_one(HeatmapTable)
        marked = [c.plain for r in range(heat.row_count) for c in heat.get_row_at(r)[2:] if c.plain and c.style.underline]
        assert marked
        version, heatmap = heat._update_count, app.state.heatmap
        await pilot.press("r")  # the market has not moved: the same answers come back
        await settle(pilot)
        assert app.state.heatmap is heatmap and heat._update_count == version
        assert [c.plain for r in range(heat.row_count) for c in heat.get_row_at(r)[2:] if c.plain and c.style.underline] == marked


async def test_the_status_tick_after_the_dashboard_is_torn_down_is_harmless(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await app.dashboard.query_one(StatusBar).remove()  # as when the app closes between ticks
        app.dashboard._tick()
        await pilot.pause()
    assert app.return_code in (None, 0)


async def test_a_timed_refresh_skips_the_panels_until_the_data_is_updated(make_app, clock):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)

        async def timer_cycle() -> set[str]:
            app.client.calls.clear()
            app.refresh_loop.request_refresh(TIMED | {IF_UPDATED})  # what the refresh timer asks for
            await settle(pilot)
            return {name for name, _, _ in app.client.calls}

        assert {"state_status", "summary", "heatmap", "liquidation_risk"} <= await timer_cycle()  # which update they show: not known yet
        assert await timer_cycle() == {"state_status"}  # not updated since: one request, not five
        assert await timer_cycle() == {"state_status"}
        clock.advance(15)  # the market's next update
        assert {"state_status", "summary", "heatmap", "liquidation_risk"} <= await timer_cycle()
        app.client.calls.clear()
        await pilot.press("r")  # asked for: never skipped
        await settle(pilot)
        assert {"summary", "heatmap", "liquidation_risk"} <= {name for name, _, _ in app.client.calls}


@pytest.mark.parametrize("size", [(160, 45), (80, 24)])
async def test_the_first_frame_is_styled_as_a_full_restyle_would_style_it(make_app, size):
    def styles() -> dict[str, str]:
        return {f"{i} {node!r}": node.styles.css for i, node in enumerate(app.dashboard.walk_children(with_self=True))}

    app = make_app()
    async with app.run_test(size=size) as pilot:  # the first resume's restyle is skipped
        await pilot.pause()
        first = styles()
        app.dashboard.update_node_styles(animate=False)
        assert styles() == first


@pytest.mark.parametrize(
    "columns", [80, WIDE_COLUMNS - 1, WIDE_COLUMNS, THREE_COLUMNS - 1, THREE_COLUMNS, 160, BOTH_AXES_COLUMNS]
)
async def test_the_panels_foreseen_from_the_width_alone_are_those_the_dashboard_opens_with(make_app, columns):
    app = make_app()
    async with app.run_test(size=(columns, 40)):
        assert app.dashboard.visible_panels() & PANELS == panels_shown_at(columns)


async def test_answers_asked_for_before_the_app_started_are_taken_not_asked_again(clock):
    client = FaultyClient(simulator_client(seed=7, scale="small", clock=clock))
    first = Prefetch(client, FirstScreen(PANELS))  # type: ignore[arg-type]  # as hypertui.launch sends them
    app = HyperTuiApp(client, SIMULATOR_LABEL, clock=clock, prefetch=first)  # type: ignore[arg-type]
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        shown = app.state.view.cohort_id
        asked = [(name, args) for name, args, _ in client.calls]
        for call in (("segments", ()), ("heatmap", ("all",)), ("summary", (shown, "all"))):
            assert asked.count(call) == 1, call
        assert [name for name, _ in asked].count("liquidation_risk") == 1
        assert app.state.summary.segment.id == shown and app.state.heatmap is not None and app.state.risk_items


class HeldSummaries(FaultyClient):
    """Summaries answered only once `release` is set: the first cycle stays under way meanwhile."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.release = asyncio.Event()

    async def summary(self, *args, **kwargs):
        self.calls.append(("summary", args, kwargs))
        await self.release.wait()
        return await self._inner.summary(*args, **kwargs)


async def test_a_page_change_while_the_first_answers_are_on_their_way_asks_for_nothing_they_bring(clock):
    # A layout or page change handled after the legend but before the panels' answers found them
    # stale and asked again once the cycle was done (seen as a flaky start-up test).
    client = HeldSummaries(simulator_client(seed=7, scale="small", clock=clock))
    app = HyperTuiApp(client, SIMULATOR_LABEL, clock=clock)  # type: ignore[arg-type]  # a FaultyClient stands in
    async with app.run_test(size=(160, 45)) as pilot:
        while app.state.view is None:  # the legend is in; the summary is held
            await pilot.pause(0.01)
        app.dashboard.post_message(DashboardScreen.PageChanged())
        await pilot.pause(0.05)
        client.release.set()
        await settle(pilot)
        shown = app.state.view.cohort_id
        assert [(name, args) for name, args, _ in client.calls].count(("summary", (shown, "all"))) == 1
        assert app.state.summary is not None


def _cell_styles(table: HeatmapTable, y: int, x0: int, x1: int) -> list:
    """The styles of the segments of line `y` that fall within columns [x0, x1)."""
    styles, x = [], 0
    for segment in table.render_line(y):
        if segment.text and x < x1 and x + segment.cell_length > x0:
            styles.append(segment.style)
        x += segment.cell_length
    return styles


async def test_the_heatmap_cursor_is_reverse_video_and_unlike_a_change_mark(make_app):
    """The data cells bring their own colours, which win over the cursor's: in 256 colours only
    its foreground moved, under NO_COLOR nothing. Reverse video shows in every theme and without
    colour; a change mark is bold + underline, never reverse."""
    from hypertui.ui.widgets.heatmap import COIN_WIDTH, TOTAL_WIDTH

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "tab")  # cohorts → summary → heatmap
        heat = app.dashboard.query_one(HeatmapTable)
        assert app.focused is heat
        await pilot.press("l", "l", "j")  # a data cell: third column, second row
        await pilot.pause()
        assert tuple(heat.cursor_coordinate) == (1, 2)
        x0 = COIN_WIDTH + TOTAL_WIDTH
        x1 = x0 + heat._cell_width(len(app.state.cohorts) // 2)
        on_cursor = _cell_styles(heat, 2 + 1, x0, x1)  # two header lines, then rows 0, 1
        beside = _cell_styles(heat, 2 + 0, x0, x1) + _cell_styles(heat, 2 + 1, x1, x1 + 4)
        assert on_cursor and all(style.reverse for style in on_cursor)
        assert beside and not any(style.reverse for style in beside)


async def test_home_and_end_go_to_the_first_and_last_row_of_a_dashboard_table(make_app):
    """Help lists home/end for every panel; DataTable's own go to the first/last column, which
    moves nothing in the risk table (a row cursor) and only sideways in the heatmap."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        for table in (app.dashboard.query_one(RiskTable), app.dashboard.query_one(HeatmapTable)):
            app.set_focus(table)
            await pilot.press("end")
            await pilot.pause()
            assert table.cursor_row == table.row_count - 1 > 0
            await pilot.press("home")
            await pilot.pause()
            assert table.cursor_row == 0


async def test_a_server_without_state_status_gets_timed_refreshes_and_says_so(docs_only_client, clock):
    """`state/status` answering 404 left "NO DATA · waiting" on screen for good, every panel full."""
    app = HyperTuiApp(FaultyClient(docs_only_client()), SIMULATOR_LABEL, refresh=None, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert app.refresh_loop.last_error is None and app.state.heatmap is not None
        assert "NO DATA" not in _status(app) and "updated 12:00:00" in _status(app)
        assert "every 5m" in _status(app) and "no state/status: timed refresh" in _status(app)
        assert (app.refresh_loop.next_at - clock()).total_seconds() == NO_STATUS_INTERVAL
        app.client.calls.clear()
        app.refresh_loop.request_refresh(TIMED | {IF_UPDATED})  # what the refresh timer asks for
        await settle(pilot)
        asked = [name for name, _, _ in app.client.calls]
        assert "state_status" not in asked and {"summary", "heatmap", "liquidation_risk"} <= set(asked)
        assert app.refresh_loop.last_error is None


async def test_an_opened_within_the_server_ignores_is_said_on_the_heatmap(docs_only_client, clock):
    app = HyperTuiApp(FaultyClient(docs_only_client()), SIMULATOR_LABEL, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        panel = app.dashboard.query_one("#heatmap-panel")
        await pilot.press("w")  # opened within 24h
        await settle(pilot)
        assert app.state.heatmap.unfiltered and "opened 24h unavailable here, all shown (w)" in str(panel.border_subtitle)
        await pilot.press("w", "w", "w")  # back to all: nothing to say
        await settle(pilot)
        assert "opened all (w)" in str(panel.border_subtitle)


async def test_a_legend_with_an_unknown_category_starts_without_that_cohort_and_says_so(clock):
    """An unknown `category` rejected the whole legend: the dashboard never started."""
    from hypertui.sim import Market, create_app

    market = Market(seed=7, scale="small", clock=clock)
    legend = market.segments()
    legend[0]["category"] = "age"
    market.segments = lambda: legend  # the simulator's answer, with its first cohort spoiled
    client = HyperTrackerClient(SIM_BASE_URL, SIMULATOR_TOKEN, transport=httpx.ASGITransport(app=create_app(market)))
    app = HyperTuiApp(client, SIMULATOR_LABEL, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert len(app.state.cohorts) == 15 and app.state.heatmap is not None and app.refresh_loop.last_error is None
        assert "1 bad row dropped" in _status(app)


async def test_a_slow_answer_does_not_hold_the_panels_whose_answers_are_in(make_app):
    """A cycle drew nothing until its slowest request was answered (up to the client's deadline):
    every panel waited for one slow body."""
    app = make_app()
    heatmap, release = app.client.heatmap, asyncio.Event()

    async def slow_heatmap(*args, **kwargs):
        await release.wait()
        return await heatmap(*args, **kwargs)

    app.client.heatmap = slow_heatmap
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(100):  # a bounded number of turns of the loop, no clock
            await pilot.pause()
            if app.state.summary is not None and app.state.risk_items:
                break
        assert app.refresh_loop.refreshing and app.state.heatmap is None  # the cycle still waits for the heatmap
        assert app.dashboard.query_one(RiskTable).row_count == len(app.state.risk_items) > 0
        assert app.state.summary.segment.name in str(app.dashboard.query_one(CohortSummary).border_title)
        release.set()
        await settle(pilot)
        assert app.dashboard.query_one(HeatmapTable).row_count == len(app.state.heatmap.heatmap) > 0
        assert app.refresh_loop.last_error is None


def _screen_text(app) -> str:
    return "\n".join("".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips())


@asynccontextmanager
async def _opened(make_app, key: str, size: tuple[int, int]):
    """The dashboard at `size`, settled, with `key` pressed: (app, pilot)."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await pilot.pause()
        yield app, pilot


def _title(app, panel_id: str) -> list[tuple[str, bool]]:
    """A panel's border title as drawn on screen: (text, in reverse video) per segment."""
    region = app.dashboard.query_one(f"#{panel_id}").region
    drawn, x = [], 0
    for segment in app.screen._compositor.render_strips()[region.y]:
        if region.x <= x < region.right and segment.text.strip("─╭╮ "):
            drawn.append((segment.text.strip(), bool(segment.style and segment.style.reverse)))
        x += segment.cell_length
    return drawn


@pytest.mark.parametrize("size", [(160, 45), (80, 24)])
async def test_the_focused_panel_title_is_in_reverse_video_and_tab_goes_left_to_right(make_app, size):
    """Focus showed only as a border colour: nothing under NO_COLOR, little to a colour-blind eye."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for i, panel in enumerate(("cohorts", "summary", "heatmap-panel", "risk-panel")):
            if i:
                await pilot.press("tab")
                await settle(pilot)
            reversed_titles = [text for p in ("cohorts", "summary", "heatmap-panel", "risk-panel") for text, rev in _title(app, p) if rev]
            assert reversed_titles == [text for text, _ in _title(app, panel)], (panel, reversed_titles)


async def test_the_risk_panel_names_its_cohort(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:  # the Risk tab: no other panel on screen says whose it is
        await settle(pilot)
        await pilot.press("j")  # the next cohort
        await pilot.press("tab", "tab", "tab")
        await settle(pilot)
        cohort = ordered_by_range(app.state.cohorts, "size")[1]
        assert app.dashboard.page == "risk"
        assert _title(app, "risk-panel") == [(f"Liquidation risk · {cohort.emoji} {cohort.name}", True)]


async def test_enter_and_i_on_an_empty_table_say_there_is_no_coin(make_app):
    """Enter did nothing at all; `i` on an empty heatmap opened the top asset's coin instead."""
    from textual.widgets._toast import Toast

    app = make_app()
    async with app.run_test(size=(160, 45), notifications=True) as pilot:  # run_test hides toasts by default
        await settle(pilot)
        heat = app.dashboard.query_one(HeatmapTable)
        await pilot.press("slash", *"zzzz", "enter")  # no coin matches; Enter takes the focus to the heatmap
        await pilot.pause()
        assert app.focused is heat and heat.row_count == 0
        for key in ("enter", "i"):
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is app.dashboard, key
            assert [str(t.render()) for t in app.screen.query(Toast)] == ["No coin under the cursor: the table is empty"], key


async def test_help_says_enter_on_a_cohort_opens_its_history_and_explains_the_marks(make_app):
    async with _opened(make_app, "question_mark", (100, 150)) as (app, _):  # tall enough for all of help at once
        shown = _screen_text(app)
        assert re.search(r"enter +On a cohort in the list: its bias history", shown)
        assert re.search(r"‼ +10% or more of the value within reach of liquidation", shown)  # the legend, as L shows it


async def test_l_shows_what_the_marks_mean(make_app):
    from hypertui.ui.screens.help import LegendScreen

    async with _opened(make_app, "L", (100, 40)) as (app, pilot):
        assert isinstance(app.screen, LegendScreen)
        legend = _screen_text(app)
        for meaning in (
            r"▲ ▼ +net long / net short",
            r"↑ ↓ +rose / fell",
            r"‼ +10% or more of the value within reach of liquidation",
            r"! +2% or more",
            r"░ ▒ ▓ █ +further from balanced",
            r"▾ ▴ +in a header: sorted by that column",
            r"· +balanced: bias within ±0\.05, long share 48-52%",
        ):
            assert re.search(meaning, legend), meaning
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard


async def test_toasts_take_only_their_title_and_message_rows_at_80x24(make_app):
    """Textual's padding and gaps: three alert toasts covered 15 of 24 rows; now 9."""
    from textual.widgets._toast import Toast

    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:  # run_test hides toasts by default
        await settle(pilot)
        for n in (1, 2, 3):  # as hypertui.ui.alert_center words a fired rule; the message takes two lines
            app.notify(f"🐋 Whale perp bias +0.1{n} is above +0.10 (when first seen)", title=f"Alert #{n} (! lists them)", severity="warning", markup=False)
        await pilot.pause()
        await pilot.pause()
        regions = [toast.region for toast in app.screen.query(Toast)]
        assert [r.height for r in regions] == [3, 3, 3]
        assert regions[-1].bottom - regions[0].y == 9  # no rows between them either


@pytest.mark.parametrize("size", [(160, 45), (80, 24)])
async def test_the_cohort_figures_fit_their_panel_at_the_default_scale(make_app, size):
    """Per-side counts and equity on the Positions line made it wider than the panel at the
    default scale: Static wrapped every line of the figures into two."""
    app = make_app(scale="default")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        figures = app.dashboard.query_one("#figures")
        lines = figures.content.plain.splitlines()
        assert any(line.startswith("  long/short") for line in lines)
        assert max(cell_len(line) for line in lines) <= figures.size.width
        assert figures.size.height == len(lines)  # one row a figure: nothing wrapped


async def test_j_and_k_scroll_help_as_they_move_in_every_list(make_app):
    """Only the arrow keys and page keys scrolled help; j pressed 8 times did nothing."""
    from textual.containers import VerticalScroll

    async with _opened(make_app, "question_mark", (100, 30)) as (app, pilot):
        box = app.screen.query_one(VerticalScroll)
        await pilot.press(*"jjjjjjjj")
        await pilot.pause()
        assert box.scroll_y == 8
        await pilot.press("k", "k")
        await pilot.pause()
        assert box.scroll_y == 6
