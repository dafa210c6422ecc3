"""The terminal goes away (SSH drops, `tmux kill-session`): hypertui must exit promptly, not spin.

`hypertui` runs on a pseudo-terminal; closing the master side is a hang-up: the kernel sends
SIGHUP to the session leader (the app) and the tty starts failing with EIO / EOF, as with sshd or
tmux. Measured by hand with tmux 3.3a as well (`tmux kill-session` on a running dashboard).
"""

from __future__ import annotations

import os
import select
import signal
import struct
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux ptys and /proc")

FIRST_FRAME_WITHIN = 20.0  # seconds; a cold start on a loaded 2-core CI box
EXIT_WITHIN = 3.0  # after the hang-up
HANGUP_EXIT = 128 + signal.SIGHUP


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _spawn(tmp_path, ignore_hup: bool) -> tuple[int, int]:
    import fcntl
    import termios

    pid, fd = os.forkpty()
    if pid == 0:  # the child: the dashboard on the small simulator
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERTRACKER_")}
            env.update(TERM="xterm-256color", HYPERTUI_CONFIG=str(tmp_path / "none.toml"), XDG_STATE_HOME=str(tmp_path))
            if ignore_hup:  # as under `nohup`, or a parent that ignores SIGHUP
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
            os.execve(sys.executable, [sys.executable, "-m", "hypertui", "--scale", "small"], env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 160, 0, 0))
    return pid, fd


def _wait_first_frame(fd: int) -> bytes:
    seen = b""
    deadline = time.monotonic() + FIRST_FRAME_WITHIN
    while time.monotonic() < deadline and not (b"Shrimp" in seen and b"updated" in seen):
        if select.select([fd], [], [], 0.2)[0]:
            try:
                seen += os.read(fd, 1 << 16)
            except OSError:
                break
    return seen


@pytest.mark.timeout(60)
@pytest.mark.parametrize("ignore_hup", [False, True], ids=["sighup", "sighup-ignored"])
def test_hangup_ends_the_process_promptly(tmp_path, ignore_hup):
    pid, fd = _spawn(tmp_path, ignore_hup)
    try:
        seen = _wait_first_frame(fd)
        assert b"Shrimp" in seen, f"no first frame: {seen[-300:]!r}"
        cpu_before = _cpu_seconds(pid)
        os.close(fd)  # the terminal goes away
        fd = -1
        start = time.monotonic()
        status = None
        while time.monotonic() - start < EXIT_WITHIN:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.02)
        else:
            spent = _cpu_seconds(pid) - cpu_before
            message = f"still running {EXIT_WITHIN:g}s after the hang-up, {spent:.1f}s of CPU used meanwhile"
            pytest.fail(message)
        assert status is not None
        if os.WIFSIGNALED(status):
            assert os.WTERMSIG(status) == signal.SIGHUP
        else:
            assert os.WEXITSTATUS(status) in (0, HANGUP_EXIT)
        pid = -1
    finally:
        if fd >= 0:
            os.close(fd)
        if pid > 0:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
