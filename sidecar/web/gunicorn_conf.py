"""Gunicorn settings for the sidecar's web process: ``gunicorn -c python:sidecar.web.gunicorn_conf``.

It ships inside the package, so an upgrade (``pip install``) brings the matching settings. Tune
it with environment variables (the systemd unit reads them from /etc/therapy-sidecar/sidecar.env):

- ``SIDECAR_WEB_BIND`` (default ``127.0.0.1:8000``): where nginx proxies to; loopback only.
  Under therapy-sidecar-web.socket systemd owns the socket and its address wins.
- ``SIDECAR_WEB_WORKERS`` (default ``2 * cores + 1``, at most 8): worker processes.
- ``SIDECAR_WEB_THREADS`` (default 4): threads per worker; a checkout waits on PayTabs for
  up to about 25 s, and the threads keep status polls flowing meanwhile.
- ``SIDECAR_WEB_TIMEOUT`` (default 60): seconds before a silent worker is killed and replaced.
- ``SIDECAR_LOG_LEVEL`` (default INFO).

Logs are JSON lines on stderr (journald keeps them). The access log records the path only: never
the query string (PayTabs' GET return carries its signature there), cookies or tokens.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger

from sidecar.core.logs import (
    configure_logging,
    current_redactor,
    json_handlers_for,
    remember_server_key,
    settings_secrets,
)

MAX_WORKERS = 8


def _int_env(name: str, default: int, low: int = 1, high: int = 1000) -> int:
    """Return an integer environment variable, or ``default`` when unset; refuse nonsense."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise SystemExit(f"{name} must be a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


def default_workers(cores: int | None = None) -> int:
    """Return 2 * cores + 1, capped (SQLite has one writer; the work is mostly waiting on I/O)."""
    return min(2 * (cores or os.cpu_count() or 1) + 1, MAX_WORKERS)


class JsonLogger(Logger):
    """Gunicorn's logger, writing its error and access lines as redacted JSON."""

    def setup(self, cfg: Any) -> None:
        """Let gunicorn install its handlers (it runs again on reload), then reformat them."""
        super().setup(cfg)
        redactor = current_redactor() or configure_logging("web", level=cfg.loglevel)
        json_handlers_for((self.error_log, self.access_log), "web", redactor)


wsgi_app = "sidecar:create_app()"
bind = os.environ.get("SIDECAR_WEB_BIND", "127.0.0.1:8000")
workers = _int_env("SIDECAR_WEB_WORKERS", default_workers(), high=64)
worker_class = "gthread"
threads = _int_env("SIDECAR_WEB_THREADS", 4, high=64)
timeout = _int_env("SIDECAR_WEB_TIMEOUT", 60, low=10, high=600)
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # replace workers now and then; jitter keeps them from restarting together
max_requests_jitter = 200
preload_app = False  # each worker builds its own app (database connections are not fork-safe)
proc_name = "therapy-sidecar-web"
loglevel = os.environ.get("SIDECAR_LOG_LEVEL", "info").lower()
errorlog = "-"
accesslog = "-"
# Path only (%(U)s): never %(q)s or %(r)s (PayTabs' GET return carries its signature in the query
# string), no cookies, no Referer. /therapy/status/<ref> paths do show the intent ref: it is a
# lookup key, not a credential (the login link needs the paying browser's cookie, and the grant
# itself is exchanged on WordPress's side).
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}i)s'
logger_class = JsonLogger
# Forwarded headers are interpreted in one place only: the app's ProxyFix, switched on by
# SIDECAR_TRUSTED_PROXIES. Gunicorn itself believes none of them.
secure_scheme_headers: dict[str, str] = {}
forwarded_allow_ips = "127.0.0.1,::1"
limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190
control_socket_disable = True  # no control socket in $HOME (the service has none)


def on_starting(server: Any) -> None:
    """Stop with one message when the settings are bad; else configure JSON logging."""
    check_settings()
    configure_logging("web", level=server.cfg.loglevel)


def check_settings() -> None:
    """Exit with the settings' message before any worker boots (and prints a traceback)."""
    from sidecar import settings_environment
    from sidecar.core.config import ConfigError, load_settings

    try:
        load_settings(settings_environment())
    except ConfigError as exc:
        raise SystemExit(
            f"therapy-sidecar-web: {exc}\nSet them in the environment file the service reads "
            "(see deploy/sidecar.env.example), or SIDECAR_ENV_FILE."
        ) from None


def post_fork(server: Any, worker: Any) -> None:
    """Give each worker the JSON handler before it loads the app."""
    configure_logging("web", level=server.cfg.loglevel)


def post_worker_init(worker: Any) -> None:
    """Teach the worker's redactor the app's secrets and the PayTabs server key."""
    app = worker.wsgi
    settings = app.config.get("SETTINGS")
    redactor = current_redactor()
    if settings is not None and redactor is not None:
        redactor.add(*settings_secrets(settings))
        remember_server_key(app.extensions["sidecar"])
