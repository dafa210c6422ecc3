"""The API token never shows: not in a repr, an error, a log line, `dump` output, the screen or a crash.

Covered elsewhere, not repeated here: the config file is written 0600 and plain http is refused for
a remote host (tests/test_config.py), no Authorization header reaches the download host of an
export (tests/test_roundtrip.py, tests/api/test_client.py).
"""

from __future__ import annotations

import asyncio
import io
import logging
import socket
import threading
import traceback
from collections.abc import Iterator
from urllib.parse import unquote

import httpx
import pytest
import rich
import uvicorn
from rich.console import Console
from rich.traceback import Traceback

from hypertui.api.client import HyperTrackerClient
from hypertui.api.errors import ApiError, AuthError
from hypertui.cli import main
from hypertui.config import load_settings, setup_logging
from hypertui.sim import Market, create_app
from hypertui.source import SIM_BASE_URL, open_client
from hypertui.ui.app import HyperTuiApp
from hypertui.ui.screenshots import settled

TOKEN = "tok_5ecret-VALUE-9f8e7d"
WRONG = "tok_wrong-VALUE-1a2b3c"
FRAGMENTS = (TOKEN, TOKEN[4:16], WRONG, WRONG[4:16])  # a cut-off token is still a leak


def assert_no_token(text: str, where: str) -> None:
    for fragment in FRAGMENTS:
        assert fragment not in text, f"token fragment {fragment!r} in {where}: …{text[max(0, text.find(fragment) - 80):][:160]}…"


@pytest.fixture
def sim_server(clock) -> Iterator[str]:
    """The simulator over a real loopback socket (uvicorn in a thread), accepting only TOKEN."""
    app = create_app(Market(seed=7, scale="small", clock=clock), token=TOKEN)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=True, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    yield f"http://127.0.0.1:{port}/api/external"
    server.should_exit = True
    thread.join(5)
    sock.close()


def test_settings_and_client_never_show_the_token(tmp_path):
    settings = load_settings(token=TOKEN, env={}, path=tmp_path / "absent.toml")
    client, label = open_client(settings)
    for text in (repr(settings), str(settings), repr(settings.token), str(settings.token), repr(client), str(client), label):
        assert_no_token(text, "a repr")
    assert settings.token.get_secret_value() == TOKEN  # it is there, only hidden
    asyncio.run(client.aclose())


async def test_auth_error_and_its_traceback_never_show_the_token(clock):
    sim = create_app(Market(seed=7, scale="small", clock=clock), token=TOKEN)
    async with HyperTrackerClient(SIM_BASE_URL, WRONG, transport=httpx.ASGITransport(app=sim)) as client:
        with pytest.raises(AuthError) as info:
            await client.segments()
    exc = info.value
    assert "401" in str(exc)
    plain = "".join(traceback.format_exception(exc))
    for text in (str(exc), repr(exc), exc.detail, plain):
        assert_no_token(text, "an AuthError")


async def test_debug_logs_over_a_real_socket_never_show_the_token(sim_server, caplog, tmp_path):
    """httpx and httpcore log each request at DEBUG; uvicorn logs the server side. No header, ever."""
    log_file = setup_logging(tmp_path / "hypertui.log")
    caplog.set_level(logging.DEBUG)
    try:
        async with HyperTrackerClient(sim_server, TOKEN) as client:
            await client.segments()
            await client.summary(16)  # export: a redirect, then the download host
            await client.heatmap()
        async with HyperTrackerClient(sim_server, WRONG, retries=0) as client:
            with pytest.raises(AuthError):
                await client.segments()
    finally:
        handlers = [h for h in logging.getLogger("hypertui").handlers if getattr(h, "baseFilename", "") == str(log_file)]
        for h in handlers:
            logging.getLogger("hypertui").removeHandler(h)
            h.close()
    names = {r.name.split(".")[0] for r in caplog.records}
    assert {"httpx", "httpcore", "hypertui"} <= names  # the loggers that could leak did log
    for record in caplog.records:
        text = record.getMessage() + repr(record.args) + (record.exc_text or "")
        assert_no_token(text, f"log record of {record.name}")
        assert "authorization" not in text.lower() and "bearer" not in text.lower(), text
    logged = log_file.read_text()
    assert "token rejected (401)" in logged  # the failure was written to the file
    assert_no_token(logged, "the log file")


