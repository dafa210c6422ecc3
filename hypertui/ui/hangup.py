"""Leave promptly and quietly when the terminal goes away (an SSH drop, a closed window).

A hung-up tty reads as empty forever: Textual's input thread then spins and its writer thread
dies on the first failed write, so a normal shutdown can block. When the terminal is really
gone we log a line and leave at once; on a plain `kill -HUP` with the terminal still there we
exit normally, with a deadline.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from typing import Any

HANGUP_EXIT = 129  # 128 + SIGHUP, as a shell reports it


def watch_terminal(app: Any) -> None:
    """Install the SIGHUP handler (unless SIGHUP is ignored, as under nohup) and a tty check."""
    if app.is_headless or sys.__stdin__ is None or not os.isatty(sys.__stdin__.fileno()):
        return
    fd = sys.__stdin__.fileno()
    hung_up = threading.Event()

    def hang_up() -> None:
        if hung_up.is_set():
            return
        hung_up.set()
        if os.isatty(fd):  # the terminal is still there: a normal exit, bounded in time
            deadline = threading.Timer(3.0, os._exit, (HANGUP_EXIT,))
            deadline.daemon = True
            deadline.start()
            app.exit(HANGUP_EXIT)
            return
        logging.getLogger("hypertui").warning("terminal hung up: exiting")
        logging.shutdown()
        os._exit(HANGUP_EXIT)  # Textual's shutdown would block on its dead writer thread

    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, hang_up)

    def check_terminal() -> None:
        if not os.isatty(fd):
            hang_up()

    app.set_interval(1.0, check_terminal, name="tty-watch")
