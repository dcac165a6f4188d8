"""The status JSON for a paid buyer whose browser cannot log in by link: registered, two ways in."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sidecar.domain import messages
from sidecar.payments.buyer_status import LOGIN_WINDOW_SECONDS
from tests.support.stack import SHARED_SECRET
from wp_bridge.login_page import PREFILL_TTL_SECONDS
from wp_bridge.tokens import verify_token


def fulfilled(stack: Any) -> Any:
    intent = stack.paid_intent()
    stack.drain()
    return stack.intent(intent.ref)


def poll(client: Any, ref: str) -> dict[str, Any]:
    answer = client.get(f"/therapy/status/{ref}").get_json()
    assert isinstance(answer, dict)
    return answer


def prefill_of(url: str) -> dict[str, Any]:
    token = parse_qs(urlsplit(url).query)["therapy_prefill"][0]
    return verify_token(token, SHARED_SECRET, typ="prefill", now=0)


def test_status_another_device_is_told_registered_with_login_and_password_links(
    stack: Any,
) -> None:
    intent = fulfilled(stack)
    answer = poll(stack.app.test_client(), intent.ref)  # no browser cookie: another device
    assert answer["state"] == "fulfilled" and answer["registered"] is True
    assert answer["message"] == messages.REGISTERED_LOG_IN
    assert "login_url" not in answer and "login_page_url" not in answer
    sign_in = urlsplit(answer["sign_in_url"])
    assert f"{sign_in.scheme}://{sign_in.netloc}{sign_in.path}" == "http://wp.test/wp-login.php"
    query = parse_qs(sign_in.query)
    assert query["redirect_to"] == [f"{intent.thank_you_url}?intent={intent.ref}"]
    password = urlsplit(answer["password_url"])
    assert password.path == "/wp-login.php"
    assert parse_qs(password.query)["action"] == ["lostpassword"]
    # Whoever knows the ref (it is in the status page's address) must not learn whose
    # registration it is: no prefill token, and the e-mail address is nowhere in the answer.
    for url in (answer["sign_in_url"], answer["password_url"]):
        assert "therapy_prefill" not in parse_qs(urlsplit(url).query)
    assert intent.email and intent.email not in json.dumps(answer)


def test_status_paying_browser_keeps_its_login_link_and_gets_the_links_too(stack: Any) -> None:
    intent = fulfilled(stack)
    first = poll(stack.client, intent.ref)
    assert "login_url" in first and first["registered"] is True
    assert first["message"] != messages.REGISTERED_LOG_IN  # it is being logged in
    stack.clock.advance(LOGIN_WINDOW_SECONDS + 1)
    later = poll(stack.client, intent.ref)
    assert "login_url" not in later and "login_page_url" in later
    # The paying browser (its cookie) gets the e-mail prefilled, by a signed token.
    for url in (later["sign_in_url"], later["password_url"], later["login_page_url"]):
        payload = prefill_of(url)
        assert payload["uid"] == intent.wp_user_id
        assert payload["exp"] == int(stack.clock()) + PREFILL_TTL_SECONDS
    assert intent.email and intent.email not in json.dumps(later)


def test_status_before_fulfilment_offers_no_links(stack: Any) -> None:
    intent = stack.start()
    answer = poll(stack.app.test_client(), intent.ref)
    assert answer["state"] == "awaiting_payment"
    for key in ("registered", "sign_in_url", "password_url"):
        assert key not in answer


def test_status_no_script_another_device_goes_to_the_login_form_without_the_email(
    stack: Any,
) -> None:
    intent = fulfilled(stack)
    navigate = {"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate"}
    response = stack.app.test_client().get(f"/therapy/status/{intent.ref}", headers=navigate)
    assert response.status_code == 303
    target = response.headers["Location"]
    assert target.startswith("http://wp.test/wp-login.php?redirect_to=")
    assert "therapy_prefill" not in target and intent.email not in unquote(target)
