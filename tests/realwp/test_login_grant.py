"""One-time login grants: GET /?rest_route=/therapy-sidecar/v1/login&grant=TOKEN on the real WordPress."""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests

from tests.realwp.grants import grant, intent_buyer
from tests.realwp.helpers import TIMEOUT, WPSite
from wp_bridge.tokens import sign_token

pytestmark = pytest.mark.realwp


@pytest.fixture
def buyer(wp: WPSite) -> dict[str, Any]:
    """A subscriber created by an intent (its ref in "ref"), as the sidecar creates buyers."""
    return intent_buyer(wp)


def own_grant(wp: WPSite, buyer: dict[str, Any], **kwargs: Any) -> str:
    return grant(wp, buyer["id"], ref=buyer["ref"], **kwargs)


def use(wp: WPSite, session: requests.Session, token: str) -> requests.Response:
    return session.get(
        wp.url("/therapy-sidecar/v1/login", {"grant": token}),
        timeout=TIMEOUT,
        allow_redirects=False,
    )


def profile(wp: WPSite, session: requests.Session) -> requests.Response:
    return session.get(
        f"{wp.base_url}/wp-admin/profile.php", timeout=TIMEOUT, allow_redirects=False
    )


def assert_refused(response: requests.Response, sentence: str) -> None:
    assert response.status_code == 403
    assert response.headers["Content-Type"].startswith("text/html")
    assert sentence in response.text
    assert "wordpress_logged_in_" not in response.headers.get("Set-Cookie", "")


def assert_sent_to_login_form(wp: WPSite, response: requests.Response, email: str) -> None:
    assert response.status_code == 302, response.text[:300]
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{wp.base_url}/wp-login.php"
    # The e-mail is filled in from a signed token naming the user: the address is in no URL.
    assert set(parse_qs(target.query)) == {"therapy_prefill", "redirect_to"}
    assert email not in unquote(response.headers["Location"])
    form = requests.get(response.headers["Location"], timeout=TIMEOUT, allow_redirects=False)
    assert form.status_code == 200 and f'u.value="{email}"' in form.text
    assert "wordpress_logged_in_" not in response.headers.get("Set-Cookie", "")


def test_grant_sets_a_real_auth_cookie_and_redirects_to_the_thank_you_page(
    wp: WPSite,
    buyer: dict[str, Any],
    empty_small_group: int,
    fresh_session: requests.Session,
) -> None:
    ref = buyer["ref"]
    booked = wp.rest(
        "POST",
        "/therapy-sidecar/v1/bookings",
        json={"intent_ref": ref, "group_id": empty_small_group, "user_id": buyer["id"]},
    )
    assert booked.status_code == 201

    # Without the cookie, the profile page sends the browser to the login form.
    before = profile(wp, fresh_session)
    assert before.status_code == 302
    assert "wp-login.php" in before.headers["Location"]

    response = use(wp, fresh_session, own_grant(wp, buyer))
    assert response.status_code == 302, response.text
    # The one-seat group's thank-you page (ref -> booking -> group).
    assert response.headers["Location"] == f"{wp.base_url}/thank-you/?group=small"
    assert "no-cache" in response.headers["Cache-Control"]
    assert response.headers["Content-Type"].startswith("text/html")
    set_cookie = response.headers["Set-Cookie"]
    assert "wordpress_logged_in_" in set_cookie
    assert "HttpOnly" in set_cookie
    assert any(c.name.startswith("wordpress_logged_in_") for c in fresh_session.cookies)

    after = profile(wp, fresh_session)
    assert after.status_code == 200
    assert buyer["username"] in after.text
    # The same cookie jar on the REST API would need a nonce; the admin page proves the session.


def test_login_grant_used_again_elsewhere_goes_to_the_login_form_with_the_email(
    wp: WPSite, buyer: dict[str, Any]
) -> None:
    token = own_grant(wp, buyer)
    with requests.Session() as first:
        assert use(wp, first, token).status_code == 302
    with requests.Session() as second:
        assert_sent_to_login_form(wp, use(wp, second, token), buyer["email"])
        assert profile(wp, second).status_code == 302


def test_login_grant_used_again_by_the_logged_in_buyer_goes_on_without_error(
    wp: WPSite, buyer: dict[str, Any], fresh_session: requests.Session
) -> None:
    token = own_grant(wp, buyer)
    first = use(wp, fresh_session, token)
    assert first.status_code == 302
    again = use(wp, fresh_session, token)  # Back or refresh after paying
    assert again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert "wordpress_logged_in_" not in again.headers.get("Set-Cookie", "")


def test_login_grant_without_ref_is_refused(
    wp: WPSite, buyer: dict[str, Any], fresh_session: requests.Session
) -> None:
    assert_refused(use(wp, fresh_session, grant(wp, buyer["id"])), "This login link is not valid")
    assert profile(wp, fresh_session).status_code == 302


def test_login_grant_expired_goes_to_the_login_form_or_on_when_logged_in(
    wp: WPSite, buyer: dict[str, Any], fresh_session: requests.Session
) -> None:
    expired = own_grant(wp, buyer, ttl=-1)
    assert_sent_to_login_form(wp, use(wp, fresh_session, expired), buyer["email"])
    assert profile(wp, fresh_session).status_code == 302
    assert use(wp, fresh_session, own_grant(wp, buyer)).status_code == 302
    onward = use(wp, fresh_session, expired)
    assert onward.status_code == 302 and onward.headers["Location"] == f"{wp.base_url}/"


