"""`hypertui serve`: the dashboard in a web browser, through textual-serve.

textual-serve starts one `hypertui` process per browser tab and streams its terminal over a
websocket. That process gets the resolved settings: the data source (token, base URL) through
the environment, which other users cannot read, never on its command line, which `ps` shows to
everyone; the simulator and refresh settings as flags.
"""

from __future__ import annotations

import os
import shlex
import sys

from hypertui.config import ENV_BASE_URL, ENV_TOKEN, Settings, is_loopback


def app_command(settings: Settings) -> tuple[str, dict[str, str | None]]:
    """The shell command textual-serve runs per session, and the environment changes it needs
    (None: unset the variable, so a stale one cannot point the app elsewhere)."""
    argv = [sys.executable, "-m", "hypertui", "--seed", str(settings.sim_seed), "--scale", settings.sim_scale]
    argv += ["--update-interval", f"{settings.sim_update_interval:g}"]
    if settings.refresh is not None:
        argv += ["--refresh", f"{settings.refresh:g}"]
    env = {
        ENV_TOKEN: settings.token.get_secret_value() if settings.token else None,
        ENV_BASE_URL: settings.base_url,
    }
    return shlex.join(argv), env


def exposure_warning(host: str, settings: Settings) -> str | None:
    """A warning when the server is reachable from other machines (None on loopback)."""
    if is_loopback(host):
        return None
    reach = "the simulated dashboard" if settings.uses_simulator else "the dashboard, and the API with your token,"
    return (
        f"listening on {host}: anyone who can reach this port gets {reach} with no login; "
        "prefer 127.0.0.1 and an SSH tunnel (ssh -L 8000:127.0.0.1:8000 HOST)"
    )


def serve(settings: Settings, *, host: str, port: int, public_url: str | None = None) -> None:
    """Serve the dashboard until Ctrl+C (blocks)."""
    from textual_serve.server import Server

    command, env = app_command(settings)
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value  # inherited by each session's process (textual-serve copies os.environ)
    Server(command, host=host, port=port, title="hypertui", public_url=public_url).serve()
