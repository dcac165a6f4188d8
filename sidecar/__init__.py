"""Therapy Pay Sidecar: payment-first PayTabs checkout beside a WordPress site."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the web application: settings, services, blueprints, error handlers.

    ``test_config`` holds environment-style settings (``SIDECAR_PUBLIC_URL``...) and, for tests and
    the demo, ready-made services under lower-case keys (``clock``, ``wordpress``, ``db``...).
    """
    from sidecar.core.config import load_settings
    from sidecar.core.container import build_services
    from sidecar.web import (
        calendar_routes,
        checkout_routes,
        health_routes,
        metrics_routes,
        operator_routes,
        paytabs_routes,
        seats_routes,
        status_routes,
    )
    from sidecar.web.responses import register_error_handlers
    from sidecar.web.security import init_security

    app = Flask(__name__, instance_relative_config=True)
    env = settings_environment(test_config)
    settings = load_settings(env, instance_path=app.instance_path)
    app.config.update(
        MAX_CONTENT_LENGTH=64 * 1024,  # a checkout form or an IPN is a few kB
        MAX_FORM_MEMORY_SIZE=64 * 1024,
        MAX_FORM_PARTS=100,
        SETTINGS=settings,
        CLOSE_DB_AFTER_REQUEST=bool((test_config or {}).get("CLOSE_DB_AFTER_REQUEST", False)),
    )
    overrides = service_overrides(test_config, env, settings.environment)
    app.extensions["sidecar"] = build_services(settings, overrides)
    for routes in (checkout_routes, paytabs_routes, status_routes, health_routes, metrics_routes):
        app.register_blueprint(routes.bp)
    app.register_blueprint(operator_routes.bp)
    app.register_blueprint(seats_routes.bp)
    app.register_blueprint(calendar_routes.bp)
    register_error_handlers(app)
    init_security(app, settings)
    register_request_hooks(app, origin_of(settings.wp_base_url))
    return app


def service_overrides(
    test_config: dict[str, Any] | None, env: dict[str, str], environment: str
) -> dict[str, Any]:
    """Return the ready-made services from test_config plus the test-only switches of ``env``."""
    from sidecar.sandbox.crashpoints import crash_hook, unsafe_test_switches

    overrides = {k: v for k, v in (test_config or {}).items() if k.islower()}
    hook = crash_hook(env, environment)
    if hook is not None:
        overrides.setdefault("crash_point", hook)
    overrides.update(unsafe_test_switches(env, environment))
    return overrides


def register_request_hooks(app: Flask, allowed_origin: str) -> None:
    """Close per-request connections when asked, and let the WordPress origin read the status."""

    @app.teardown_appcontext
    def _close_db(_exc: BaseException | None) -> None:
        # Servers that start a thread per request (the demo's) would leak a connection per thread.
        if app.config.get("CLOSE_DB_AFTER_REQUEST"):
            app.extensions["sidecar"].db.close()

    @app.teardown_request
    def _wake_worker(_exc: BaseException | None) -> None:
        # After the request's transactions have committed: the worker then finds its job.
        from sidecar.jobs.wakeup import send_pending

        send_pending(app.config["SETTINGS"].wakeup_socket)

    @app.after_request
    def _cors_for_status(response: Response) -> Response:
        # The WordPress status page polls from the site's origin; only that origin may read it.
        if (
            request.path.startswith("/therapy/status/")
            and request.headers.get("Origin") == allowed_origin
        ):
            response.headers["Access-Control-Allow-Origin"] = allowed_origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
        return response


def settings_environment(test_config: dict[str, Any] | None = None) -> dict[str, str]:
    """Return the settings' environment: $SIDECAR_ENV_FILE (or .env), os.environ, test_config."""
    from dotenv import dotenv_values

    env: dict[str, str] = {}
    if test_config is None or not test_config.get("SIDECAR_IGNORE_DOTENV"):
        path = os.environ.get("SIDECAR_ENV_FILE") or ".env"
        env.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    if test_config is None or not test_config.get("SIDECAR_IGNORE_ENVIRON"):
        env.update(os.environ)
    env.update({k: str(v) for k, v in (test_config or {}).items() if k.isupper()})
    return env


def origin_of(url: str) -> str:
    """Return scheme://host[:port] of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
