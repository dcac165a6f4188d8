"""JSON log lines with a correlation id, and a filter that keeps secrets and personal data out.

Every record becomes one JSON object on one line: ``ts``, ``level``, ``logger``, ``message``,
``role`` ("web" or "worker"), ``pid``, and, when known, the intent it concerns (``ref`` or
``intent_id``) and the web request's ``request_id``. The correlation lives in a ContextVar, so code
that knows nothing about the sidecar (``wp_bridge``) is correlated through the plain logging record.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import IO, Any, ParamSpec, TypeVar
from urllib.parse import quote, quote_plus, urlsplit

from flask.logging import default_handler as flask_default_handler

CORRELATION: ContextVar[str | int | None] = ContextVar("sidecar_correlation", default=None)
REQUEST_ID: ContextVar[str | None] = ContextVar("sidecar_request_id", default=None)
REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 6
_INSTALLED = "_sidecar_json_handler"
T = TypeVar("T")
P = ParamSpec("P")

# Order matters: whole tokens and keys first, then name=value pairs, then personal data.
_PATTERNS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # signed tokens (form tokens, login grants): b64url payload "." 43-character HMAC
    (re.compile(r"[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"), "[TOKEN]"),
    # PayTabs server (S...) and client (C...) keys: three dash-separated blocks
    (re.compile(r"\b[SC][A-Za-z0-9]{6,}-[A-Za-z0-9]{6,}-[A-Za-z0-9]{6,}\b"), "[PAYTABS_KEY]"),
    (
        re.compile(r"\b(Basic|Bearer|Digest)\s+[A-Za-z0-9+/=._~-]{6,}", re.IGNORECASE),
        r"\1 " + REDACTED,
    ),
    (
        re.compile(
            r"""(?ix)(["']?)\b(password|passwd|pwd|pass|secret|shared_secret|token|form_token|grant|
            signature|server_key|serverkey|app_password|authorization|cookie|set-cookie|api_key)\1
            (\s*[:=]\s*)(?:"[^"]*"|'[^']*'|[^\s"'&,;}]+)"""
        ),
        r"\1\2\1\3" + REDACTED,
    ),
    # database URLs: scheme://user:password@host
    (re.compile(r"(://[^:/@\s]+):[^@/\s]+@"), r"\1:" + REDACTED + "@"),
]
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\b")
# URLs carry "@" as %40 (%2540 when encoded twice): urllib3's DEBUG lines print the search query.
_URL_EMAIL = re.compile(
    r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*?(%(?:25)?40)([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\b",
    re.IGNORECASE,
)
# Digits grouped by spaces or dashes, as typed, or by "+" and "%20", as a URL encodes a space.
_CARD = re.compile(r"(?<![\w-])\d(?:(?:[ +-]|%20)?\d){12,18}(?![\w])")


def _mask_card(match: re.Match[str]) -> str:
    """Keep the last four digits of a card-like number, like a receipt does."""
    digits = re.sub(r"\D", "", match.group(0))
    return f"[CARD ****{digits[-4:]}]"


class Redactor:
    """Remove known secret values and secret-shaped text from a string."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *values: str | None) -> None:
        """Remember more secret values (and their URL-encoded and space-free spellings)."""
        for value in values:
            if not value or len(value.strip()) < MIN_SECRET_LENGTH:
                continue
            compact = re.sub(r"\s+", "", value)
            self._secrets.update({value, compact, quote(value, safe=""), quote_plus(value)})

    def __call__(self, text: str) -> str:
        """Return ``text`` with secrets, card numbers and email local parts masked."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        text = _EMAIL.sub(r"\1***@\2", text)
        text = _URL_EMAIL.sub(r"\1***\2\3", text)
        return _CARD.sub(_mask_card, text)


class RedactingFilter(logging.Filter):
    """Rewrite each record so that its message, arguments and traceback carry no secret."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the formatted message and any exception text; always keep the record."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = self.redactor(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object on one line."""

    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        """Return the JSON line for ``record``."""
        line: dict[str, Any] = {
            "ts": _iso_time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "role": self.role,
            "pid": record.process,
        }
        correlation = CORRELATION.get()
        if isinstance(correlation, int):
            line["intent_id"] = correlation
        elif correlation:
            line["ref"] = correlation
        request_id = REQUEST_ID.get()
        if request_id:
            line["request_id"] = request_id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


def _iso_time(created: float) -> str:
    """Return an ISO 8601 UTC time with milliseconds."""
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
        + f".{int(created % 1 * 1000):03d}Z"
    )


@contextmanager
def correlation(value: str | int | None) -> Iterator[None]:
    """Tag every log line inside the block with an intent ref (str) or intent id (int)."""
    token = CORRELATION.set(value)
    try:
        yield
    finally:
        CORRELATION.reset(token)


def correlated_job(run: Callable[P, T]) -> Callable[P, T]:
    """Decorate ``run_job(services, job)`` so its log lines (and wp_bridge's) name the intent."""

    @wraps(run)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        job = args[1] if len(args) > 1 else kwargs.get("job")
        with correlation(getattr(job, "intent_id", None)):
            return run(*args, **kwargs)

    return wrapper


def settings_secrets(settings: Any) -> list[str]:
    """Return the secret values a Settings object holds (secrets, URL passwords, webhook URL)."""
    values: list[str] = []
    for name in (
        "shared_secret",
        "shared_secret_also_accepted",
        "wp_api_app_password",
        "encryption_key",
    ):
        secret = getattr(settings, name, None)
        if secret is not None:
            values.append(secret.reveal())
    for name in ("database_url", "wp_database_url"):
        password = urlsplit(str(getattr(settings, name, "") or "")).password
        if password:
            values.append(password)
    webhook = getattr(settings, "alert_webhook_url", None)
    if webhook:
        values.append(str(webhook))  # a chat webhook URL is itself the credential
    return values


def configure_logging(
    role: str,
    settings: Any = None,
    *,
    stream: IO[str] | None = None,
    level: str | None = None,
    secrets: Iterable[str] = (),
) -> Redactor:
    """Send every log record (root logger) to ``stream`` as redacted JSON lines; return the redactor.

    Calling it again replaces the handler it installed before (a reload does not double lines)
    but keeps its redactor, which other handlers (gunicorn's) may share, and adds to it.
    """
    redactor = current_redactor() or Redactor()
    redactor.add(*secrets)
    if settings is not None:
        redactor.add(*settings_secrets(settings))
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(role))
    handler.addFilter(RedactingFilter(redactor))
    setattr(handler, _INSTALLED, True)
    root = logging.getLogger()
    logging.getLogger("sidecar").removeHandler(flask_default_handler)  # plain text, unfiltered
    for old in [h for h in root.handlers if getattr(h, _INSTALLED, False)]:
        root.removeHandler(old)
        old.close()
    for other in list(root.handlers):  # basicConfig's plain-text handler would print twice
        if type(other) is logging.StreamHandler:
            root.removeHandler(other)
    root.addHandler(handler)
    root.setLevel((level or os.environ.get("SIDECAR_LOG_LEVEL") or "INFO").upper())
    return redactor


def json_handlers_for(loggers: Iterable[logging.Logger], role: str, redactor: Redactor) -> None:
    """Give other loggers' own handlers (gunicorn's) the JSON format and the redaction filter."""
    for logger in loggers:
        for handler in logger.handlers:
            handler.setFormatter(JsonFormatter(role))
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter(redactor))


def current_redactor() -> Redactor | None:
    """Return the redactor of the installed JSON handler, if configure_logging ran."""
    for handler in logging.getLogger().handlers:
        if getattr(handler, _INSTALLED, False):
            for flt in handler.filters:
                if isinstance(flt, RedactingFilter):
                    return flt.redactor
    return None


def remember_server_key(services: Any) -> None:
    """Add the retreat's PayTabs server key to the redactor, when it can be read right now."""
    from sidecar.core.errors import SidecarError

    redactor = current_redactor()
    if redactor is None:
        return
    try:
        redactor.add(services.credentials.get().server_key.reveal())
    except SidecarError as exc:  # unreadable now: the key-shape pattern still masks it
        services.credentials.forget()  # this probe must not leave a cached failure behind
        logging.getLogger(__name__).info("server key not known for redaction yet: %s", exc.code)
