"""Esc answered in ESCDELAY ms, not a tenth of a second later.

A lone esc may be the start of a key's sequence (an arrow is esc [ A): Textual's parser holds it
ESCDELAY ms for more (Textual's default 100; ours 25, as htop's, unless the user set ESCDELAY).
But Textual's Linux driver looks at the parser's clock only when its wait for input ends, which
is after 0.1 s with no input: every esc reached the app 100-130 ms after it was pressed,
whatever ESCDELAY said, and every way back from a screen waited that long before any work began.
`prompt_escape`'s driver waits for input only until the parser's wait for the rest of a sequence
is over. A terminal speaking the kitty keyboard protocol sends esc unambiguously (no wait at all),
and other drivers (the web driver of `hypertui serve`) are left as they are.

The cost, as for htop and vim's ttimeoutlen: an arrow key's sequence split across two reads more
than ESCDELAY ms apart (a slow SSH link) reads as esc and "[B". ESCDELAY=100 restores Textual's.
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder
from collections.abc import Mapping
from functools import cache

from textual import constants
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver

from hypertui.ui.textual_internals import XTermParser, escape_wait_left, key_parser

ESCDELAY_MS = 25  # htop's; Textual's is 100
IDLE_WAIT = 0.1  # seconds: Textual's wait for input when no sequence is pending


def escape_delay(environ: Mapping[str, str] = os.environ) -> float:
    """Seconds a lone esc is held: the user's ESCDELAY (ms) if set, as Textual read it, else ours."""
    return constants.ESCAPE_DELAY if "ESCDELAY" in environ else ESCDELAY_MS / 1000


def input_wait(parser: XTermParser) -> float:
    """Seconds to wait for input: until a held esc is due to be given up, at most IDLE_WAIT."""
    left = escape_wait_left(parser)
    return IDLE_WAIT if left is None else min(IDLE_WAIT, left)


@cache
def prompt_escape(driver: type[Driver]) -> type[Driver]:
    """`driver` with a prompt esc, if it is Textual's Linux driver (else `driver` itself)."""
    if not issubclass(driver, LinuxDriver):
        return driver

    def run_input_thread(self: LinuxDriver) -> None:
        # LinuxDriver.run_input_thread (Textual 8.2.8), but for the wait: re-check on an upgrade.
        # Final to mypy, but the parser reads it at each esc: this driver's, set before the first.
        constants.ESCAPE_DELAY = escape_delay()  # type: ignore[misc]
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        parser = key_parser(self)
        decode = getincrementaldecoder("utf-8")().decode

        def process(events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            for n, (_, mask) in enumerate(events, 1):
                if mask & selectors.EVENT_READ:
                    data = decode(os.read(self.fileno, 1024 * 4), final=final and n == len(events))
                    if not data:  # stdin piped, and at its end
                        break
                    for event in parser.feed(data):
                        self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(input_wait(parser)))
            selector.unregister(self.fileno)
            process(selector.select(IDLE_WAIT), final=True)
        finally:
            selector.close()
            try:
                for _ in parser.feed(""):
                    pass
            except Exception:  # noqa: BLE001 - as Textual's (EOFError, ParseError): the input is gone
                pass

    return type(driver.__name__, (driver,), {"run_input_thread": run_input_thread, "__doc__": driver.__doc__})
