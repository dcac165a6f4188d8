"""A stand-in WordPress over HTTP for demos and tests, backed by a ``FakeWordPress``.

REST routes are reached as ``/?rest_route=...`` (or ``/index.php?rest_route=...``) and answer
like WordPress + BuddyPress + the bridge plugin (see wordpress_rest). The theme pages are the
registration form, the status page and the thank-you page.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, make_server

from sidecar.sandbox import wordpress_pages as pages
from sidecar.sandbox.wordpress_rest import AUTH_COOKIE, RestApi, site_url
from wp_bridge.fake import FakeWordPress
from wp_bridge.models import GroupInfo
from wp_bridge.tokens import issue_form_token

__all__ = [
    "AUTH_COOKIE",
    "create_wordpress_app",
    "main",
    "make_wordpress_server",
    "seed_demo_groups",
    "serve_wordpress",
]


def create_wordpress_app(
    fake: FakeWordPress,
    *,
    app_user: str,
    app_password: str,
    shared_secret: str,
    sidecar_url: str,
) -> Flask:
    """Build the sandbox WordPress: REST routes at / and /index.php, plus the theme pages."""
    app = Flask(__name__)
    api = RestApi(fake, app_user, app_password, shared_secret)
    checkout_url = f"{sidecar_url.rstrip('/')}/therapy/checkout"

    @app.route("/", methods=["GET", "POST", "PUT", "DELETE"])
    @app.route("/index.php", methods=["GET", "POST", "PUT", "DELETE"])
    def root() -> Response | str:
        """Serve REST when rest_route is given (as WordPress does), else the home page."""
        route = request.args.get("rest_route")
        if route is None:
            return pages.home_page(fake.groups(site_url=site_url()))
        return api.dispatch(request.method, route)

    @app.get("/therapy-registration/")
    def registration() -> str:
        """Serve the registration form (the shortcode page)."""
        return _registration_page(fake, api, checkout_url, shared_secret)

    @app.get("/therapy-registration-status/")
    def registration_status() -> str:
        """Serve the page the buyer waits on after paying."""
        return pages.status_page(request.args.get("intent", ""))

    @app.get("/thank-you/")
    def thank_you() -> str:
        """Serve the thank-you page, naming the logged-in user."""
        record = fake.user_record(api.logged_in_user_id())
        return pages.thank_you_page(record.email if record else None)

    return app


def _registration_page(fake: FakeWordPress, api: RestApi, checkout_url: str, secret: str) -> str:
    """Render the form; its token names the logged-in visitor (uid 0 when anonymous)."""
    group = _find_group(fake, request.args.get("group", ""))
    record = fake.user_record(api.logged_in_user_id())
    token = issue_form_token(
        uid=record.id if record else 0,
        email=record.email if record else "",
        secret=secret,
        now=fake.clock(),
    )
    return pages.registration_page(
        action=checkout_url,
        form_token=token,
        group=group,
        error=request.args.get("error"),
        field=request.args.get("field"),
    )


def _find_group(fake: FakeWordPress, raw_id: str) -> GroupInfo | None:
    site = site_url()
    return next((g for g in fake.groups(site_url=site) if str(g.id) == raw_id), None)


def seed_demo_groups(fake: FakeWordPress) -> list[GroupInfo]:
    """Add three demo groups in SAR; the second has 2 seats and 1 taken (nearly full)."""
    return [
        fake.add_group(name="Anxiety Support Circle", price="150.00", capacity=8),
        fake.add_group(name="Grief and Loss Group", price="200.00", capacity=2, seats_taken=1),
        fake.add_group(name="Mindful Parenting Workshop", price="175.50", capacity=12),
    ]


def make_wordpress_server(
    host: str, port: int, *, fake: FakeWordPress | None = None, **kwargs: Any
) -> BaseWSGIServer:
    """Return a threaded werkzeug server for the sandbox (port 0 picks a free port)."""
    if fake is None:
        fake = FakeWordPress()
        seed_demo_groups(fake)
    server = make_server(host, port, create_wordpress_app(fake, **kwargs), threaded=True)
    # Mails and group URLs built outside a request use the address really served.
    fake.site_url = f"http://{host}:{server.server_port}"
    return server


def serve_wordpress(host: str, port: int, **kwargs: Any) -> None:
    """Serve the sandbox WordPress until interrupted (see make_wordpress_server)."""
    make_wordpress_server(host, port, **kwargs).serve_forever()


def main(argv: list[str] | None = None) -> None:
    """Run the sandbox from the command line; secrets come from the environment."""
    parser = argparse.ArgumentParser(description="Sandbox WordPress for the therapy sidecar")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--sidecar-url", default=os.environ.get("SIDECAR_PUBLIC_URL", "http://127.0.0.1:8000")
    )
    parser.add_argument("--app-user", default=os.environ.get("SANDBOX_WP_APP_USER", "admin"))
    args = parser.parse_args(argv)
    app_password = os.environ.get("SANDBOX_WP_APP_PASSWORD", "")
    shared_secret = os.environ.get("SIDECAR_SHARED_SECRET", "")
    if not app_password or not shared_secret:
        parser.error("set SANDBOX_WP_APP_PASSWORD and SIDECAR_SHARED_SECRET")
    print(f"sandbox WordPress on http://{args.host}:{args.port}/")
    serve_wordpress(
        args.host,
        args.port,
        app_user=args.app_user,
        app_password=app_password,
        shared_secret=shared_secret,
        sidecar_url=args.sidecar_url,
    )


if __name__ == "__main__":
    main()
