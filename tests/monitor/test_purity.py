"""hypertui.monitor is pure: none of its modules imports Textual (checked in a fresh interpreter)."""

import pkgutil
import subprocess
import sys

import hypertui.monitor


def test_monitor_modules_do_not_import_textual():
    names = [f"hypertui.monitor.{m.name}" for m in pkgutil.iter_modules(hypertui.monitor.__path__)]
    assert {"hypertui.monitor.format", "hypertui.monitor.plan", "hypertui.monitor.heat"} <= set(names)
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
