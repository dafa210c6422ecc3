"""`A`: an alert rule made from the focused heatmap cell or risk row, saved to the config file.

A small form over the dashboard, prefilled from what the cursor is on: the coin's long share in
the cell's cohort (heatmap), or the coin's % of value at liquidation risk in the selected cohort
(risk table), the level starting at the current value. Saved, the rule is appended to the config
file as an [[alerts]] table (hypertui.config_edit: comments kept, through a symlink, 0600), and
the running app evaluates it from the next refresh on, like the rules it read at start.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from hypertui.config import ConfigError
from hypertui.monitor.alert_rules import (
    AlertRule,
    LongShareRule,
    RiskRule,
    describe,
    find_cohort,
    parse_rules,
    read,
)
from hypertui.ui.widgets.heatmap import HeatmapTable
from hypertui.ui.widgets.risk_table import RiskTable

DIRECTIONS = ("above", "below")


@dataclass(frozen=True)
class Draft:
    """What the form starts from: the rule's kind, cohort and coin, and the value now."""

    kind: str  # "long_share" (0-1 in the file) or "liquidation_risk" (%)
    cohort: str  # the cohort's name, as the rule names it in the file
    subject: str  # "BTC × 🐋 Whale long share"
    coin: str
    now: float | None  # in the rule's unit; None: not known yet
    missing: str | None = None  # why it is not known

    @property
    def scale(self) -> float:
        """The form asks for a percentage; a long share is kept in the file as 0-1."""
        return 100.0 if self.kind == "long_share" else 1.0

    def level_text(self) -> str:
        return "" if self.now is None else f"{self.now * self.scale:.{1 if self.kind == 'long_share' else 2}f}"

    def table(self, direction: str, percent: float, name: str) -> dict[str, Any]:
        """The [[alerts]] table to save."""
        table: dict[str, Any] = {"kind": self.kind, "cohort": self.cohort, "coin": self.coin}
        table[direction] = round(percent / self.scale, 6)  # 63.2 % -> 0.632, not 0.6320000000000001
        if name:
            table["name"] = name
        return table


def draft_at_cursor(app: Any) -> Draft | str:
    """The draft for the focused heatmap cell or risk row of the app's dashboard, or why there is none."""
    dashboard, state = app.dashboard, app.state
    focused = dashboard.focused
    if isinstance(focused, HeatmapTable):
        chosen = dashboard.heatmap_selection()
        if chosen is None:
            return "No coin under the cursor: the heatmap is empty"
        coin, sid = chosen
        if sid is None:
            return "Move the cursor to a cohort's column: a long-share rule watches one coin in one cohort"
        rule: AlertRule = LongShareRule(kind="long_share", cohort=sid, coin=coin, above=0.0)
    elif isinstance(focused, RiskTable):
        coin, sid = focused.cursor_key, state.view.cohort_id if state.view else None
        if coin is None or sid is None:
            return "No coin under the cursor: the risk table is empty"
        rule = RiskRule(kind="liquidation_risk", cohort=sid, coin=coin, above=0.0)
    else:
        return "An alert rule is made from a heatmap cell or a risk row: move there (tab), then press A"
    seg = find_cohort(state.cohorts or [], sid)
    if seg is None:
        return "The cohort legend is not loaded yet"
    reading = read(rule, state.alert_data())
    return Draft(rule.kind, str(seg.name), reading.subject, coin, reading.value, reading.missing)


class AlertFormScreen(ModalScreen[tuple[int, AlertRule] | None]):
    """Dismissed with (number in the file, rule) once saved; None when cancelled."""

    DEFAULT_CSS = """
    AlertFormScreen { align: center middle; }
    #alert-form-box {
        width: 64;
        height: auto;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    #alert-form-box Input { margin-bottom: 1; }
    #alert-form-problem { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="alert_form.cancel"),
    ]

    def __init__(self, draft: Draft, config_file: Path | None) -> None:
        super().__init__(id="alert-form")
        self.draft = draft
        self.config_file = config_file

    def compose(self) -> ComposeResult:
        draft = self.draft
        now = f"no value yet: {draft.missing}" if draft.now is None else f"now {draft.level_text()}%"
        with Vertical(id="alert-form-box") as box:
            box.border_title = "New alert rule"
            box.border_subtitle = "enter saves · escape cancels"
            yield Static(Text(f"{draft.subject}, {now}", style="bold"), id="alert-form-subject")
            yield Label("Fire when it goes (above / below)")
            yield Input(value=DIRECTIONS[0], id="alert-direction")
            yield Label("Level (%)")
            yield Input(value=draft.level_text(), id="alert-level", type="number")
            yield Label("Name (optional: the toast and the log use it)")
            yield Input(id="alert-name")
            yield Static(id="alert-form-problem")
            yield Static(Text(f"Saved to {self.config_file or 'no config file'}", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#alert-level", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.save()

    def save(self) -> None:
        """Check the form as the config file's rules are checked, append the rule, dismiss."""
        direction = self.query_one("#alert-direction", Input).value.strip().lower()
        if direction not in DIRECTIONS:
            self._problem("Fire when: type above or below")
            return
        try:
            percent = float(self.query_one("#alert-level", Input).value)
        except ValueError:
            self._problem("Level: a number, e.g. 25")
            return
        if not 0 <= percent <= 100:  # nan too
            self._problem("Level: a percentage from 0 to 100")
            return
        table = self.draft.table(direction, percent, self.query_one("#alert-name", Input).value.strip())
        rules, problems = parse_rules([table])
        if problems:
            self._problem(problems[0].split(": ", 2)[-1])  # without "config: [[alerts]] #1 (kind ...)"
            return
        if self.config_file is None:
            self._problem("No config file to save the rule to")
            return
        from hypertui.config_edit import (
            add_alert,  # tomlkit (~40 ms): only when a rule is saved
        )

        try:
            number = add_alert(self.config_file, table)
        except ConfigError as exc:
            self._problem(str(exc))
            return
        self.dismiss((number, rules[0][1]))

    def _problem(self, message: str) -> None:
        self.query_one("#alert-form-problem", Static).update(Text(message))

    def action_cancel(self) -> None:
        self.dismiss(None)


def open_alert_form(app: Any) -> None:
    """`A` on the dashboard: the form for the cell or row under the cursor, or why there is none."""
    draft = draft_at_cursor(app)
    if isinstance(draft, str):
        app.notify(draft, severity="warning", timeout=4, markup=False)
        return
    center = app.alerts

    def saved(result: tuple[int, AlertRule] | None) -> None:
        if result is None:
            return
        number = center.evaluator.add(*result)  # the number it is shown with
        app.notify(
            f"{describe(result[1])}; checked at every refresh, listed under !",
            title=f"Alert rule #{number} saved to {center.config_file}",
            timeout=6,
            markup=False,
        )

    app.push_screen(AlertFormScreen(draft, center.config_file), saved)
