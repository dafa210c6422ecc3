"""The command palette's commands (App.get_system_commands), their titles shown as written.

Textual reads a title as markup, when listing and when highlighting a search's matches; the
titles hold cohort and coin names from the server, and a name such as "[/]" raised MarkupError
as the palette opened, taking the app down. Imported when the palette first opens, as Textual's
own provider is.
"""

from __future__ import annotations

from dataclasses import replace

from textual.command import Hit, Hits
from textual.content import Content
from textual.system_commands import SystemCommandsProvider


class LiteralCommands(SystemCommandsProvider):
    async def discover(self) -> Hits:
        async for hit in super().discover():
            yield replace(hit, display=Content(hit.text))  # `text` is the title, as given

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback, *_ in self.app.get_system_commands(self.screen):
            score, offsets = matcher.fuzzy_search.match(matcher.query, title)
            if score > 0:
                shown = Content(title)
                for offset in offsets:  # Matcher.highlight's marks, on the literal title
                    if not title[offset].isspace():
                        shown = shown.stylize(matcher.match_style, offset, offset + 1)
                yield Hit(score, shown, callback, text=title, help=help_text)
