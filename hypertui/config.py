"""Settings: command-line flags, then environment, then the TOML config file.

No token and no base URL means the embedded simulator. The token, and the shared cache's URL
(which may hold a password), are held in a `SecretStr` so they never appear in a repr, a log
line or a traceback.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx
from pydantic import SecretStr

from hypertui.api.client import DEFAULT_BASE_URL, is_safe_to_fetch
from hypertui.files import make_private_dirs, open_private, private_opener

ENV_TOKEN = "HYPERTRACKER_API_TOKEN"
ENV_BASE_URL = "HYPERTRACKER_BASE_URL"
ENV_CONFIG = "HYPERTUI_CONFIG"  # path of the config file, mainly for tests
ENV_STORE = "HYPERTUI_STORE"  # path of the snapshot store file, mainly for tests
ENV_SHARED_CACHE = "HYPERTUI_SHARED_CACHE"  # the desk's Redis URL (hypertui.api.shared_cache)
SCALES = ("small", "default", "large")
MAX_ANSWER_MB, MAX_ANSWER_MB_RANGE = 64.0, (1.0, 4096.0)
KEEP_DAYS, KEEP_DAYS_RANGE = 30.0, (1.0, 3650.0)  # the recording's retention; at least a day: "what changed since yesterday"
REFRESH_RANGE = (0.5, 86_400.0)  # seconds; a day at most: the timers and timedelta of larger ones overflow
UPDATE_INTERVAL_RANGE = (0.05, 86_400.0)
SEED_RANGE = (0, 2**32 - 1)


class ConfigError(Exception):
    """A setting is wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    token: SecretStr | None = None
    base_url: str | None = None
    refresh: float | None = None  # seconds; None: follow the data's cadence (live) or 15 s (simulator)
    sim_seed: int = 7
    sim_scale: str = "default"
    sim_update_interval: float = 15.0
    export_dir: str | None = None  # where `e` writes; None: Downloads/hypertui
    max_answer_mb: float = MAX_ANSWER_MB  # an answer larger than this, as sent or unpacked, is refused
    alerts: tuple[Any, ...] = ()  # (number in the file, rule) pairs: hypertui.monitor.alert_rules
    alert_problems: tuple[str, ...] = field(default=(), compare=False)  # invalid rules: reported, skipped
    warnings: tuple[str, ...] = field(default=(), compare=False)
    theme: str | None = None  # None: hypertui-dark (hypertui-mono when NO_COLOR is set)
    keys: dict[str, str] = field(default_factory=dict, compare=False)  # binding id -> "key,key"
    config_file: Path | None = field(default=None, compare=False)  # where a theme or alert rule made in the app is saved
    store: bool = True  # keep answers and tokens in the store file (False: in memory, this session only)
    store_path: Path | None = None  # None: the user data dir's (hypertui.api.store.default_path)
    daily_tokens: int | None = None  # the plan's daily request limit, for the status bar; None: unknown
    keep_days: float = KEEP_DAYS  # answers (the recording) and token counts older than this are pruned
    shared_cache: SecretStr | None = None  # a redis:// or rediss:// URL shared by a desk; None: this machine alone

    @property
    def uses_simulator(self) -> bool:
        return self.token is None and self.base_url is None

    @property
    def api_base_url(self) -> str:
        return self.base_url or DEFAULT_BASE_URL


def config_path() -> Path:
    """Where the config file lives (`hypertui config path`)."""
    override = os.environ.get(ENV_CONFIG)
    if override:
        return Path(override)
    import platformdirs  # deferred: only needed when no override is set

    return platformdirs.user_config_path("hypertui") / "config.toml"


def log_path() -> Path:
    """Where the dashboard writes its log (errors naming endpoint and field, fired alerts)."""
    import platformdirs

    return platformdirs.user_log_path("hypertui") / "hypertui.log"


