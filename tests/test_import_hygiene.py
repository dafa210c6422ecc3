"""The data layer (client, models, simulator, monitor) and the launcher never import Textual."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "hypertui.api", "hypertui.api.client", "hypertui.api.prefetch", "hypertui.api.recording", "hypertui.sim",
        "hypertui.monitor", "hypertui.monitor.first_requests", "hypertui.monitor.dashboard_state", "hypertui.dump",
        "hypertui.source", "hypertui.launch", "hypertui.record", "hypertui.store_command",
    ],
)
def test_data_layer_does_not_import_textual(module):
    code = f"import sys, importlib; importlib.import_module({module!r}); print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_app_leaves_the_drill_down_screens_until_they_open_and_the_keymap_check_still_knows_their_keys():
    code = (
        "import sys; import hypertui.ui.app as a; from hypertui.ui import keymap;"
        "print(sorted(m for m in sys.modules if m.startswith('hypertui.ui.screens.')));"
        "print(keymap.problems({'positions.back': 'q'}, a.HyperTuiApp))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == "['hypertui.ui.screens.dashboard']"
    assert "no binding has the id" not in out[1]  # known although PositionsScreen was not imported yet


def test_the_start_leaves_the_positions_query_language_until_a_positions_view_opens():
    code = "import sys; import hypertui.cli, hypertui.launch, hypertui.ui.app; print('hypertui.monitor.positions' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # not needed for the first frame: imported with the drill-downs, after it


def test_the_drill_down_screens_are_imported_once_the_first_data_is_drawn():
    code = """
import asyncio, sys
from hypertui.ui import screenshots

async def main():
    app = screenshots.make_app(scale="small")
    async with app.run_test(size=(80, 24)) as pilot:
        await screenshots.settled(pilot)
        await pilot.pause()
        print("hypertui.ui.screens.positions" in sys.modules, app.state.cohorts is not None)

asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]  # not on the first Enter's time
