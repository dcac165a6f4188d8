"""Login links: one grant per intent, to the paying browser, within minutes of fulfilment."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sidecar.payments.buyer_status import LOGIN_WINDOW_SECONDS, _mint_once
from tests.support.stack import SHARED_SECRET
from wp_bridge.tokens import verify_token

NAVIGATE = {"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate"}


def fulfilled(stack: Any) -> Any:
    """Check out in stack.client (the paying browser), pay, fulfil; return the intent."""
    intent = stack.paid_intent()
    stack.drain()
    return stack.intent(intent.ref)


def poll(stack: Any, ref: str, client: Any = None) -> dict[str, Any]:
    answer = (client or stack.client).get(f"/therapy/status/{ref}").get_json()
    assert isinstance(answer, dict)
    return answer


def grant_of(answer: dict[str, Any]) -> dict[str, Any]:
    token = parse_qs(urlsplit(answer["login_url"]).query)["grant"][0]
    return verify_token(token, SHARED_SECRET, typ="login", now=0)


def test_login_grant_is_minted_once_and_never_again(stack: Any) -> None:
    intent = fulfilled(stack)
    first = poll(stack, intent.ref)
    jti = grant_of(first)["jti"]
    stack.clock.advance(LOGIN_WINDOW_SECONDS - 5)
    assert grant_of(poll(stack, intent.ref))["jti"] == jti  # the same grant while it lives
    stack.clock.advance(10)
    later = poll(stack, intent.ref)
    assert "login_url" not in later  # spent or not, never a second grant
    assert stack.intent(intent.ref).login_jti == jti


def test_login_grant_carries_the_ref_and_ends_with_the_window(stack: Any) -> None:
    intent = fulfilled(stack)
    payload = grant_of(poll(stack, intent.ref))
    assert payload["ref"] == intent.ref and payload["uid"] == intent.wp_user_id
    assert intent.fulfilled_at is not None
    assert payload["exp"] == int(intent.fulfilled_at + LOGIN_WINDOW_SECONDS)


def test_login_grant_is_not_minted_after_the_window(stack: Any) -> None:
    intent = fulfilled(stack)
    stack.clock.advance(LOGIN_WINDOW_SECONDS + 1)
    answer = poll(stack, intent.ref)
    assert answer["state"] == "fulfilled" and "login_url" not in answer
    assert stack.intent(intent.ref).login_jti is None


def test_login_page_url_prefills_the_email_by_token_for_the_paying_browser_only(stack: Any) -> None:
    intent = fulfilled(stack)
    stack.clock.advance(LOGIN_WINDOW_SECONDS + 1)
    page = urlsplit(poll(stack, intent.ref)["login_page_url"])
    assert f"{page.scheme}://{page.netloc}{page.path}" == "http://wp.test/wp-login.php"
    query = parse_qs(page.query)
    assert set(query) == {"therapy_prefill", "redirect_to"}
    assert query["redirect_to"] == [intent.thank_you_url]
    # The e-mail is filled in from a signed token naming the user: the address is in no URL.
    token = verify_token(query["therapy_prefill"][0], SHARED_SECRET, typ="prefill", now=0)
    assert token["uid"] == intent.wp_user_id
    assert intent.email not in unquote(page.query)
    stranger = poll(stack, intent.ref, stack.app.test_client())
    assert "login_page_url" not in stranger and "login_url" not in stranger
    assert stranger["redirect_url"] == intent.thank_you_url


def test_login_logged_in_buyer_gets_the_login_page_but_no_grant(stack: Any) -> None:
    member = stack.wp.add_user(username="lina", email="lina@example.com")
    intent = stack.paid_intent(user_id=member.id, user_email="lina@example.com")
    stack.drain()
    answer = poll(stack, intent.ref)
    assert "login_url" not in answer
    page = parse_qs(urlsplit(answer["login_page_url"]).query)
    token = verify_token(page["therapy_prefill"][0], SHARED_SECRET, typ="prefill", now=0)
    assert token["uid"] == member.id and "lina" not in answer["login_page_url"]


def test_login_no_javascript_page_goes_to_the_login_form_after_the_window(stack: Any) -> None:
    intent = fulfilled(stack)
    first = stack.client.get(f"/therapy/status/{intent.ref}", headers=NAVIGATE)
    assert "rest_route=/therapy-sidecar/v1/login" in first.headers["Location"]
    stack.clock.advance(LOGIN_WINDOW_SECONDS)
    later = stack.client.get(f"/therapy/status/{intent.ref}", headers=NAVIGATE)
    assert later.status_code == 303
    assert later.headers["Location"].startswith("http://wp.test/wp-login.php?therapy_prefill=")
    assert intent.email not in unquote(later.headers["Location"])


def test_login_mint_keeps_the_grant_a_concurrent_poll_stored(stack: Any) -> None:
    intent = fulfilled(stack)  # as read by a poll that has not minted yet
    theirs = poll(stack, intent.ref)  # another poll mints first
    with stack.services.db.transaction() as tx:
        ours = _mint_once(tx, intent, stack.clock())
    assert ours.login_jti == grant_of(theirs)["jti"]


def test_login_cookie_lives_hold_plus_fulfilment_plus_login_window(stack: Any) -> None:
    response = stack.checkout()
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("tps_"))
    hold = stack.services.settings.hold_minutes * 60
    assert f"Max-Age={hold + 300 + LOGIN_WINDOW_SECONDS}" in cookie
    assert hold + 300 + LOGIN_WINDOW_SECONDS == 2700  # with the default 30-minute hold
