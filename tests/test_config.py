"""Settings precedence, validation and the config file's privacy."""

import os
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
