"""The 16 cohorts in two groups (size, pnl), ordered by range, each with its open value and long
share; highlighting one selects it (the `choose` it is given is called at once, in the cursor's
own frame: a message would reach the screen a frame later, and the held summary and risk with it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from hypertui.api.models import Segment
from hypertui.monitor.rows import CohortLine
from hypertui.ui.signals import Signals, signals_of
from hypertui.ui.textual_internals import refresh_options, replace_one_line_prompt
from hypertui.ui.widgets.marks import lean_text

GROUP_TITLES = {"size": "SIZE · perp equity", "pnl": "PNL · all-time perp PnL"}
NAME_WIDTH = 14


def _prompt(line: CohortLine, signals: Signals) -> Text:
    """One row; dim, with its age after it, when its figures are of an older API update."""
    name = line.name if len(line.name) <= NAME_WIDTH else line.name[: NAME_WIDTH - 1] + "…"
    lean = lean_text(line.lean, signals)
    return Text.assemble(
        line.emoji or " ",
        " ",
        (f"{name:<{NAME_WIDTH}}", "bold"),
        f"{line.value:>8}",
        " ",
        (f"{line.share:>5}", lean.style),
        lean,
        f" {line.age:>3}" if line.age else "",
        style="dim" if line.age else "",
    )


class CohortList(OptionList):
    # The highlight's move repaints the two options it leaves and reaches, not the list.
    highlighted: reactive[int | None] = reactive(None, repaint=False)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="cohorts.down"),
        Binding("k", "cursor_up", "Up", show=False, id="cohorts.up"),
    ]

    def __init__(self, choose: Callable[[int], None]) -> None:
        """`choose`: told the cohort the highlight moved to (by a key, or by code: see select)."""
        super().__init__(id="cohorts")
        self._choose = choose
        self._prompts: dict[str, Text] = {}

    def set_groups(self, groups: list[tuple[str, list[Segment]]], lines: dict[int, CohortLine], selected: int) -> None:
        """Build the list once the legend is known."""
        options: list[Option] = []
        for axis, segments in groups:
            options.append(
                Option(Text(GROUP_TITLES.get(axis, axis), style="bold dim"), id=f"axis-{axis}", disabled=True)
            )
            for seg in segments:
                prompt = _prompt(lines[seg.id], signals_of(self))
                self._prompts[str(seg.id)] = prompt
                options.append(Option(prompt, id=str(seg.id)))
        self.set_options(options)
        self.select(selected)

    def select(self, segment_id: int) -> None:
        """Highlight a cohort; the highlight calls `choose` as a key press would."""
        self.highlighted = self.get_option_index(str(segment_id))

    def update_lines(self, lines: dict[int, CohortLine]) -> None:
        """Replace only the prompts whose text changed, and repaint only their lines (a prompt
        here is always one line: textual_internals.replace_one_line_prompt)."""
        signals = signals_of(self)
        for sid, line in lines.items():
            key = str(sid)
            prompt = _prompt(line, signals)
            if key in self._prompts and self._prompts[key] != prompt:
                self._prompts[key] = prompt
                replace_one_line_prompt(self, self.get_option_index(key), prompt)

    # OptionList's watcher, then ours; Textual passes the old value too to a watcher that takes it.
    def watch_highlighted(self, old: int | None, highlighted: int | None) -> None:  # type: ignore[override]
        super().watch_highlighted(highlighted)
        refresh_options(self, old, highlighted)
        option_id = None if highlighted is None else self.options[highlighted].id
        # Also called when code moves the highlight; the screen ignores the cohort already selected.
        if option_id and option_id.isdigit():
            self._choose(int(option_id))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()  # told to `choose` already