def test_dump_output_never_shows_the_token(sim_server, capsys, monkeypatch):
    monkeypatch.delenv("HYPERTRACKER_API_TOKEN", raising=False)
    monkeypatch.delenv("HYPERTRACKER_BASE_URL", raising=False)
    monkeypatch.setenv("HYPERTUI_CONFIG", "/nonexistent/hypertui-test.toml")
    outputs = []
    for argv in (
        ["dump", "--token", TOKEN, "--base-url", sim_server, "segments"],
        ["dump", "--token", TOKEN, "--base-url", sim_server, "--format", "csv", "heatmap"],
        ["dump", "--token", TOKEN, "--base-url", sim_server, "summary", "16"],
        ["dump", "--token", WRONG, "--base-url", sim_server, "segments"],
    ):
        code = main(argv)
        out, err = capsys.readouterr()
        outputs.append((code, out, err))
        assert_no_token(out + err, f"`hypertui {' '.join(argv[:1] + argv[-1:])}` output")
    assert [code for code, *_ in outputs] == [0, 0, 0, 1]
    assert "token rejected (401)" in outputs[-1][2]
    monkeypatch.setenv("HYPERTRACKER_API_TOKEN", TOKEN)
    assert main(["dump", "--base-url", sim_server, "status"]) == 0
    out, err = capsys.readouterr()
    assert_no_token(out + err, "`hypertui dump status` output")


@pytest.mark.parametrize("token", [TOKEN, WRONG])
async def test_screen_never_shows_the_token(clock, token):
    sim = create_app(Market(seed=7, scale="small", clock=clock), token=TOKEN)
    client = HyperTrackerClient(SIM_BASE_URL, token, transport=httpx.ASGITransport(app=sim), retries=0)
    app = HyperTuiApp(client, httpx.URL(SIM_BASE_URL).host, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        if token == WRONG:
            assert app.refresh_loop.last_error is not None and "token rejected (401)" in app.refresh_loop.last_error
        else:
            assert app.refresh_loop.last_error is None and app.state.heatmap is not None
        assert_no_token(app.export_screenshot(), "a screenshot")
        await pilot.press("question_mark")  # the help screen too
        await pilot.pause()
        assert_no_token(app.export_screenshot(), "the help screen")


async def test_crash_traceback_with_locals_never_shows_the_token():
    """Textual prints an unhandled exception with `show_locals=True` when the app dies.

    Any exception that is not an httpx.TransportError (a bug in a transport, say) leaves the
    client through its frames and httpx's: none may hold the token in a plain value (the client
    sends it through an httpx.Auth, and httpx masks the header in reprs).
    """

    class Broken(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            raise RuntimeError("a bug below the client")

    async with HyperTrackerClient("https://api.example.test", TOKEN, transport=Broken()) as client:
        with pytest.raises(RuntimeError) as info:
            await client.heatmap()
    exc = info.value
    console = Console(file=io.StringIO(), width=200, record=True, color_system=None)
    # What textual.app.App._fatal_error renders (textual 8.2.8).
    console.print(
        Traceback.from_exception(type(exc), exc, exc.__traceback__, show_locals=True, locals_max_length=5, suppress=[rich])
    )
    rendered = console.export_text()
    assert "a bug below the client" in rendered and "locals" in rendered
    assert_no_token(rendered, "a crash traceback with locals")
    assert isinstance(exc, Exception) and not isinstance(exc, ApiError)


@pytest.mark.parametrize("coin", ["../../segments/1/bias-history?x=", "BTC?limit=1#", "a/b", "..", "xyz:GOLD"])
async def test_a_coin_name_cannot_steer_an_authenticated_request(coin):
    """Coin names come from the server (heatmap rows) and go back into URL paths (drill-downs).

    Unescaped, `../` climbs to another endpoint (httpx removes dot segments) and `?`/`#` cut the
    path: the request carrying the token would go somewhere else than asked.
    """
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(404, json={"statusCode": 404, "message": "not found"})

    async with HyperTrackerClient(
        "https://api.example.test/api/external", TOKEN, transport=httpx.MockTransport(handler), retries=0
    ) as client:
        for call in (
            lambda: client.position_metrics(coin, 3, start="2026-01-01"),
            lambda: client.segment_metrics(coin),
            lambda: client.position_breakdown(coin),
        ):
            with pytest.raises(ApiError):
                await call()

    def intact(url: httpx.URL) -> bool:  # the coin is exactly one path segment, nothing else moved
        parts = url.raw_path.decode().split("?")[0].split("/")
        return (
            url.fragment == ""
            and parts[:3] == ["", "api", "external"]
            and parts[3] in ("position-metrics", "exports")
            and len(parts) >= 6
            and unquote(parts[5]) == coin
            and set(url.params) <= {"start", "limit"}
        )

    steered = [str(url) for url in seen if not intact(url)]
    assert steered == []
