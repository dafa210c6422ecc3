"""The data layer (client, models, simulator, monitor) never imports Textual."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["hypertui.api", "hypertui.api.client", "hypertui.sim", "hypertui.monitor", "hypertui.dump", "hypertui.source"])
def test_data_layer_does_not_import_textual(module):
    code = f"import sys, importlib; importlib.import_module({module!r}); print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
