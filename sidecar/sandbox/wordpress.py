"""A stand-in WordPress over HTTP for demos and tests, backed by a ``FakeWordPress``.

REST routes are reached as ``/?rest_route=...`` (or ``/index.php?rest_route=...``) and answer
like WordPress + BuddyPress + the bridge plugin (see wordpress_rest). The theme pages are the
registration form (also the home page), the status page, the thank-you page, and a "log in as a
demo member" link that sets the sandbox auth cookie.
"""

from __future__ import annotations

import argparse
import os
import secrets
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import requests
from flask import Flask, Response, redirect, request
from markupsafe import Markup
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Response as BaseResponse

from sidecar.domain import messages
from sidecar.payments.drafts import DRAFT_COOKIE, open_draft
from sidecar.sandbox import wordpress_pages as pages
from sidecar.sandbox.wordpress_copy import BACK_TEXT, STATUS_TEXTS
from sidecar.sandbox.wordpress_i18n import _ as in_visitors_language
from sidecar.sandbox.wordpress_i18n import remember_language
from sidecar.sandbox.wordpress_login import add_login_form
from sidecar.sandbox.wordpress_receipt import receipt_box
from sidecar.sandbox.wordpress_rest import AUTH_COOKIE, AUTH_COOKIE_SECONDS, RestApi, site_url
from wp_bridge.errors import UserAlreadyExists
from wp_bridge.fake import FakeWordPress
from wp_bridge.fake.records import UserRecord
from wp_bridge.models import GroupInfo, GroupSchedule
from wp_bridge.tokens import issue_form_token, sign_token

__all__ = [
    "AUTH_COOKIE",
    "DEMO_MEMBER_EMAIL",
    "create_wordpress_app",
    "ensure_demo_member",
    "main",
    "make_wordpress_server",
    "seed_demo_groups",
    "serve_wordpress",
]

DEMO_MEMBER_EMAIL = "member@example.com"


def create_wordpress_app(
    fake: FakeWordPress,
    *,
    app_user: str,
    app_password: str,
    shared_secret: str,
    sidecar_url: str,
    server_side_status: bool = False,
) -> Flask:
    """Build the sandbox WordPress: REST routes at / and /index.php, plus the theme pages."""
    # With server_side_status the status page asks the sidecar for the state while rendering.
    app = Flask(__name__)
    api = RestApi(fake, app_user, app_password, shared_secret)
    sidecar = sidecar_url.rstrip("/")

    @app.route("/", methods=["GET", "POST", "PUT", "DELETE"])
    @app.route("/index.php", methods=["GET", "POST", "PUT", "DELETE"])
    def root() -> Response | str:
        """Serve REST when rest_route is given (as WordPress does), else the registration page."""
        route = request.args.get("rest_route")
        if route is None:
            return _registration_page(fake, api, f"{sidecar}/therapy/checkout", shared_secret)
        return api.dispatch(request.method, route)

    @app.get("/therapy-registration/")
    def registration() -> str:
        """Serve the registration form (the shortcode page)."""
        return _registration_page(fake, api, f"{sidecar}/therapy/checkout", shared_secret)

    @app.get("/therapy-registration-status/")
    def registration_status() -> str:
        """Serve the page the buyer waits on after paying."""
        return _status_page(fake, api, sidecar, server_side_status)

    @app.get("/thank-you/")
    def thank_you() -> str:
        """Serve the thank-you page, naming the logged-in user and their groups."""
        record = fake.user_record(api.logged_in_user_id())
        ref = request.args.get("intent", "")[:100]
        receipt = receipt_box(fake, record, ref, request.url)
        return pages.thank_you_page(
            record.email if record else None, _group_names(fake, record), receipt
        )

    _add_demo_login(app, fake, shared_secret)
    add_login_form(app, fake, api, shared_secret, AUTH_COOKIE)
    app.after_request(remember_language)
    return app


def _add_demo_login(app: Flask, fake: FakeWordPress, secret: str) -> None:
    """Add the "log in as a demo member" and "log out" links' routes."""

    @app.get("/demo-login/")
    def demo_login() -> BaseResponse:
        """Log the browser in as the demo member (created on first use)."""
        return _demo_login(fake, secret)

    @app.get("/demo-logout/")
    def demo_logout() -> BaseResponse:
        """Forget the sandbox auth cookie."""
        response = redirect(_back_to_form(), code=303)
        response.delete_cookie(AUTH_COOKIE)
        return response


def _registration_page(fake: FakeWordPress, api: RestApi, checkout_url: str, secret: str) -> str:
    """Render the form; its token names the logged-in visitor (uid 0 when anonymous)."""
    groups = fake.groups(site_url=site_url())
    selected = next((g for g in groups if str(g.id) == request.args.get("group", "")), None)
    record = fake.user_record(api.logged_in_user_id())
    # The sidecar's draft of this form (the plugin's draft.php): ignored when it is for a group
    # other than the one asked for; it chooses the group when none is.
    draft = open_draft(request.cookies.get(DRAFT_COOKIE), [secret], fake.clock())
    if draft is not None and selected is not None and draft.group_id != selected.id:
        draft = None
    if draft is not None and selected is None:
        selected = next((g for g in groups if g.id == draft.group_id), None)
    token = issue_form_token(
        uid=record.id if record else 0,
        email=record.email if record else "",
        secret=secret,
        now=fake.clock(),
    )
    return pages.registration_page(
        action=checkout_url,
        form_token=token,
        idempotency_key=secrets.token_hex(16),
        groups=groups,
        selected=selected,
        user=record,
        error=request.args.get("error"),
        field=request.args.get("field"),
        draft=draft.fields if draft is not None else {},
    )


