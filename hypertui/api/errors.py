"""Typed API errors, each readable as one line in a status bar or on stderr."""

from __future__ import annotations

from hypertui.api.text import one_line


class ApiError(Exception):
    """Base of every error the client raises; `str(err)` is one line for a human."""

    def __init__(self, endpoint: str, detail: str) -> None:
        self.endpoint = endpoint
        self.detail = detail
        super().__init__(f"{endpoint}: {detail}")


class AuthError(ApiError):
    """401/403: the token is missing, wrong or lacks access."""


class NotFoundError(ApiError):
    """404: unknown coin or cohort, or an export file that does not exist."""


class BadRequestError(ApiError):
    """400 with the server's validation messages."""

    def __init__(self, endpoint: str, messages: list[str]) -> None:
        self.messages = messages
        super().__init__(endpoint, "bad request: " + ("; ".join(messages) or "no detail"))


class RateLimitError(ApiError):
    """429. `daily` tells the daily quota (wait for the reset) from the per-minute limit."""

    def __init__(
        self,
        endpoint: str,
        *,
        daily: bool,
        retry_after: float | None,
        limit: int | None = None,
        plan: str | None = None,
        asked: float | None = None,  # the server's own wait, when it was longer than the cap
    ) -> None:
        self.daily = daily
        self.retry_after = retry_after  # seconds, already capped; None: the server did not say
        self.limit = limit
        self.plan = plan
        if daily:
            plan_text = f" ({plan} plan, {limit}/day)" if plan and limit else ""
            detail = f"daily request quota used up{plan_text}"
        else:
            wait = f", retry in {retry_after:g}s" if retry_after is not None else ""
            capped = f" (the server asked {asked:g}s: capped)" if asked is not None else ""
            detail = f"rate limited{wait}{capped}"
        super().__init__(endpoint, detail)


class ServerError(ApiError):
    """5xx: a transient failure on the server side."""

    def __init__(self, endpoint: str, status: int) -> None:
        self.status = status
        super().__init__(endpoint, f"server error {status}")


class NetworkError(ApiError):
    """The request never got an HTTP answer: DNS, refused, reset, timeout."""


class BadResponseError(ApiError):
    """The server answered, but not with what the contract says (names the field)."""

    def __init__(self, endpoint: str, field: str, problem: str) -> None:
        self.field = field
        super().__init__(endpoint, f"bad response: field '{field}' {problem}")


class ExportExpiredError(ApiError):
    """The pre-signed download link of an export expired before it was fetched."""


class TooLargeError(ApiError):
    """The answer, as sent or once unpacked, is bigger than the client reads (`max_body`)."""

    def __init__(self, endpoint: str, limit: int) -> None:
        super().__init__(endpoint, f"answer larger than {limit / 2**20:g} MB: not read further")


def error_line(exc: BaseException) -> str:
    """One line for a status line: an ApiError's own message, anything else as an internal error."""
    return one_line(str(exc) if isinstance(exc, ApiError) else f"internal error: {type(exc).__name__}: {exc}")
