"""SyncedTable repaints only the cells whose content changed (terminal bytes follow repaints)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from rich.text import Span, Text
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static

from hypertui.ui.widgets.synced_table import SyncedTable

COLUMNS = [("coin", "Coin", 6), ("a", "A", 5), ("b", "B", 5)]


def rows(n: int, changed: dict[tuple[int, int], str] | None = None) -> list:
    changed = changed or {}
    return [
        (f"c{i}", tuple(Text(changed.get((i, col), f"{i}.{col}")) for col in range(3)))
        for i in range(n)
    ]


def _spy_on_repaints(widget: Widget) -> list[Region]:
    """The regions `widget` asks to repaint from now on (it still repaints them)."""
    repainted: list[Region] = []
    original = widget.refresh

    def spy(*regions, **kwargs):
        repainted.extend(regions)
        return original(*regions, **kwargs)

    widget.refresh = spy  # type: ignore[method-assign]
    return repainted


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield SyncedTable(id="t")


@asynccontextmanager
async def a_table(shown: list | None = None, columns: list | None = COLUMNS) -> AsyncIterator[tuple[Pilot, SyncedTable]]:
    """A 40×12 app holding one SyncedTable with `columns` and, if given, `shown` rows; settled."""
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(SyncedTable)
        if columns:
            table.set_columns(columns)
        if shown is not None:
            table.sync(shown)
        await pilot.pause()
        yield pilot, table


async def test_only_changed_visible_cells_are_repainted():
    async with a_table(rows(50)) as (pilot, table):
        repainted = _spy_on_repaints(table)
        table.sync(rows(50, {(2, 1): "new", (40, 2): "far"}))  # row 40 is below the window
        assert repainted == [Region(8, 1 + 2, 7, 1)]  # below the header, row 2; column "a" with its padding
        assert table.get_cell("r2", "a").plain == "new" and table.get_cell("r40", "b").plain == "far"
        repainted.clear()
        table.sync(rows(50, {(2, 1): "new", (40, 2): "far"}))
        assert repainted == []  # nothing changed: nothing to paint
        await pilot.pause()
        assert "new" in "".join(s.text for s in table.render_line(3))
        # Neighbours in a row make one region; a gap keeps them apart.
        table.sync(rows(50, {(2, 1): "new", (40, 2): "far", (5, 1): "x", (5, 2): "y", (6, 0): "z", (6, 2): "w"}))
        assert repainted == [Region(8, 1 + 5, 14, 1), Region(0, 1 + 6, 8, 1), Region(15, 1 + 6, 7, 1)]


def test_a_heatmap_value_too_wide_for_its_cell_keeps_the_glyph_and_the_gap():
    from hypertui.monitor.heat import PALETTES, magnitude_cell
    from hypertui.ui.widgets.heatmap import _cell

    wide = magnitude_cell(5_370_000, 5_370_000, "value", PALETTES[0])
    narrow = _cell(wide, False, 7).plain
    assert narrow.strip() == "█$5.4M" and len(narrow) == 7  # a space keeps neighbours apart, the glyph the level
    assert _cell(wide, False, 8).plain.strip() == "█$5.37M"


def test_cell_segments_are_the_ones_rich_renders():
    from rich.console import Console
    from rich.segment import Segment
    from rich.style import Style

    from hypertui.ui.widgets.synced_table import _segments

    console = Console()
    base = Style(color="white", bgcolor="black")
    overlapping = Text("abcdef", style="italic")
    overlapping.stylize("bold", 0, 4)
    overlapping.stylize("red", 2, 6)
    beyond = Text("abc")
    beyond.spans.append(Span(1, 9, "bold"))
    texts = [
        Text(""),
        Text("plain", style=base),
        Text("plain", style="bold green"),
        Text.assemble(("12.3M", "bold red"), (" ▲", "green"), justify="right"),
        Text.assemble("  ", ("mid", "blue"), " end", style="on grey15"),
        Text.assemble(("", "red"), ("x", "link https://example.com")),  # an empty span
        overlapping,
        beyond,
    ]
    for text in texts:
        rich = list(text.render(console)) if text.spans else [Segment(text.plain, console.get_style(text.style))]
        assert [s for s in _segments(console, text) if s.text] == [s for s in rich if s.text], text  # empty ones are dropped


def test_a_chart_label_keeps_its_range_when_narrow():
    from hypertui.ui.widgets.chart import chart_label

    values = [1.2, 2.5, 2.126]
    wide = chart_label("Exposure ratio", values, lambda v: f"{v:.3f}×", width=80).plain
    assert wide == "Exposure ratio  last 2.126×  min 1.200×  max 2.500×"
    narrow = chart_label("Exposure ratio", values, lambda v: f"{v:.3f}×", width=36).plain
    assert narrow == "Exposure ratio 2.126× (1.200×…2.500×)"


async def test_a_lazy_table_builds_only_the_rows_it_shows():
    async with a_table() as (pilot, table):
        asked: list[int] = []
        data = rows(50)

        def cells(position: int):
            asked.append(position)
            return data[position][1]

        table.sync_lazy([key for key, _ in data], cells)
        await pilot.pause()
        in_view = table.size.height - table.header_height
        assert sorted(set(asked)) == list(range(in_view))  # not the 50 rows of the table
        assert table.cell_text("c40", "b").plain == "40.2"  # read: built on demand
        table.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        last = table.render_line(table.size.height - 1)
        assert "49.0" in "".join(s.text for s in last)  # scrolled into view: built as it is painted
        assert len(asked) < 50


async def test_new_columns_over_a_scrolled_lazy_table_keep_the_cursor_on_its_row():
    """The heatmap's `x` (issue 24 item 1): clear() moved the cursor to the first row, whose cells
    were still owed from the last sync, and DataTable asked for them with no row left: KeyError."""
    async with a_table() as (pilot, table):
        table.cursor_type = "cell"
        data = rows(50)
        keys = [key for key, _ in data]
        table.sync_lazy(keys, lambda position: data[position][1])
        table.move_cursor(row=40, column=1)  # scrolls the first rows out of view
        await pilot.pause()
        table.sync_lazy(keys, lambda position: data[position][1])  # a refresh: rows out of view stay unbuilt
        table.set_columns([("coin", "Coin", 6), ("a", "A", 5)])
        table.sync_lazy(keys, lambda position: data[position][1][:2])
        await pilot.pause()
        assert table.cursor_key == "c40"
        assert table.cell_text("c40", "a").plain == "40.1"


async def test_the_scrollable_size_follows_the_rows_and_the_fixed_column_widths():
    async with a_table(rows(50)) as (pilot, table):
        table.sync(rows(50, {(3, 1): "a value far wider than its column"}))
        await pilot.pause()
        widths = sum(width + 2 * table.cell_padding for _, _, width in COLUMNS)
        assert table.virtual_size == Size(widths, 1 + 50)  # the header, then one line per row
        table.sync(rows(20))
        await pilot.pause()
        assert table.virtual_size == Size(widths, 1 + 20)
        table.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert table.scroll_y == 1 + 20 - table.size.height  # the last row is the bottom line


async def test_rows_gone_leave_the_table_sized_and_its_scrollbar_settled_before_the_next_frame():
    """j onto a cohort whose risk is not fetched empties the risk table: the rows left keep their
    cells, and its new height and scrollbar are known at once, laid out in the key's own frame
    (DataTable sized the table on idle, and its scrollbar going asked for a layout a frame later)."""
    async with a_table(rows(300)) as (pilot, table):
        table.move_cursor(row=250)
        await pilot.pause()
        assert table.show_vertical_scrollbar
        table.sync(rows(5))
        assert table.virtual_size.height == 1 + 5 and not table.show_vertical_scrollbar  # no await
        assert table.row_keys == [f"c{i}" for i in range(5)] and table.cursor_row == 4
        assert [table.cell_text("c4", column).plain for column in ("coin", "a", "b")] == ["4.0", "4.1", "4.2"]
        table.sync([])
        assert table.row_count == 0 and table.virtual_size.height == 1
        await pilot.pause()
        table.sync(rows(3))
        await pilot.pause()
        assert table.get_row_at(2) == list(rows(3)[2][1])


class BesideATallerLine(App[None]):
    CSS = "#t { height: 8; } #line { height: auto; }"

    def compose(self) -> ComposeResult:
        yield SyncedTable(id="t")
        yield Static("one line", id="line")


async def test_a_layout_elsewhere_does_not_repaint_a_scrolled_tables_scrollbar():
    """Textual's ScrollView compares its rows' size with the compositor's (its region) on every
    layout of the screen, never equal for a table that scrolls: its scrollbar was repainted for
    any line more elsewhere (the heatmap's and top assets' 41 lines, twice, on every j)."""
    app = BesideATallerLine()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(SyncedTable)
        table.set_columns(COLUMNS)
        table.sync(rows(50))
        await pilot.pause()
        assert table.show_vertical_scrollbar
        scrollbar, repaints = table.vertical_scrollbar, []
        original = scrollbar.refresh
        scrollbar.refresh = lambda *regions, **kwargs: repaints.append(regions) or original(*regions, **kwargs)  # type: ignore[method-assign]
        app.query_one("#line", Static).update("two\nlines")  # a layout of the screen, the table unmoved
        await pilot.pause()
        assert app.query_one("#line").size.height == 2
        assert repaints == []


async def test_a_column_added_the_datatable_way_is_still_sized_to_its_content():
    async with a_table(columns=None) as (pilot, table):
        table.add_column("auto")  # no width: DataTable measures the cells
        table.add_row(Text("a longer value"), label="label")
        await pilot.pause()
        assert table.ordered_columns[0].get_render_width(table) == len("a longer value") + 2 * table.cell_padding
        assert table.virtual_size.width > len("a longer value") + len("label")  # the row label's column too


async def test_the_mouse_finds_the_cell_under_it_in_a_scrolled_table():
    async with a_table(rows(50)) as (pilot, table):
        # Columns with their padding: coin 0-7, a 8-14, b 15-21; the header is line 0.
        await pilot.click(SyncedTable, offset=(9, 1 + 2))
        assert table.cursor_coordinate == Coordinate(2, 1)
        table.scroll_to(y=10, animate=False, immediate=True)
        await pilot.pause()
        await pilot.click(SyncedTable, offset=(21, 1))
        assert table.cursor_coordinate == Coordinate(10, 2)
        await pilot.hover(SyncedTable, offset=(0, 1 + 3))
        assert table.hover_coordinate == Coordinate(13, 0)
        await pilot.click(SyncedTable, offset=(30, 1 + 4))  # right of the last column: not a cell
        assert table.cursor_coordinate == Coordinate(10, 2)
        table.scroll_to(y=20.6, animate=False, immediate=True)  # mid-animation, or a dragged scrollbar
        await pilot.pause()
        assert "21.0" in "".join(s.text for s in table.render_line(1))  # drawn rounded: row 21 on top
        await pilot.click(SyncedTable, offset=(1, 1))
        assert table.cursor_coordinate == Coordinate(21, 0)


async def test_a_cell_with_its_own_click_meta_can_still_be_clicked():
    clickable = [(f"c{i}", (Text(f"{i}"), Text.from_markup("[@click=app.bell]x[/]"), Text("y"))) for i in range(5)]
    async with a_table(clickable) as (pilot, table):
        await pilot.click(SyncedTable, offset=(9, 1 + 3))
        assert table.cursor_coordinate == Coordinate(3, 1)


async def test_the_cohort_list_repaints_only_the_prompt_that_changed_and_the_two_its_highlight_moves_between():
    from hypertui.api.models import Segment
    from hypertui.monitor.rows import CohortLine
    from hypertui.ui.widgets.cohort_list import CohortList

    class ListApp(App[None]):
        def compose(self) -> ComposeResult:
            yield CohortList(lambda segment_id: None)

    segments = [Segment(id=i, name=f"Cohort {i}", category="size") for i in range(1, 13)]

    def lines(bias: dict[int, str]) -> dict[int, CohortLine]:
        return {s.id: CohortLine(s.id, "", s.name, "1,000", bias.get(s.id, "+0.10"), "▲") for s in segments}

    app = ListApp()
    async with app.run_test(size=(40, 6)) as pilot:  # six lines: the list scrolls
        listed = app.query_one(CohortList)
        listed.set_groups([("size", segments)], lines({}), 1)
        await pilot.pause()
        listed.scroll_to(y=4, animate=False, immediate=True)
        await pilot.pause()
        assert listed.scroll_y == 4
        repainted = _spy_on_repaints(listed)
        listed.update_lines(lines({6: "-0.42"}))  # cohort 6 is option 6 (after the title), line 6, row 2 in view
        assert [(r.y, r.height) for r in repainted] == [(2, 1)]
        await pilot.pause()
        assert "-0.42" in "".join(s.text for s in listed.render_line(2))
        repainted.clear()
        listed.update_lines(lines({6: "-0.42"}))
        assert repainted == []
        listed.scroll_to(y=0, animate=False, immediate=True)
        await pilot.pause()
        repainted.clear()
        listed.action_cursor_down()  # j: from cohort 1 (line 1) to cohort 2 (line 2), both in view
        assert listed.highlighted == 2
        assert sorted((r.y, r.height) for r in repainted) == [(1, 1), (2, 1)]  # their lines alone, not the list
        await pilot.pause()
        highlight = listed.get_visual_style("option-list--option-highlighted").rich_style.bgcolor
        first = [next(iter(listed.render_line(y))) for y in (1, 2)]  # each line's first segment
        assert [segment.style.bgcolor == highlight for segment in first] == [False, True]


def test_a_row_is_joined_as_rich_simplifies_the_whole_line():
    import random
    from itertools import chain

    from rich.segment import Segment
    from rich.style import Style

    from hypertui.ui.widgets.synced_table import _joined

    rng = random.Random(3)
    styles = [Style(color="red"), Style(color="red"), Style(bold=True), None]  # equal styles that are not one object too
    for _ in range(500):
        cells = [
            list(Segment.simplify([Segment(rng.choice(["", "a", " "]), rng.choice(styles)) for _ in range(rng.randrange(4))]))
            for _ in range(rng.randrange(5))
        ]
        assert _joined(cells) == list(Segment.simplify(chain.from_iterable(cells))), cells


class SideBySideApp(App[None]):
    """Textual's DataTable and a SyncedTable, each 40 wide, given the same columns and rows."""

    def compose(self) -> ComposeResult:
        from textual.containers import Horizontal
        from textual.widgets import DataTable

        with Horizontal():
            yield DataTable(id="plain", cursor_type="row")
            yield SyncedTable(id="synced", cursor_type="row")


