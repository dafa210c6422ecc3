"""What Textual itself costs to repaint a screen whose every line changed, for scale next to refresh_cost.

    python benchmarks/repaint_floor.py [--size 160x45] [--runs 20]

Three bare apps, timed like refresh_cost (main-thread CPU from the change to the repainted screen):
1. lines: one Line-API widget filling the screen whose every line is a new, ready-made strip of
   18 coloured cells, so the figure is Textual's compositor and nothing else;
2. panels: the same ready-made strips in the dashboard's shape, four bordered Line-API panels
   (two stacked on the left, two beside them) and a line under them: the compositor's cost for
   that layout, each screen line put together from three panels' lines and their borders;
3. datatable: Textual's DataTable, 200 rows x 18 columns, every cell in view given a new coloured
   value with `update_cell`, the way a monitor would use it unaided.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable

COLUMNS, ROWS = 18, 200


def _colour(rng: random.Random) -> str:
    return f"#{rng.randrange(256):02x}{rng.randrange(256):02x}{rng.randrange(256):02x}"


class Lines(Widget):
    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.strips: list[Strip] = []

    def render_line(self, y: int) -> Strip:
        return self.strips[y] if y < len(self.strips) else Strip.blank(self.size.width)


class LinesApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Lines()


class PanelsApp(App[None]):
    CSS = """
    Lines { border: round $panel-lighten-2; height: 1fr; width: 1fr; }
    #left { width: 38; }
    #status { height: 1; border: none; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="left"):
                yield Lines()
                yield Lines()
            yield Lines()
            yield Lines()
        yield Lines(id="status")


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable()


def _strips(rng: random.Random, width: int, height: int) -> list[Strip]:
    cell = width // COLUMNS
    return [
        Strip(
            [Segment(f"{rng.random():>{cell}.2f}", Style(color=_colour(rng), bgcolor=_colour(rng))) for _ in range(COLUMNS)],
            cell * COLUMNS,
        )
        for _ in range(height)
    ]


async def lines(size: tuple[int, int], runs: int) -> list[float]:
    rng, app = random.Random(1), LinesApp()
    frames = [_strips(rng, *size) for _ in range(runs)]
    times = []
    async with app.run_test(size=size) as pilot:
        widget = app.query_one(Lines)
        await pilot.pause()  # bare apps: no workers, the screen catches up
        for strips in frames:
            start = time.thread_time()
            widget.strips = strips
            widget.refresh()
            await pilot.pause()  # bare apps: no workers, the screen catches up
            times.append(time.thread_time() - start)
    return times


async def panels(size: tuple[int, int], runs: int) -> list[float]:
    rng, app = random.Random(1), PanelsApp()
    times = []
    async with app.run_test(size=size) as pilot:
        await pilot.pause()  # bare apps: no workers, the screen catches up
        widgets = list(app.query(Lines))
        frames = [[_strips(rng, *w.size) for w in widgets] for _ in range(runs)]
        for strips in frames:
            start = time.thread_time()
            for widget, lines_of in zip(widgets, strips, strict=True):
                widget.strips = lines_of
                widget.refresh()
            await pilot.pause()  # bare apps: no workers, the screen catches up
            times.append(time.thread_time() - start)
    return times


async def datatable(size: tuple[int, int], runs: int) -> list[float]:
    rng, app = random.Random(1), TableApp()
    times = []
    async with app.run_test(size=size) as pilot:
        table = app.query_one(DataTable)
        for c in range(COLUMNS):
            table.add_column(f"c{c}", key=f"c{c}", width=size[0] // COLUMNS - 2)
        for r in range(ROWS):
            table.add_row(*(Text(f"{rng.random():.2f}") for _ in range(COLUMNS)), key=f"r{r}")
        await pilot.pause()  # bare apps: no workers, the screen catches up
        for _ in range(runs):
            start = time.thread_time()
            for r in range(size[1]):  # every row in view
                for c in range(COLUMNS):
                    style = Style(color=_colour(rng), bgcolor=_colour(rng))
                    table.update_cell(f"r{r}", f"c{c}", Text(f"{rng.random():.2f}", style=style))
            await pilot.pause()  # bare apps: no workers, the screen catches up
            times.append(time.thread_time() - start)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="160x45")
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    size = tuple(int(x) for x in args.size.split("x"))
    for name, measure in (("lines", lines), ("panels", panels), ("datatable", datatable)):
        ms = [t * 1000 for t in asyncio.run(measure(size, args.runs))]  # type: ignore[arg-type]
        spread = f"{statistics.median(ms):.1f} ms ({min(ms):.1f}-{max(ms):.1f})"
        print(f"repaint every line, bare Textual {name} ({args.size}): {spread}")


if __name__ == "__main__":
    main()
