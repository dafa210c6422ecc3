"""Opening the dashboard: the first requests leave before the UI is imported.

Importing Textual and the UI, then drawing the first frame, keeps one core busy ~0.5 s. Against
a remote API the first screen needs a TLS handshake and two round trips after it (the legend,
then the first cohort's summary and risk): sent first, they travel while the UI is imported
(in a thread, so the event loop can take the answers) instead of after the first frame.
"""

from __future__ import annotations

import asyncio
import importlib
import shutil
from typing import TYPE_CHECKING

from hypertui.api.prefetch import Prefetch
from hypertui.monitor.first_requests import FirstScreen
from hypertui.monitor.plan import panels_shown_at
from hypertui.source import open_client

if TYPE_CHECKING:
    from hypertui.config import Settings


def run_dashboard(settings: Settings) -> int:
    """The dashboard for `settings` until the user quits; the exit code."""
    return asyncio.run(_run(settings))


async def _run(settings: Settings) -> int:
    client, label = open_client(settings)
    first = None
    if not settings.uses_simulator:  # the embedded simulator's answers cost CPU, not waiting: they would only slow the import
        first = Prefetch(client, FirstScreen(panels_shown_at(shutil.get_terminal_size().columns)))  # Textual's way to the size
    ui = await asyncio.to_thread(importlib.import_module, "hypertui.ui.app")
    return await ui.run_app(settings, client, label, first)