async def test_lines_are_the_ones_datatable_draws_less_the_mouse_meta():
    from rich.segment import Segment
    from textual.widgets import DataTable

    shown = [
        ("c0", (Text("🐋🐋🐋🐋 whale"), Text("far too wide for five", overflow="ignore"), Text("x", style="bold on red"))),
        ("c1", (Text("a", style="red"), Text.assemble(("1.2", "red"), " ▲", justify="right"), Text("c", style="red"))),
        ("c2", (Text(""), Text("mid", justify="center"), Text("ellipsis!", overflow="ellipsis"))),
    ]
    app = SideBySideApp()
    async with app.run_test(size=(80, 8)) as pilot:
        plain, synced = app.query_one("#plain", DataTable), app.query_one("#synced", SyncedTable)
        for key, label, width in COLUMNS:
            plain.add_column(label, width=width, key=key)
        for key, cells in shown:
            plain.add_row(*cells, key=key)
        synced.set_columns(COLUMNS)
        synced.sync(shown)
        await pilot.pause()

        async def drawn(table: DataTable) -> list[list[Segment]]:
            table.focus()  # a focused table's colours differ
            await pilot.pause()
            return [strip._segments for strip in table.render_lines(Region(0, 0, table.size.width, table.size.height))]

        def characters(lines: list[list[Segment]]) -> list[list[tuple[str, str]]]:
            """What each line shows, character by character: DataTable's segments differ by mouse meta."""
            return [[(char, str(segment.style)) for segment in line for char in segment.text] for line in lines]

        mine = await drawn(synced)
        assert characters(mine) == characters(await drawn(plain))
        for line in mine[1:]:  # the rows (the header is DataTable's own): as simplified as Rich would make them
            assert line == list(Segment.simplify(line))
            assert sum(segment.cell_length for segment in line) == synced.size.width