def setup_logging(path: Path | None = None) -> Path:
    """Log to a small rotating file: a full-screen app has no stderr to write to."""
    import logging
    from logging.handlers import RotatingFileHandler

    class PrivateRotatingFileHandler(RotatingFileHandler):
        # Each file it opens, the first and every one after a rollover, is 0600.
        def _open(self) -> IO[str]:  # type: ignore[override]  # the same file, typed as open() returns it
            return open(self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors, opener=private_opener)

    path = path or log_path()
    make_private_dirs(path.parent)
    handler = PrivateRotatingFileHandler(path, maxBytes=1_000_000, backupCount=2, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("hypertui")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def read_config_file(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The file's table (empty if absent) and warnings about it."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, []
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    warnings = []
    if "token" in data and os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        warnings.append(f"{path} holds the API token and is readable by others: run chmod 600 {path}")
    return data, warnings


def check_base_url(url: str) -> str:
    """https anywhere; plain http only to a loopback host (the local simulator)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise ConfigError(f"base URL {url!r} is not a valid URL") from None
    if parsed.host and is_safe_to_fetch(parsed):
        return url.rstrip("/")
    if parsed.scheme == "http" and parsed.host:
        raise ConfigError(f"refusing plain http to {parsed.host}: use https (http is allowed only for loopback hosts)")
    raise ConfigError(f"base URL {url!r} must start with https:// (or http:// for a loopback host)")


def check_shared_cache(url: str) -> str:
    """A Redis URL: redis://, or rediss:// for TLS, with a host; shown with its password hidden."""
    from urllib.parse import urlsplit

    from hypertui.api.shared_cache import SCHEMES, redacted_url  # loads Redis's client: only when one is set

    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in SCHEMES or not parts.hostname:
        raise ConfigError(f"shared_cache {redacted_url(url)!r} must be redis://HOST[:PORT][/DB] (rediss:// for TLS)")
    return url.strip()


def load_settings(
    *,
    token: str | None = None,
    base_url: str | None = None,
    refresh: float | None = None,
    seed: int | None = None,
    scale: str | None = None,
    update_interval: float | None = None,
    theme: str | None = None,
    no_store: bool | None = None,
    shared_cache: str | None = None,
    env: dict[str, str] | None = None,
    path: Path | None = None,
) -> Settings:
    """Merge flags > environment > config file into one validated `Settings`."""
    environ: Mapping[str, str] = os.environ if env is None else env
    path = path or config_path()
    data, warnings = read_config_file(path)
    sim = data.get("simulator", {})
    if not isinstance(sim, dict):
        raise ConfigError("config: [simulator] must be a table")

    def pick(flag: Any, env_name: str | None, key: str, table: dict[str, Any] = data) -> Any:
        if flag is not None:
            return flag
        if env_name and environ.get(env_name):
            return environ[env_name]
        return table.get(key)

    token_value = pick(token, ENV_TOKEN, "token")
    url_value = pick(base_url, ENV_BASE_URL, "base_url")
    if token_value is not None and not isinstance(token_value, str):
        raise ConfigError("config: token must be a string")
    if url_value is not None and not isinstance(url_value, str):
        raise ConfigError("config: base_url must be a string")
    token_value = (token_value or "").strip() or None
    cache_url = pick(shared_cache, ENV_SHARED_CACHE, "shared_cache")
    if cache_url is not None and not isinstance(cache_url, str):
        raise ConfigError("config: shared_cache must be a string")
    if cache_url:
        cache_url = check_shared_cache(cache_url)
        if token_value is None and not url_value:
            warnings.append(
                "shared_cache is not used with the built-in simulator (each run has its own market): "
                "point every hypertui at one `hypertui sim` with --base-url"
            )
    if url_value:
        url_value = check_base_url(url_value)
        if token_value is None:
            raise ConfigError(f"a base URL is set but no token: set {ENV_TOKEN} (any value for a local `hypertui sim`)")

    from hypertui.monitor.alert_rules import parse_rules

    alerts, alert_problems = parse_rules(data.get("alerts"))
    settings = Settings(
        token=SecretStr(token_value) if token_value else None,
        base_url=url_value or None,
        refresh=check_seconds(pick(refresh, None, "refresh"), "refresh", REFRESH_RANGE, None),
        sim_seed=check_seed(pick(seed, None, "seed", sim), "simulator.seed"),
        sim_scale=_choice(pick(scale, None, "scale", sim), "simulator.scale", SCALES, "default"),
        sim_update_interval=check_seconds(
            pick(update_interval, None, "update_interval", sim), "simulator.update_interval", UPDATE_INTERVAL_RANGE, 15.0
        ),
        export_dir=_path(data.get("export_dir"), "export_dir"),
        max_answer_mb=check_number(data.get("max_answer_mb"), "max_answer_mb", MAX_ANSWER_MB_RANGE, MAX_ANSWER_MB, "MB"),
        alerts=tuple(alerts),
        alert_problems=tuple(alert_problems),
        warnings=tuple(warnings + alert_problems),
        theme=_string(pick(theme, None, "theme"), "theme"),
        keys=_keys(data.get("keys", {})),
        config_file=path,
        store=False if no_store else _flag(data.get("store"), "store", default=True),
        store_path=Path(environ[ENV_STORE]) if environ.get(ENV_STORE) else None,
        daily_tokens=_daily_tokens(data.get("daily_tokens")),
        keep_days=check_number(data.get("keep_days"), "keep_days", KEEP_DAYS_RANGE, KEEP_DAYS, "days"),
        shared_cache=SecretStr(cache_url) if cache_url else None,
    )
    return settings


def _string(value: Any, name: str) -> str | None:
    if value is not None and not (isinstance(value, str) and value.strip()):
        raise ConfigError(f"config: {name} must be a non-empty string, got {value!r}")
    return value


def _flag(value: Any, name: str, *, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ConfigError(f"config: {name} must be true or false, got {value!r}")
    return value


def _daily_tokens(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"config: daily_tokens must be a whole number of at least 1 (100 on the Free plan), got {value!r}")
    return value


def _keys(table: Any, prefix: str = "") -> dict[str, str]:
    """[keys]: binding id = "key,key"; an unquoted dotted id (positions.back = ...) is a nested table."""
    if not isinstance(table, dict):
        raise ConfigError('config: [keys] must be a table of binding id = "key,key"')
    out: dict[str, str] = {}
    for name, value in table.items():
        if isinstance(value, dict):
            out |= _keys(value, f"{prefix}{name}.")
        elif isinstance(value, str):
            out[prefix + name] = value
        else:
            raise ConfigError(f'config: [keys] {prefix}{name} must be a string like "f5" or "escape,h", got {value!r}')
    return out


Default = TypeVar("Default", float, float | None)


def check_seconds(value: Any, name: str, limits: tuple[float, float], default: Default) -> float | Default:
    """A number of seconds within `limits` (`default` if unset): nan, inf and huge values stop timers or overflow them."""
    return check_number(value, name, limits, default, "seconds")


def check_number(value: Any, name: str, limits: tuple[float, float], default: Default, unit: str) -> float | Default:
    """A number within `limits` (`default` if unset); nan and inf are never within them."""
    if value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    low, high = limits
    if not low <= number <= high:  # False for nan too
        raise ConfigError(f"{name} must be from {low:g} to {high:g} {unit}, got {value!r}")
    return number


def check_seed(value: Any, name: str) -> int:
    """A whole number in SEED_RANGE: numpy's generators take the seed's low 32 bits (a larger seed would
    share a smaller one's streams) and the simulator's hash 64 (a larger one overflows)."""
    if value is None:
        return 7
    try:
        number = int(value) if isinstance(value, int | str) and not isinstance(value, bool) else None
    except ValueError:
        number = None
    low, high = SEED_RANGE
    if number is None or not low <= number <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return number


def _path(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"config: {name} must be a directory path (a non-empty string)")
    return str(Path(value.strip()).expanduser())


def _choice(value: Any, name: str, choices: tuple[str, ...], default: str) -> str:
    if value is None:
        return default
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


CONFIG_TEMPLATE = """\
# hypertui configuration (TOML). Command-line flags and environment variables win over this file.

# API token from the HyperTracker dashboard. Prefer the HYPERTRACKER_API_TOKEN environment
# variable; if you put it here, keep this file private (chmod 600).
# token = ""

# API base URL. Leave unset for the real service when a token is set. With neither a token nor
# a base URL, hypertui runs on its built-in market simulator.
# base_url = "https://ht-api.coinmarketman.com/api/external"

# Seconds between refreshes. Unset: follow the data's own update cadence (live) or 15 s (simulator).
# refresh = 15

# Answers and tokens spent are kept in a store file in the user data dir, shared by every
# hypertui on this machine: an answer already held for the API's current update costs no token.
# false keeps them in memory for the session (as --no-store does).
# store = true
# The plan's daily token limit, shown as "tokens today 37/100" (Free: 100). Unset: learned
# from the API when the quota runs out.
# daily_tokens = 100
# Days the store keeps answers (the recording `hypertui record` makes, replayed by the dashboard
# and `hypertui dump --at`) and token counts; older ones are pruned at start, once a day.
# keep_days = 30

# A desk on one API plan: every hypertui pointed at the same Redis (or Valkey) fetches each answer
# once per API update for all, and counts the desk's tokens together (the status bar shows both).
# rediss:// for TLS; a password in the URL is never shown. Or HYPERTUI_SHARED_CACHE, --shared-cache.
# shared_cache = "redis://localhost:6379/0"

# Where `e` (CSV) and `E` (JSON) write exports. Unset: the Downloads folder's hypertui/ subfolder.
# export_dir = "~/hypertui-exports"

# The largest answer read, in MB, as sent and once unpacked: a larger one is refused with an error
# instead of filling the memory (the biggest real answers are a few MB).
# max_answer_mb = 64

# Colour theme: hypertui-dark (the default), hypertui-light, hypertui-colorblind (blue/orange
# instead of green/red), hypertui-mono (greys; the default when NO_COLOR is set), one of your
# own theme files (`hypertui config check` shows the folder) or a Textual theme (nord, ...).
# A theme chosen in the app (ctrl+p, "Theme") is saved here.
# theme = "hypertui-dark"

[simulator]
# seed = 7
# scale = "default"        # small | default | large
# update_interval = 15     # seconds of wall time between simulated market state updates

# Alerts: a toast, the terminal bell and a line in alerts.log when a value crosses a level
# (once per crossing). Press ! in the dashboard for what fired and each rule's current value.
# [[alerts]]
# kind = "bias"              # a cohort's perp bias: above / below = N, or sign_change = true
# cohort = "Smart Money"     # name or id 1-16
# above = 0.6
# [[alerts]]
# kind = "long_share"        # a coin's long share (0-1) for a cohort, from the heatmap
# coin = "BTC"
# cohort = "Whale"
# above = 0.7
# [[alerts]]
# kind = "liquidation_risk"  # % of value near liquidation (0-100); for a cohort not selected,
#                            # fetched once per data update (a request each time)
# cohort = "Whale"           # coin = "ETH" for one coin, else the cohort's highest
# above = 25
# [[alerts]]
# kind = "traders"           # % change of the cohort's trader count
# cohort = "Shrimp"
# below = -5                 # versus = "24h" (default, as the API sends it) or "start"
[keys]
# Remap keys: binding id = "key" or "key,key" (Textual key names: f5, escape, ctrl+x,
# question_mark, ...). Ids are owner.action, quoted (or unquoted: a dotted key). `hypertui config
# check` reports ids that do not exist and keys that clash. The ids and their default keys:
"""


def write_config_template(path: Path, keys: str = "") -> bool:
    """Create a commented config file (mode 0600, its new folders 0700), `keys` listing the bindings; False if one exists."""
    try:
        fh = open_private(path, "x", encoding="utf-8")  # "x": never over a file the user has
    except FileExistsError:
        return False
    with fh:
        fh.write(CONFIG_TEMPLATE + keys)
    return True
