"""The operator API (/operator/v1) the WordPress payments panel reads and acts through.

On SQLite and MariaDB (the ``stack`` fixture): search, one registration's timeline, redrive and
cancel-and-refund, and every way a request is refused before it reaches a handler.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sidecar.domain.states import State
from sidecar.jobs.runner import drain
from sidecar.payments.sweeps import sweep_retention
from tests.support.operator_tokens import operator_headers
from tests.support.stack import Stack

OLD_SECRET = "old-shared-secret-" + "o" * 32


def call(
    stack: Any,
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
    /,
    *,
    headers: dict[str, str] | None = None,
    **token: Any,
) -> Any:
    """Send a signed request as the panel does (``token`` overrides the signing arguments)."""
    raw = b"" if body is None else json.dumps(body).encode()
    if headers is None:
        signing = {"method": method, "path": url.split("?")[0], "body": raw, "now": stack.clock()}
        signing.update(token)
        secret = signing.pop("secret", stack.shared_secret)
        headers = operator_headers(secret, **signing)
    return stack.client.open(url, method=method, data=raw, headers=headers)


def fulfilled(stack: Any, **form: str) -> Any:
    intent = stack.paid_intent(**form)
    stack.drain()
    found = stack.intent(intent.ref)
    assert found.state == State.FULFILLED
    return found


def stuck_in_fulfilment(stack: Any) -> Any:
    """A paid intent whose fulfilment ran out of retries while WordPress was down."""
    intent = stack.start()
    stack.pay(intent)
    stack.deliver_ipns()
    drain(stack.services, kinds=["confirm"])
    stack.wp.down = True
    for _ in range(stack.services.settings.fulfil_max_attempts):
        stack.drain()
        stack.clock.advance(400)
    stack.wp.down = False
    found = stack.intent(intent.ref)
    assert found.state == State.NEEDS_ATTENTION, found
    return found


def refunds_at_paytabs(stack: Any) -> list[dict[str, Any]]:
    return [e for e in stack.sim.ledger() if e["tran_type"] == "Refund"]


# --- reading ---------------------------------------------------------------------------------


def test_list_searches_by_email_name_ref_and_tran_ref(stack: Any) -> None:
    salma = stack.start(first_name="Salma", last_name="Nasser", email="Salma.N@Example.com")
    other = stack.start(first_name="Omar", last_name="Khalil", email="omar.k@example.com")
    assert salma.tran_ref and other.tran_ref

    def refs(query: str) -> list[str]:
        response = call(stack, "GET", f"/operator/v1/registrations?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return [r["ref"] for r in response.get_json()["registrations"]]

    assert refs("") == [other.ref, salma.ref]  # newest first
    assert refs("q=salma.n@example") == [salma.ref]
    assert refs("q=SALMA%20nasser") == [salma.ref]
    assert refs(f"q={other.ref}") == [other.ref]
    assert refs(f"q={salma.tran_ref.lower()}") == [salma.ref]
    assert refs("q=nobody") == []
    assert refs("state=awaiting_payment&limit=1") == [other.ref]
    assert refs("state=fulfilled") == []

    row = call(stack, "GET", f"/operator/v1/registrations?q={salma.ref}").get_json()
    assert row["registrations"][0] == {
        "ref": salma.ref,
        "state": "awaiting_payment",
        "reason": row["registrations"][0]["reason"],
        "group": stack.group.name,
        "group_id": stack.group.id,
        "amount": "150.00",
        "currency": "SAR",
        "email": "salma.n@example.com",
        "name": "Salma Nasser",
        "tran_ref": salma.tran_ref,
        "created_at": row["registrations"][0]["created_at"],
        "updated_at": row["registrations"][0]["updated_at"],
        "hold_expires_at": row["registrations"][0]["hold_expires_at"],
    }
    first = row["registrations"][0]
    assert first["reason"].startswith("seat held until ")
    assert first["created_at"].endswith("Z") and "T" in first["created_at"]


def test_list_refuses_a_bad_state_or_limit(stack: Any) -> None:
    for query in ("state=nonsense", "limit=0", "limit=101", "limit=ten"):
        response = call(stack, "GET", f"/operator/v1/registrations?{query}")
        assert response.status_code == 422, query
        assert response.get_json()["error"]["code"] == "invalid_request"


def test_show_gives_the_registration_and_its_timeline(stack: Any) -> None:
    intent = fulfilled(stack, first_name="Lina", last_name="Saad")
    response = call(stack, "GET", f"/operator/v1/registrations/{intent.ref}")
    assert response.status_code == 200
    data = response.get_json()
    assert data["registration"]["ref"] == intent.ref
    assert data["registration"]["state"] == "fulfilled"
    assert data["registration"]["name"] == "Lina Saad"
    transitions = [(e["from"], e["to"]) for e in data["timeline"] if e["what"] == "transition"]
    assert transitions[0] == (None, "awaiting_payment")
    assert transitions[-1] == ("fulfilling", "fulfilled")
    assert {e["what"] for e in data["timeline"]} == {"transition", "notification", "job"}
    assert all("body" not in e for e in data["timeline"])


def test_show_of_an_unknown_ref_is_404(stack: Any) -> None:
    response = call(stack, "GET", "/operator/v1/registrations/tp_nope")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_attention_lists_the_parked_registrations(stack: Any) -> None:
    stuck = stuck_in_fulfilment(stack)
    stack.start()
    response = call(stack, "GET", "/operator/v1/attention")
    assert response.status_code == 200
    rows = response.get_json()["registrations"]
    assert [r["ref"] for r in rows] == [stuck.ref]
    assert rows[0]["state"] == "needs_attention" and rows[0]["reason"] != "-"


# --- acting ----------------------------------------------------------------------------------


def test_redrive_of_a_parked_intent_records_the_wordpress_user(stack: Any) -> None:
    stuck = stuck_in_fulfilment(stack)
    url = f"/operator/v1/registrations/{stuck.ref}/redrive"
    response = call(stack, "POST", url, {}, actor="wp:therapist.amal")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["outcome"] == {
        "ref": stuck.ref,
        "before": "needs_attention",
        "after": "fulfilling",
        "message": "fulfilment job queued again",
    }
    where = "intent_id = ? AND source = 'wp:therapist.amal' AND event = 'operator_redrive'"
    assert stack.count("transitions", where, (stuck.id,)) == 1
    stack.drain()
    assert stack.intent(stuck.ref).state == State.FULFILLED


def test_redrive_refuses_an_intent_that_is_not_stuck(stack: Any) -> None:
    intent = fulfilled(stack)
    response = call(stack, "POST", f"/operator/v1/registrations/{intent.ref}/redrive", {})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "refused"
    assert error["message"].startswith(f"{intent.ref} is fulfilled: only needs_attention intents")
    assert call(stack, "POST", "/operator/v1/registrations/tp_nope/redrive", {}).status_code == 404


def test_cancel_refunds_a_fulfilled_registration_once(stack: Any) -> None:
    intent = fulfilled(stack)
    url = f"/operator/v1/registrations/{intent.ref}/cancel"
    body = {"amount": None, "reason": "buyer cancelled by phone"}
    response = call(stack, "POST", url, body, actor="wp:reception")
    assert response.status_code == 200, response.get_data(as_text=True)
    outcome = response.get_json()["outcome"]
    assert (outcome["before"], outcome["after"]) == ("fulfilled", "refunding")
    assert outcome["message"] == "cancelled; refund of 150.00 SAR queued"
    stack.drain()
    assert stack.intent(intent.ref).state == State.REFUNDED
    assert [r["amount"] for r in refunds_at_paytabs(stack)] == ["150.00"]
    assert stack.wp.find_bookings(intent_ref=intent.ref) == []
    detail = "cancel by wp:reception: refund 150.00 SAR; reason: buyer cancelled by phone"
    assert stack.count("transitions", "intent_id = ? AND detail = ?", (intent.id, detail)) == 1

    again = call(stack, "POST", url, body)
    assert again.status_code == 200
    assert again.get_json()["outcome"]["message"].startswith("already cancelled")
    stack.drain()
    assert len(refunds_at_paytabs(stack)) == 1


def test_cancel_refunds_part_of_the_price(stack: Any) -> None:
    intent = fulfilled(stack)
    url = f"/operator/v1/registrations/{intent.ref}/cancel"
    response = call(stack, "POST", url, {"amount": "50.00", "reason": "duplicate"})
    assert response.status_code == 200, response.get_data(as_text=True)
    stack.drain()
    assert stack.intent(intent.ref).state == State.REFUNDED
    assert [r["amount"] for r in refunds_at_paytabs(stack)] == ["50.00"]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"amount": "999", "reason": "x"}, "invalid_amount", "more than is left to refund"),
        ({"amount": "abc", "reason": "x"}, "invalid_amount", "is not a number"),
        ({"amount": "1.001", "reason": "x"}, "invalid_amount", "more decimals than SAR allows"),
        ({"amount": 50, "reason": "x"}, "invalid_request", "amount must be a string"),
        ({"amount": None}, "invalid_request", "reason is required"),
        ({"amount": None, "reason": "  "}, "invalid_request", "reason is required"),
        ({"amount": None, "reason": "x" * 201}, "invalid_request", "at most 200 characters"),
    ],
)
def test_cancel_refuses_bad_input_with_422(
    stack: Any, body: dict[str, Any], code: str, message: str
) -> None:
    intent = fulfilled(stack)
    response = call(stack, "POST", f"/operator/v1/registrations/{intent.ref}/cancel", body)
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code and message in error["message"]
    assert stack.intent(intent.ref).state == State.FULFILLED


def test_cancel_refuses_a_registration_that_is_not_fulfilled(stack: Any) -> None:
    intent = stack.start()
    url = f"/operator/v1/registrations/{intent.ref}/cancel"
    response = call(stack, "POST", url, {"amount": None, "reason": "x"})
    assert response.status_code == 409
    assert (
        "only fulfilled registrations can be cancelled" in response.get_json()["error"]["message"]
    )
    unknown = call(stack, "POST", "/operator/v1/registrations/tp_nope/cancel", {"reason": "x"})
    assert unknown.status_code == 404


# --- refusals of the token -------------------------------------------------------------------


def refused(response: Any, code: str) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == code
    assert response.headers["WWW-Authenticate"] == "TherapySidecar"


def test_no_header_never_reaches_a_handler(stack: Any) -> None:
    intent = stuck_in_fulfilment(stack)
    url = f"/operator/v1/registrations/{intent.ref}/redrive"
    for headers in ({}, {"Authorization": "Bearer x"}, {"Authorization": "TherapySidecar "}):
        refused(stack.client.post(url, data=b"{}", headers=headers), "unauthenticated")
    refused(stack.client.get("/operator/v1/registrations/tp_nope"), "unauthenticated")
    assert stack.intent(intent.ref).state == State.NEEDS_ATTENTION


def test_bad_signature_expired_and_too_long_tokens_are_refused(stack: Any) -> None:
    url = "/operator/v1/registrations"
    refused(call(stack, "GET", url, secret="another-secret-" + "x" * 32), "bad_token")
    refused(call(stack, "GET", url, ttl=-1), "token_expired")
    refused(call(stack, "GET", url, ttl=3600), "token_too_long")
    refused(call(stack, "GET", url, typ="form"), "bad_token")
    refused(call(stack, "GET", url, jti="short"), "bad_token")
    refused(call(stack, "GET", url, jti="x" * 16 + "!"), "bad_token")
    refused(call(stack, "GET", url, actor="admin"), "bad_token")
    refused(call(stack, "GET", url, actor="wp:"), "bad_token")
    good = call(stack, "GET", url)
    assert good.status_code == 200


def test_a_token_for_another_request_is_refused(stack: Any) -> None:
    intent = stuck_in_fulfilment(stack)
    url = f"/operator/v1/registrations/{intent.ref}/redrive"
    refused(call(stack, "POST", url, {}, method="GET"), "token_mismatch")
    refused(call(stack, "POST", url, {}, path="/operator/v1/registrations"), "token_mismatch")
    other = "/operator/v1/registrations/tp_other/redrive"
    refused(call(stack, "POST", url, {}, path=other), "token_mismatch")
    refused(call(stack, "POST", url, {}, body=b'{"x":1}'), "token_mismatch")
    refused(call(stack, "POST", url, {}, body_sha256=None), "token_mismatch")
    assert stack.intent(intent.ref).state == State.NEEDS_ATTENTION
    assert call(stack, "POST", url, {}).status_code == 200


def test_a_replayed_token_is_refused_and_forgotten_after_it_expires(stack: Any) -> None:
    url = "/operator/v1/attention"
    headers = operator_headers(stack.shared_secret, method="GET", path=url, now=stack.clock())
    assert stack.client.get(url, headers=headers).status_code == 200
    refused(stack.client.get(url, headers=headers), "token_replayed")
    assert stack.count("operator_tokens") == 1
    sweep_retention(stack.services)
    assert stack.count("operator_tokens") == 1  # still alive: kept
    stack.clock.advance(121)
    sweep_retention(stack.services)
    assert stack.count("operator_tokens") == 0
    refused(stack.client.get(url, headers=headers), "token_expired")


def test_any_wordpress_login_is_recorded_as_the_actor(stack: Any) -> None:
    """The panel checks the capability; the sidecar records who acted, whatever their login."""
    stuck = stuck_in_fulfilment(stack)
    url = f"/operator/v1/registrations/{stuck.ref}/redrive"
    actor = "wp:joe subscriber@example.com"
    assert call(stack, "POST", url, {}, actor=actor).status_code == 200
    where = "intent_id = ? AND source = ?"
    assert stack.count("transitions", where, (stuck.id, actor)) == 1


# --- rotation and rate limit -----------------------------------------------------------------


@pytest.fixture
def limited_stack(tmp_path: Path, database_url: str) -> Iterator[Stack]:
    s = Stack(
        tmp_path,
        database_url,
        SIDECAR_RATELIMIT_OPERATOR="3/minute",
        SIDECAR_SHARED_SECRET_ALSO_ACCEPTED=OLD_SECRET,
    )
    yield s
    s.close()


def test_the_secret_being_rotated_out_is_still_accepted(limited_stack: Stack) -> None:
    response = call(limited_stack, "GET", "/operator/v1/attention", secret=OLD_SECRET)
    assert response.status_code == 200


def test_the_operator_api_is_rate_limited_per_address(limited_stack: Stack) -> None:
    for _ in range(3):
        assert call(limited_stack, "GET", "/operator/v1/attention").status_code == 200
    response = call(limited_stack, "GET", "/operator/v1/registrations")
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1
    # Unsigned requests count against the same allowance, before any token check.
    assert limited_stack.client.get("/operator/v1/attention").status_code == 429
