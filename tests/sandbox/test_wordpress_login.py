"""The sandbox WordPress's login link follows the bridge: only the intent's own user, spent grants
send the browser on (thank-you page or the login form with the e-mail), never an error page."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from flask.testing import FlaskClient

from sidecar.sandbox.wordpress import AUTH_COOKIE
from tests.support.sandbox_site import NOW, SECRET, sandbox_browser, sandbox_fake
from wp_bridge.fake import FakeWordPress
from wp_bridge.tokens import sign_token, verify_token

LOGIN = "/?rest_route=/therapy-sidecar/v1/login"
EMAIL = "amira@example.test"


@pytest.fixture
def fake() -> FakeWordPress:
    return sandbox_fake()


@pytest.fixture
def browser(fake: FakeWordPress) -> FlaskClient:
    return sandbox_browser(fake)


def grant(uid: int, ref: str | None = "TP-1", exp: float = NOW + 300, jti: str = "ab" * 16) -> str:
    payload: dict[str, Any] = {"typ": "login", "uid": uid, "jti": jti, "exp": int(exp)}
    if ref is not None:
        payload["ref"] = ref
    return sign_token(payload, SECRET)


def buyer(fake: FakeWordPress) -> int:
    return fake.add_user(username="amira", email=EMAIL, password="pw 12345", intent_ref="TP-1").id


def assert_login_form(response: Any) -> None:
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/wp-login.php"
    # The e-mail comes back as a signed token naming its user: the address is in no URL.
    token = parse_qs(target.query)["therapy_prefill"][0]
    assert verify_token(token, SECRET, typ="prefill", now=NOW)["uid"] > 0
    assert "amira" not in unquote(response.headers["Location"])


@pytest.mark.parametrize(
    ("ref", "stamp"),
    [(None, "TP-1"), ("TP-1", None), ("TP-1", "TP-2")],
    ids=["no-ref", "unstamped", "other-intent"],
)
def test_sandbox_login_refuses_a_user_the_grant_intent_did_not_create(
    browser: FlaskClient, fake: FakeWordPress, ref: str | None, stamp: str | None
) -> None:
    uid = fake.add_user(username="rami", email="rami@example.test", intent_ref=stamp).id
    response = browser.get(f"{LOGIN}&grant={grant(uid, ref)}")
    assert response.status_code == 403 and browser.get_cookie(AUTH_COOKIE) is None


def test_sandbox_login_used_grant_sends_another_browser_to_the_login_form(
    browser: FlaskClient, fake: FakeWordPress
) -> None:
    token = grant(buyer(fake))
    assert browser.get(f"{LOGIN}&grant={token}").status_code == 302
    other = browser.application.test_client()
    assert_login_form(other.get(f"{LOGIN}&grant={token}"))
    assert other.get_cookie(AUTH_COOKIE) is None


def test_sandbox_login_expired_grant_sends_the_browser_on(
    browser: FlaskClient, fake: FakeWordPress
) -> None:
    uid = buyer(fake)
    expired = grant(uid, exp=NOW - 1, jti="cd" * 16)
    assert_login_form(browser.get(f"{LOGIN}&grant={expired}"))
    assert browser.get(f"{LOGIN}&grant={grant(uid)}").status_code == 302
    onward = browser.get(f"{LOGIN}&grant={expired}")
    assert urlsplit(onward.headers["Location"]).path == "/thank-you/"


def test_sandbox_login_form_prefills_the_email_and_logs_in(
    browser: FlaskClient, fake: FakeWordPress
) -> None:
    buyer(fake)
    query = f"user_login={EMAIL}&redirect_to=http://localhost/thank-you/"
    page = browser.get(f"/wp-login.php?{query}").get_data(as_text=True)
    assert f"value='{EMAIL}'" in page
    wrong = browser.post("/wp-login.php", data={"user_login": EMAIL, "pwd": "nope"})
    assert wrong.status_code == 200 and "not right" in wrong.get_data(as_text=True)
    form = {"user_login": EMAIL, "pwd": "pw 12345", "redirect_to": "http://localhost/thank-you/"}
    assert browser.post("/wp-login.php", data=form).status_code == 302
    onward = browser.get(f"/wp-login.php?{query}")
    assert onward.status_code == 302 and onward.headers["Location"].endswith("/thank-you/")
