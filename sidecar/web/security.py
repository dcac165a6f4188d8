"""Hardening of the web app: trusted proxies, rate limits, security headers, the request log context.

``init_security(app, settings)`` is the one entry point; ``create_app`` calls it after the
blueprints are registered.

Rate limits are per client address (``request.remote_addr``, which ProxyFix rewrites from
X-Forwarded-For only when SIDECAR_TRUSTED_PROXIES says a proxy is in front). Their counters live
in SIDECAR_RATELIMIT_STORAGE: ``memory://`` is per process (gunicorn's workers each count on their
own), ``sqlite:///path`` is a small file every worker on the host shares (defined below, so no
extra daemon is needed), and ``memcached://`` / ``redis://`` work when their client is installed.
The IPN and the return are never limited: PayTabs' retries and paying buyers must always get in.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse_many
from limits.storage import Storage
from werkzeug.middleware.proxy_fix import ProxyFix

from sidecar.core.config import ConfigError, Settings
from sidecar.core.logs import CORRELATION, REQUEST_ID
from sidecar.domain import messages
from sidecar.web.responses import error_json, message_page, wants_json

LIMITED_ENDPOINTS = {
    "checkout.checkout": "ratelimit_checkout",
    "checkout.retry": "ratelimit_checkout",  # "Try again" opens a PayTabs page, as checkout does
    "status.status": "ratelimit_status",
    "seats.seats": "ratelimit_status",  # the group's seats: public, read-only, like the status
    "calendar.calendar": "ratelimit_status",  # the receipt's .ics: public, read-only, asks WordPress
}
# Whole blueprints limited as one (every route of it counts against the same allowance).
LIMITED_BLUEPRINTS = {"operator": "ratelimit_operator"}
JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
PAGE_CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
HSTS = "max-age=31536000"
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def init_security(app: Flask, settings: Settings) -> None:
    """Trust the configured proxies, limit abusive clients, add headers, set the log context."""
    proxies = int(getattr(settings, "trusted_proxies", 0))
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies
        )
    limiter = build_limiter(app, settings)
    app.extensions["sidecar_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, too_many_requests)
    hsts = settings.public_url.startswith("https://")
    app.after_request(lambda response: add_security_headers(response, hsts=hsts))
    app.before_request(bind_log_context)
    app.teardown_request(unbind_log_context)


def build_limiter(app: Flask, settings: Settings) -> Limiter:
    """Attach Flask-Limiter; limit checkout, status and the operator API per client address."""
    limits = {name: str(getattr(settings, attr)) for name, attr in LIMITED_ENDPOINTS.items()}
    blueprint_limits = {
        name: str(getattr(settings, attr)) for name, attr in LIMITED_BLUEPRINTS.items()
    }
    for name, value in (*limits.items(), *blueprint_limits.items()):
        try:
            parse_many(value)
        except ValueError:
            attr = LIMITED_ENDPOINTS.get(name) or LIMITED_BLUEPRINTS[name]
            setting = "SIDECAR_" + attr.upper()
            raise ConfigError(
                f"Invalid configuration:\n  - {setting}: {value!r} is not a rate like 10/minute"
            ) from None
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.ratelimit_storage,
        strategy="fixed-window",
        headers_enabled=False,  # Retry-After is set on the 429 itself; no X-RateLimit-* noise
        swallow_errors=True,  # a broken counter store must not stop people paying
        key_prefix="sidecar",
    )
    for endpoint, value in limits.items():
        view = app.view_functions.get(endpoint)
        if view is not None:
            app.view_functions[endpoint] = limiter.limit(value)(view)  # type: ignore[assignment]
    for name, value in blueprint_limits.items():
        blueprint = app.blueprints.get(name)
        if isinstance(blueprint, Blueprint):
            limiter.shared_limit(value, scope=name)(blueprint)
    return limiter


def too_many_requests(exc: RateLimitExceeded) -> Response:
    """Answer 429 with Retry-After: JSON to scripts and the status poll, a short page to people."""
    retry_after = _retry_after_seconds(exc)
    message = messages.RATE_LIMITED
    if wants_json() or not request.path.startswith("/therapy/checkout"):
        response = error_json(429, "rate_limited", message)
    else:
        response = message_page(429, messages.RATE_LIMITED_TITLE, message)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _retry_after_seconds(exc: RateLimitExceeded) -> int:
    """Return the seconds until the breached window resets (at least 1)."""
    limiter: Limiter | None = _current_limiter()
    current = limiter.current_limit if limiter is not None else None
    if current is not None:
        return max(1, int(current.reset_at - time.time()))
    return max(1, int(exc.limit.limit.get_expiry()))


def _current_limiter() -> Limiter | None:
    from flask import current_app

    limiter: Limiter | None = current_app.extensions.get("sidecar_limiter")
    return limiter


def add_security_headers(response: Response, *, hsts: bool) -> Response:
    """Set the headers every sidecar answer carries (an HTML page gets a page-shaped CSP)."""
    is_page = response.mimetype == "text/html" and not response.location
    headers = response.headers
    headers.setdefault("Content-Security-Policy", PAGE_CSP if is_page else JSON_CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-site")
    if "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    if hsts:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def bind_log_context() -> None:
    """Tag this request's log lines with a request id and, on /therapy/status/<ref>, the ref."""
    given = request.headers.get("X-Request-Id", "")
    request_id = given if REQUEST_ID_RE.match(given) else secrets.token_hex(8)
    ref = (request.view_args or {}).get("ref")
    g.sidecar_log_tokens = (
        REQUEST_ID.set(request_id),
        CORRELATION.set(ref if isinstance(ref, str) and len(ref) <= 40 else None),
    )


