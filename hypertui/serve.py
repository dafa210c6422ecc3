"""`hypertui serve`: the dashboard in a web browser, through textual-serve.

textual-serve starts one `hypertui` process per browser tab and streams its terminal over a
websocket. That process gets the resolved settings: the data source (token, base URL) through
the environment, which other users cannot read, never on its command line, which `ps` shows to
everyone; the simulator and refresh settings as flags.

Every tab spends the owner's API quota, so the page and its websocket live under a random
per-run secret path, `http://HOST:PORT/SECRET/`, printed once at start; any other path is a 404
(`--no-auth` serves textual-serve's plain `/`). The request log, which would print the secret
again on every request, is left at warnings.
"""

from __future__ import annotations

import logging
import os
import secrets
import shlex
import sys
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

from hypertui.api.client import is_loopback
from hypertui.config import ENV_BASE_URL, ENV_SHARED_CACHE, ENV_TOKEN, Settings


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
        ENV_SHARED_CACHE: settings.shared_cache.get_secret_value() if settings.shared_cache else None,
    }
    return shlex.join(argv), env


def exposure_warning(host: str, settings: Settings, *, secret: bool = True) -> str | None:
    """A warning when others can open the dashboard or see its secret (None: loopback with a secret)."""
    tunnel = "prefer 127.0.0.1 and an SSH tunnel (ssh -L 8000:127.0.0.1:8000 HOST)"
    if secret:
        if is_loopback(host):
            return None
        return f"listening on {host} over plain http: the secret URL crosses the network unencrypted; {tunnel}"
    reach = "the simulated dashboard" if settings.uses_simulator else "the dashboard, and the API with your token,"
    if is_loopback(host):
        return f"--no-auth: every user of this machine gets {reach} with no login"
    return f"listening on {host} with --no-auth: anyone who can reach this port gets {reach} with no login; {tunnel}"


def new_secret() -> str:
    """128 random bits, URL-safe: the path a browser needs to open this run's dashboard."""
    return secrets.token_urlsafe(16)


class SecretPathServer(Server):
    """textual-serve's `Server` with its page and websocket under `/SECRET/`, and nothing else but the static files."""

    def __init__(self, command: str, *, secret: str, **options: Any) -> None:
        super().__init__(command, **options)
        self.secret = secret

    async def _make_app(self) -> web.Application:
        # textual-serve's own routes, moved under the secret. The page builds its websocket URL from
        # the route's name, so it asks for /SECRET/ws. No download route: hypertui delivers no files.
        # The static files are textual-serve's public scripts, styles and fonts.
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes([
            web.get(f"/{self.secret}/", self.handle_index, name="index"),
            web.get(f"/{self.secret}/ws", self.handle_websocket, name="websocket"),
            web.static("/static", self.statics_path, name="static"),
        ])
        app.on_startup.append(self.on_startup)
        return app

    async def on_startup(self, app: web.Application) -> None:
        # Instead of textual-serve's banner, which names the command and the bare URL.
        print(f"hypertui serve: open {self.public_url}/{self.secret}/  (the path is this run's password; Ctrl+C stops)",
              flush=True)


def serve(settings: Settings, *, host: str, port: int, public_url: str | None = None, secret: str | None = None) -> None:
    """Serve the dashboard until Ctrl+C (blocks); with a `secret`, only under /SECRET/."""
    command, env = app_command(settings)
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value  # inherited by each session's process (textual-serve copies os.environ)
    options: dict[str, Any] = {"host": host, "port": port, "title": "hypertui", "public_url": public_url}
    server = Server(command, **options) if secret is None else SecretPathServer(command, secret=secret, **options)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # its lines would repeat the secret
    server.serve()
