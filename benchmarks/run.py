"""The benchmark table: hypertui next to htop and btop, measured in one run on this machine.

    python benchmarks/run.py [--runs 3] [--seconds 20] [--sizes 160x45,80x24] [--only transitions]

Against `hypertui sim` servers started here (seed 7; in their own processes, as a remote API
would be), in terminals of fixed sizes:
1. cold start: process start → first frame and → first data on screen (read from a
   pseudo-terminal as the terminal gets it; hypertui's bytecode compiled first, as after any
   earlier start), and the CPU the process used by then, next to the bare import floor (and
   the same with pydantic's BaseModel, which `import pydantic` does not load) and the
   smallest Textual + httpx + pydantic app that shows the heatmap (`minimal_app.py`) in the
   same run; hypertui again against a server that answers every request 50-150 ms late
   (`--chaos latency=1,latency_ms=100`: a remote API's round trips, without TLS); plus the
   headless figure for the embedded simulator (`first_data.py`), whose market is built inside
   the UI's process;
2. main-thread time of one full refresh (`refresh_cost.py`), next to Textual's own cost of
   repainting every line (`repaint_floor.py`);
3. CPU % and terminal bytes per refresh at a 2 s interval, in tmux panes: hypertui on data that does not
   change between refreshes (the API updates every 15-30 min) and on data that changes every
   refresh, hypertui at its default interval (it follows the data's cadence; bytes per 2 s),
   `htop -d 20` and `btop` (installed with apt-get if missing), and an empty Textual app (the
   framework's own idle floor); hypertui checks state/status once a minute until the announced
   update, so use --seconds 60 or more for its idle rows to include a check;
4. the positions drill-down at --scale large: first page and RSS after 100,000 rows;
5. parsing: models vs json.loads (`bench_parse.py`);
6. screen transitions (`transitions.py`): every drill-down, help, alerts and the palette opened
   and closed, and the cursor and mode keys, keypress → settled and bytes, beside htop's `h` and
   btop's `m` in the same run, on the embedded simulator and on `hypertui sim --scale large`;
   `--only transitions` runs this part alone, on the embedded simulator.
Prints medians of the runs with min-max, then every target of issue 23 as measured / target / met.
Never part of the test suite.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
INTERVAL = 2.0
LATENCY_MS = 100  # the distant server's mean delay per answer
FLOOR = "import textual.app, httpx, pydantic"
# `import pydantic` loads no model machinery (BaseModel is imported on first use): what any app
# with one pydantic model pays on top of the floor, minimal_app.py included.
MODEL_FLOOR = FLOOR + "; from pydantic import BaseModel"


def spread(values: list[float], unit: str, digits: int = 2) -> str:
    med = statistics.median(values)
    return f"{med:.{digits}f} {unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def ensure_installed(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=False, capture_output=True)


def precompile() -> None:
    """Bytecode for hypertui's modules, as a second start finds it: where PYTHONDONTWRITEBYTECODE
    is set (this box's CI image sets it), every start would otherwise compile them (~0.1 s)."""
    import compileall

    import hypertui

    compileall.compile_dir(Path(hypertui.__file__).parent, quiet=1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def simulator(*args: str) -> Iterator[str]:
    """A `hypertui sim` server for the duration; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hypertui", "sim", "--port", str(port), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/api/external"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def hypertui_command(url: str, refresh: float | None = INTERVAL) -> str:
    every = f" --refresh {refresh:g}" if refresh else ""  # none: follow the data's cadence (state/status)
    # --no-store: every start is a cold one (a store holding the update answers a restart from the file)
    return f"HYPERTRACKER_API_TOKEN=benchmark {sys.executable} -m hypertui --base-url {url} --no-store{every}"


@contextmanager
def pane(command: str, cols: int, rows: int) -> Iterator[list[str]]:
    """A detached tmux session running `command`; yields the tmux command prefix."""
    tmux = ["tmux", "-L", f"bench-{os.getpid()}-{time.monotonic_ns()}"]
    subprocess.run([*tmux, "new-session", "-d", "-s", "b", "-x", str(cols), "-y", str(rows), command], check=True)
    try:
        yield tmux
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


_SGR = rb"(?:\x1b\[[0-9;:]*m)*"  # attribute changes, which may split a word


def _drawn(word: str) -> re.Pattern[bytes]:
    """`word` in a terminal's input, its letters possibly split by attribute changes."""
    return re.compile(_SGR.join(re.escape(c.encode()) for c in word))


# The status bar's time of the last check (HH:MM:SS), there once the first cycle is done: narrow,
# the bar drops the word "updated" before it. Nothing else on the dashboard shows seconds.
_CHECKED = re.compile(_SGR.join([rb"\d\d", b":", rb"\d\d", b":", rb"\d\d"]))


def pty_start(command: str, cols: int, rows: int) -> tuple[float, float, float]:
    """Seconds from starting `command` in a pseudo-terminal of cols×rows to its first frame
    ("Cohorts" drawn) and to data on screen (the status bar's time of the last check, which
    follows the first cycle), read as the terminal receives them; and the CPU seconds the process had used
    by then (all threads), which a busy machine disturbs less than the clock. Nothing polls:
    a `tmux capture-pane` every 10 ms (this script's earlier way) took enough CPU from the app
    on a 2-core box to delay its first data by ~0.35 s (its own time stamps, polled and not)."""
    frame_at, data_at = _drawn("Cohorts"), _CHECKED
    frame = data = cpu = 0.0
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal's size before anything can ask for it
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            # `env` runs the command in this process (its CPU is what is read), VAR=value prefixes too
            os.execvpe("sh", ["sh", "-c", f"exec env {command}"], {**os.environ, "TERM": "xterm-256color"})
        finally:
            os._exit(127)  # never back into the benchmark's own code
    seen = b""
    try:
        while not data and time.perf_counter() - start < 30:
            if not select.select([fd], [], [], 1.0)[0]:
                continue
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:  # the program ended
                break
            now = time.perf_counter() - start
            seen = seen[-256:] + chunk  # a word may be split between reads
            frame = frame or (now if frame_at.search(seen) else 0.0)
            data = now if frame and data_at.search(seen) else 0.0
        cpu = _cpu_ticks(str(pid)) / os.sysconf("SC_CLK_TCK")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    if not data:  # a zero would pass for a start faster than any
        raise RuntimeError(f"no data on screen within 30 s, or the program ended first: {command}")
    return frame, data, cpu


def terminal_cost(command: str, seconds: float, cols: int, rows: int, warmup: float = 5.0) -> tuple[float, float]:
    """(bytes written to the terminal per second, CPU % of one core) after a warm-up."""
    out = Path(tempfile.mkstemp()[1])
    try:
        with pane(command, cols, rows) as tmux:
            time.sleep(warmup)
            pid = subprocess.run([*tmux, "display", "-p", "-t", "b", "#{pane_pid}"], capture_output=True, text=True).stdout.strip()
            children = subprocess.run(["pgrep", "-P", pid], capture_output=True, text=True).stdout.split()
            pid = children[0] if children else pid
            subprocess.run([*tmux, "pipe-pane", "-t", "b", "-o", f"cat >> {out}"], check=True)
            ticks0 = _cpu_ticks(pid)
            time.sleep(seconds)
            ticks1 = _cpu_ticks(pid)
            subprocess.run([*tmux, "pipe-pane", "-t", "b"], check=True)
            written = out.stat().st_size
    finally:
        out.unlink(missing_ok=True)
    hz = os.sysconf("SC_CLK_TCK")
    return written / seconds, 100 * (ticks1 - ticks0) / hz / seconds


def _cpu_ticks(pid: str) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def output_lines(*argv: str) -> list[str]:
    out = subprocess.run([sys.executable, *argv], capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()


def import_floor(code: str = FLOOR) -> tuple[float, float]:
    """Seconds and CPU seconds of `python -c code` (default: "import textual.app, httpx, pydantic")."""
    start, used = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start, _children_cpu() - used


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def numbers(line: str) -> list[float]:
    return [float(w) for w in line.replace(":", " ").replace("(", " ").split() if w.replace(".", "", 1).isdigit()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--sizes", default="160x45,80x24")
    ap.add_argument("--only", choices=("transitions",), help="run one part alone")
    ap.add_argument("--transition-runs", type=int, default=5, help="timed openings of each screen (transitions)")
    args = ap.parse_args()
    sizes = [tuple(int(x) for x in size.split("x")) for size in args.sizes.split(",")]
    ensure_installed("htop", "btop", "tmux")
    precompile()
    print(f"# hypertui benchmarks — {os.cpu_count()} cores, Python {sys.version.split()[0]}, runs={args.runs}")
    import transitions  # this folder; it imports helpers from this module, so not at the top

    if args.only == "transitions":
        print("\n## Screen transitions")
        transitions.print_targets(transitions.report(transitions.measure(sizes, args.transition_runs)))
        return
    targets: list[tuple[str, str, str, bool]] = []  # (what, measured, target, met), printed last

    with (
        simulator("--update-interval", "600") as still,
        simulator("--update-interval", str(INTERVAL)) as moving,
        simulator("--update-interval", "600", "--chaos", f"latency=1,latency_ms={LATENCY_MS}") as distant,
    ):
        print("\n## Cold start (medians, min-max)")
        for cols, rows in sizes:
            runs: dict[str, list[tuple[float, float, float]]] = {"hypertui": [], "minimal": [], "distant": []}
            floors: list[tuple[float, float]] = []
            model_floors: list[float] = []
            for _ in range(args.runs):
                runs["hypertui"].append(pty_start(hypertui_command(still), cols, rows))
                runs["minimal"].append(pty_start(f"{sys.executable} {HERE / 'minimal_app.py'} {still}", cols, rows))
                runs["distant"].append(pty_start(hypertui_command(distant), cols, rows))
                floors.append(import_floor())
                model_floors.append(import_floor(MODEL_FLOOR)[0])
            print(f"{cols}x{rows}: import floor {spread([f[0] for f in floors], 's')}, CPU {spread([f[1] for f in floors], 's')}; "
                  f"with pydantic's BaseModel {spread(model_floors, 's')}")
            for name, label in (
                ("hypertui", "hypertui"),
                ("minimal", "minimal_app.py (one request, one table)"),
                ("distant", f"hypertui, each answer {LATENCY_MS // 2}-{LATENCY_MS * 3 // 2} ms late"),
            ):
                frame, data, cpu = zip(*runs[name])
                times = statistics.median(data) / statistics.median(f[0] for f in floors)
                # Each start over the floor taken right after it: the box's speed drifts between runs.
                paired = [d / f[0] for d, f in zip(data, floors, strict=True)]
                with_models = statistics.median(data) / statistics.median(model_floors)
                print(f"  {label}: first frame {spread(list(frame), 's')}, first data {spread(list(data), 's')} "
                      f"({times:.2f}× the floor; run by run {statistics.median(paired):.2f}× ({min(paired):.2f}-{max(paired):.2f}); "
                      f"{with_models:.2f}× the floor with BaseModel), CPU by then {spread(list(cpu), 's')}")
            ratio = statistics.median(d for _, d, _ in runs["hypertui"]) / statistics.median(d for _, d, _ in runs["minimal"])
            targets.append((f"{cols}x{rows} first data vs minimal_app.py", f"{ratio:.2f}×", "1.2×", ratio <= 1.2))
        embedded = [numbers(output_lines(str(HERE / "first_data.py"))[-1]) for _ in range(args.runs)]
        print(f"embedded simulator, headless: first frame {spread([e[0] for e in embedded], 's')}, "
              f"first data {spread([e[1] for e in embedded], 's')}, import floor {spread([e[2] for e in embedded], 's')}")

        print("\n## One full refresh, main thread")
        for cols, rows in sizes:
            refresh = output_lines(str(HERE / "refresh_cost.py"), "--size", f"{cols}x{rows}")[-1]
            floor = output_lines(str(HERE / "repaint_floor.py"), "--size", f"{cols}x{rows}")[-3:]  # lines, panels, datatable
            print(refresh, *floor, sep="\n")
            ratio = numbers(refresh)[0] / numbers(floor[0])[0]  # the first figure of each: the median
            targets.append((f"{cols}x{rows} full refresh vs bare repaint", f"{ratio:.2f}×", "3×", ratio <= 3))

        print(f"\n## CPU and terminal bytes at a {INTERVAL:g} s refresh")
        tools = {
            "hypertui, data unchanged": hypertui_command(still),
            "hypertui, data changing": hypertui_command(moving),
            "hypertui, default interval": hypertui_command(still, None),
            "htop -d 20": "htop -d 20",
            "btop": "btop",
            "empty Textual app": f"{sys.executable} -c 'from textual.app import App; App().run()'",
        }
        print(f"{'program':<26} {'size':<7} {'CPU % (one core)':<24} {'bytes per refresh':<24}")
        idle: dict[tuple[str, int, int], tuple[float, float]] = {}  # (program, cols, rows) -> medians (CPU %, bytes)
        for name, command in tools.items():
            if shutil.which(command.split()[0]) is None and not command.startswith(("HYPER", sys.executable)):
                print(f"{name:<26} not installed")
                continue
            for cols, rows in sizes:
                cpu, per_refresh = [], []
                for _ in range(args.runs):
                    rate, load = terminal_cost(command, args.seconds, cols, rows)
                    cpu.append(load)
                    per_refresh.append(rate * INTERVAL)
                print(f"{name:<26} {cols}x{rows:<4} {spread(cpu, '%'):<24} {spread(per_refresh, 'B', 0):<24}")
                idle[name, cols, rows] = statistics.median(cpu), statistics.median(per_refresh)
        for cols, rows in sizes:
            ours = idle["hypertui, data unchanged", cols, rows]
            peers = [idle[p, cols, rows] for p in ("htop -d 20", "btop") if (p, cols, rows) in idle]
            met = all(ours[0] < cpu and ours[1] < size for cpu, size in peers)
            targets.append((f"{cols}x{rows} idle CPU and bytes", f"{ours[0]:.2f} %, {ours[1]:.0f} B",
                            "below htop's and btop's", met))

    print("\n## Positions drill-down, --scale large, BTC since 2025-04-04")
    with simulator("--scale", "large") as large:
        # A single first page swings 60-250 ms on a shared box: the median of several, then one long scroll.
        firsts = [
            float(output_lines(str(HERE / "drilldown.py"), "--url", large, "--rows", "1000")[0].split()[4])
            for _ in range(args.runs)
        ]
        print(f"first page on screen, {args.runs} runs: {spread(firsts, 'ms', 0)}")
        scroll = output_lines(str(HERE / "drilldown.py"), "--url", large)
        print(*scroll, sep="\n")
        first_page = statistics.median(firsts)
        targets.append(("drill-down first page, --scale large", f"{first_page:.0f} ms", "150 ms", first_page < 150))
        rss = [numbers(line)[-1] for line in scroll if line.split()[0][:1].isdigit()]  # the table's rows: RSS last
        growth = rss[-1] / rss[1] - 1  # from the first 10,000 rows held to the last (the first row: one page)
        targets.append(("memory over 100,000 rows", f"+{growth:.0%} from 25k rows", "flat (+10 %)", growth <= 0.10))

    print("\n## Parsing")
    for line in output_lines(str(HERE / "bench_parse.py")):
        print(line)

    print("\n## Screen transitions")
    targets += transitions.report(transitions.measure(sizes, args.transition_runs))
    with simulator("--scale", "large", "--update-interval", "600") as large:
        measured = transitions.measure(sizes, args.transition_runs, url=large)
        targets += transitions.report(measured, "sim --scale large")
    transitions.print_targets(targets)


if __name__ == "__main__":
    main()
