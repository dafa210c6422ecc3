"""One name per job: the position ages defined once, one module per alerts job, the test double
in a module that says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import hypertui
from hypertui.api.position_age import POSITION_AGES
from hypertui.cli import build_parser

PACKAGE = Path(hypertui.__file__).parent
AGES_WRITTEN_OUT = re.compile(r"""["']all["'],\s*["']24h["'],\s*["']7d["'],\s*["']30d["']""")


def test_the_position_ages_are_written_out_once():
    written = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if AGES_WRITTEN_OUT.search(p.read_text())]
    assert written == ["api/position_age.py"]


@pytest.mark.parametrize(
    ("kind", "option"),
    [("summary 3", "--position-age"), ("bias-history 3", "--recency"), ("breakdown BTC", "--position-age"),
     ("segment-metrics BTC", "--position-age"), ("heatmap", "--opened-within")],
)
def test_the_command_lines_age_options_take_the_position_ages(kind: str, option: str, capsys: pytest.CaptureFixture[str]):
    parser = build_parser()
    for age in POSITION_AGES:
        parser.parse_args(["dump", *kind.split(), option, age])
    with pytest.raises(SystemExit):
        parser.parse_args(["dump", *kind.split(), option, "1h"])
    assert "invalid choice: '1h'" in capsys.readouterr().err


def test_one_module_per_alerts_job():
    assert sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*alert*.py")) == [
        "monitor/alert_rules.py",  # the rules and when they fire (no Textual)
        "ui/alert_center.py",  # telling the user: toast, bell, log
        "ui/screens/alert_form.py",  # the form that makes a rule
        "ui/screens/alerts.py",  # the screen listing what fired
    ]


def test_the_test_double_lives_in_hypertui_testing():
    from hypertui.ui import screenshots

    assert screenshots.FaultyClient.__module__ == "hypertui.testing"
