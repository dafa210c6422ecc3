"""Hostile server strings: shown literally, never interpreted, never reaching the terminal raw.

The simulator's answers are rewritten on the wire (a transport between client and simulator), so
the strings take the real path: JSON → client → `clean` in the models → monitor → widgets. The
most valuable coins and every cohort get a hostile name, so all of them are on screen at 160x45.
"""

from __future__ import annotations

import io
import json
import re

import httpx
import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from hypertui.api.client import HyperTrackerClient
from hypertui.api.errors import NotFoundError
from hypertui.api.text import MAX_LEN, clean, clean_name
from hypertui.monitor.plan import TIMED
from hypertui.sim import Market, create_app
from hypertui.source import SIM_BASE_URL
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.screenshots import settled
from hypertui.ui.widgets.cohort_summary import CohortSummary
from hypertui.ui.widgets.heatmap import COIN_WIDTH, HeatmapTable
from hypertui.ui.widgets.risk_table import RiskTable
from hypertui.ui.widgets.cohort_list import NAME_WIDTH, CohortList
from hypertui.ui.widgets.status_bar import StatusBar

HOSTILE = (
    "[bold]x[/]",
    "[/]",
    "[link=https://evil]click[/link]",
    "[@click=app.quit]q[/]",
    "\x1b[31mred",
    "T\x1b]0;title\x07",  # an OSC that would retitle the terminal
    "L\x1b]8;;https://evil\x1b\\k",  # an OSC 8 hyperlink
    "c\x00t\x07l\x08\x7f\x1b\x05",  # C0 controls, DEL and a lone ESC
    "\u202eevil",  # right-to-left override
    "W" * 500,
    "🐋🐳🦈",
)
NAMES = HOSTILE + ("[b]unclosed", "[/not-open]", "\u2066iso\u2069", "%s{0}${x}", "🦐\u202e[red]")  # 16 cohorts
MESSAGE = "[bold]boom[/] \x1b]0;pwned\x07[@click=app.quit]quit[/] \x1b[2J\u202e!"
TOKEN = "hostile-test-token"
# What the app itself writes: cursor moves and colours. Anything else came from the data.
_OWN_SEQUENCES = re.compile(r"\x1b\[[0-9;]*[mH]")


class HostileTransport(httpx.AsyncBaseTransport):
    """Rewrites the simulator's JSON: chosen coins and every cohort get hostile names."""

    def __init__(self, inner: httpx.AsyncBaseTransport, coins: dict[str, str], names: dict[int, str]) -> None:
        self.inner, self.coins, self.names = inner, coins, names
        self.not_found: str | None = None  # path whose answer becomes a 404 with a hostile message

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        if self.not_found and request.url.path.endswith(self.not_found):
            doc = {"statusCode": 404, "message": MESSAGE}
            return httpx.Response(404, headers={"content-type": "application/json"}, content=json.dumps(doc).encode())
        if response.status_code == 200 and "json" in response.headers.get("content-type", ""):
            body = json.dumps(self._rewrite(json.loads(body))).encode()
        return httpx.Response(response.status_code, headers=headers, content=body)

    def _rewrite(self, node):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "coin" and value in self.coins:
                    value = self.coins[value]
                elif key == "name" and node.get("id") in self.names:
                    value = self.names[node["id"]]
                else:
                    value = self._rewrite(value)
                out[key] = value
            return out
        if isinstance(node, list):
            return [self._rewrite(item) for item in node]
        return node


@pytest.fixture
async def hostile(clock):
    """(app, transport, cleaned coin names by hostile name) over the small simulator."""
    sim = create_app(Market(seed=7, scale="small", clock=clock))
    async with HyperTrackerClient(SIM_BASE_URL, TOKEN, transport=httpx.ASGITransport(app=sim)) as plain:
        top = [row.coin for row in sorted((await plain.heatmap()).heatmap, key=lambda r: -r.total_value)]
        legend = await plain.segments()
    coins = dict(zip(top, HOSTILE, strict=False))
    names = {s.id: NAMES[i] for i, s in enumerate(legend)}
    transport = HostileTransport(httpx.ASGITransport(app=sim), coins, names)
    client = HyperTrackerClient(SIM_BASE_URL, TOKEN, transport=transport)
    app = HyperTuiApp(client, "SIMULATOR", clock=clock)
    return app, transport


