"""Screen transitions: keypress → screen settled, and the bytes written, beside htop and btop.

    python benchmarks/transitions.py [--runs 5] [--sizes 160x45,80x24] [--only coin,positions] [--url URL]
    python benchmarks/transitions.py --compare before=/tmp/old,after=. [--rounds 2] ...

Each program runs in a real pseudo-terminal of the size, as in `../shared/probes/key_latency.py`:
a key is written to it and the benchmark reads what the program writes back, as a terminal would.
A key's time is from writing it to the last byte before the output has been quiet for QUIET
seconds ("settled"), and, for a screen that loads data, not before the text that shows its
data is drawn (so a screen painted empty, then filled after a pause, counts whole). Between two
keys the output must be quiet for GAP seconds. Every screen is opened once untimed first (its
module and stylesheet load then; printed apart), then `--runs` times, each followed by its way
back, timed too. htop's `h` help and btop's `m` menu (and their esc) are measured in the same
run at the same sizes: this box is shared, so only figures from one run compare.

hypertui runs on the embedded simulator (seed 7, its market updating every 600 s so that no
refresh falls inside a measurement), or with `--url` against a `hypertui sim`. Esc reaches a
Textual app ESCDELAY ms (default 100) after it is pressed, unless the terminal speaks the kitty
keyboard protocol (a pseudo-terminal does not): each way back is timed with esc and again
with backspace, which every drill-down also binds, to show what is the app's own time.
`--compare` measures hypertui from several checkouts (PYTHONPATH each) in turn, several rounds,
for a change's before and after in one run. Never part of the test suite.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from run import _CHECKED, _drawn, hypertui_command  # this folder: run as a script

QUIET = 0.15  # seconds of silence that end a key's answer (the probe: QUIET=0.15)
GAP = 0.4  # seconds of silence before a key is written
ANSWER = 2.0  # seconds a key may take to its first byte before it counts as unanswered
KEYS = {"esc": b"\x1b", "backspace": b"\x7f", "enter": b"\r", "tab": b"\t", "ctrl+p": b"\x10",
        "down": b"\x1b[B", "up": b"\x1b[A", "right": b"\x1b[C", "left": b"\x1b[D"}
SCREEN_BYTES = 25_000  # one full repaint of a 160×45 screen (the figure; btop's menu 22 KB)
TARGET_MS, TARGET_P90_MS, TARGET_VS_BTOP, TARGET_CURSOR_MS = 50.0, 100.0, 8.0, 16.0


@dataclass(frozen=True)
class Transition:
    id: str  # for --only
    name: str
    key: str
    shown: str | None = None  # text drawn only once the screen's data is (None: no data to wait for)
    back: tuple[str, ...] = ("esc", "backspace")


# In the order pressed: the cohort list has the focus first; tab, tab moves it to the heatmap.
LIST_TRANSITIONS = [
    Transition("history", "Enter → history", "enter", "→"),  # the status line's time span, once snapshots are in
    Transition("coin", "i coin view", "i", "hold"),  # "12 cohorts hold BTC"
    Transition("bias", "b bias overview", "b", "snapshots each"),
    Transition("help", "? help", "?", back=("esc",)),  # help closes on esc, q or ?; backspace is not its key
    Transition("alerts", "! alerts", "!"),
    Transition("palette", "ctrl+p palette", "ctrl+p", back=("esc",)),
]
HEATMAP_TRANSITIONS = [Transition("positions", "Enter → positions", "enter", "loaded")]  # "300 loaded · more…"
LIST_CURSOR = ["j", "k"]
HEATMAP_CURSOR = ["down", "up", "right", "left", "v"]  # v: the heatmap's mode, a full redraw of it


@dataclass
class Timing:
    first: list[float] = field(default_factory=list)  # ms to the first byte
    settled: list[float] = field(default_factory=list)  # ms to the last byte before QUIET
    sizes: list[int] = field(default_factory=list)

    def add(self, answer: tuple[float, float, int]) -> None:
        self.first.append(answer[0])
        self.settled.append(answer[1])
        self.sizes.append(answer[2])

    @property
    def median(self) -> float:
        return statistics.median(self.settled)

    @property
    def p90(self) -> float:
        return percentile(self.settled, 0.9)

    @property
    def size(self) -> float:
        return statistics.median(self.sizes)

    def line(self) -> str:
        if not self.settled:
            return "no answer"
        return (f"{self.median:6.1f} ms (p90 {self.p90:6.1f}), first byte {statistics.median(self.first):6.1f} ms, "
                f"{self.size / 1000:5.1f} KB")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


class Terminal:
    """A program in a pseudo-terminal of cols×rows: keys in, bytes out."""

    def __init__(self, command: str, cols: int, rows: int, cwd: str | None = None) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the terminal's size before anything can ask for it
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                if cwd:
                    os.chdir(cwd)
                os.execvpe("sh", ["sh", "-c", f"exec env {command}"], {**os.environ, "TERM": "xterm-256color"})
            finally:
                os._exit(127)  # never back into the benchmark's own code

    def read(self, timeout: float) -> bytes | None:
        """What the program wrote within `timeout` seconds; b"" if nothing, None once it ended."""
        if not select.select([self.fd], [], [], timeout)[0]:
            return b""
        try:
            return os.read(self.fd, 1 << 16)
        except OSError:
            return None

    def wait_for(self, pattern: re.Pattern[bytes], timeout: float = 30.0) -> None:
        seen, deadline = b"", time.monotonic() + timeout
        while not pattern.search(seen):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{pattern.pattern!r} not drawn within {timeout:g} s")
            chunk = self.read(1.0)
            if chunk is None:
                raise RuntimeError("the program ended")
            seen = seen[-4096:] + chunk

    def quiet(self, seconds: float, longest: float = 5.0) -> None:
        """Read until nothing has come for `seconds` (or `longest` has passed)."""
        deadline = time.monotonic() + longest
        while time.monotonic() < deadline and self.read(seconds):
            pass

    def press(self, key: str, shown: re.Pattern[bytes] | None = None) -> tuple[float, float, int] | None:
        """(ms to the first byte, ms to settled, bytes) of one key; None if unanswered."""
        self.quiet(GAP)
        start = time.perf_counter()
        os.write(self.fd, KEYS.get(key, key.encode()))
        first = last = 0.0
        size, seen, drawn = 0, b"", shown is None
        while True:
            chunk = self.read(QUIET if first and drawn else ANSWER)
            if not chunk:
                break
            last = time.perf_counter() - start
            first = first or last
            size += len(chunk)
            if not drawn:
                seen = seen[-4096:] + chunk  # a word may be split between reads
                drawn = bool(shown.search(seen))  # type: ignore[union-attr]
        return (first * 1000, last * 1000, size) if first else None

    def close(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


@contextmanager
def terminal(command: str, cols: int, rows: int, cwd: str | None = None) -> Iterator[Terminal]:
    term = Terminal(command, cols, rows, cwd)
    try:
        yield term
    finally:
        term.close()


@dataclass
class Results:
    """Per key: the timed presses; per screen: its first (untimed) opening."""

    keys: dict[str, Timing] = field(default_factory=dict)
    first_openings: dict[str, tuple[float, float, int]] = field(default_factory=dict)

    def record(self, name: str, answer: tuple[float, float, int] | None) -> None:
        timing = self.keys.setdefault(name, Timing())
        if answer is not None:
            timing.add(answer)

    def merge(self, other: Results) -> None:
        """Pool `other`'s timed presses with these (first openings are left out)."""
        for name, timing in other.keys.items():
            mine = self.keys.setdefault(name, Timing())
            mine.first += timing.first
            mine.settled += timing.settled
            mine.sizes += timing.sizes