def test_a_cell_is_fitted_to_its_column_as_rich_wraps_it():
    import random

    from rich.console import Console
    from rich.segment import Segment
    from rich.style import Style

    from hypertui.ui.widgets.synced_table import _line_body, _segments

    console, rng = Console(), random.Random(5)
    for _ in range(3000):
        plain = "".join(rng.choice(["a", "b", " ", "  ", "🐋", "$", "\t"]) for _ in range(rng.randrange(8)))
        cell = Text(
            plain,
            style=rng.choice(["", "bold", "on red", Style(color="green")]),
            justify=rng.choice([None, "default", "left", "right", "center", "full"]),
            overflow=rng.choice([None, "fold", "crop", "ellipsis", "ignore"]),
        )
        for _ in range(rng.randrange(3)):  # in order, overlapping, or empty
            start = rng.randrange(len(plain) + 1)
            cell.stylize(rng.choice(["red", "underline", "on blue"]), start, rng.randrange(start, len(plain) + 1))
        inner = rng.randrange(9)
        wrapped = cell.wrap(console, inner, justify=cell.justify or "default", overflow=cell.overflow or "fold", no_wrap=True)
        expected = _segments(console, wrapped[0]) if wrapped else []
        shown = list(Segment.simplify(s for s in _line_body(console, cell, inner) if s.text))
        assert shown == list(Segment.simplify(s for s in expected if s.text)), (repr(cell), inner)


def test_a_cell_is_padded_and_styled_as_rich_pads_and_styles_it():
    import random

    from rich.segment import Segment
    from rich.style import Style

    from hypertui.ui.widgets.synced_table import _one_line

    rng = random.Random(7)
    styles = [None, Style.null(), Style(bold=True), Style(color="red"), Style(color="red", bgcolor="blue")]
    for _ in range(2000):
        body = [Segment(rng.choice(["", "a", "bc", " "]), rng.choice(styles)) for _ in range(rng.randrange(4))]
        used = sum(segment.cell_length for segment in body)
        padding = rng.randrange(2)
        width, pre, post = used + 2 * padding + rng.randrange(3), rng.choice(styles), rng.choice(styles)
        padded = [Segment(" " * padding), *body, Segment(" " * (width - padding - used))]
        expected = list(Segment.simplify(Segment.apply_style([s for s in padded if s.text], pre, post)))
        assert _one_line(body, width, padding, pre, post) == expected, (body, width, padding, pre, post)  # type: ignore[arg-type]
