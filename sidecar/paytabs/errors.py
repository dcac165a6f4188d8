"""Exceptions raised by the PayTabs client.

None of them ever carries the server key: they are built only from PayTabs' answer
(``code``, ``message``, ``trace``) and the HTTP status, and the client scrubs the key from
the message before raising in case an answer ever echoes it.
"""

from __future__ import annotations

__all__ = [
    "PayTabsAuthError",
    "PayTabsDuplicateRequest",
    "PayTabsError",
    "PayTabsInvalidRequest",
    "PayTabsProtocolError",
    "PayTabsServerError",
    "PayTabsTransportError",
]


class PayTabsError(Exception):
    """Base class: PayTabs refused, failed or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        trace: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.trace = trace

    def __str__(self) -> str:
        parts = [self.message]
        if self.code is not None:
            parts.append(f"code={self.code}")
        if self.http_status is not None:
            parts.append(f"http={self.http_status}")
        if self.trace:
            parts.append(f"trace={self.trace}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, code={self.code!r}, "
            f"http_status={self.http_status!r}, trace={self.trace!r})"
        )


class PayTabsAuthError(PayTabsError):
    """Code 1 / HTTP 401: wrong server key, wrong profile_id, or a key for another region."""


class PayTabsDuplicateRequest(PayTabsError):
    """Code 4: same cart_id, amount and currency within about two minutes."""


class PayTabsInvalidRequest(PayTabsError):
    """Any other ``{code, message, trace}`` answer or 4xx status (for example 206 currency)."""


class PayTabsServerError(PayTabsError):
    """A 5xx answer without PayTabs' error shape."""


class PayTabsProtocolError(PayTabsError):
    """A 2xx answer that does not have the expected shape."""


class PayTabsTransportError(PayTabsError):
    """PayTabs could not be reached or did not answer in time.

    ``timed_out`` is True when the request may have reached PayTabs (a timeout), so the
    outcome is unknown and must be checked with a query before retrying a create.
    """

    def __init__(self, message: str, *, timed_out: bool) -> None:
        super().__init__(message)
        self.timed_out = timed_out

    def __repr__(self) -> str:
        return f"PayTabsTransportError(message={self.message!r}, timed_out={self.timed_out!r})"
