""" "Try again" after a declined payment: same intent, same cart, its seat kept until the hold
ends, a fresh PayTabs page; refused without side effects to anyone but the paying browser."""

from __future__ import annotations

import math
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from sidecar.domain.states import State
from sidecar.payments import retry as retry_module
from sidecar.payments import sweeps
from sidecar.payments.drafts import DRAFT_COOKIE, open_draft
from sidecar.payments.retry import PAYTABS_DUPLICATE_WINDOW_SECONDS
from sidecar.payments.seats import iso_utc

JSON = {"Accept": "application/json"}
DECLINE = "4000000000000002"
DUPLICATE_WINDOW = 131  # PayTabs refuses a second page for one cart within two minutes


def declined(stack: Any, group_id: int | None = None, **fields: str) -> Any:
    """Check out in the stack's browser, be declined, and let the duplicate window pass."""
    intent = stack.start(group_id=group_id or stack.group.id, **fields)
    stack.post_return(stack.pay(intent, card=DECLINE))
    stack.deliver_ipns()
    stack.drain()
    failed = stack.intent(intent.ref)
    assert (failed.state, failed.seat_kept) == (State.PAYMENT_FAILED, True)
    stack.clock.advance(DUPLICATE_WINDOW)
    return failed


def retry(stack: Any, ref: str, client: Any = None, **kwargs: Any) -> Any:
    return (client or stack.client).post(f"/therapy/retry/{ref}", **kwargs)


def sales_of(stack: Any, ref: str) -> list[dict[str, Any]]:
    return [t for t in stack.sim.ledger() if t["cart_id"] == ref and t["tran_type"] == "Sale"]


def test_retry_opens_a_fresh_page_for_the_same_cart_and_registers(stack: Any) -> None:
    first = declined(stack)
    status = stack.client.get(f"/therapy/status/{first.ref}", headers=JSON).get_json()
    assert status["can_retry"] is True and status["held_until"].endswith("Z")
    response = retry(stack, first.ref)
    assert response.status_code == 303
    assert response.headers["Location"].startswith(stack.sim_server.url + "/payment/page/")
    again = stack.intent(first.ref)
    assert again.state == State.AWAITING_PAYMENT and again.tran_ref != first.tran_ref
    assert again.hold_expires_at == first.hold_expires_at  # the original hold, not a new one
    stack.post_return(stack.pay(again))
    stack.deliver_ipns()
    stack.drain()
    done = stack.intent(first.ref)
    assert done.state == State.FULFILLED and done.tran_ref == again.tran_ref
    assert [s["status"] for s in sales_of(stack, first.ref)] == ["D", "A"]


def test_retry_keeps_the_seat_against_a_second_buyer(stack: Any) -> None:
    first = declined(stack, stack.small_group.id)
    other = stack.form(group_id=stack.small_group.id)
    refused = stack.checkout(other, headers=JSON)
    assert refused.get_json()["error"]["code"] == "group_full"
    assert retry(stack, first.ref).status_code == 303
    assert (
        stack.checkout(stack.form(group_id=stack.small_group.id), headers=JSON).status_code == 409
    )
    assert stack.count("intents", "state = 'awaiting_payment'") == 1


def test_retry_after_the_hold_goes_to_the_form_with_the_details(stack: Any) -> None:
    first = declined(stack, phone="+966511122233", city="Jeddah")
    stack.clock.advance(first.hold_expires_at - stack.clock() + 1)
    sweeps.run_all(stack.services)
    assert stack.intent(first.ref).seat_kept is False
    status = stack.client.get(f"/therapy/status/{first.ref}", headers=JSON).get_json()
    assert (status["can_retry"], status["can_restart"], status["held_until"]) == (
        False,
        True,
        None,
    )
    pages_before = len(stack.sim.ledger())
    response = retry(stack, first.ref)
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert parse_qs(location.query)["error"] == ["retry_hold_ended"]
    assert location.path == urlsplit(first.registration_url).path
    assert (
        "Jeddah" not in response.headers["Location"] and "9665" not in response.headers["Location"]
    )
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(DRAFT_COOKIE))
    draft = open_draft(cookie.split(";")[0].split("=", 1)[1], [stack.shared_secret], stack.clock())
    assert draft is not None and draft.group_id == first.group_id
    assert (draft.fields["phone"], draft.fields["city"]) == ("+966511122233", "Jeddah")
    assert draft.fields["email"] == first.email
    assert stack.intent(first.ref).state == State.PAYMENT_FAILED
    assert len(stack.sim.ledger()) == pages_before
    as_json = retry(stack, first.ref, headers=JSON)
    assert as_json.status_code == 409 and as_json.get_json()["error"]["code"] == "retry_hold_ended"


