"""Fulfilment after payment: one user, one booking, one membership; the one-time login."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sidecar.domain.states import State
from tests.support.stack import SHARED_SECRET
from wp_bridge.tokens import verify_token


def pay_and_fulfil(stack: Any, **form: str) -> Any:
    intent = stack.start(**form)
    stack.pay(intent)
    stack.deliver_ipns()
    stack.drain()
    return stack.intent(intent.ref)


def test_fulfilment_creates_one_user_one_booking_one_membership(stack: Any) -> None:
    done = pay_and_fulfil(stack)
    assert done.state == State.FULFILLED
    assert done.user_created and done.wp_user_id and done.booking_id and done.member_joined
    user = stack.wp.get_user(done.wp_user_id)
    assert user.email == done.email and user.intent_ref == done.ref
    assert len(stack.wp.find_bookings(intent_ref=done.ref)) == 1
    assert stack.wp.member(done.bp_group_id, done.wp_user_id) is not None
    templates = sorted(e["template"] for e in stack.wp.emails)
    assert templates == ["booking_confirmed", "new_user"]


def test_fulfilment_is_idempotent_when_run_again(stack: Any) -> None:
    done = pay_and_fulfil(stack)
    from sidecar.payments.fulfilment import run_fulfilment
    from sidecar.store import repository as repo

    with stack.services.db.transaction() as tx:
        job = repo.find_job(tx, done.id, "fulfil")
    assert run_fulfilment(stack.services, job) == "nothing_to_fulfil"
    writes = [
        c.name for c in stack.wp.calls if c.name in ("create_user", "book_session", "join_group")
    ]
    assert writes == ["create_user", "book_session", "join_group"]


def test_fulfilment_logged_in_buyer_gets_no_new_user(stack: Any) -> None:
    member = stack.wp.add_user(username="nadia", email="nadia@example.com")
    done = pay_and_fulfil(
        stack, user_id=member.id, user_email="nadia@example.com", email="ignored@example.com"
    )
    assert done.state == State.FULFILLED
    assert done.wp_user_id == member.id and not done.user_created
    assert [c for c in stack.wp.calls if c.name == "create_user"] == []
    assert stack.wp.find_bookings(intent_ref=done.ref)[0].user_id == member.id


def test_fulfilment_existing_account_must_log_in_first(stack: Any) -> None:
    stack.wp.add_user(username="omar", email="omar@example.com")
    response = stack.checkout(
        stack.form(email="omar@example.com"), headers={"Accept": "application/json"}
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "account_exists"
    assert "log in first" in response.get_json()["error"]["message"]
    assert stack.count("intents") == 0


def test_fulfilment_retries_while_wordpress_fails_then_completes(stack: Any) -> None:
    intent = stack.paid_intent()
    stack.wp.down = True
    stack.drain()
    assert stack.intent(intent.ref).state == State.FULFILLING
    stack.wp.down = False
    stack.clock.advance(600)
    stack.drain()
    done = stack.intent(intent.ref)
    assert done.state == State.FULFILLED
    assert len([c for c in stack.wp.calls if c.name == "create_user"]) == 1


def test_fulfilment_server_errors_are_retried_without_duplicates(stack: Any) -> None:
    intent = stack.paid_intent()
    stack.wp.fail_next(6, status=503)
    for _ in range(6):
        stack.clock.advance(400)
        stack.drain()
    done = stack.intent(intent.ref)
    assert done.state == State.FULFILLED
    assert len(stack.wp.find_bookings(intent_ref=done.ref)) == 1


def test_fulfilment_gives_up_into_needs_attention_with_a_reason(stack: Any) -> None:
    intent = stack.paid_intent()
    stack.wp.down = True
    for _ in range(12):
        stack.drain()
        stack.clock.advance(400)
    parked = stack.intent(intent.ref)
    assert parked.state == State.NEEDS_ATTENTION
    assert parked.state_reason == "fulfilment_retries_exhausted"
    assert any(a[0] == "needs_attention" for a in stack.alerts)


def test_fulfilment_group_closed_after_payment_is_refunded(stack: Any) -> None:
    intent = stack.paid_intent()
    stack.wp.set_group_open(stack.group.id, False)
    stack.drain()
    refunded = stack.intent(intent.ref)
    assert refunded.state == State.REFUNDED
    assert refunded.state_reason == "group_closed"
    assert refunded.wp_user_id is None  # no account for a buyer who is refunded
    assert [c for c in stack.wp.calls if c.name == "create_user"] == []
    refunds = [t for t in stack.sim.ledger() if t.get("tran_type", "").lower() == "refund"]
    assert len(refunds) == 1
    assert [e["template"] for e in stack.wp.emails if e["template"] == "refunded"] == ["refunded"]


def test_fulfilment_email_taken_meanwhile_goes_to_an_operator(stack: Any) -> None:
    intent = stack.paid_intent()
    stack.wp.add_user(username="someone", email=intent.email)
    stack.drain()
    parked = stack.intent(intent.ref)
    assert parked.state == State.NEEDS_ATTENTION
    assert parked.state_reason == "email_taken_by_another_account"
    assert [c for c in stack.wp.calls if c.name in ("book_session", "join_group")] == []


def test_fulfilment_form_password_is_encrypted_then_erased(stack: Any) -> None:
    intent = stack.start(password="a long secret password")
    assert intent.password_enc and "a long secret" not in intent.password_enc
    stack.pay(intent)
    stack.deliver_ipns()
    stack.drain()
    done = stack.intent(intent.ref)
    assert done.password_enc is None
    assert stack.wp.user_record(done.wp_user_id).password_hash != "a long secret password"


def test_status_login_link_only_for_the_paying_browser_and_only_once(stack: Any) -> None:
    form = stack.form()
    stack.checkout(form)
    intent = stack.intent_by_key(form["idempotency_key"])
    stack.pay(intent)
    stack.deliver_ipns()
    stack.drain()
    answer = stack.client.get(f"/therapy/status/{intent.ref}").get_json()
    assert answer["state"] == "fulfilled" and "login_url" in answer
    grant = parse_qs(urlsplit(answer["login_url"]).query)["grant"][0]
    payload = verify_token(grant, SHARED_SECRET, typ="login", now=time.time())
    assert (
        payload["uid"] == stack.intent(intent.ref).wp_user_id
        and payload["exp"] - time.time() <= 600
    )
    other_browser = stack.app.test_client()
    stranger = other_browser.get(f"/therapy/status/{intent.ref}").get_json()
    assert stranger["state"] == "fulfilled" and "login_url" not in stranger
    # Polling again gives the same link (one grant), which WordPress accepts only once.
    assert (
        stack.client.get(f"/therapy/status/{intent.ref}").get_json()["login_url"]
        == answer["login_url"]
    )


def test_status_logged_in_buyer_gets_no_login_link(stack: Any) -> None:
    member = stack.wp.add_user(username="lina", email="lina@example.com")
    form = stack.form(user_id=member.id, user_email="lina@example.com")
    stack.checkout(form)
    intent = stack.intent_by_key(form["idempotency_key"])
    stack.pay(intent)
    stack.deliver_ipns()
    stack.drain()
    answer = stack.client.get(f"/therapy/status/{intent.ref}").get_json()
    assert answer["state"] == "fulfilled" and "login_url" not in answer
    assert answer["redirect_url"] == intent.thank_you_url


def test_status_unknown_reference_is_404(stack: Any) -> None:
    assert stack.client.get("/therapy/status/tp_nope").status_code == 404
    assert stack.client.get("/therapy/status/..%2F..").status_code == 404


def test_status_without_javascript_refreshes_then_sends_the_paying_browser_to_log_in(
    stack: Any,
) -> None:
    nav = {"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate"}
    form = stack.form()
    stack.checkout(form)
    intent = stack.intent_by_key(form["idempotency_key"])
    waiting = stack.client.get(f"/therapy/status/{intent.ref}", headers=nav)
    assert waiting.status_code == 200
    assert 'http-equiv="refresh"' in waiting.get_data(as_text=True)
    assert "waiting for PayTabs" in waiting.get_data(as_text=True)
    stack.pay(intent)
    stack.deliver_ipns()
    stack.drain()
    done = stack.client.get(f"/therapy/status/{intent.ref}", headers=nav)
    assert done.status_code == 303
    assert "rest_route=/therapy-sidecar/v1/login" in done.headers["Location"]
    stranger = stack.app.test_client().get(f"/therapy/status/{intent.ref}", headers=nav)
    # Another browser: the login form (a browser logged in as the buyer is sent on by the bridge
    # to the thank-you page), without the e-mail: it proved nothing but knowing the ref.
    assert stranger.status_code == 303
    assert stranger.headers["Location"].startswith("http://wp.test/wp-login.php?redirect_to=")
    assert "therapy_prefill" not in stranger.headers["Location"]


def test_fulfilment_redrive_is_refused_while_the_email_is_still_taken(stack: Any) -> None:
    import pytest

    from sidecar.ops import actions as reconcile

    intent = stack.paid_intent()
    other = stack.wp.add_user(username="someone", email=intent.email)
    stack.drain()
    with pytest.raises(reconcile.OperatorRefused, match=f"user {other.id} still has this email"):
        reconcile.redrive(stack.services, intent.ref)
    reconcile.refund(stack.services, intent.ref)
    stack.drain()
    assert stack.intent(intent.ref).state == State.REFUNDED
