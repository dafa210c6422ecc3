"""Telling the user about fired alerts: a toast, the terminal bell, and a line in alerts.log.

The rules and their crossing state live in `hypertui.monitor.alert_rules`; this holds what fired in
this session (for the alerts screen) and does the telling. The log is written in a thread so a
slow disk never stalls the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from pathlib import Path

from textual.app import App

from hypertui.monitor.alert_rules import Alert, AlertData, AlertEvaluator, AlertRule, append_log, find_cohort


class AlertCenter:
    def __init__(
        self,
        rules: Sequence[tuple[int, AlertRule]] = (),
        problems: Sequence[str] = (),
        log_path: Path | None = None,
        config_file: Path | None = None,
    ) -> None:
        self.evaluator = AlertEvaluator(rules)
        self.problems = list(problems)  # invalid rules, shown on the alerts screen
        self.log_path = log_path
        self.config_file = config_file  # where rules are added: by hand, or saved from the screen (A)
        self.fired: list[Alert] = []  # oldest first
        self.log_error: str | None = None
        self._cohorts_checked = False  # rule cohorts can only be checked once the legend is in

    def check(self, app: App, data: AlertData, now: datetime) -> list[Alert]:
        """Evaluate after a refresh; announce what fires."""
        if data.cohorts and not self._cohorts_checked:
            self._cohorts_checked = True
            unknown = [
                f"rule #{number}: no cohort {rule.cohort!r} in the legend"
                for number, rule in self.evaluator.rules
                if find_cohort(data.cohorts, rule.cohort) is None
            ]
            if unknown:
                self.problems += unknown
                app.notify("\n".join(unknown), title="Alert rules that cannot fire", severity="error", timeout=10, markup=False)
        alerts = self.evaluator.evaluate(data, now)
        self.fired += alerts
        for alert in alerts:
            app.notify(alert.text, title=f"Alert #{alert.number} (! lists them)", severity="warning", timeout=10, markup=False)
        if alerts:
            app.bell()
            if self.log_path is not None:
                app.run_worker(
                    partial(self._write, self.log_path, alerts), thread=True, group="alerts-log", exit_on_error=False
                )
        return alerts

    def _write(self, path: Path, alerts: list[Alert]) -> None:
        try:
            append_log(path, alerts)
        except OSError as exc:
            self.log_error = f"cannot write {path}: {exc.strerror or exc}"
