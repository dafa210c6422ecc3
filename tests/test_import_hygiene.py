"""The data layer (client, models, simulator, monitor) never imports Textual."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["hypertui.api", "hypertui.api.client", "hypertui.sim", "hypertui.monitor", "hypertui.dump", "hypertui.source"])
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