def _status_page(fake: FakeWordPress, api: RestApi, sidecar: str, server_side: bool) -> str:
    """Render the status page for ?intent=REF[&code=...] (the sidecar's 404 covers bad refs)."""
    ref = request.args.get("intent", "")
    record = fake.user_record(api.logged_in_user_id())
    back_url = f"{site_url()}/therapy-registration/"
    if not ref:
        text = pages.notice(in_visitors_language(messages.NO_REGISTRATION_ON_PAGE), "error")
        body = text + Markup("<p><a href='{}'>{}</a></p>").format(
            back_url, in_visitors_language(BACK_TEXT)
        )
        return pages.page(messages.DEMO_STATUS_TITLE, body, who=record.email if record else "")
    status_url = f"{sidecar}/therapy/status/{quote(ref, safe='')}"
    return pages.status_page(
        ref=ref,
        code=request.args.get("code", ""),
        status_url=status_url,
        back_url=back_url,
        status=_fetch_status(status_url) if server_side else None,
        who=record.email if record else "",
    )


def _fetch_status(status_url: str) -> dict[str, Any] | None:
    """Ask the sidecar for the state (no browser cookie, so never a login link); None if unsure."""
    try:
        response = requests.get(status_url, headers={"Accept": "application/json"}, timeout=3)
    except requests.RequestException:
        return None
    if response.status_code == 404:
        return {"state": "not_found", "message": STATUS_TEXTS["notFound"]}
    try:
        answer = response.json() if response.status_code == 200 else None
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _group_names(fake: FakeWordPress, record: UserRecord | None) -> list[str]:
    """Return the names of the groups the user has booked."""
    if record is None:
        return []
    names = {g.id: g.name for g in fake.groups()}
    return [names.get(b.group_id, "?") for b in fake.find_bookings() if b.user_id == record.id]


def _demo_login(fake: FakeWordPress, secret: str) -> BaseResponse:
    """Set the sandbox auth cookie for the demo member and go back to the page it came from."""
    user_id = ensure_demo_member(fake)
    response = redirect(_back_to_form(), code=303)
    cookie = {"typ": "sandbox_auth", "uid": user_id, "exp": int(fake.clock()) + AUTH_COOKIE_SECONDS}
    response.set_cookie(AUTH_COOKIE, sign_token(cookie, secret), httponly=True)
    return response


def _back_to_form() -> str:
    """Return the registration page the visitor came from (its ?group kept), else the plain one."""
    referrer = urlsplit(request.referrer or "")
    group = parse_qs(referrer.query).get("group", [""])[0]
    same_site = f"{referrer.scheme}://{referrer.netloc}" == site_url()
    return "/therapy-registration/" + (f"?group={group}" if same_site and group.isdigit() else "")


def ensure_demo_member(fake: FakeWordPress) -> int:
    """Return the id of the demo member, creating the account the first time."""
    for _ in range(2):
        found = [u for u in fake.search_users(DEMO_MEMBER_EMAIL) if u.email == DEMO_MEMBER_EMAIL]
        if found:
            return found[0].id
        try:
            return fake.create_user(
                username="demo-member",
                email=DEMO_MEMBER_EMAIL,
                password=secrets.token_urlsafe(16),
                first_name="Maya",
                last_name="Haddad",
            ).id
        except UserAlreadyExists:
            continue  # another request created it a moment ago
    raise RuntimeError("the demo member could not be created")


def seed_demo_groups(fake: FakeWordPress) -> list[GroupInfo]:
    """Add three demo groups in SAR; the second has 2 seats and 1 taken (nearly full).

    The first two meet next week (their receipts carry a calendar entry); the workshop has no date.
    """
    return [
        fake.add_group(
            name="Anxiety Support Circle",
            price="150.00",
            capacity=8,
            schedule=demo_schedule(fake, 7, "Olaya Centre, Room 2, Riyadh"),
        ),
        fake.add_group(
            name="Grief and Loss Group",
            price="200.00",
            capacity=2,
            seats_taken=1,
            schedule=demo_schedule(fake, 9, "Online (the link comes by e-mail)"),
        ),
        fake.add_group(name="Mindful Parenting Workshop", price="175.50", capacity=12),
    ]


def demo_schedule(fake: FakeWordPress, days: int, location: str) -> GroupSchedule:
    """Return a 90-minute session at 18:30 in Riyadh, ``days`` days from the fake's today."""
    riyadh = ZoneInfo("Asia/Riyadh")
    day = datetime.fromtimestamp(fake.clock(), riyadh).date() + timedelta(days=days)
    starts = datetime.combine(day, time(18, 30), tzinfo=riyadh)
    return GroupSchedule(starts, "Asia/Riyadh", 90, location)


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
