"""`hypertui serve`: the command and environment it hands textual-serve, and the dashboard in a real browser.

What proves "the dashboard is in the page": textual-serve draws the app into an xterm.js terminal
on a canvas, so the DOM holds no text and a screenshot would need OCR. The page's xterm.js
`Terminal` keeps the screen it draws in its buffer, but inside the bundle's closure, out of reach
of page scripts. The Chrome DevTools protocol can reach it: from `window.onresize` (an arrow
function textual-serve sets in its session class) to that class through the function's scopes,
to its live instance (`Runtime.queryObjects`), to `terminal.buffer`. The test reads the rows the
browser shows and finds the dashboard's text in them: the cohort legend, a figure, and the
status bar's source. Checking the websocket's bytes instead would prove only that they were sent.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import shlex
import shutil
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hypertui import cli
from hypertui.config import ENV_BASE_URL, ENV_SHARED_CACHE, ENV_TOKEN, load_settings
from hypertui.serve import SecretPathServer, app_command, exposure_warning, new_secret

CHROMIUM = shutil.which("chromium")
DEADLINE = 20.0  # seconds for the whole browser test; each wait below stops at it


def test_the_token_goes_through_the_environment_not_the_command_line(tmp_path, monkeypatch):
    settings = load_settings(
        token="s3cret-token", base_url="http://127.0.0.1:9/api/external", refresh=30, seed=3, scale="small",
        shared_cache="redis://:s3cret-pw@127.0.0.1:6379", env={}, path=tmp_path / "none.toml",
    )
    command, env = app_command(settings)
    assert "s3cret" not in command
    argv = shlex.split(command)
    assert argv[:3] == [sys.executable, "-m", "hypertui"]
    assert argv[3:] == ["--seed", "3", "--scale", "small", "--update-interval", "15", "--refresh", "30"]
    assert env == {
        ENV_TOKEN: "s3cret-token", ENV_BASE_URL: "http://127.0.0.1:9/api/external", ENV_SHARED_CACHE: "redis://:s3cret-pw@127.0.0.1:6379"
    }

    # `serve` puts them in its own environment, which textual-serve copies for each session.
    started: dict[str, Any] = {}

    class FakeServer:
        def __init__(self, command: str, **kwargs: Any) -> None:
            started.update(kwargs, command=command)

        def serve(self) -> None:
            started["env"] = {k: os.environ.get(k) for k in (ENV_TOKEN, ENV_BASE_URL, ENV_SHARED_CACHE)}

    monkeypatch.setattr("hypertui.serve.Server", FakeServer)
    monkeypatch.setenv(ENV_BASE_URL, "https://stale.example/api")
    monkeypatch.setenv(ENV_SHARED_CACHE, "")  # serve sets it: restored (unset) after this test
    sim = load_settings(env={}, path=tmp_path / "none.toml")
    from hypertui.serve import serve

    serve(sim, host="127.0.0.1", port=8123)
    assert started["env"] == {ENV_TOKEN: None, ENV_BASE_URL: None, ENV_SHARED_CACHE: None}  # the simulator: nothing stale leaks in
    assert (started["host"], started["port"], started["title"]) == ("127.0.0.1", 8123, "hypertui")
    serve(settings, host="127.0.0.1", port=8123)
    assert started["env"] == env


def test_a_non_loopback_host_or_no_auth_warns_that_the_dashboard_is_exposed(tmp_path, monkeypatch, capsys):
    sim = load_settings(env={}, path=tmp_path / "none.toml")
    assert exposure_warning("127.0.0.1", sim) is None and exposure_warning("localhost", sim) is None
    assert exposure_warning("::1", sim) is None
    assert "the secret URL crosses the network unencrypted" in exposure_warning("0.0.0.0", sim)
    live = load_settings(token="t", env={}, path=tmp_path / "none.toml")
    assert "the API with your token" in exposure_warning("0.0.0.0", live, secret=False)
    assert "every user of this machine gets the simulated dashboard" in exposure_warning("127.0.0.1", sim, secret=False)

    calls = []
    monkeypatch.setattr("hypertui.serve.serve", lambda settings, **kw: calls.append(kw))
    monkeypatch.setenv("HYPERTUI_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv(ENV_TOKEN, raising=False)
    monkeypatch.delenv(ENV_BASE_URL, raising=False)
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "8123", "--no-auth"]) == 0
    assert calls == [{"host": "0.0.0.0", "port": 8123, "public_url": None, "secret": None}]
    assert "warning: listening on 0.0.0.0 with --no-auth: anyone who can reach this port gets the simulated dashboard" in capsys.readouterr().err
    assert cli.main(["serve"]) == 0 and cli.main(["serve"]) == 0
    assert calls[-1]["host"] == "127.0.0.1" and "warning" not in capsys.readouterr().err
    # A new secret every run, 128 random bits in URL-safe base64.
    first, second = calls[-2]["secret"], calls[-1]["secret"]
    assert first != second and len(first) == 22 and all(c.isalnum() or c in "-_" for c in first + second)


# A session process in textual-serve's protocol: the prelude, one data packet ("hello"), then "exit".
SESSION = """import sys
out, meta = sys.stdout.buffer, b'{"type": "exit"}'
out.write(b"__GANGLION__\\n" + b"D" + (5).to_bytes(4, "big") + b"hello" + b"M" + len(meta).to_bytes(4, "big") + meta)
"""


async def test_without_the_secret_path_there_is_no_page_and_no_websocket(capsys):
    """The real server on a loopback socket: only /SECRET/ and /SECRET/ws answer, and the page points at the latter."""
    import aiohttp
    from aiohttp.test_utils import TestServer

    port, secret = _free_port(), new_secret()
    server = SecretPathServer(shlex.join([sys.executable, "-c", SESSION]), secret=secret, host="127.0.0.1", port=port, title="hypertui")
    async with TestServer(await server._make_app(), host="127.0.0.1", port=port), aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{port}"
        assert capsys.readouterr().out == f"hypertui serve: open {base}/{secret}/  (the path is this run's password; Ctrl+C stops)\n"
        for path in ("/", "/ws", "/download/x", f"/{new_secret()}/", f"/{new_secret()}/ws", f"/{secret[:-1]}/", f"/ws?{secret}"):
            async with http.get(base + path) as response:
                assert response.status == 404, path
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await http.ws_connect(base + path)
        async with http.get(f"{base}/{secret}/") as response:
            assert response.status == 200
            assert f'data-session-websocket-url="ws://127.0.0.1:{port}/{secret}/ws"' in await response.text()
        async with http.get(f"{base}/static/js/textual.js") as response:
            assert response.status == 200  # textual-serve's public script, the same for everyone
        async with http.ws_connect(f"{base}/{secret}/ws?width=80&height=24") as ws:
            assert await ws.receive_bytes() == b"hello"  # from the session's process, which then asks to close
            assert (await ws.receive()).type == aiohttp.WSMsgType.CLOSE
    # textual-serve never closes the exited session's stdin pipe: collected here, it closes on a running loop.
    gc.collect()
    await asyncio.sleep(0)


# --- the real thing: hypertui serve + headless chromium -----------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _until(deadline: float, what: str, probe: Any, seen: list[str] | None = None) -> Any:
    """Poll `probe()` until it returns something truthy; fail with `what` (and the last of `seen`) at the deadline."""
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}" + (f"; the page showed:\n{seen[-1]}" if seen else ""))
        await asyncio.sleep(0.1)


class DevTools:
    """A minimal Chrome DevTools protocol client over one page's websocket."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        await self.ws.send_json({"id": call_id, "method": method, "params": params})
        async for message in self.ws:
            data = message.json()
            if data.get("id") == call_id:
                assert "error" not in data, data
                return data["result"]
        raise AssertionError("the browser closed the DevTools connection")

    async def props(self, object_id: str) -> dict[str, Any]:
        return await self.call("Runtime.getProperties", objectId=object_id, ownProperties=True)


