"""Every refusal of the form sends the buyer back with the draft cookie, and no personal data in
the URL; a checkout that reaches PayTabs clears the draft."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from sidecar.payments.drafts import DRAFT_COOKIE, DRAFT_SECONDS, open_draft

PERSONAL = {
    "first_name": "Zainab",
    "last_name": "Qasimi",
    "email": "zainab.qasimi@example.com",
    "phone": "+966511122233",
    "street1": "Olaya Street 14",
    "city": "Jeddah",
}
REFUSALS = [
    ({"phone": "12"}, "invalid_phone", "phone"),
    ({"email": "nope"}, "invalid_email", "email"),
    ({"first_name": ""}, "missing_field", "first_name"),
    ({"country": "Arabia"}, "invalid_country", "country"),
    ({"password": "short"}, "invalid_password", "password"),
    ({"idempotency_key": "x"}, "invalid_form", "idempotency_key"),
    ({"form_token": "forged.token"}, "form_expired", "form_token"),
    ({"group_id": "999999"}, "group_not_found", "group_id"),
]


def draft_cookie(response: Any) -> Any:
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie(header)
        if DRAFT_COOKIE in cookie:
            return cookie[DRAFT_COOKIE]
    return None


def assert_no_personal_data(location: str) -> None:
    text = unquote(location).lower()
    for value in PERSONAL.values():
        assert value.lower() not in text


@pytest.mark.parametrize(("fields", "code", "field"), REFUSALS)
def test_refusal_sets_the_draft_and_keeps_the_url_clean(
    stack: Any, fields: dict[str, str], code: str, field: str
) -> None:
    form = stack.form(**(PERSONAL | {"password": "a good long password"} | fields))
    response = stack.checkout(form)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert parse_qs(urlsplit(location).query) == {"error": [code], "field": [field]}
    assert_no_personal_data(location)
    cookie = draft_cookie(response)
    assert cookie is not None
    assert cookie["max-age"] == str(DRAFT_SECONDS) and cookie["path"] == "/"
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    assert "Zainab" not in cookie.value and "example.com" not in cookie.value
    draft = open_draft(cookie.value, [stack.shared_secret], stack.clock())
    assert draft is not None
    assert draft.group_id == int(form["group_id"])
    for name in ("last_name", "street1", "city"):
        assert draft.fields[name] == form[name]
    assert "password" not in draft.fields


def test_refusal_of_a_known_email_and_a_full_group_set_the_draft(stack: Any) -> None:
    stack.wp.add_user(username="zainab", email=PERSONAL["email"])
    response = stack.checkout(stack.form(**PERSONAL))
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["account_exists"]
    assert_no_personal_data(response.headers["Location"])
    assert draft_cookie(response) is not None

    stack.start(group_id=stack.small_group.id)
    other = PERSONAL | {"email": "z@example.com"}
    response = stack.checkout(stack.form(group_id=stack.small_group.id, **other))
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["group_full"]
    draft = open_draft(draft_cookie(response).value, [stack.shared_secret], stack.clock())
    assert draft is not None and draft.group_id == stack.small_group.id
    assert draft.fields["phone"] == PERSONAL["phone"]


def test_checkout_reaching_paytabs_clears_the_draft(stack: Any) -> None:
    refused = stack.checkout(stack.form(**PERSONAL | {"phone": "12"}))
    stack.client.set_cookie(DRAFT_COOKIE, draft_cookie(refused).value, domain="localhost")
    response = stack.checkout(stack.form(**PERSONAL))
    assert response.status_code == 303
    cleared = draft_cookie(response)
    assert cleared is not None and cleared.value == "" and cleared["path"] == "/"


def test_refusal_answered_as_json_sets_no_draft(stack: Any) -> None:
    response = stack.checkout(stack.form(phone="12"), headers={"Accept": "application/json"})
    assert response.status_code == 422 and draft_cookie(response) is None


def sandbox_form(user: Any, draft: dict[str, str], field: str | None) -> str:
    from sidecar.sandbox import wordpress_pages

    return wordpress_pages.registration_page(
        action="http://sidecar.test/therapy/checkout",
        form_token="t",
        idempotency_key="k",
        groups=[],
        selected=None,
        user=user,
        error="invalid_phone" if field else None,
        field=field,
        draft=draft,
    )


def test_sandbox_form_refills_the_draft_and_focuses_the_refused_field() -> None:
    page = sandbox_form(None, {"phone": "12", "city": "Jeddah", "country": "AE"}, "phone")
    assert "name='phone' value='12' required" in page
    assert "name='city' value='Jeddah'" in page
    assert "<option value='AE' selected>" in page
    assert re.search(r"name='phone'[^>]*aria-invalid='true' autofocus", page)
    assert "autofocus" not in page.split("name='phone'")[0]
    assert re.search(r"name='password' value=''", page)


def test_sandbox_form_keeps_a_logged_in_buyers_email() -> None:
    from wp_bridge.fake.records import UserRecord

    member = UserRecord(7, "m", "member@example.com", "Mona", "Saleh", "x", None, (), 0.0)
    page = sandbox_form(member, {"email": "typed@example.com", "first_name": "Mouna"}, None)
    assert "value='member@example.com'" in page and "typed@example.com" not in page
    assert "name='first_name' value='Mouna'" in page


def test_declined_payment_status_keeps_the_details_for_the_paying_browser_only(
    stack: Any,
) -> None:
    """Regression: after a decline, "Back to the registration page" opened an empty form."""
    form = stack.form(**PERSONAL | {"password": "a good long password"})
    stack.checkout(form)  # stack.client is the paying browser: it holds the tps_<ref> cookie
    intent = stack.intent_by_key(form["idempotency_key"])
    stack.pay(intent, card="4000000000000002")
    stack.deliver_ipns()
    stack.drain()
    assert stack.intent(intent.ref).state.value == "payment_failed"

    polled = stack.client.get(f"/therapy/status/{intent.ref}")
    assert polled.get_json()["can_retry"] is True
    cookie = draft_cookie(polled)
    assert cookie is not None and cookie["path"] == "/" and cookie["httponly"]
    draft = open_draft(cookie.value, [stack.shared_secret], stack.clock())
    assert draft is not None and draft.group_id == intent.group_id
    for name in ("first_name", "last_name", "email", "phone", "street1", "city"):
        assert draft.fields[name] == PERSONAL[name]
    assert "password" not in draft.fields
    # Whoever else knows the ref gets no draft: the details stay with the browser that paid.
    stranger = stack.app.test_client().get(f"/therapy/status/{intent.ref}")
    assert stranger.status_code == 200 and draft_cookie(stranger) is None
