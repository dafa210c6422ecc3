"""Textual's private API, used in one module (ui/textual_internals.py): every name it reaches for
is still on the real classes, and no widget or drill-down screen reaches for one itself.

A Textual upgrade that moves a name fails here, naming it, instead of breaking a screen silently.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.dom import DOMNode
from textual.driver import Driver
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, OptionList

from hypertui.ui import textual_internals as internals

PACKAGE = Path(internals.__file__).parent
PRIVATE_NAME = re.compile(r"\._[a-z]\w*")
PRIVATE_MODULE = re.compile(r"\btextual(\.\w+)*\._\w+")


class _Holder(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable()
        yield OptionList("one")


def _private_names_used() -> set[str]:
    """The private attributes textual_internals.py names (a private module it imports from fails
    on import, naming itself)."""
    source = PRIVATE_MODULE.sub("", inspect.getsource(internals))
    return {name[1:] for name in PRIVATE_NAME.findall(source)}


def test_every_private_name_used_is_declared():
    declared = {name for names in internals.PRIVATE.values() for name in names}
    assert _private_names_used() <= declared, "used in textual_internals.py but not in PRIVATE"


@pytest.mark.parametrize(
    ("owner", "name"), [(owner, name) for owner, names in internals.PRIVATE.items() for name in names],
    ids=lambda x: getattr(x, "__name__", x),
)
async def test_each_private_name_is_still_on_textuals_class(owner: type, name: str):
    async with _Holder().run_test() as pilot:
        # An instance: some are set in __init__ (a module is its own).
        instances = {
            App: pilot.app, Screen: pilot.app.screen, DOMNode: pilot.app.screen,
            Driver: pilot.app._driver, internals.XTermParser: internals.XTermParser(),
        }  # fmt: skip
        is_widget = isinstance(owner, type) and issubclass(owner, Widget)
        widget = instances.get(owner) or (pilot.app.query_one(owner) if is_widget else owner)
        assert hasattr(owner, name) or hasattr(widget, name), (
            f"Textual no longer has {owner.__name__}.{name}: see hypertui/ui/textual_internals.py"
        )


@pytest.mark.parametrize(
    ("ours", "theirs", "name"),
    [
        (internals.HookedDataTable, DataTable, "_render_line_in_row"),
        (internals.HookedDataTable, DataTable, "_update_dimensions"),
        (internals.HookedDataTable, DataTable, "_size_updated"),
        (internals.HookedApp, App, "_replace_screen"),
        (internals.HookedScreen, Screen, "_on_timer_update"),
    ],
    ids=lambda x: getattr(x, "__name__", x),
)
def test_the_overridden_steps_keep_their_parameters(ours: type, theirs: type, name: str):
    """The private methods our classes override: a changed signature would be called wrongly."""
    mine, textuals = inspect.signature(getattr(ours, name)), inspect.signature(getattr(theirs, name))
    assert list(mine.parameters) == list(textuals.parameters), f"{theirs.__name__}.{name} changed its parameters"


@pytest.mark.parametrize(
    "path",
    sorted(p for p in PACKAGE.rglob("*.py") if p.name != "textual_internals.py"),
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_nothing_but_the_internals_module_touches_textuals_private_api(path: Path):
    private = {name for names in internals.PRIVATE.values() for name in names}
    source = path.read_text()
    touched = sorted({name[1:] for name in PRIVATE_NAME.findall(source)} & private)
    touched += sorted(f"def {name}" for name in private if f"def {name}(" in source)
    touched += [m.group(0) for m in PRIVATE_MODULE.finditer(source)]
    assert not touched, f"{path.name} reaches for Textual's private API: {touched}"
