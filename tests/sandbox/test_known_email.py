"""The demo's form after "an account with this e-mail exists": a "Log in" link to the sandbox's
login form that comes back to the form with the same group (logged in, so the form's token names
the buyer), and "Forgot your password?" as text (the sandbox has no password reset). The e-mail
typed is in no URL."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from sidecar.domain import messages
from sidecar.sandbox.wordpress_copy import KNOWN_EMAIL_CODES
from tests.support.sandbox_site import NOW, SECRET, sandbox_browser, sandbox_fake
from wp_bridge.fake import FakeWordPress
from wp_bridge.tokens import verify_token

EMAIL = "amira@example.test"
PASSWORD = "pw 12345 secret"


@pytest.fixture
def fake() -> FakeWordPress:
    return sandbox_fake()


@pytest.fixture
def browser(fake: FakeWordPress) -> FlaskClient:
    return sandbox_browser(fake)


def login_link(markup: str) -> str:
    match = re.search(r"<a class='therapy-sidecar-login' href='([^']*)'>([^<]*)</a>", markup)
    assert match, "no login link"
    assert match.group(2) == messages.KNOWN_EMAIL_LOG_IN
    return html.unescape(match.group(1))


def hidden(markup: str, name: str) -> str:
    match = re.search(rf"<input type='hidden' name='{name}' value='([^']*)'>", markup)
    assert match, f"no hidden {name}"
    return html.unescape(match.group(1))


def test_known_email_offers_login_back_to_the_form_with_the_group(
    browser: FlaskClient, fake: FakeWordPress
) -> None:
    fake.add_group(name="Anxiety", price="100.00", capacity=5)
    group = fake.add_group(name="Grief", price="150.00", capacity=5)
    fake.add_user(username="amira", email=EMAIL, password=PASSWORD)
    query = {"group": str(group.id), "error": "account_exists", "field": "email"}
    markup = browser.get("/therapy-registration/", query_string=query).get_data(as_text=True)
    assert html.escape(messages.FORM_ERRORS["account_exists"], quote=True) in markup
    assert f"<span class='therapy-sidecar-lostpassword'>{messages.KNOWN_EMAIL_RESET_LINK}" in markup
    login = login_link(markup)
    assert urlsplit(login).path == "/wp-login.php"
    back = parse_qs(urlsplit(login).query)["redirect_to"][0]
    assert back == f"http://localhost/therapy-registration/?group={group.id}"
    assert "@" not in login and "%40" not in login

    shown = browser.get(login).get_data(as_text=True)
    assert f"name='redirect_to' value='{html.escape(back)}'" in shown
    answer = browser.post(
        "/wp-login.php", data={"user_login": EMAIL, "pwd": PASSWORD, "redirect_to": back}
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == back

    form = browser.get(back).get_data(as_text=True)
    assert re.search(rf"<option value='{group.id}' selected>", form)
    token = verify_token(hidden(form, "form_token"), SECRET, typ="form", now=NOW)
    assert token["email"] == EMAIL
    assert token["uid"] > 0
    assert "therapy-sidecar-login" not in form


def test_other_errors_and_logged_in_buyers_get_no_login_link(
    browser: FlaskClient, fake: FakeWordPress
) -> None:
    group = fake.add_group(name="Grief", price="150.00", capacity=5)
    query = {"group": str(group.id), "error": "invalid_phone", "field": "phone"}
    markup = browser.get("/therapy-registration/", query_string=query).get_data(as_text=True)
    assert "therapy-sidecar-login" not in markup
    browser.get("/demo-login/")
    query = {"group": str(group.id), "error": "account_exists", "field": "email"}
    markup = browser.get("/therapy-registration/", query_string=query).get_data(as_text=True)
    assert "Logged in as" in markup
    assert "therapy-sidecar-login" not in markup


def test_the_plugin_says_the_same_link_texts() -> None:
    root = Path(__file__).resolve().parents[2]
    php = (root / "wp_bridge/wordpress/therapy-sidecar-bridge/form.php").read_text("utf-8")
    for text in (messages.KNOWN_EMAIL_LOG_IN, messages.KNOWN_EMAIL_RESET_LINK):
        assert f"esc_html__( '{text}', 'therapy-sidecar' )" in php
    codes = re.search(r"function is_known_email_error\(.*?array\( ([^)]*) \)", php, re.S)
    assert codes
    assert tuple(re.findall(r"'(\w+)'", codes.group(1))) == KNOWN_EMAIL_CODES
