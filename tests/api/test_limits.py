"""The client's limits against a real loopback socket: body size, total deadline, Retry-After,
where an export may redirect to, and how often an export's link is asked for.

Each answer is written byte for byte by a raw asyncio server in the test's own event loop, so
a test can send what no well-behaved server would: a gzip bomb, a body dripped a byte at a time.
"""

import asyncio
import zlib
from collections.abc import Awaitable, Callable

import httpx
import pytest

from hypertui.api.client import MAX_BODY, HyperTrackerClient
from hypertui.api.errors import (
    ApiError,
    AuthError,
    BadResponseError,
    NetworkError,
    RateLimitError,
    TooLargeError,
)

HEATMAP = b'{"heatmap": []}'
Answer = Callable[[str, asyncio.StreamWriter], Awaitable[None]]


def head(status: int = 200, **headers: str) -> bytes:
    """A response head; `content_length="5"` is sent as `content-length: 5`."""
    lines = [f"HTTP/1.1 {status} X"] + [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def gzip_of_zeros(size: int) -> bytes:
    """`size` zero bytes gzipped (about 1000:1), built a megabyte at a time."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(2**20)
    return b"".join(packer.compress(block[: min(2**20, size - at)]) for at in range(0, size, 2**20)) + packer.flush()


@pytest.fixture
async def serve():
    """`await serve(answer)` -> the base URL of a loopback server that answers every request
    with `answer(path, writer)`; `serve.paths` lists the paths asked, in order."""
    servers = []
    paths: list[str] = []
    connections = set()  # ended with the test: an answer may still be dripping, or waiting forever

    async def on_connection(answer: Answer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.add(asyncio.current_task())
        try:
            while request := await reader.readuntil(b"\r\n\r\n"):
                path = request.split(b" ", 2)[1].decode()
                paths.append(path)
                await answer(path, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client hung up, or the test ended (a cancelled handler upsets 3.11's streams)
        finally:
            writer.close()

    async def start(answer: Answer) -> str:
        server = await asyncio.start_server(lambda r, w: on_connection(answer, r, w), "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/api/external"

    start.paths = paths
    yield start
    for server in servers:
        server.close()
    for connection in connections:
        connection.cancel()
    await asyncio.gather(*connections, return_exceptions=True)


def client_at(base_url: str, **kw) -> HyperTrackerClient:
    kw.setdefault("retries", 0)
    return HyperTrackerClient(base_url, "secret-token", **kw)


# --- every body is capped, as sent and unpacked -----------------------------------------


async def test_a_gzip_bomb_is_cut_off_at_the_default_limit(serve):
    bomb = gzip_of_zeros(MAX_BODY + 16 * 2**20)  # 80 MB of zeros in ~80 KB
    assert len(bomb) < 2**20

    async def answer(path, writer):
        writer.write(head(content_encoding="gzip", content_length=str(len(bomb))) + bomb)
        await writer.drain()

    async with client_at(await serve(answer)) as client:
        with pytest.raises(TooLargeError, match="larger than 64 MB") as info:
            await client.heatmap()
    assert "\n" not in str(info.value)


async def test_a_gzip_bomb_is_unpacked_no_further_than_the_limit(serve):
    """httpx unpacks each piece read from the socket whole: 64 KB of a bomb became ~64 MB at once,
    far past a smaller limit, before the limit was looked at (the socket soak peaked at 591 MB)."""
    import tracemalloc

    limit = 4 * 2**20
    bomb = gzip_of_zeros(128 * 2**20)

    async def answer(path, writer):
        writer.write(head(content_encoding="gzip", content_length=str(len(bomb))) + bomb)
        await writer.drain()

    async with client_at(await serve(answer), max_body=limit) as client:
        tracemalloc.start()
        try:
            with pytest.raises(TooLargeError, match="larger than 4 MB"):
                await client.heatmap()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 3 * limit, f"{peak / 2**20:.0f} MB held for a {limit / 2**20:.0f} MB limit"


async def test_a_body_over_the_limit_is_refused_whatever_its_framing(serve):
    """Declared too long (refused before any byte of it arrives: the server never sends one),
    or streamed in chunks with no length at all."""

    async def declared(path, writer):
        writer.write(head(content_length=str(10 * 2**30)))
        await writer.drain()
        await asyncio.Event().wait()  # a body that never comes

    async def chunked(path, writer):
        writer.write(head(transfer_encoding="chunked"))
        for _ in range(80):  # 1.25 MB
            writer.write(b"4000\r\n" + b" " * 0x4000 + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\n\r\n")

    for answer in (declared, chunked):
        async with client_at(await serve(answer), max_body=2**20) as client:
            with pytest.raises(TooLargeError, match="larger than 1 MB"):
                await client.heatmap()


async def test_a_body_within_the_limit_is_read_whole(serve):
    packed = zlib.compress(HEATMAP + b" " * 2**20, wbits=31)  # unpacks to just over 1 MB

    async def answer(path, writer):
        writer.write(head(content_encoding="gzip", content_length=str(len(packed))) + packed)

    async with client_at(await serve(answer), max_body=2 * 2**20) as client:
        assert (await client.heatmap()).heatmap == []


# --- a total deadline per request --------------------------------------------------------


async def test_a_body_dripped_a_byte_at_a_time_ends_at_the_deadline(serve):
    """Each byte comes well within the per-read timeout; the whole would take 6 s."""
    body = HEATMAP.ljust(120)

    async def drip(path, writer):
        writer.write(head(content_length=str(len(body))))
        for byte in body:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)

    async with client_at(await serve(drip), timeout=5.0, deadline=0.5) as client:
        with pytest.raises(NetworkError, match=r"no complete answer within 0\.5s"):
            await client.heatmap()


# --- Retry-After is read in every form, and capped ------------------------------------

SENT_AT = "Mon, 07 Dec 2026 06:00:00 GMT"


@pytest.mark.parametrize(
    ("retry_after", "seconds", "text"),
    [
        ("36000", 900.0, "retry in 900s (the server asked 36000s: capped)"),  # 10 hours
        ("inf", 900.0, "retry in 900s"),
        ("-5", 0.0, "retry in 0s"),
        ("nan", None, "rate limited"),
        ("soon", None, "rate limited"),
        ("Mon, 07 Dec 2026 06:02:00 GMT", 120.0, "retry in 120s"),  # counted from the answer's Date
        ("Mon, 07 Dec 2026 16:00:00 GMT", 900.0, "retry in 900s (the server asked 36000s: capped)"),
        ("Mon, 07 Dec 2026 05:00:00 GMT", 0.0, "retry in 0s"),  # already past
    ],
)
async def test_retry_after_is_read_as_seconds_or_a_date_and_capped_at_15_minutes(serve, retry_after, seconds, text):
    body = b'{"error": "rate_limit_exceeded", "message": "slow down"}'

    async def answer(path, writer):
        writer.write(head(429, retry_after=retry_after, date=SENT_AT, content_length=str(len(body))) + body)

    async with client_at(await serve(answer)) as client:
        with pytest.raises(RateLimitError) as info:
            await client.heatmap()
    assert info.value.retry_after == seconds and not info.value.daily
    assert str(info.value).endswith(text) and "nan" not in str(info.value)


# --- an export's link obeys the base URL's rule ----------------------------------------


class RecordingTransport(httpx.AsyncBaseTransport):
    """The real network transport, remembering the host of every request it is handed."""

    def __init__(self):
        self.hosts = []
        self._network = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request):
        self.hosts.append(request.url.host)
        return await self._network.handle_async_request(request)

    async def aclose(self):
        await self._network.aclose()


@pytest.mark.parametrize("location", ["http://files.example.invalid/f.json?X-Amz-Signature=s", "ftp://127.0.0.1/f"])
async def test_an_export_link_in_plain_http_to_another_host_is_refused_before_any_connection(serve, location):
    async def answer(path, writer):
        writer.write(head(302, location=location, content_length="0"))

    transport = RecordingTransport()
    async with client_at(await serve(answer), transport=transport) as client:
        with pytest.raises(BadResponseError, match="field 'Location' is .*: refused, https only") as info:
            await client.segments_bias_24h()
    assert transport.hosts == ["127.0.0.1"]  # the API only: nothing was sent towards the link
    assert location.split("/")[2].split("?")[0] in str(info.value)


async def test_an_export_link_to_this_machine_is_followed(serve):
    """The API on 127.0.0.1 sends the download to `localhost` (another host, still loopback)."""
    body = b'{"data": []}'

    async def answer(path, writer):
        if path.startswith("/api/"):
            port = writer.get_extra_info("sockname")[1]
            writer.write(head(302, location=f"http://localhost:{port}/files/f.json", content_length="0"))
        else:
            writer.write(head(content_length=str(len(body))) + body)

    transport = RecordingTransport()
    async with client_at(await serve(answer), transport=transport) as client:
        await client.segments_bias_24h()
    assert transport.hosts == ["127.0.0.1", "localhost"]


# --- an export's link is asked for once, and again only when it expired ----------------

EXPIRED = b'<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>'


async def no_wait(seconds):
    """The retries' backoff, skipped."""


def export_server(*file_answers: tuple[int, bytes]):
    """An API that hands out a new link per request (`?link=1`, `2`, ...) to a file host on this
    machine that gives `file_answers` in turn, then the file."""
    answers = list(file_answers)
    links = 0

    async def answer(path, writer):
        nonlocal links
        if path.startswith("/api/"):
            links += 1
            port = writer.get_extra_info("sockname")[1]
            writer.write(head(302, location=f"http://localhost:{port}/f.json?link={links}", content_length="0"))
            return
        status, body = answers.pop(0) if answers else (200, b'{"data": []}')
        kind = "application/xml" if body.startswith(b"<") else "text/plain"
        writer.write(head(status, content_type=kind, content_length=str(len(body))) + body)

    return answer


async def test_a_failed_download_is_retried_on_the_same_link(serve):
    answer = export_server((503, b"busy"), (500, b"oops"))
    async with client_at(await serve(answer), retries=3, sleep=no_wait) as client:
        await client.segments_bias_24h()
    assert serve.paths == ["/api/external/exports/segments-bias-charts-data-24h"] + ["/f.json?link=1"] * 3


async def test_an_expired_link_is_asked_for_again(serve):
    answer = export_server((403, EXPIRED))
    async with client_at(await serve(answer), retries=3, sleep=no_wait) as client:
        await client.segments_bias_24h()
    api = "/api/external/exports/segments-bias-charts-data-24h"
    assert serve.paths == [api, "/f.json?link=1", api, "/f.json?link=2"]


@pytest.mark.parametrize("status", [401, 403])
async def test_a_download_refused_without_xml_does_not_blame_the_token(serve, status):
    answer = export_server((status, b"Forbidden"))
    async with client_at(await serve(answer)) as client:
        with pytest.raises(ApiError) as info:
            await client.segments_bias_24h()
    assert not isinstance(info.value, AuthError) and "token" not in str(info.value)
    assert str(info.value).endswith(f"the export file's host refused the download ({status})")
