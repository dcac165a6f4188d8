"""One error hierarchy for everything that can go wrong talking to WordPress.

Errors carry the HTTP context (status, WordPress error code, message, a short body excerpt) but
never the credentials: the client redacts the application password before building them.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import requests

BODY_EXCERPT_CHARS = 300

# WordPress reports a duplicate user as a status-less WP_Error, which REST sends as HTTP 500.
EXISTING_USER_CODES = frozenset({"existing_user_login", "existing_user_email"})
# Refusals by the bridge plugin that no retry can change.
DOMAIN_CONFLICT_CODES = frozenset({"therapy_group_full", "therapy_group_closed"})
# 500s raised by wp_insert_user() for bad input: a validation error, not a crash.
PERMANENT_SERVER_CODES = EXISTING_USER_CODES | {"user_login_too_long"}

_TAG = re.compile(r"<[^>]+>")


class WPBridgeError(Exception):
    """Base class: a call to WordPress failed."""

    transient = False
    permanent = False

    def __init__(
        self,
        message: str = "",
        *,
        http_status: int | None = None,
        code: str | None = None,
        body: str | None = None,
        retry_after: float | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        # WordPress puts HTML (<strong>Error:</strong>) into some messages; keep the text only.
        self.message = _TAG.sub("", message or "").strip()
        self.http_status = http_status
        self.code = code
        self.body = (body or "")[:BODY_EXCERPT_CHARS]
        self.retry_after = retry_after
        # WordPress's error "data" (params/details of a 400), without secrets: WP never echoes them.
        self.data = data
        super().__init__(self.message)

    @property
    def is_transient(self) -> bool:
        """Return True when the same call may succeed if tried again later."""
        return self.transient

    @property
    def is_permanent(self) -> bool:
        """Return True when the refusal is final for this group (full, closed, gone)."""
        return self.permanent

    @property
    def invalid_params(self) -> list[str]:
        """Return the request fields WordPress rejected (400 rest_invalid_param), if any."""
        # rest_invalid_param sends {"field": "why"}; rest_missing_callback_param a list of names.
        params = (self.data or {}).get("params")
        return [str(name) for name in params] if isinstance(params, dict | list) else []

    def __str__(self) -> str:
        context = " ".join(str(part) for part in (self.http_status, self.code) if part)
        prefix = f"[{context}] " if context else ""
        return f"{prefix}{self.message or type(self).__name__}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(http_status={self.http_status!r}, code={self.code!r}, "
            f"message={self.message!r})"
        )


class WPConnectionError(WPBridgeError):
    """WordPress could not be reached, or did not answer in time."""

    transient = True

    def __init__(self, message: str = "", *, should_retry: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.should_retry = should_retry

    @property
    def is_transient(self) -> bool:
        """Return True unless the failure cannot heal by itself (e.g. a TLS error)."""
        return self.should_retry


class WPAuthError(WPBridgeError):
    """401/403: the application password is wrong, missing or lacks a capability."""


class WPNotFound(WPBridgeError):
    """404: the route or the object does not exist."""


class WPRateLimited(WPBridgeError):
    """429: WordPress or its host asks us to slow down."""

    transient = True


class WPServerError(WPBridgeError):
    """5xx that is not a known domain answer: WordPress crashed or is overloaded."""

    transient = True


class WPBadRequest(WPBridgeError):
    """Any other 4xx (and validation 500s): our request is wrong; retrying cannot help."""


class WPConflict(WPBridgeError):
    """409 without a more specific meaning: usually a lock or race inside WordPress."""

    transient = True


class UserAlreadyExists(WPConflict):
    """The username ("login") or the email address ("email") is already taken."""

    transient = False

    def __init__(self, message: str = "", *, field: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.field = field or ("login" if self.code == "existing_user_login" else "email")


class GroupFull(WPConflict):
    """The therapy group has no free seat left."""

    transient = False
    permanent = True


class GroupClosed(WPConflict):
    """The therapy group no longer takes registrations."""

    transient = False
    permanent = True


class AlreadyBooked(WPConflict):
    """The user already has a booking in this therapy group (another intent): one place each."""

    transient = False
    permanent = True


class GroupNotFound(WPNotFound):
    """The therapy group (or its BuddyPress group) does not exist."""

    permanent = True


class UserNotFound(WPNotFound):
    """The WordPress user does not exist."""


_CODE_CLASSES: dict[str, type[WPBridgeError]] = {
    "existing_user_login": UserAlreadyExists,
    "existing_user_email": UserAlreadyExists,
    "user_login_too_long": WPBadRequest,
    "therapy_group_full": GroupFull,
    "therapy_group_closed": GroupClosed,
    "therapy_already_booked": AlreadyBooked,
    "therapy_group_not_found": GroupNotFound,
    "bp_rest_group_invalid_id": GroupNotFound,
    "therapy_user_not_found": UserNotFound,
    "bp_rest_group_member_invalid_id": UserNotFound,
    "rest_user_invalid_id": UserNotFound,
}


def error_class_for(status: int, code: str | None) -> type[WPBridgeError]:
    """Return the error class for an HTTP status and WordPress error code."""
    if code in _CODE_CLASSES:
        return _CODE_CLASSES[code]
    if status in (401, 403):
        return WPAuthError
    if status == 404:
        return WPNotFound
    if status == 409:
        return WPConflict
    if status == 429:
        return WPRateLimited
    if status >= 500:
        return WPServerError
    if status >= 400:
        return WPBadRequest
    return WPBridgeError


def error_from_response(
    status: int, payload: Any, *, body: str = "", retry_after: float | None = None
) -> WPBridgeError:
    """Translate one failed WordPress answer into the matching error (the only mapping)."""
    fields = payload if isinstance(payload, dict) else {}
    code = fields.get("code") if isinstance(fields.get("code"), str) else None
    message = fields.get("message") if isinstance(fields.get("message"), str) else None
    data = fields.get("data") if isinstance(fields.get("data"), dict) else None
    cls = error_class_for(status, code)
    return cls(
        message or f"WordPress answered HTTP {status}",
        http_status=status,
        code=code,
        body=body,
        retry_after=retry_after,
        data=data,
    )


def redact(text: str, secret: str) -> str:
    """Remove a secret from text, also in the spaceless form WordPress accepts."""
    for form in {secret, secret.replace(" ", "")}:
        if form:
            text = text.replace(form, "***")
    return text


def host_of(exc: BaseException | None) -> str:
    """Return " at host:port" of the request that failed, when known."""
    url = getattr(getattr(exc, "request", None), "url", None)
    return f" at {urlsplit(str(url)).netloc}" if url else ""


def transport_reason(exc: BaseException) -> str:
    """Return a few words for a requests failure (refused, timed out, TLS, name not found)."""
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        return "the TLS handshake failed (certificate or protocol)"
    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "the host name does not resolve"
    if "Connection refused" in text:
        return "connection refused (is it running, and is the port right?)"
    return "the connection failed"