SCREEN_TEXT = """function () {
    const session = this.find(o => o && o.terminal && o.terminal.buffer);
    if (!session) return null;
    const t = session.terminal, b = t.buffer.active, rows = [];
    for (let i = 0; i < t.rows; i++) rows.push(b.getLine(b.viewportY + i).translateToString(true));
    return rows.join("\\n");
}"""


async def terminal_text(tools: DevTools) -> str | None:
    """The rows the page's xterm.js terminal shows, or None before it exists."""
    handler = (await tools.call("Runtime.evaluate", expression="window.onresize"))["result"]
    if "objectId" not in handler:
        return None
    internal = (await tools.props(handler["objectId"])).get("internalProperties", [])
    scopes = next(p["value"]["objectId"] for p in internal if p["name"] == "[[Scopes]]")
    for scope in (await tools.props(scopes))["result"]:
        if scope["value"].get("description") != "Closure":
            continue
        for var in (await tools.props(scope["value"]["objectId"]))["result"]:
            if var.get("value", {}).get("type") != "function":
                continue
            proto = await tools.call(
                "Runtime.callFunctionOn", objectId=var["value"]["objectId"], functionDeclaration="function () { return this.prototype }"
            )
            if "objectId" not in proto["result"]:
                continue
            instances = await tools.call("Runtime.queryObjects", prototypeObjectId=proto["result"]["objectId"])
            text = await tools.call(
                "Runtime.callFunctionOn", objectId=instances["objects"]["objectId"],
                functionDeclaration=SCREEN_TEXT, returnByValue=True,
            )
            if text["result"].get("value"):
                return text["result"]["value"]
    return None