def _render(app: HyperTuiApp) -> tuple[str, list[str]]:
    """What the app would write to the terminal for a full repaint, and the screen as text lines."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), force_terminal=True,
        color_system="truecolor", record=True, legacy_windows=False, safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True))
    return console.file.getvalue(), console.export_text(styles=False).splitlines()


def _cells(line: str) -> list[str]:
    """One entry per terminal cell (a wide character and an empty placeholder after it)."""
    out: list[str] = []
    for ch in line:
        out.append(ch)
        out += [""] * (cell_len(ch) - 1)
    return out


def _fits(text: str, cells: int) -> str:
    """The start of `text` that is sure to be visible in a column of `cells` cells."""
    out = ""
    for ch in text:
        if cell_len(out + ch) > cells - 1:  # the last cell may be the ellipsis
            break
        out += ch
    return out


def _assert_terminal_safe(raw: str) -> None:
    foreign = _OWN_SEQUENCES.sub("", raw)
    assert "\x1b" not in foreign, f"an escape sequence from the data reached the terminal: {foreign[foreign.index(chr(27)):][:40]!r}"
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", foreign)


async def test_hostile_names_are_cleaned_in_the_models(hostile):
    app, _ = hostile
    heatmap = await app.client.heatmap()
    legend = await app.client.segments()
    for text in [row.coin for row in heatmap.heatmap] + [s.name for s in legend]:
        assert text.isprintable(), repr(text)
        assert len(text) <= MAX_LEN
    got = {row.coin for row in heatmap.heatmap}
    assert {clean_name(h) for h in HOSTILE} <= got
    assert clean("[bold]x[/]") == "[bold]x[/]"  # markup is kept as text: the UI never parses it
    assert clean("\x1b[31mred") == "red" and clean("T\x1b]0;title\x07") == "T" and clean("\u202eevil") == "evil"
    assert clean("W" * 500) == "W" * (MAX_LEN - 1) + "…"
    await app.client.aclose()


async def test_hostile_names_render_literally_and_safely(hostile):
    app, _ = hostile
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        assert app.refresh_loop.last_error is None
        raw, lines = _render(app)
        screen = "\n".join(lines)
        _assert_terminal_safe(raw)
        assert "\x1b]8;" not in raw  # no hyperlink: `[link=…]` was not taken as markup

        # Every hostile coin is in the heatmap model and on screen, as its cleaned text.
        heat = app.dashboard.query_one(HeatmapTable)
        for h in HOSTILE:
            c = clean_name(h)
            assert c in heat.row_keys
            cell = heat.cell_text(c, "coin")
            assert isinstance(cell, Text) and cell.plain == " " + c and not cell.spans
            if c:
                assert _fits(" " + c, COIN_WIDTH).strip() in screen, c
        # Markup stayed text: brackets visible, nothing made bold, linked or clickable.
        assert "[bold]x[" in screen and "[link=ht" in screen and "[@click=" in screen and " [/] " in screen
        assert "[bold]x[/]" in screen  # in full where the column is wide enough (cohort list, top assets)
        # Cohort names: the list, the summary title and the heatmap headers.
        listed = app.dashboard.query_one(CohortList)
        for name in NAMES:
            c = clean_name(name)
            if c:
                assert _fits(c, NAME_WIDTH).strip() in screen, c
        title = app.dashboard.query_one(CohortSummary).border_title
        assert clean_name(NAMES[0]) in Text.from_markup(str(title)).plain  # Textual keeps titles as escaped markup
        assert f"{app.state.segment(app.state.view.cohort_id).emoji} {clean_name(NAMES[0])}" in screen
        assert f"Liquidation risk · {app.state.segment(app.state.view.cohort_id).emoji} {clean_name(NAMES[0])}" in screen  # its title too
        assert listed.option_count == 18

        # Columns stay aligned: every line is exactly the screen's width and the panel borders
        # (found on the top line) are in the same cells on every body line.
        cells = [_cells(line) for line in lines]
        assert all(len(c) == 160 for c in cells), [len(c) for c in cells]
        edges = [x for x, ch in enumerate(cells[0]) if ch in ("╭", "╮")]  # not "" (the cell after a wide one): "" in "╭╮"
        assert len(edges) == 6
        for row in cells[1:-4]:
            for x in edges[2:]:  # heatmap and risk panels span the full height
                assert row[x] == "│", (x, "".join(row))

        # The SVG screenshot holds the literal text too, and no raw control character.
        svg = app.export_screenshot()
        assert "[bold]x[/]" in svg and "\x1b" not in svg and "\u202e" not in svg
        # `[@click=app.quit]` was not a link: the app is still running after a click on it.
        risk = app.dashboard.query_one(RiskTable)
        assert clean("[@click=app.quit]q[/]") in risk.row_keys
        await pilot.click(HeatmapTable, offset=(3, 2 + heat.row_keys.index("[@click=app.quit]q[/]")))
        await pilot.pause()
        assert app.is_running and app.return_code is None


async def test_hostile_error_message_is_one_literal_line(hostile):
    app, transport = hostile
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        transport.not_found = "/positions/heatmap"
        app.refresh_loop.request_refresh(TIMED)
        await settled(pilot)
        assert app.refresh_loop.last_error is not None and app.refresh_loop.last_error.startswith("/positions/heatmap: ")
        expected = NotFoundError("/positions/heatmap", clean(MESSAGE)).detail
        bar = app.dashboard.query_one(StatusBar)._last
        assert isinstance(bar, Text) and "\n" not in bar.plain
        raw, lines = _render(app)
        _assert_terminal_safe(raw)
        status = lines[-2]
        assert "[bold]boom[/]" in status and "[@click=app.quit]quit[/]" in status
        assert " ".join(expected.split())[:40] in status
        assert app.is_running


async def test_hostile_filter_text_typed_by_the_user(hostile):
    app, _ = hostile
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        await pilot.press("slash", "left_square_bracket", "slash")  # "[/": a half-open markup tag
        await pilot.pause()
        assert app.state.coin_filter == "[/"
        heat = app.dashboard.query_one(HeatmapTable)
        assert heat.row_keys == [c for c in (clean(h) for h in HOSTILE) if "[/" in c]
        raw, lines = _render(app)
        _assert_terminal_safe(raw)
        assert "││ [/     " in lines[1]  # the input box shows what was typed, as typed
        subtitle = app.dashboard.query_one("#heatmap-panel").border_subtitle
        assert Text.from_markup(str(subtitle)).plain.endswith("filter “[/”")


async def test_hostile_names_on_a_narrow_terminal(hostile):
    """80x24, one page at a time: every page stays inside its width and safe for the terminal."""
    app, _ = hostile
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        for page in ("cohorts", "heatmap", "risk"):
            app.dashboard.show_page(page)
            await settled(pilot)
            raw, lines = _render(app)
            _assert_terminal_safe(raw)
            assert all(len(_cells(line)) == 80 for line in lines), page
        assert "[bold]x[" in "\n".join(lines)
        assert app.is_running and app.refresh_loop.last_error is None