def test_retry_without_the_paying_browsers_cookie_is_refused_without_side_effects(
    stack: Any,
) -> None:
    first = declined(stack)
    stranger = stack.app.test_client()
    missing = retry(stack, first.ref, client=stranger, headers=JSON)
    assert missing.status_code == 403 and missing.get_json()["error"]["code"] == "retry_forbidden"
    stranger.set_cookie(f"tps_{first.ref}", "not-the-secret", domain="localhost")
    wrong = retry(stack, first.ref, client=stranger)
    assert wrong.status_code == 403 and "Only the browser" in wrong.get_data(as_text=True)
    unknown = retry(stack, "tp_doesnotexist", headers=JSON)
    assert unknown.status_code == 404
    status = stranger.get(f"/therapy/status/{first.ref}", headers=JSON).get_json()
    assert status["can_retry"] is False and "retry_url" not in status
    after = stack.intent(first.ref)
    assert (after.state, after.tran_ref, after.seat_kept) == (
        State.PAYMENT_FAILED,
        first.tran_ref,
        True,
    )
    assert len(sales_of(stack, first.ref)) == 1


def test_retry_from_another_site_is_refused(stack: Any) -> None:
    first = declined(stack)
    response = retry(stack, first.ref, headers={**JSON, "Origin": "https://evil.example"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "cross_site_request"
    ours = retry(stack, first.ref, headers={"Origin": "http://wp.test"})
    assert ours.status_code == 303
    assert stack.intent(first.ref).state == State.AWAITING_PAYMENT


def test_retry_double_click_opens_one_page(stack: Any) -> None:
    first = declined(stack)
    one, two = retry(stack, first.ref), retry(stack, first.ref)
    assert one.headers["Location"] == two.headers["Location"]
    stack.post_return(stack.pay(stack.intent(first.ref)))
    assert len(sales_of(stack, first.ref)) == 2  # the declined page and the one new page


def test_retry_waits_for_paytabs_duplicate_window_and_keeps_the_seat(stack: Any) -> None:
    intent = stack.start()
    stack.post_return(stack.pay(intent, card=DECLINE))
    stack.deliver_ipns()
    stack.drain()
    status = stack.client.get(f"/therapy/status/{intent.ref}", headers=JSON).get_json()
    assert status["retry_after"] == iso_utc(
        math.ceil(intent.created_at + PAYTABS_DUPLICATE_WINDOW_SECONDS)
    )
    pages = len(stack.sim.ledger())
    response = retry(stack, intent.ref, headers=JSON)
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "retry_too_soon"
    after = stack.intent(intent.ref)
    assert (after.state, after.seat_kept) == (State.PAYMENT_FAILED, True)
    assert len(stack.sim.ledger()) == pages  # PayTabs was not asked
    stack.clock.advance(DUPLICATE_WINDOW)
    assert retry(stack, intent.ref).status_code == 303


def test_retry_refused_by_paytabs_as_duplicate_goes_back_keeping_the_seat(
    stack: Any, monkeypatch: Any
) -> None:
    intent = stack.start()
    stack.post_return(stack.pay(intent, card=DECLINE))
    stack.deliver_ipns()
    stack.drain()
    monkeypatch.setattr(retry_module, "PAYTABS_DUPLICATE_WINDOW_SECONDS", -5.0)
    response = retry(stack, intent.ref, headers=JSON)  # PayTabs' own rule answers code 4
    assert response.status_code == 429
    after = stack.intent(intent.ref)
    assert (after.state, after.seat_kept, after.state_reason) == (
        State.PAYMENT_FAILED,
        True,
        "retry_too_soon",
    )
    assert after.tran_ref == intent.tran_ref


def test_retry_after_a_late_approval_confirms_it_instead(stack: Any) -> None:
    first = declined(stack)
    late = stack.sim.open_second_page(first.tran_ref)
    stack.sim.pay(late)
    response = retry(stack, first.ref)
    assert response.status_code == 303
    assert f"intent={first.ref}" in response.headers["Location"]  # the status page
    stack.deliver_ipns()
    stack.drain()
    assert stack.intent(first.ref).state == State.FULFILLED
    assert [s["status"] for s in sales_of(stack, first.ref)] == ["D", "A"]


def test_retry_late_first_sale_and_paid_second_page_keep_one_and_refund_the_other(
    stack: Any,
) -> None:
    first = declined(stack)
    assert retry(stack, first.ref).status_code == 303
    second = stack.intent(first.ref)
    late = stack.sim.open_second_page(first.tran_ref)  # the first page's cart, paid late
    stack.sim.pay(late)
    stack.sim.pay(second.tran_ref)
    stack.deliver_ipns()
    for _ in range(3):
        stack.drain()
        stack.deliver_ipns()
    done = stack.intent(first.ref)
    assert done.state == State.FULFILLED
    approved = [s for s in sales_of(stack, first.ref) if s["status"] == "A"]
    assert len(approved) == 2
    refunds = [t for t in stack.sim.ledger() if t["tran_type"] == "Refund" and t["status"] == "A"]
    assert len(refunds) == 1
    kept = {s["tran_ref"] for s in approved} - {r.get("previous_tran_ref") for r in refunds}
    assert kept == {done.tran_ref}


def test_retry_when_paytabs_cannot_be_asked_changes_nothing(stack: Any) -> None:
    first = declined(stack)
    stack.sim.configure(fail_next_requests=1)
    response = retry(stack, first.ref, headers=JSON)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "payment_provider_unavailable"
    after = stack.intent(first.ref)
    assert (after.state, after.tran_ref, after.seat_kept) == (
        State.PAYMENT_FAILED,
        first.tran_ref,
        True,
    )
    assert retry(stack, first.ref).status_code == 303


def test_retry_racing_a_second_buyer_for_the_last_seat_keeps_it(stack: Any) -> None:
    form = stack.form(group_id=stack.small_group.id)
    response = stack.checkout(form)
    secret = response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    intent = stack.intent_by_key(form["idempotency_key"])
    stack.post_return(stack.pay(intent, card=DECLINE))
    stack.deliver_ipns()
    stack.drain()
    stack.clock.advance(DUPLICATE_WINDOW)
    base = stack.server.url
    other = stack.form(group_id=stack.small_group.id)
    answers: dict[str, int] = {}
    start = threading.Barrier(2)

    def press_try_again() -> None:
        start.wait()
        answer = requests.post(
            f"{base}/therapy/retry/{intent.ref}",
            cookies={f"tps_{intent.ref}": secret},
            headers=JSON,
            timeout=30,
        )
        answers["retry"] = answer.status_code

    def second_buyer() -> None:
        start.wait()
        answer = requests.post(f"{base}/therapy/checkout", data=other, headers=JSON, timeout=30)
        answers["other"] = answer.status_code

    threads = [threading.Thread(target=f) for f in (press_try_again, second_buyer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {"retry": 200, "other": 409}
    assert stack.intent(intent.ref).state == State.AWAITING_PAYMENT
    assert stack.count("intents") == 1


def test_retry_button_on_the_sidecars_own_status_page_without_javascript(stack: Any) -> None:
    first = declined(stack)
    navigate = {"Sec-Fetch-Mode": "navigate", "Accept": "text/html"}
    page = stack.client.get(f"/therapy/status/{first.ref}", headers=navigate).get_data(as_text=True)
    action = f"{stack.services.settings.public_url}/therapy/retry/{first.ref}"
    assert f'<form class="tps-back" method="post" action="{action}">' in page
    assert '<button type="submit">Try again</button>' in page
    stranger = stack.app.test_client()
    other = stranger.get(f"/therapy/status/{first.ref}", headers=navigate).get_data(as_text=True)
    assert "/therapy/retry/" not in other and "Try again" not in other
