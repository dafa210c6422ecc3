"""Settings precedence, validation and the config file's privacy."""

import os
import re
import stat

import pytest

from hypertui.config import ConfigError, check_base_url, load_settings, write_config_template


def write(path, text):
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_no_token_no_url_means_simulator(tmp_path):
    settings = load_settings(env={}, path=tmp_path / "absent.toml")
    assert settings.uses_simulator and settings.sim_seed == 7 and settings.refresh is None


def test_flags_beat_env_beat_file(tmp_path):
    cfg = write(tmp_path / "c.toml", 'token = "file-token"\nrefresh = 30\n[simulator]\nscale = "small"\n')
    env = {"HYPERTRACKER_API_TOKEN": "env-token"}
    assert load_settings(env={}, path=cfg).token.get_secret_value() == "file-token"
    assert load_settings(env=env, path=cfg).token.get_secret_value() == "env-token"
    s = load_settings(token="flag-token", refresh=5, env=env, path=cfg)
    assert s.token.get_secret_value() == "flag-token" and s.refresh == 5.0
    assert load_settings(env={}, path=cfg).refresh == 30.0 and s.sim_scale == "small"
    assert not s.uses_simulator and s.api_base_url.startswith("https://")


def test_token_never_in_repr(tmp_path):
    s = load_settings(token="hunter2-secret", env={}, path=tmp_path / "x.toml")
    assert "hunter2-secret" not in repr(s) and "hunter2-secret" not in str(s)


def test_plain_http_only_for_loopback():
    assert check_base_url("http://127.0.0.1:8787/api/external/") == "http://127.0.0.1:8787/api/external"
    assert check_base_url("http://localhost:8787/api/external")
    assert check_base_url("http://[::1]:8787/x")
    with pytest.raises(ConfigError, match="refusing plain http"):
        check_base_url("http://ht-api.coinmarketman.com/api/external")
    with pytest.raises(ConfigError, match="must start with https"):
        check_base_url("ftp://example.com")


def test_base_url_without_token_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="HYPERTRACKER_API_TOKEN"):
        load_settings(base_url="http://127.0.0.1:8787/api/external", env={}, path=tmp_path / "x.toml")


def test_bad_values_are_clear_errors(tmp_path):
    cfg = write(tmp_path / "c.toml", "refresh = 'soon'\n")
    with pytest.raises(ConfigError, match="refresh must be a number"):
        load_settings(env={}, path=cfg)
    cfg.write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(env={}, path=cfg)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("refresh = nan\n", "refresh must be from 0.5 to 86400 seconds, got nan"),
        ("refresh = inf\n", "refresh must be from 0.5 to 86400 seconds, got inf"),
        ("refresh = 1e300\n", "refresh must be from 0.5 to 86400"),
        ("[simulator]\nupdate_interval = -inf\n", "simulator.update_interval must be from 0.05 to 86400"),
        ("[simulator]\nupdate_interval = nan\n", "simulator.update_interval must be from"),
        ("[simulator]\nupdate_interval = 1e300\n", "simulator.update_interval must be from"),
        ("[simulator]\nseed = inf\n", "simulator.seed must be a whole number from 0 to 4294967295, got inf"),
        ("[simulator]\nseed = nan\n", "simulator.seed must be a whole number"),
        ("[simulator]\nseed = 3.5\n", "simulator.seed must be a whole number"),
        ("[simulator]\nseed = 99999999999999999999\n", "simulator.seed must be a whole number"),
        ("[simulator]\nseed = -1\n", "simulator.seed must be a whole number"),
        ("max_answer_mb = nan\n", "max_answer_mb must be from 1 to 4096 MB, got nan"),
        ("max_answer_mb = 0\n", "max_answer_mb must be from 1 to 4096 MB, got 0"),
        ('max_answer_mb = "lots"\n', "max_answer_mb must be a number, got 'lots'"),
    ],
)
def test_non_finite_huge_or_fractional_numbers_are_clear_errors(tmp_path, text, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(env={}, path=write(tmp_path / "c.toml", text))


def test_the_limits_themselves_are_accepted(tmp_path):
    s = load_settings(env={}, path=write(tmp_path / "c.toml", "refresh = 86400\n[simulator]\nseed = 4294967295\nupdate_interval = 0.05\n"))
    assert (s.refresh, s.sim_seed, s.sim_update_interval) == (86400.0, 4294967295, 0.05)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--refresh", "nan"], "argument --refresh: refresh must be from 0.5 to 86400 seconds, got 'nan'"),
        (["serve", "--refresh", "inf"], "argument --refresh: refresh must be from"),
        (["--update-interval", "inf"], "argument --update-interval: update interval must be from 0.05 to 86400"),
        (["dump", "status", "--seed", "1" + "0" * 30], "argument --seed: seed must be a whole number from 0 to 4294967295"),
        (["sim", "--update-interval", "nan"], "argument --update-interval: update interval must be from"),
        (["sim", "--seed", "-5"], "argument --seed: seed must be a whole number"),
    ],
)
def test_the_same_values_as_flags_are_usage_errors(argv, message, capsys):
    from hypertui.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and "Traceback" not in err