def test_login_grant_refuses_a_user_its_intent_did_not_create(
    wp: WPSite, buyer: dict[str, Any], fresh_session: requests.Session
) -> None:
    editor = wp.create_user(roles=["editor"])  # no intent meta: the leaked-secret attack
    assert_refused(
        use(wp, fresh_session, grant(wp, editor["id"], ref=buyer["ref"])),
        "cannot be used for your account",
    )
    other = intent_buyer(wp)
    assert_refused(
        use(wp, fresh_session, grant(wp, other["id"], ref=buyer["ref"])),
        "cannot be used for your account",
    )
    assert profile(wp, fresh_session).status_code == 302


def test_login_form_prefills_the_email_and_sends_the_logged_in_buyer_on(
    wp: WPSite, buyer: dict[str, Any], fresh_session: requests.Session
) -> None:
    query = {"user_login": buyer["email"], "redirect_to": f"{wp.base_url}/thank-you/"}
    login_form = f"{wp.base_url}/wp-login.php"
    page = fresh_session.get(login_form, params=query, timeout=TIMEOUT, allow_redirects=False)
    assert page.status_code == 200
    assert f'u.value="{buyer["email"]}"' in page.text
    assert use(wp, fresh_session, own_grant(wp, buyer)).status_code == 302
    onward = fresh_session.get(login_form, params=query, timeout=TIMEOUT, allow_redirects=False)
    assert onward.status_code == 302
    assert onward.headers["Location"] == f"{wp.base_url}/thank-you/"


def test_a_tampered_grant_is_refused(
    wp: WPSite, buyer: dict[str, Any], fresh_session: requests.Session
) -> None:
    token = own_grant(wp, buyer)
    body, _, signature = token.rpartition(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["uid"] = int(wp.env["WP_ADMIN_USER_ID"])  # try to become the administrator
    forged_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    assert_refused(
        use(wp, fresh_session, f"{forged_body}.{signature}"), "This login link is not valid"
    )
    assert_refused(
        use(wp, fresh_session, token[:-2] + ("AA" if not token.endswith("AA") else "BB")),
        "not valid",
    )
    assert profile(wp, fresh_session).status_code == 302


@pytest.mark.parametrize(
    "case",
    [
        "wrong_secret",
        "form_type",
        "too_long_lived",
        "unknown_user",
        "no_jti",
        "not_an_object",
        "garbage",
    ],
)
def test_other_bad_grants_are_refused(wp: WPSite, buyer: dict[str, Any], case: str) -> None:
    now = int(time.time())
    uid = buyer["id"]
    token = {
        "wrong_secret": lambda: sign_token(
            {"typ": "login", "uid": uid, "jti": secrets.token_hex(16), "exp": now + 300},
            wp.secret + "x",
        ),
        "form_type": lambda: sign_token(
            {"typ": "form", "uid": uid, "email": "", "exp": now + 300, "nonce": "n"}, wp.secret
        ),
        "too_long_lived": lambda: own_grant(wp, buyer, ttl=3600),
        "unknown_user": lambda: grant(wp, 2_000_000_000, ref=buyer["ref"]),
        "no_jti": lambda: sign_token({"typ": "login", "uid": uid, "exp": now + 300}, wp.secret),
        "not_an_object": lambda: _sign_raw("[1,2,3]", wp.secret),
        "garbage": lambda: "not-a-token",
    }[case]()
    with requests.Session() as session:
        response = use(wp, session, token)
        assert response.status_code == 403
        assert response.headers["Content-Type"].startswith("text/html")
        assert "<h1>" in response.text
        assert profile(wp, session).status_code == 302


def test_an_administrator_cannot_use_a_login_grant(
    wp: WPSite, fresh_session: requests.Session
) -> None:
    admin = intent_buyer(wp, roles=["administrator"])  # even one stamped with the grant's ref
    response = use(wp, fresh_session, grant(wp, admin["id"], ref=admin["ref"]))
    assert_refused(response, "cannot be used for your account")
    assert profile(wp, fresh_session).status_code == 302


def test_a_missing_grant_is_400(wp: WPSite, fresh_session: requests.Session) -> None:
    response = fresh_session.get(
        wp.url("/therapy-sidecar/v1/login"), timeout=TIMEOUT, allow_redirects=False
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")


def test_grant_jti_is_recorded_once(
    wp: WPSite, buyer: dict[str, Any], fresh_session: requests.Session
) -> None:
    jti = secrets.token_hex(16)
    token = own_grant(wp, buyer, jti=jti)
    assert use(wp, fresh_session, token).status_code == 302
    rows = wp.query(
        f"SELECT user_id FROM {wp.prefix}therapy_sidecar_login_grants WHERE jti = %s", (jti,)
    )
    assert rows == [(buyer["id"],)]


def _sign_raw(payload_json: str, secret: str) -> str:
    import hashlib
    import hmac

    body = base64.urlsafe_b64encode(payload_json.encode()).rstrip(b"=").decode()
    signature = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