def open_and_back(term: Terminal, results: Results, transition: Transition, runs: int) -> None:
    shown = _drawn(transition.shown) if transition.shown else None
    for run in range(runs + 1):
        answer = term.press(transition.key, shown)
        if run == 0 and answer is not None:
            results.first_openings[transition.name] = answer
        else:
            results.record(transition.name, answer)
        back = transition.back[run % len(transition.back)]  # esc and backspace in turn
        answer = term.press(back)
        if run:
            results.record(f"{transition.name} / {back} back", answer)


def hypertui(command: str, cols: int, rows: int, runs: int, only: set[str] | None, cwd: str | None = None) -> Results:
    results = Results()
    wanted = [t for t in LIST_TRANSITIONS + HEATMAP_TRANSITIONS if only is None or t.id in only]
    with terminal(command, cols, rows, cwd) as term:
        term.wait_for(_CHECKED)  # the first data (the status bar's time of the last check)
        term.quiet(1.0, longest=10.0)  # and the other cohorts' counts, fetched right after
        for transition in wanted:
            if transition in LIST_TRANSITIONS:
                open_and_back(term, results, transition, runs)
        if only is None or "cursor" in only:
            for run in range(2 * runs):
                key = LIST_CURSOR[run % len(LIST_CURSOR)]
                results.record(f"{key} (cohort list)", term.press(key))
                term.quiet(1.0)  # the cohort's panels, fetched once the cursor rests
        term.press("tab")
        term.press("tab")
        for transition in wanted:
            if transition in HEATMAP_TRANSITIONS:
                open_and_back(term, results, transition, runs)
        if only is None or "cursor" in only:
            for run in range(runs):
                for key in HEATMAP_CURSOR:
                    results.record(f"{key} (heatmap)", term.press(key))
    return results


