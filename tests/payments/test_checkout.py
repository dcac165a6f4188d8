"""POST /therapy/checkout: every bad input gets its code and stores nothing; double submits."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.stack import SHARED_SECRET

JSON = {"Accept": "application/json"}

BAD_FIELDS = [
    ({"group_id": "x"}, "invalid_group", "group_id"),
    ({"first_name": ""}, "missing_field", "first_name"),
    ({"email": "nope"}, "invalid_email", "email"),
    ({"phone": "abc"}, "invalid_phone", "phone"),
    ({"country": "Arabia"}, "invalid_country", "country"),
    ({"password": "short"}, "invalid_password", "password"),
    ({"idempotency_key": "x"}, "invalid_form", "idempotency_key"),
    ({"form_token": "forged.token"}, "form_expired", "form_token"),
    ({"group_id": "999999"}, "group_not_found", "group_id"),
]


@pytest.mark.parametrize(("fields", "code", "field"), BAD_FIELDS)
def test_checkout_bad_input_json_gets_its_code_and_stores_nothing(
    stack: Any, fields: dict[str, str], code: str, field: str
) -> None:
    response = stack.checkout(stack.form(**fields), headers=JSON)
    assert response.status_code in (403, 422)
    assert response.get_json()["error"] == {
        "code": code,
        "message": response.get_json()["error"]["message"],
        "field": field,
    }
    assert stack.count("intents") == 0 and stack.count("jobs") == 0
    assert [
        c for c in stack.wp.calls if c.name in ("create_user", "book_session", "join_group")
    ] == []


@pytest.mark.parametrize(("fields", "code", "field"), BAD_FIELDS)
def test_checkout_bad_input_html_goes_back_to_the_form(
    stack: Any, fields: dict[str, str], code: str, field: str
) -> None:
    response = stack.checkout(stack.form(**fields))
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/therapy-registration/"
    assert parse_qs(location.query) == {"error": [code], "field": [field]}
    assert stack.count("intents") == 0


def test_checkout_expired_form_token_is_refused(stack: Any) -> None:
    from wp_bridge.tokens import sign_token

    stale = sign_token(
        {"typ": "form", "uid": 0, "email": "", "exp": int(stack.clock()) - 1, "nonce": "n"},
        SHARED_SECRET,
    )
    response = stack.checkout(stack.form(form_token=stale), headers=JSON)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "form_expired"


def test_checkout_login_grant_cannot_be_used_as_form_token(stack: Any) -> None:
    from wp_bridge.tokens import sign_token

    grant = sign_token({"typ": "login", "uid": 1, "exp": int(stack.clock()) + 60}, SHARED_SECRET)
    response = stack.checkout(stack.form(form_token=grant), headers=JSON)
    assert response.status_code == 403


def test_checkout_price_comes_from_wordpress_not_the_form(stack: Any) -> None:
    form = stack.form(amount="0.01", cart_amount="0.01", currency="USD", price="1")
    stack.checkout(form)
    intent = stack.intent_by_key(form["idempotency_key"])
    assert (intent.amount_minor, intent.currency) == (15000, "SAR")
    sale = next(t for t in stack.sim.ledger() if t["tran_ref"] == intent.tran_ref)
    assert (sale["amount"], sale["currency"]) == ("150.00", "SAR")


def test_checkout_double_submit_leads_to_the_same_paytabs_page(stack: Any) -> None:
    form = stack.form()
    first, second = stack.checkout(form), stack.checkout(form)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert stack.count("intents") == 1
    assert len(stack.sim.ledger()) <= 1


def test_checkout_reused_key_for_another_email_is_refused(stack: Any) -> None:
    form = stack.form()
    stack.checkout(form)
    response = stack.checkout({**form, "email": "someone.else@example.com"}, headers=JSON)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_conflict"


def test_checkout_full_group_is_refused_before_payment(stack: Any) -> None:
    stack.start(group_id=str(stack.small_group.id))
    response = stack.checkout(stack.form(stack.small_group.id), headers=JSON)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "group_full"
    assert stack.count("intents") == 1


def test_checkout_closed_group_is_refused(stack: Any) -> None:
    stack.wp.set_group_open(stack.group.id, False)
    response = stack.checkout(stack.form(), headers=JSON)
    assert response.get_json()["error"]["code"] == "group_closed"
    assert stack.count("intents") == 0


def test_checkout_wordpress_down_is_503_and_stores_nothing(stack: Any) -> None:
    stack.wp.down = True
    response = stack.checkout(stack.form(), headers=JSON)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "wordpress_unavailable"
    assert stack.count("intents") == 0


def test_checkout_missing_credentials_is_503_with_a_clear_message(
    stack: Any, tmp_path: Any
) -> None:
    from tests.support.wp_options import write_sqlite_options

    write_sqlite_options(tmp_path / "wp-options.sqlite3", {"retreat_paytabs_settings": "a:0:{}"})
    stack.services.credentials.forget()
    response = stack.checkout(stack.form(), headers=JSON)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "credentials_unavailable"
    assert "PayTabs" in response.get_json()["error"]["message"]
    assert stack.count("intents") == 0
    ready = stack.client.get("/readyz")
    assert ready.status_code == 503
    assert "PayTabs" in ready.get_json()["checks"]["paytabs_credentials"]


def test_checkout_paytabs_refusing_releases_the_seat(stack: Any) -> None:
    stack.sim.configure(fail_next_requests=1)
    response = stack.checkout(stack.form(stack.small_group.id), headers=JSON)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "payment_provider_unavailable"
    stack.start(group_id=str(stack.small_group.id))  # the seat is free again


def test_checkout_sets_the_browser_cookie_httponly_for_status_and_retry(stack: Any) -> None:
    response = stack.checkout(stack.form())
    cookie = response.headers["Set-Cookie"]
    # /therapy/: the status poll (/therapy/status/<ref>) and "Try again" (/therapy/retry/<ref>).
    assert "HttpOnly" in cookie and "Path=/therapy/;" in cookie and "SameSite=Lax" in cookie


def test_checkout_oversized_body_is_413(stack: Any) -> None:
    response = stack.checkout(stack.form(first_name="A" * 70000), headers=JSON)
    assert response.status_code == 413
    assert stack.count("intents") == 0


def test_checkout_error_returns_to_the_form_page_the_bridge_named(stack: Any) -> None:
    form_url = "http://wp.test/groups/anxiety/?group_id=2&error=old&lang=ar"
    response = stack.checkout(stack.form(email="nope", form_url=form_url))
    location = urlsplit(response.headers["Location"])
    assert (location.netloc, location.path) == ("wp.test", "/groups/anxiety/")
    assert parse_qs(location.query) == {
        "group_id": ["2"],
        "lang": ["ar"],
        "error": ["invalid_email"],
        "field": ["email"],
    }


def test_checkout_error_never_redirects_off_the_site(stack: Any) -> None:
    response = stack.checkout(stack.form(email="nope", form_url="https://evil.example/phish"))
    assert urlsplit(response.headers["Location"]).netloc == "wp.test"


def test_checkout_form_signed_with_the_rotating_secret_is_accepted(tmp_path: Any) -> None:
    """During a rotation the bridge may sign with the next secret before the sidecar does."""
    from tests.support.stack import Stack
    from wp_bridge.tokens import issue_form_token

    next_secret = "the-next-shared-secret-" + "n" * 20
    stack = Stack(
        tmp_path,
        f"sqlite:///{tmp_path / 's.sqlite3'}",
        SIDECAR_SHARED_SECRET_ALSO_ACCEPTED=next_secret,
    )
    try:
        token = issue_form_token(uid=0, email="", secret=next_secret, now=stack.clock())
        response = stack.checkout(stack.form(form_token=token), headers=JSON)
        assert response.status_code == 200, response.get_json()
        unknown = issue_form_token(uid=0, email="", secret="x" * 40, now=stack.clock())
        refused = stack.checkout(stack.form(form_token=unknown), headers=JSON)
        assert refused.status_code == 403
    finally:
        stack.close()