def unbind_log_context(_exc: BaseException | None) -> None:
    """Forget the request's log context (threads are reused between requests)."""
    tokens = g.pop("sidecar_log_tokens", None)
    if tokens is not None:
        REQUEST_ID.reset(tokens[0])
        CORRELATION.reset(tokens[1])


class SQLiteStorage(Storage):
    """Rate-limit counters in one SQLite file that all gunicorn workers on the host share.

    Fixed windows only: a row per key holds the count and the time its window ends.
    """

    STORAGE_SCHEME = ["sqlite"]
    PURGE_EVERY = 500

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        path = uri[len("sqlite:///") :] if uri.startswith("sqlite:///") else ""
        if not path:
            raise ConfigError("SIDECAR_RATELIMIT_STORAGE must look like sqlite:////absolute/path")
        self.path = path
        self._local = threading.local()
        self._writes = 0
        Path(path).parent.mkdir(parents=True, exist_ok=True)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """The errors that mean the store is unusable."""
        return sqlite3.Error

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=5, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS ratelimit"
                " (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)"
            )
            self._local.conn = conn
        return conn

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add ``amount`` to the key's window (starting a new window if it ended); return the count."""
        now = time.time()
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM ratelimit WHERE key = ? AND expires <= ?", (key, now))
            conn.execute(
                "INSERT INTO ratelimit (key, count, expires) VALUES (?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET count = count + excluded.count",
                (key, amount, now + expiry),
            )
            count = conn.execute("SELECT count FROM ratelimit WHERE key = ?", (key,)).fetchone()[0]
            self._writes += 1
            if self._writes % self.PURGE_EVERY == 0:
                conn.execute("DELETE FROM ratelimit WHERE expires <= ?", (now,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return int(count)

    def get(self, key: str) -> int:
        """Return the count of the key's current window (0 when none)."""
        row = (
            self._conn()
            .execute(
                "SELECT count FROM ratelimit WHERE key = ? AND expires > ?", (key, time.time())
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        """Return when the key's window ends (now when there is none)."""
        now = time.time()
        row = (
            self._conn()
            .execute("SELECT expires FROM ratelimit WHERE key = ? AND expires > ?", (key, now))
            .fetchone()
        )
        return float(row[0]) if row else now

    def check(self) -> bool:
        """Tell whether the file can be read."""
        try:
            self._conn().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every counter; return how many there were."""
        return int(self._conn().execute("DELETE FROM ratelimit").rowcount)

    def clear(self, key: str) -> None:
        """Forget one key's counter."""
        self._conn().execute("DELETE FROM ratelimit WHERE key = ?", (key,))

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()