async def _start(*argv: str, env: dict[str, str], stdout: int = asyncio.subprocess.DEVNULL) -> asyncio.subprocess.Process:
    # Own process group: the test ends the server's per-tab app and chromium's helpers with it.
    return await asyncio.create_subprocess_exec(
        *argv, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=stdout, stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run installs it)")
async def test_the_dashboard_shows_in_a_headless_browser(tmp_path: Path):
    import aiohttp  # textual-serve's own dependency

    deadline = time.monotonic() + DEADLINE
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in (ENV_TOKEN, ENV_BASE_URL)}
    env.update(
        HYPERTUI_CONFIG=str(tmp_path / "none.toml"), XDG_STATE_HOME=str(tmp_path / "state"), XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).parents[1]), env.get("PYTHONPATH")])),
    )
    server = await _start(
        sys.executable, "-m", "hypertui", "serve", "--port", str(port), "--scale", "small", env=env, stdout=asyncio.subprocess.PIPE
    )
    tools_port = _free_port()
    browser = await _start(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium'}", f"--remote-debugging-port={tools_port}", "--window-size=1280,1000",
        "about:blank", env=env,
    )
    try:
        async def listening(port: int, proc: asyncio.subprocess.Process, name: str) -> bool:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                assert proc.returncode is None, f"{name} exited"
                return False
            writer.close()
            return True

        await _until(deadline, "chromium's DevTools port", lambda: listening(tools_port, browser, "chromium"))
        # The one line it prints once it listens: the URL with this run's secret path.
        banner = await asyncio.wait_for(server.stdout.readline(), max(deadline - time.monotonic(), 0))
        url = banner.decode().split()[3]
        assert url.startswith(f"http://127.0.0.1:{port}/") and len(url.split("/")[3]) == 22, banner
        async with aiohttp.ClientSession() as http:
            targets = await (await http.get(f"http://127.0.0.1:{tools_port}/json/list")).json()
            page = next(t for t in targets if t["type"] == "page")
            async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                tools = DevTools(ws)
                await tools.call("Page.navigate", url=url)

                seen: list[str] = []

                async def dashboard() -> str | None:
                    text = await terminal_text(tools)
                    seen.append(text or "")
                    return text if text and "SIMULATOR" in text and "updated" in text and "Smart Money" in text else None

                screen = await _until(deadline, "the dashboard in the page's terminal", dashboard, seen)
    finally:
        await _stop(browser)
        await _stop(server)
    # The legend (every cohort), a summary figure and the status bar, as the browser shows them.
    for text in ("Cohorts", "🦐 Shrimp", "🐉 Leviathan", "💀 Giga-Rekt", "Perp bias", " SIMULATOR ", "│ updated"):
        assert text in screen, f"{text!r} not on the page:\n{screen}"