def reference(command: str, cols: int, rows: int, runs: int, key: str) -> Results:
    """A peer's screen opened by `key` and closed with esc, `runs` times after one untimed."""
    results = Results()
    with terminal(command, cols, rows) as term:
        term.quiet(1.0, longest=5.0)
        name = f"{command.split()[0]} {key}"
        open_and_back(term, results, Transition(name, name, key, back=("esc",)), runs)
    return results


def hypertui_for(url: str | None) -> str:
    """hypertui's command against `url`, or (None) on the embedded simulator."""
    if url:
        return hypertui_command(url, refresh=None)  # None: it follows the data's cadence
    # No token: the embedded simulator. Its market updates every 600 s: no refresh in a measurement.
    return f"{sys.executable} -m hypertui --no-store --update-interval 600"


def measure(sizes: list[tuple[int, int]], runs: int, url: str | None = None, only: set[str] | None = None
            ) -> dict[tuple[int, int], dict[str, Results]]:
    command = hypertui_for(url)
    measured: dict[tuple[int, int], dict[str, Results]] = {}
    for cols, rows in sizes:
        measured[cols, rows] = {
            "hypertui": hypertui(command, cols, rows, runs, only),
            "htop": reference("htop -d 100", cols, rows, runs, "h"),  # its own refresh every 10 s, not 1.5 s
            "btop": reference("btop", cols, rows, runs, "m"),
        }
    return measured


def compare(trees: dict[str, str], sizes: list[tuple[int, int]], runs: int, rounds: int, only: set[str] | None,
            url: str | None = None) -> None:
    """Prints each key's figures for hypertui from each tree (its PYTHONPATH, run in it), with btop's menu:
    the trees are measured in turn, `rounds` times over, so that the box's drift falls on all of
    them alike; each tree's presses are pooled over the rounds."""
    for name, path in trees.items():  # `python -m` imports from its working directory first: run there
        found = subprocess.run([sys.executable, "-c", "import hypertui; print(hypertui.__file__)"], cwd=path,
                               env={**os.environ, "PYTHONPATH": path}, capture_output=True, text=True, check=True)
        print(f"{name}: {found.stdout.strip()}")
    command = hypertui_for(url)
    for cols, rows in sizes:
        pooled = {name: Results() for name in trees}
        btop = Results()
        for _ in range(rounds):
            for name, path in trees.items():
                pooled[name].merge(hypertui(f"PYTHONPATH={path} {command}", cols, rows, runs, only, cwd=path))
            btop.merge(reference("btop", cols, rows, runs, "m"))
        print(f"\n### {cols}x{rows}, {rounds} rounds of {runs}: settled median (p90), bytes; btop m {btop.keys['btop m'].line()}")
        print(f"{'key':<36} " + " ".join(f"{name:<24}" for name in trees))
        for key in pooled[next(iter(trees))].keys:
            cells = [pooled[name].keys.get(key, Timing()) for name in trees]
            print(f"{key:<36} " + " ".join(
                f"{t.median:5.0f} ({t.p90:4.0f}) {t.size / 1000:5.1f} KB   " if t.settled else f"{'no answer':<24}" for t in cells))


