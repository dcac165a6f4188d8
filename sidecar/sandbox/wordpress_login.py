"""The sandbox WordPress's login form and where a spent login grant sends the browser.

Like the bridge plugin: a used or expired grant logs nobody in and shows no error; a browser logged
in as the grant's user goes to the thank-you page, any other to ``/wp-login.php?therapy_prefill=TOKEN``
(a signed token naming the user: the e-mail goes in no URL), which fills in the e-mail and sends a
browser already logged in as that user on to ``redirect_to``. ``?user_login=`` is read too, and
``?action=lostpassword`` is the set-password form with the e-mail filled in.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, redirect, request
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from sidecar.domain import messages
from sidecar.sandbox import wordpress_pages as pages
from sidecar.sandbox.wordpress_i18n import _
from wp_bridge.fake import FakeWordPress
from wp_bridge.fake.records import UserRecord
from wp_bridge.login_page import PREFILL_PARAM
from wp_bridge.tokens import InvalidToken, sign_token, verify_token

LOGIN_FORM = "/wp-login.php"


def thank_you_url(site: str) -> str:
    """Return the sandbox's thank-you page."""
    return f"{site}/thank-you/"


def spent_grant_redirect(
    site: str, record: UserRecord, logged_in_uid: int, prefill: str
) -> Response:
    """Send the browser on: thank-you page when logged in as the grant's user, else the login form.

    ``prefill`` is the signed token that fills in the user's e-mail: the address goes in no URL.
    """
    target = thank_you_url(site)
    if logged_in_uid != record.id:
        query = urlencode({PREFILL_PARAM: prefill, "redirect_to": target})
        target = f"{site}{LOGIN_FORM}?{query}"
    return Response(status=302, headers={"Location": target, "Cache-Control": "no-store"})


def add_login_form(app: Flask, fake: FakeWordPress, api: Any, secret: str, cookie: str) -> None:
    """Add GET and POST /wp-login.php (e-mail prefilled from ?user_login=); ``cookie``: auth's."""

    @app.route(LOGIN_FORM, methods=["GET", "POST"])
    def wp_login() -> BaseResponse | str:
        """Serve the login form; log in with e-mail and password."""
        site = request.host_url.rstrip("/")
        values = request.form if request.method == "POST" else request.args
        email = str(values.get("user_login", ""))[:100] or _prefilled(fake, secret)
        if request.args.get("action") == "lostpassword":
            return _lost_password_page(email)
        next_url = str(values.get("redirect_to", ""))
        if not next_url.startswith(f"{site}/"):
            next_url = f"{site}/"  # same-site only, like wp_validate_redirect
        record = _user_by_email(fake, email)
        if request.method == "GET" and record and api.logged_in_user_id() == record.id:
            return redirect(next_url, code=302)
        if request.method == "POST" and record and _password_ok(record, values.get("pwd", "")):
            response = redirect(next_url, code=302)
            auth = {"typ": "sandbox_auth", "uid": record.id, "exp": int(fake.clock()) + 86400}
            response.set_cookie(cookie, sign_token(auth, secret), httponly=True)
            return response
        failed = request.method == "POST"
        return _form_page(email, next_url, failed)


def _prefilled(fake: FakeWordPress, secret: str) -> str:
    """Return the e-mail of the user a valid ?therapy_prefill= token names, else ''."""
    token = request.args.get(PREFILL_PARAM, "")
    try:
        payload = verify_token(token, secret, typ="prefill", now=fake.clock()) if token else {}
    except InvalidToken:
        return ""
    uid = payload.get("uid")
    record = fake.user_record(uid) if isinstance(uid, int) else None
    return record.email if record else ""


def _lost_password_page(email: str) -> str:
    """WordPress's "get a new password" form, the e-mail filled in (the sandbox sends no mail)."""
    body = Markup(
        "<form id='lostpasswordform' method='post' action='{}?action=lostpassword'><p>"
        "<label for='user_login'>{}</label> <input id='user_login' name='user_login' value='{}' "
        "autocomplete='username'></p><p><button>{}</button></p></form>"
    ).format(
        LOGIN_FORM,
        _(messages.FIELD_LABELS["email"]),
        email,
        _(messages.REGISTERED_SET_PASSWORD_LINK),
    )
    return pages.page(messages.REGISTERED_SET_PASSWORD_LINK, body)


def _user_by_email(fake: FakeWordPress, email: str) -> UserRecord | None:
    found = [u for u in fake.search_users(email) if email and u.email.lower() == email.lower()]
    return fake.user_record(found[0].id) if found else None


def _password_ok(record: UserRecord, password: str) -> bool:
    salt, _, digest = record.password_hash.partition("$")
    mine = hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()
    return hmac.compare_digest(mine, digest)


def _form_page(email: str, next_url: str, failed: bool) -> str:
    error = pages.notice(_(messages.DEMO_LOGIN_FAILED), "error") if failed else ""
    body = Markup(
        "{}<form method='post' action='{}'><p><label for='user_login'>{}</label> "
        "<input id='user_login' name='user_login' value='{}' autocomplete='username'></p>"
        "<p><label for='user_pass'>{}</label> <input id='user_pass' name='pwd' "
        "type='password' autocomplete='current-password' autofocus></p>"
        "<input type='hidden' name='redirect_to' value='{}'><p><button>{}</button></p></form>"
    ).format(
        error,
        LOGIN_FORM,
        _(messages.FIELD_LABELS["email"]),
        email,
        _(messages.FIELD_LABELS["password"]),
        next_url,
        _(messages.DEMO_LOGIN_TITLE),
    )
    return pages.page(messages.DEMO_LOGIN_TITLE, body)
