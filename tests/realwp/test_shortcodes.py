"""The [therapy_sidecar_form] and [therapy_sidecar_status] shortcodes on the real site's pages."""

from __future__ import annotations

import html
import re
import secrets
import time

import pytest
import requests

from tests.realwp.grants import grant, intent_buyer
from tests.realwp.helpers import TIMEOUT, WPSite
from wp_bridge.tokens import verify_token

pytestmark = pytest.mark.realwp


def page(
    wp: WPSite,
    path: str,
    params: dict[str, str] | None = None,
    *,
    session: requests.Session | None = None,
) -> requests.Response:
    response = (session or wp.session).get(
        f"{wp.base_url}{path}", params=params, timeout=TIMEOUT, allow_redirects=False
    )
    assert response.status_code == 200, (path, response.status_code)
    return response


def hidden(markup: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', markup)
    assert match, f"no hidden {name}"
    return html.unescape(match.group(1))


def test_form_for_a_visitor(wp: WPSite) -> None:
    response = page(wp, "/therapy-registration/")
    markup = response.text
    assert "no-cache" in response.headers.get("Cache-Control", "")
    assert f'action="{wp.sidecar_url}/therapy/checkout"' in markup
    assert 'method="post"' in markup
    assert hidden(markup, "group_id") == str(wp.group_id())
    for name in ("first_name", "last_name", "email", "phone", "street1", "city", "password"):
        assert f'name="{name}"' in markup, name
    assert '<select id="' in markup
    assert '<option value="SA" selected' in markup
    assert re.fullmatch(r"[0-9a-f]{32}", hidden(markup, "idempotency_key"))
    token = verify_token(hidden(markup, "form_token"), wp.secret, typ="form", now=time.time())
    assert token["uid"] == 0
    assert token["email"] == ""
    assert 7100 < token["exp"] - time.time() <= 7200
    assert token["nonce"]
    # Every render is a new form.
    again = page(wp, "/therapy-registration/").text
    assert hidden(again, "idempotency_key") != hidden(markup, "idempotency_key")


def test_form_for_a_logged_in_buyer(wp: WPSite) -> None:
    buyer = intent_buyer(wp)  # login grants log in only the user an intent created
    token = grant(wp, buyer["id"], ref=buyer["ref"])
    with requests.Session() as session:
        login = session.get(
            wp.url("/therapy-sidecar/v1/login", {"grant": token}),
            timeout=TIMEOUT,
            allow_redirects=False,
        )
        assert login.status_code == 302
        markup = page(wp, "/therapy-registration/", session=session).text
    form_token = verify_token(hidden(markup, "form_token"), wp.secret, typ="form", now=time.time())
    assert form_token["uid"] == buyer["id"]
    assert form_token["email"] == buyer["email"]
    assert 'name="password"' not in markup
    assert re.search(rf'name="email" value="{re.escape(buyer["email"])}"[^>]*readonly', markup)


@pytest.mark.parametrize(
    ("error", "field", "sentence"),
    [
        ("invalid_phone", "phone", "Please enter a valid phone number"),
        ("missing_field", "city", "Please fill in the field “City”."),
        ("account_exists", "email", "An account with this e-mail address already exists"),
        ("form_expired", "form_token", "This form has expired"),
        ("group_full", "group_id", "Sorry, this group is full."),
        ("something_new", "", "Something went wrong with your registration"),
    ],
)
def test_form_explains_the_sidecar_error(wp: WPSite, error: str, field: str, sentence: str) -> None:
    params = {"error": error, "field": field} if field else {"error": error}
    markup = page(wp, "/therapy-registration/", params).text
    assert 'role="alert"' in markup
    assert html.escape(sentence, quote=False) in markup or sentence in html.unescape(markup)
    if field in ("phone", "city"):
        assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', markup)


def test_full_group_shows_no_form(wp: WPSite, empty_small_group: int) -> None:
    assert "<form" in page(wp, "/therapy-registration-small/").text
    buyer = wp.create_user()
    booked = wp.rest(
        "POST",
        "/therapy-sidecar/v1/bookings",
        json={
            "intent_ref": f"rwp-{secrets.token_hex(8)}",
            "group_id": empty_small_group,
            "user_id": buyer["id"],
        },
    )
    assert booked.status_code == 201
    markup = page(wp, "/therapy-registration-small/").text
    assert "Sorry, this group is full." in markup
    assert "<form" not in markup


def test_status_page_polls_the_sidecar(wp: WPSite) -> None:
    markup = page(wp, "/therapy-registration-status/", {"intent": "TP-2024-0001"}).text
    assert "You are being registered to your selected group" in markup
    assert f"{wp.sidecar_url}/therapy/status/TP-2024-0001" in markup.replace("\\/", "/")
    assert 'credentials:"include"' in markup
    assert '"interval":1500' in markup
    assert "login_url" in markup
    assert "redirect_url" in markup
    assert '<noscript><meta http-equiv="refresh" content="3;url=' in markup
    assert "/therapy/status/" in markup.split("<noscript>")[1]
    assert f'href="{wp.base_url}/therapy-registration/"' in markup


def test_status_page_shows_a_payment_failure(wp: WPSite) -> None:
    markup = page(
        wp, "/therapy-registration-status/", {"intent": "TP-2024-0002", "code": "payment_declined"}
    ).text
    assert "Your payment was declined and you have not been charged." in markup
    assert 'http-equiv="refresh"' not in markup  # nothing to wait for
    assert re.search(r'class="therapy-sidecar-status__back"><a href=', markup)


def test_status_page_without_an_intent(wp: WPSite) -> None:
    markup = page(wp, "/therapy-registration-status/").text
    assert "We could not find a registration to follow on this page." in markup
    assert "therapySidecarStatus" not in markup  # no status script, no poll, without an intent