def report(measured: dict[tuple[int, int], dict[str, Results]], source: str = "embedded") -> list[tuple[str, str, str, bool]]:
    """Prints the table per size; returns the targets as (what, measured, target, met)."""
    targets: list[tuple[str, str, str, bool]] = []
    for (cols, rows), programs in measured.items():
        print(f"\n### {cols}x{rows}, {source}: keypress → settled, median (p90), first byte, bytes")
        for program, results in programs.items():
            for name, timing in results.keys.items():
                print(f"{program:<9} {name:<40} {timing.line()}")
        btop = programs["btop"].keys["btop m"]
        for name, (first, settled, size) in programs["hypertui"].first_openings.items():
            print(f"hypertui  {name + ' (first opening)':<40} {settled:6.1f} ms, first byte {first:6.1f} ms, {size / 1000:5.1f} KB")
        limit_ms = min(TARGET_MS, TARGET_VS_BTOP * btop.median)
        screen = SCREEN_BYTES * cols * rows / (160 * 45)
        for name, timing in programs["hypertui"].keys.items():
            if not timing.settled:
                targets.append((f"{cols}x{rows} {source}: {name}", "no answer", "", False))
            elif "(" in name:  # a cursor or mode key
                targets.append((f"{cols}x{rows} {source}: {name}", f"{timing.median:.1f} ms", f"{TARGET_CURSOR_MS:g} ms",
                                timing.median <= TARGET_CURSOR_MS))
            else:
                met = timing.median <= limit_ms and timing.p90 <= TARGET_P90_MS and timing.size <= screen
                targets.append((f"{cols}x{rows} {source}: {name}", f"{timing.median:.0f} / p90 {timing.p90:.0f} ms, {timing.size / 1000:.1f} KB",
                                f"{limit_ms:.0f} / p90 {TARGET_P90_MS:.0f} ms, {screen / 1000:.1f} KB", met))
    return targets


def print_targets(targets: list[tuple[str, str, str, bool]]) -> None:
    print(f"\n{'target':<76} {'measured':<32} {'target':<30} met")
    for what, value, target, met in targets:
        print(f"{what:<76} {value:<32} {target:<30} {'yes' if met else 'NO'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default="160x45,80x24")
    ids = ",".join(t.id for t in LIST_TRANSITIONS + HEATMAP_TRANSITIONS)
    ap.add_argument("--only", help=f"some of the transitions, and the cursor keys if 'cursor' is named: {ids}")
    ap.add_argument("--url", help="base URL of a running `hypertui sim` (default: the embedded simulator)")
    ap.add_argument("--compare", metavar="NAME=PATH,...",
                    help="hypertui from each PYTHONPATH in turn (e.g. before=/tmp/old,after=.)")
    ap.add_argument("--rounds", type=int, default=2, help="with --compare: turns of every tree")
    args = ap.parse_args()
    sizes = [(int(c), int(r)) for c, r in (size.split("x") for size in args.sizes.split(","))]
    only = set(args.only.split(",")) if args.only else None
    if args.compare:
        trees = dict(tree.split("=", 1) for tree in args.compare.split(","))
        compare(trees, sizes, args.runs, args.rounds, only, args.url)
        return
    print_targets(report(measure(sizes, args.runs, args.url, only), args.url or "embedded"))


if __name__ == "__main__":
    main()
