"""The log, alerts.log, exports and the config file on a shared host: private modes, symlinks kept."""

from __future__ import annotations

import logging
import os
import stat
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hypertui.config import ConfigError, setup_logging, write_config_template
from hypertui.config_edit import add_alert, set_setting
from hypertui.monitor.alert_rules import Alert, append_log, parse_rules
from hypertui.monitor.export import Table, write_table

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@pytest.fixture(autouse=True)
def usual_umask():
    """The common 022, under which a plain open() or mkdir() gives 0644 files in 0755 directories."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_log_and_its_rolled_over_files_are_private(tmp_path):
    path = tmp_path / "state" / "log" / "hypertui.log"
    assert setup_logging(path) == path
    logger = logging.getLogger("hypertui")
    handler = next(h for h in logger.handlers if getattr(h, "baseFilename", "") == str(path))
    try:
        logger.info("watching BTC")
        handler.doRollover()
        logger.info("still watching BTC")
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert mode(tmp_path / "state") == mode(path.parent) == 0o700
    assert mode(path) == mode(path.with_name("hypertui.log.1")) == 0o600


def test_a_log_an_older_version_left_readable_is_narrowed(tmp_path):
    path = tmp_path / "hypertui.log"
    path.write_text("old\n")
    path.chmod(0o644)
    setup_logging(path)
    logger = logging.getLogger("hypertui")
    for handler in [h for h in logger.handlers if getattr(h, "baseFilename", "") == str(path)]:
        logger.removeHandler(handler)
        handler.close()
    assert mode(path) == 0o600 and path.read_text() == "old\n"


def test_alerts_log_is_private_in_a_private_folder(tmp_path):
    path = tmp_path / "state" / "hypertui" / "alerts.log"
    [(number, rule)], _ = parse_rules([{"kind": "long_share", "coin": "BTC", "cohort": "Whale", "above": 0.7}])
    alert = Alert(datetime(2026, 11, 20, 12, tzinfo=UTC), number, rule, "BTC Whale long share 71.0% rose above 70.0%")
    append_log(path, [alert])
    assert mode(path) == 0o600 and mode(path.parent) == mode(path.parent.parent) == 0o700


def test_exports_are_private_and_an_existing_folder_is_left_as_it_is(tmp_path):
    table = Table("coin BTC breakdown", lambda: [{"a": 1}])
    made, _ = write_table(tmp_path / "Downloads" / "hypertui", table, "csv", datetime(2026, 3, 4, tzinfo=UTC))
    assert mode(made) == 0o600 and mode(made.parent) == mode(made.parent.parent) == 0o700
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    written, _ = write_table(shared, table, "json", datetime(2026, 3, 4, tzinfo=UTC))
    assert mode(written) == 0o600 and mode(shared) == 0o755  # the user's own folder: theirs to set


def test_saving_a_theme_writes_through_a_symlinked_config(tmp_path):
    dotfiles = tmp_path / "dotfiles" / "hypertui.toml"
    dotfiles.parent.mkdir()
    dotfiles.write_text('# mine\nrefresh = 30\n')
    dotfiles.chmod(0o600)
    link = tmp_path / "config" / "hypertui" / "config.toml"
    link.parent.mkdir(parents=True)
    link.symlink_to(dotfiles)
    set_setting(link, "theme", "hypertui-light")
    assert link.is_symlink() and link.resolve() == dotfiles
    assert dotfiles.read_text() == '# mine\nrefresh = 30\ntheme = "hypertui-light"\n' and mode(dotfiles) == 0o600
    assert sorted(p.name for p in link.parent.iterdir()) == ["config.toml"]  # no temporary file left beside the link


def test_an_alert_rule_is_appended_through_a_symlinked_config_with_its_comments(tmp_path):
    dotfiles = tmp_path / "dotfiles" / "hypertui.toml"
    dotfiles.parent.mkdir()
    mine = '# mine\nrefresh = 30\n\n[[alerts]]\n# whales\nkind = "bias"\ncohort = "Whale"\nabove = 0.5\n\n[keys]\nquit = "q"  # mine too\n'
    dotfiles.write_text(mine)
    dotfiles.chmod(0o600)
    link = tmp_path / "config" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(dotfiles)
    rule = {"kind": "liquidation_risk", "cohort": "Whale", "coin": "ETH", "above": 25.0}
    assert add_alert(link, rule) == 2
    assert link.is_symlink() and mode(dotfiles) == 0o600
    text = dotfiles.read_text()
    assert text.startswith('# mine\nrefresh = 30\n\n[[alerts]]\n# whales\nkind = "bias"\n')
    assert '\n\n[[alerts]]\nkind = "liquidation_risk"\ncohort = "Whale"\ncoin = "ETH"\nabove = 25.0\n' in text
    assert '[keys]\nquit = "q"  # mine too\n' in text
    rules, problems = parse_rules(tomllib.loads(text)["alerts"])
    assert [n for n, _ in rules] == [1, 2] and not problems
    assert sorted(p.name for p in link.parent.iterdir()) == ["config.toml"]


def test_an_alert_rule_joins_an_inline_list_and_is_refused_where_alerts_is_not_one(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('alerts = [{kind = "bias", cohort = 1, above = 0.5}]  # inline\n')
    assert add_alert(path, {"kind": "bias", "cohort": 2, "below": -0.5}) == 2
    assert path.read_text().endswith('{kind = "bias", cohort = 2, below = -0.5}]  # inline\n')
    path.write_text('alerts = "none"\n')
    with pytest.raises(ConfigError, match="alerts is not a list of \\[\\[alerts\\]\\] tables; the rule was not saved"):
        add_alert(path, {"kind": "bias", "cohort": 2, "below": -0.5})
    assert path.read_text() == 'alerts = "none"\n'


def test_a_new_config_file_is_private_in_private_folders(tmp_path):
    path = tmp_path / "config" / "hypertui" / "config.toml"
    set_setting(path, "theme", "hypertui-mono")
    assert mode(path) == 0o600 and mode(path.parent) == mode(path.parent.parent) == 0o700
    other = tmp_path / "init" / "config.toml"
    assert write_config_template(other)
    assert mode(other) == 0o600 and mode(other.parent) == 0o700
