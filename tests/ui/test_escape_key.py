"""A lone esc reaches the app ESCDELAY ms after it is pressed (ui/escape_key.py), not after
Textual's Linux driver's tenth of a second without input; other drivers are left alone."""

from __future__ import annotations

import os
import threading

import pytest
from textual import constants, events
from textual.app import App
from textual.drivers.linux_driver import LinuxDriver
from textual.drivers.web_driver import WebDriver

from hypertui.ui.escape_key import ESCDELAY_MS, IDLE_WAIT, escape_delay, input_wait, prompt_escape
from hypertui.ui.textual_internals import XTermParser


def test_a_held_esc_cuts_the_wait_for_input_to_its_delay():
    parser = XTermParser()
    assert input_wait(parser) == IDLE_WAIT  # nothing held: Textual's own wait
    assert list(parser.feed("\x1b")) == []  # held: the start of a sequence, perhaps
    assert input_wait(parser) <= min(constants.ESCAPE_DELAY, IDLE_WAIT)
    list(parser.feed("[B"))  # the rest came: an arrow, nothing held any more
    assert input_wait(parser) == IDLE_WAIT


def test_escdelay_is_htops_unless_the_user_set_it():
    assert escape_delay({}) == ESCDELAY_MS / 1000 == 0.025
    assert escape_delay({"ESCDELAY": "100"}) == constants.ESCAPE_DELAY  # Textual's reading of the user's


def test_only_textuals_linux_driver_is_changed():
    assert issubclass(prompt_escape(LinuxDriver), LinuxDriver) and prompt_escape(LinuxDriver) is not LinuxDriver
    assert prompt_escape(WebDriver) is WebDriver  # hypertui serve: textual-serve's driver as it is


def test_the_apps_driver_under_hypertui_serve_is_the_web_driver_untouched(monkeypatch: pytest.MonkeyPatch, make_app):
    monkeypatch.setattr(constants, "DRIVER", "textual.drivers.web_driver:WebDriver")  # as textual-serve sets it
    driver = make_app().get_driver_class()
    assert issubclass(driver, WebDriver) and driver.run_input_thread is WebDriver.run_input_thread


async def test_the_drivers_input_loop_reads_keys_and_a_lone_esc_from_the_terminal(monkeypatch: pytest.MonkeyPatch):
    """Textual's loop, copied for its wait: keys, a sequence and a lone esc still come through."""
    monkeypatch.setattr(constants, "ESCAPE_DELAY", constants.ESCAPE_DELAY)  # the loop sets it: restored after
    keys: list[str] = []
    esc_read = threading.Event()

    class Reading(prompt_escape(LinuxDriver)):  # type: ignore[misc, valid-type]
        def process_message(self, message: object) -> None:
            if isinstance(message, events.Key):
                keys.append(message.key)
                if message.key == "escape":
                    esc_read.set()

    read, write = os.pipe()
    driver = Reading(App())
    driver.fileno = read  # the terminal's input
    loop = threading.Thread(target=driver.run_input_thread)
    loop.start()
    try:
        os.write(write, b"j\x1b[B")
        os.write(write, b"\x1b")  # alone: nothing follows
        assert esc_read.wait(5)  # delivered with no more input (a hang fails, never a time)
    finally:
        driver.exit_event.set()
        os.write(write, b"k")  # wakes the loop to see it
        loop.join(5)
        os.close(write)
        os.close(read)
    assert keys[:3] == ["j", "down", "escape"]