def test_a_bad_number_in_the_file_is_one_line_from_the_command_line(tmp_path, monkeypatch, capsys):
    from hypertui.cli import main

    monkeypatch.setenv("HYPERTUI_CONFIG", str(write(tmp_path / "c.toml", "[simulator]\nseed = inf\n")))
    monkeypatch.delenv("HYPERTRACKER_API_TOKEN", raising=False)
    monkeypatch.delenv("HYPERTRACKER_BASE_URL", raising=False)
    assert main(["dump", "status"]) == 2
    assert capsys.readouterr().err == "hypertui: simulator.seed must be a whole number from 0 to 4294967295, got inf\n"


def test_world_readable_config_with_token_warns(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('token = "t"\n')
    cfg.chmod(0o644)
    assert any("chmod 600" in w for w in load_settings(env={}, path=cfg).warnings)
    cfg.chmod(0o600)
    assert load_settings(env={}, path=cfg).warnings == ()


def test_config_init_writes_private_file_once(tmp_path):
    path = tmp_path / "sub" / "config.toml"
    assert write_config_template(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not write_config_template(path)
    assert load_settings(env={}, path=path).uses_simulator  # the template itself is valid TOML


def test_export_dir_from_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_settings(env={}, path=tmp_path / "absent.toml").export_dir is None
    cfg = write(tmp_path / "c.toml", 'export_dir = "~/exports"\n')
    assert load_settings(env={}, path=cfg).export_dir == str(tmp_path / "exports")
    with pytest.raises(ConfigError, match="export_dir"):
        load_settings(env={}, path=write(tmp_path / "bad.toml", "export_dir = 3\n"))


def test_theme_flag_beats_file_and_keys_table(tmp_path):
    cfg = write(
        tmp_path / "c.toml",
        'theme = "hypertui-light"\n[keys]\nrefresh = "f5"\n"positions.back" = "escape,h"\nhistory.reload = "ctrl+r"\n',
    )
    s = load_settings(env={}, path=cfg)
    assert s.theme == "hypertui-light" and s.config_file == cfg
    # A quoted id and an unquoted dotted one (a nested table to TOML) mean the same.
    assert s.keys == {"refresh": "f5", "positions.back": "escape,h", "history.reload": "ctrl+r"}
    assert load_settings(theme="hypertui-mono", env={}, path=cfg).theme == "hypertui-mono"
    assert load_settings(env={}, path=tmp_path / "none.toml").theme is None


@pytest.mark.parametrize(
    ("text", "message"),
    [("theme = 3\n", "theme must be a non-empty string"), ("keys = 3\n", r"\[keys\] must be a table"), ("[keys]\nrefresh = 5\n", "refresh must be a string")],
)
def test_bad_theme_or_keys_are_clear_errors(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env={}, path=write(tmp_path / "c.toml", text))


def test_the_largest_answer_read_is_set_in_the_config_file(tmp_path):
    from hypertui.source import open_client

    default = load_settings(env={"HYPERTRACKER_API_TOKEN": "t"}, path=tmp_path / "none.toml")
    assert open_client(default)[0]._max_body == 64 * 2**20
    chosen = load_settings(env={"HYPERTRACKER_API_TOKEN": "t"}, path=write(tmp_path / "c.toml", "max_answer_mb = 2.5\n"))
    assert open_client(chosen)[0]._max_body == int(2.5 * 2**20)


def test_the_store_is_a_file_unless_the_config_or_no_store_says_memory(tmp_path):
    from hypertui.source import open_store

    env = {"HYPERTUI_STORE": str(tmp_path / "kept.sqlite3")}
    live = load_settings(token="t", env=env, path=tmp_path / "absent.toml")
    assert live.store and open_store(live).path == tmp_path / "kept.sqlite3"
    off = write(tmp_path / "off.toml", 'token = "t"\nstore = false\n')
    assert open_store(load_settings(env=env, path=off)).path is None
    assert open_store(load_settings(token="t", no_store=True, env=env, path=tmp_path / "absent.toml")).path is None
    assert open_store(load_settings(env=env, path=tmp_path / "absent.toml")).path is None  # the simulator: a new market each run


@pytest.mark.parametrize(("text", "message"), [
    ('store = "no"', "store must be true or false"),
    ("daily_tokens = 0", "daily_tokens must be a whole number of at least 1"),
    ("daily_tokens = 99.5", "daily_tokens must be a whole number of at least 1"),
])
def test_store_and_daily_tokens_are_checked(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env={}, path=write(tmp_path / "c.toml", text + "\n"))
    assert load_settings(env={}, path=write(tmp_path / "ok.toml", "daily_tokens = 100\n")).daily_tokens == 100


@pytest.mark.parametrize("text", ["keep_days = 0", "keep_days = nan", "keep_days = 5000", 'keep_days = "a month"'])
def test_keep_days_is_range_checked(tmp_path, text):
    with pytest.raises(ConfigError, match="keep_days must be"):
        load_settings(env={}, path=write(tmp_path / "c.toml", text + "\n"))
    assert load_settings(env={}, path=tmp_path / "absent.toml").keep_days == 30
    assert load_settings(env={}, path=write(tmp_path / "ok.toml", "keep_days = 7\n")).keep_days == 7
