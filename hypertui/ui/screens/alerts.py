"""`!`: the alert rules in effect (current value and state) and what fired, newest first.

Pushed over the living dashboard; it is re-shown after every refresh's evaluation. Kept between
openings (it holds nothing of its own: the rules and what fired are the alert center's): opened
again, it shows them afresh with both tables' cursors and scroll at the top.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from hypertui.monitor.alert_rules import describe, format_value
from hypertui.ui.alert_center import AlertCenter
from hypertui.ui.screens.drilldown import KeptScreen
from hypertui.ui.signals import signals_of
from hypertui.ui.widgets.footer import Footer
from hypertui.ui.widgets.synced_table import Column, Row, SyncedTable


def rule_columns(rule_width: int, state_width: int) -> list[Column]:
    """Sized to their text, the current value first: the state stays in view on 80 columns."""
    return [
        ("number", "#", 3),
        ("value", Text("Now".rjust(9)), 9),
        ("rule", "Rule", rule_width),
        ("state", "State", state_width),
    ]


FIRED_COLUMNS: list[Column] = [
    ("time", "Time (UTC)", 19),
    ("number", "#", 3),
    ("text", "Alert", 100),
]


class AlertsScreen(KeptScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace,exclamation_mark", "back", "Back", key_display="esc / !", id="alerts.back"),
    ]

    def __init__(self, center: AlertCenter) -> None:
        super().__init__(id="alerts")
        self.center = center

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("Dashboard", "dim"), " › ", ("alerts", "bold")), id="alerts-crumb")
        yield Static(id="alerts-rules-title", classes="alerts-title")
        yield SyncedTable(id="alerts-rules")
        yield Static(id="alerts-problems")
        yield Static(id="alerts-fired-title", classes="alerts-title")
        yield SyncedTable(id="alerts-fired")
        yield Footer()

    def on_mount(self) -> None:
        for table in self.query(SyncedTable):
            table.cursor_type = "row"
        self.query_one("#alerts-fired", SyncedTable).set_columns(FIRED_COLUMNS)
        self.query_one("#alerts-fired", SyncedTable).focus()
        self.show()

    def refill(self) -> None:
        for table in self.query(SyncedTable):
            table.move_cursor(row=0, scroll=False)
            table.scroll_home(animate=False, immediate=True)
        self.query_one("#alerts-fired", SyncedTable).focus()
        self.show()

    def show(self) -> None:
        if not self.is_attached:
            return
        center = self.center
        rules = center.evaluator.rules
        title = Text.assemble(("Rules in effect", "bold"), f" ({len(rules)})")
        if not rules:
            where = center.config_file or "the config file"
            title.append(f" · none: A on a heatmap cell or risk row, or [[alerts]] tables in {where}", style="dim")
        self.query_one("#alerts-rules-title", Static).update(title)
        rule_rows = [self._rule_row(n, r) for n, r in rules]
        table = self.query_one("#alerts-rules", SyncedTable)
        widest = [max([least, *(len(cells[i].plain) for _, cells in rule_rows)]) for i, least in ((2, 12), (3, 24))]
        table.set_columns(rule_columns(*widest))  # only rebuilt when a width changes
        table.sync(rule_rows)
        problems = [*center.problems, *([center.log_error] if center.log_error else [])]
        box = self.query_one("#alerts-problems", Static)
        box.update(Text("\n".join(problems), style="red"))
        box.display = bool(problems)
        fired_title = Text.assemble(("Fired", "bold"), f" ({len(center.fired)}, newest first)")
        if center.log_path is not None:
            fired_title.append(f" · also in {center.log_path}", style="dim")
        self.query_one("#alerts-fired-title", Static).update(fired_title)
        rows: list[Row] = [
            (
                f"{i}",
                [Text(a.at.strftime("%Y-%m-%d %H:%M:%S")), Text(f"#{a.number}"), Text(a.text, style="bold")],
            )
            for i, a in reversed(list(enumerate(center.fired)))
        ]
        self.query_one("#alerts-fired", SyncedTable).sync(rows)

    def _rule_row(self, number: int, rule: Any) -> Row:
        state = self.center.evaluator.states[number]
        reading = state.reading
        value = format_value(rule, reading.value if reading else None)
        if reading is not None and reading.missing:
            status = Text(f"no data: {reading.missing}", style="dim")
        else:
            status = Text(state.describe(rule), style=f"bold {signals_of(self).caution}" if state.armed is False else "")
        rule_text = f"{rule.name}: {describe(rule)}" if rule.name else describe(rule)
        return (str(number), [Text(f"#{number}"), Text(value.rjust(9)), Text(rule_text), status])

    def action_back(self) -> None:
        self.app.pop_screen()
