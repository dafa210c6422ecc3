"""Test doubles. Here, not under tests/, because `hypertui screenshots` (ui/screenshots.py) runs
the app behind one at run time, as the UI tests do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from hypertui.api.errors import ApiError


class FaultyClient:
    """Wraps a client: records endpoint calls and, while `error` is set, raises it from each."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.error: ApiError | None = None
        self.calls: list[tuple[str, tuple, dict]] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name.startswith("_") or name == "aclose" or not callable(attr):
            return attr
        if name.startswith("iter_"):  # an async iterator of pages: recorded, then failing per page
            return self._pages(name, attr)

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args, kwargs))
            if self.error is not None:
                raise self.error
            return await attr(*args, **kwargs)

        return call

    def _pages(self, name: str, attr: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args, kwargs))

            async def pages() -> AsyncIterator[Any]:
                if self.error is not None:
                    raise self.error
                async for page in attr(*args, **kwargs):
                    yield page
                    if self.error is not None:
                        raise self.error

            return pages()

        return call
