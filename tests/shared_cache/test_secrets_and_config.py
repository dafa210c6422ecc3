"""The shared cache's URL in the settings (flag, environment, file; redis:// and rediss:// only),
and its password never shown: not in a repr, a log line, an error or the settings."""

from __future__ import annotations

import logging

import pytest

from hypertui.api.shared_cache import redacted_url
from hypertui.cli import main
from hypertui.config import ConfigError, load_settings
from hypertui.source import open_client
from tests.shared_cache.conftest import TOKEN

PASSWORD = "pw-Zr81-never-shown"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"redis://:{PASSWORD}@cache.desk:6379/0", "redis://:***@cache.desk:6379/0"),
        (f"rediss://trader:{PASSWORD}@cache.desk/2", "rediss://trader:***@cache.desk/2"),
        (f"redis://cache.desk/0?password={PASSWORD}&db=1", "redis://cache.desk/0?password=%2A%2A%2A&db=1"),
        (f"redis://:{PASSWORD}@@cache.desk", "redis://:***@cache.desk"),  # an @ in the password
        ("redis://cache.desk:6379", "redis://cache.desk:6379"),
        (f"redis://:{PASSWORD}@[::1:6379", "(an invalid URL)"),
    ],
)
def test_redacted_url_hides_the_password_wherever_it_is(url, shown):
    assert redacted_url(url) == shown


async def test_the_password_is_in_no_log_line_and_no_repr(redis_server, desk, upstream, caplog, tmp_path):
    guarded = redis_server(password=PASSWORD)
    wrong = guarded.url.replace(PASSWORD, PASSWORD[::-1])
    with caplog.at_level(logging.DEBUG):
        async with desk(guarded.url) as member, desk(wrong) as refused:
            await member.heatmap()
            assert not member.shared_cache_down and guarded.direct().dbsize() > 0  # it works with the password
            await refused.heatmap()
            assert refused.shared_cache_down  # a wrong password: fetched directly
            guarded.kill()
            await member.summary(9)
            assert member.shared_cache_down
            shown = [repr(member), repr(member.shared), repr(refused.shared), member.shared.url, str(member.shared.problem)]
        settings = load_settings(token=TOKEN, base_url="http://127.0.0.1:9", shared_cache=guarded.url, env={}, path=tmp_path / "none.toml")
        client, _ = open_client(settings)
        shown += [repr(settings), repr(client.shared), str(vars(client.shared))]
        await client.aclose()
    assert caplog.records and "down" in caplog.text
    for text in (caplog.text, *shown):
        assert PASSWORD not in text and PASSWORD[::-1] not in text and PASSWORD[3:12] not in text


def settings_from(tmp_path, *, flag=None, env=None, file=None):
    config = tmp_path / "config.toml"
    config.write_text(f"shared_cache = {file!r}\n" if file else "")
    return load_settings(token=TOKEN, shared_cache=flag, env=env or {}, path=config)


def test_the_url_comes_from_the_flag_then_the_environment_then_the_file(tmp_path):
    urls = ("redis://flag:6379", "rediss://env:6380/1", "redis://file")
    env = {"HYPERTUI_SHARED_CACHE": urls[1]}
    assert settings_from(tmp_path, flag=urls[0], env=env, file=urls[2]).shared_cache.get_secret_value() == urls[0]
    assert settings_from(tmp_path, env=env, file=urls[2]).shared_cache.get_secret_value() == urls[1]
    assert settings_from(tmp_path, file=urls[2]).shared_cache.get_secret_value() == urls[2]
    assert settings_from(tmp_path).shared_cache is None


@pytest.mark.parametrize("url", [f"http://:{PASSWORD}@cache.desk", "valkey://cache.desk", "redis://", "redis://cache.desk:port", "unix:///tmp/r.sock"])
def test_anything_but_redis_or_rediss_is_refused_in_one_line_without_the_password(tmp_path, capsys, monkeypatch, url):
    with pytest.raises(ConfigError, match="must be redis://HOST"):
        settings_from(tmp_path, file=url)
    monkeypatch.setenv("HYPERTUI_CONFIG", str(tmp_path / "none.toml"))
    assert main(["--shared-cache", url, "dump", "status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hypertui: shared_cache ") and err.count("\n") == 1 and PASSWORD not in err


def test_the_built_in_simulator_does_not_use_it_and_says_so(tmp_path):
    settings = load_settings(shared_cache="redis://cache.desk", env={}, path=tmp_path / "none.toml")
    assert settings.uses_simulator and any("not used with the built-in simulator" in w for w in settings.warnings)
    client, _ = open_client(settings)
    assert client.shared is None
