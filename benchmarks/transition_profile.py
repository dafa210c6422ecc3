"""Where a screen transition's time and bytes go: frames written, Textual's phases, a profile.

    python benchmarks/transition_profile.py [--size 160x45] [--runs 5] [--only coin,bias] [--dirty] [--profile coin]

Headless on the embedded simulator (seed 7, frozen clock), through a Pilot: the key is handled
as a pressed key is (no terminal, so no ESCDELAY). Each screen is opened once untimed, then
`--runs` times, each followed by escape back to the dashboard. For each opening and each way back:
- the frames the compositor produced, each with its time since the key, kind (full: every line
  of the screen; partial: the lines named) and the bytes it would write to a terminal (Textual's
  output for it, through the app's own SGR compaction);
- time in Textual's phases (stylesheet applied to nodes, the compose() generators, layout
  reflow, rendering widgets' lines, building the output), the rest being mounting, handlers and
  message pumping; the main thread's CPU time, and the widgets on the screen;
- with `--dirty`, the widgets made dirty for each frame of a typical one (who repainted what);
- with `--profile NAME`, a pyinstrument profile of that screen's openings and ways back.
Wall clock with the embedded simulator serving on the same event loop, as in the real app, plus
the Pilot's own waiting: read the frames, bytes and shares here, and the times in the
pseudo-terminal (`transitions.py`). Never part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import textual.widget
from textual import _compositor
from textual.css.stylesheet import Stylesheet

from hypertui.ui.screenshots import drained, make_app, settled
from hypertui.ui.terminal_output import compact_sgr

# Screen, the key that opens it, whether the heatmap must have the focus (else the cohort list).
OPENINGS: dict[str, tuple[str, bool]] = {
    "history": ("enter", False),
    "coin": ("i", False),
    "bias": ("b", False),
    "help": ("question_mark", False),
    "alerts": ("exclamation_mark", False),
    "palette": ("ctrl+p", False),
    "positions": ("enter", True),
}
# Textual's phases: (class, method) timed, outermost call only (a phase may call itself).
PHASES: dict[str, list[tuple[Any, str]]] = {
    "styles": [(Stylesheet, "apply")],
    "compose": [(textual.widget, "compose")],  # the compose() generators run (not the mounting that follows)
    "layout": [(_compositor.Compositor, "reflow"), (_compositor.Compositor, "reflow_visible")],
    "render": [(_compositor.Compositor, "_render_chops")],
}


@dataclass
class Frame:
    at: float  # ms since the key
    full: bool
    lines: int
    size: int  # bytes
    dirty: list[str]  # the widgets made dirty since the frame before


@dataclass
class Sample:
    frames: list[Frame] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # ms
    cpu: float = 0.0  # ms of main-thread CPU to the last frame
    widgets: int = 0

    @property
    def settled(self) -> float:
        return self.frames[-1].at if self.frames else 0.0

    @property
    def size(self) -> int:
        return sum(f.size for f in self.frames)


class Recorder:
    """Times Textual's phases and records each frame while `sample` is set."""

    def __init__(self) -> None:
        self.sample: Sample | None = None
        self.start = 0.0
        self._depth: dict[str, int] = defaultdict(int)
        self._dirty: list[str] = []

    @contextmanager
    def installed(self, app: Any) -> Iterator[None]:
        originals: list[tuple[Any, str, Any]] = []
        for phase, methods in PHASES.items():
            for owner, name in methods:
                original = getattr(owner, name)
                originals.append((owner, name, original))
                setattr(owner, name, self._timed(phase, original))
        update_widgets = _compositor.Compositor.update_widgets
        originals.append((_compositor.Compositor, "update_widgets", update_widgets))

        def noted(compositor: Any, widgets: set[Any]) -> None:
            self._dirty += sorted(f"{type(w).__name__}#{w.id or type(w.parent).__name__}" for w in widgets)
            update_widgets(compositor, widgets)

        _compositor.Compositor.update_widgets = noted
        display = app._display

        def recorded(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if self.sample is not None and renderable is not None:
                began = time.perf_counter()
                output = compact_sgr(renderable.render_segments(app.console))  # what the driver would write
                self.sample.phases["output"] += (time.perf_counter() - began) * 1000
                full = isinstance(renderable, _compositor.LayoutUpdate)
                lines = app.size.height if full else len({y for y, _, _ in renderable.spans})
                at = (time.perf_counter() - self.start) * 1000
                self.sample.frames.append(Frame(at, full, lines, len(output.encode()), self._dirty))
            self._dirty = []

        app._display = recorded
        try:
            yield
        finally:
            for owner, name, original in originals:
                setattr(owner, name, original)

    def _timed(self, phase: str, method: Callable) -> Callable:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self.sample is None or self._depth[phase]:
                return method(*args, **kwargs)
            self._depth[phase] += 1
            began = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self._depth[phase] -= 1
                if self.sample is not None:
                    self.sample.phases[phase] += (time.perf_counter() - began) * 1000

        return timed

    async def press(self, pilot: Any, key: str) -> Sample:
        self.sample = sample = Sample()
        self._dirty = []
        cpu = time.thread_time()
        self.start = time.perf_counter()
        await pilot.press(key)
        await drained(pilot)
        sample.cpu = (time.thread_time() - cpu) * 1000
        sample.widgets = len(list(pilot.app.screen.walk_children(with_self=True)))
        self.sample = None
        return sample


def summary(samples: list[Sample], dirty: bool) -> str:
    def med(values: list[float]) -> float:
        return statistics.median(values)

    phases = sorted({p for s in samples for p in s.phases})
    typical = min(samples, key=lambda s: abs(s.settled - med([x.settled for x in samples])))
    frames = ", ".join(f"{f.at:.0f} ms {'FULL' if f.full else f'{f.lines} lines'} {f.size / 1000:.1f} KB" for f in typical.frames)
    return (
        f"last frame {med([s.settled for s in samples]):.0f} ms, CPU {med([s.cpu for s in samples]):.0f} ms, "
        f"{med([s.size for s in samples]) / 1000:.1f} KB in {med([len(s.frames) for s in samples]):.0f} frames, "
        f"{typical.widgets} widgets\n      phases (ms): "
        + ", ".join(f"{p} {med([s.phases.get(p, 0.0) for s in samples]):.1f}" for p in phases)
        + f"\n      frames of a typical one: {frames}"
        + "".join(f"\n        {f.at:.0f} ms: {', '.join(dict.fromkeys(f.dirty))}" for f in typical.frames if dirty)
    )


async def measure(size: tuple[int, int], runs: int, only: list[str], profile: str | None, dirty: bool) -> None:
    app = make_app(scale="default")
    recorder = Recorder()
    async with app.run_test(size=size) as pilot:
        await settled(pilot)
        profiler = None
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005, async_mode="disabled")
        with recorder.installed(app):
            for name in only:
                key, on_heatmap = OPENINGS[name]
                if on_heatmap:
                    app.dashboard.focus_heatmap()
                else:
                    app.dashboard.query_one("#cohorts").focus()
                await pilot.pause()
                await recorder.press(pilot, key)  # the first opening: module, stylesheet
                await recorder.press(pilot, "escape")
                opens, backs = [], []
                for _ in range(runs):
                    if profiler and name == profile:
                        profiler.start()
                    opens.append(await recorder.press(pilot, key))
                    backs.append(await recorder.press(pilot, "escape"))
                    if profiler and name == profile:
                        profiler.stop()
                print(f"{name} open:  {summary(opens, dirty)}")
                print(f"{name} back:  {summary(backs, dirty)}")
        if profiler:
            print(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="160x45")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default=",".join(OPENINGS), help=f"some of: {','.join(OPENINGS)}")
    ap.add_argument("--profile", choices=list(OPENINGS), help="print a pyinstrument profile of this screen's openings and ways back")
    ap.add_argument("--dirty", action="store_true", help="the widgets made dirty for each frame of a typical one")
    args = ap.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    asyncio.run(measure((cols, rows), args.runs, args.only.split(","), args.profile, args.dirty))


if __name__ == "__main__":
    main()
