"""The benchmark table: hypertui next to htop and btop, measured in one run on this machine.

    python benchmarks/run.py [--runs 3] [--seconds 20] [--size 160x45]

Rows: cold start to first data (with the bare import floor), model parsing vs json.loads,
simulator page times, and idle CPU and terminal bytes per refresh at a 2 s interval for
hypertui, `htop -d 20` and `btop` in tmux (installed with apt-get if missing). Prints the
median of the runs with min-max. Never part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
INTERVAL = 2.0


def spread(values: list[float], unit: str, digits: int = 2) -> str:
    med = statistics.median(values)
    return f"{med:.{digits}f} {unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def ensure_installed(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=False, capture_output=True)


def terminal_cost(command: str, seconds: float, cols: int, rows: int) -> tuple[float, float]:
    """(bytes written to the terminal per second, CPU % of one core) after a 5 s warm-up."""
    sock = f"bench-{os.getpid()}-{time.monotonic_ns()}"
    out = Path(tempfile.mkstemp()[1])
    tmux = ["tmux", "-L", sock]
    subprocess.run([*tmux, "new-session", "-d", "-s", "b", "-x", str(cols), "-y", str(rows), command], check=True)
    try:
        time.sleep(5)
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
        subprocess.run([*tmux, "kill-server"], capture_output=True)
        out.unlink(missing_ok=True)
    hz = os.sysconf("SC_CLK_TCK")
    return written / seconds, 100 * (ticks1 - ticks0) / hz / seconds


def _cpu_ticks(pid: str) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def output_lines(*argv: str) -> list[str]:
    out = subprocess.run([sys.executable, *argv], capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--size", default="160x45")
    args = ap.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    ensure_installed("htop", "btop")

    print(f"# hypertui benchmarks — {os.cpu_count()} cores, Python {sys.version.split()[0]}, {args.size}, runs={args.runs}")
    first, floor = [], []
    for _ in range(args.runs):
        line = output_lines(str(HERE / "first_data.py"))[-1]
        # "first data on screen (default): 0.88 s   import floor (new process): 0.20 s"
        parts = [p for p in line.replace(":", " ").split() if p.replace(".", "").isdigit()]
        first.append(float(parts[0]))
        floor.append(float(parts[1]))
    print(f"cold start → first data on screen   {spread(first, 's')}")
    print(f"import floor (textual, httpx, pydantic) {spread(floor, 's')}")
    for line in output_lines(str(HERE / "bench_parse.py")):
        print(f"parsing {line}")

    tools = {
        "hypertui": f"{sys.executable} -m hypertui --refresh {INTERVAL:g} --update-interval {INTERVAL:g}",
        "htop -d 20": "htop -d 20",
        "btop": "btop",
    }
    print(f"\n{'program':<12} {'CPU % (one core)':<26} {'bytes per refresh':<28}")
    for name, command in tools.items():
        if shutil.which(command.split()[0]) is None:
            print(f"{name:<12} not installed")
            continue
        cpu, per_refresh = [], []
        for _ in range(args.runs):
            rate, load = terminal_cost(command, args.seconds, cols, rows)
            cpu.append(load)
            per_refresh.append(rate * INTERVAL)
        print(f"{name:<12} {spread(cpu, '%'):<26} {spread(per_refresh, 'B', 0):<28}")


if __name__ == "__main__":
    main()
