"""A real `redis-server` on a free loopback port, with no persistence: for the shared-cache tests
and benchmarks/team.py. `kill` it and `start` it again on the same port, as an outage would."""

from __future__ import annotations

import socket
import subprocess
import time

import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """`redis-server` on `port` with no persistence; `kill` and `start` again on the same port."""

    def __init__(self, port: int, *options: str, password: str | None = None) -> None:
        self.port = port
        self.password = password
        self._options = [*options, *(["--requirepass", password] if password else [])]
        self._process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0" if self.password else f"redis://127.0.0.1:{self.port}/0"

    def direct(self) -> redis.Redis:
        """A plain client to look at (or spoil) what the desk's clients wrote."""
        return redis.Redis(port=self.port, password=self.password)

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._process = subprocess.Popen([*argv, *self._options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        probe = self.direct()
        for _ in range(500):  # up in a few ms; 10 s at most on a loaded box
            try:
                probe.ping()
                return
            except redis.ConnectionError:
                if self._process.poll() is not None:
                    raise RuntimeError(f"redis-server exited ({self._process.returncode})") from None
                time.sleep(0.02)
        raise RuntimeError("redis-server did not answer PING")

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
