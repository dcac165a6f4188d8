"""Checkout -> PayTabs -> return/IPN -> confirmation, end to end on both stores."""

from __future__ import annotations

from typing import Any

from sidecar.domain.states import State
from sidecar.jobs.runner import drain
from sidecar.payments import sweeps


def wp_writes(stack: Any) -> list[str]:
    """WordPress calls that create something (users, bookings, memberships)."""
    return [
        c.name for c in stack.wp.calls if c.name in ("create_user", "book_session", "join_group")
    ]


def test_flow_checkout_redirects_to_paytabs_and_touches_nothing_in_wordpress(stack: Any) -> None:
    intent = stack.start()
    assert intent.state == State.AWAITING_PAYMENT
    assert intent.amount_minor == 15000 and intent.currency == "SAR"
    assert wp_writes(stack) == []


def test_flow_paid_ipn_leaves_intent_paid_with_one_fulfilment_job(stack: Any) -> None:
    intent = stack.start()
    stack.pay(intent)
    assert stack.deliver_ipns() >= 1
    assert stack.intent(intent.ref).state == State.AWAITING_PAYMENT  # the IPN only queues
    drain(stack.services, kinds=["confirm"])  # only the confirmation, not the fulfilment
    paid = stack.intent(intent.ref)
    assert paid.state == State.PAID
    assert (
        stack.count("jobs", "intent_id = ? AND kind = 'fulfil' AND state = 'pending'", (paid.id,))
        == 1
    )
    assert wp_writes(stack) == []


def test_flow_return_redirects_to_status_page_and_queues_confirmation(stack: Any) -> None:
    intent = stack.start()
    fields = stack.pay(intent)
    response = stack.post_return(fields)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{intent.status_url}?intent={intent.ref}"
    assert stack.count("jobs", "intent_id = ? AND kind = 'confirm'", (intent.id,)) == 1


def test_flow_declined_payment_keeps_the_seat_until_the_hold_ends(stack: Any) -> None:
    intent = stack.start(group_id=str(stack.small_group.id))
    fields = stack.pay(intent, card="4000000000000002")
    response = stack.post_return(fields)
    assert response.headers["Location"].endswith("&code=payment_declined")
    stack.drain()
    declined = stack.intent(intent.ref)
    assert (declined.state, declined.seat_kept) == (State.PAYMENT_FAILED, True)
    # The only seat of the small group stays the declined buyer's, for "Try again"...
    other = stack.checkout(
        stack.form(group_id=stack.small_group.id), headers={"Accept": "application/json"}
    )
    assert other.get_json()["error"]["code"] == "group_full"
    # ...until the hold ends: then the sweep releases it.
    stack.clock.advance(declined.hold_expires_at - stack.clock() + 1)
    assert sweeps.run_all(stack.services)["kept_seats_released"] == 1
    assert stack.intent(intent.ref).seat_kept is False
    stack.start(group_id=str(stack.small_group.id))


def test_payment_flow_arabic_buyer_is_stored_and_registered_as_typed(stack: Any) -> None:
    """An Arabic name and address go through checkout, payment and fulfilment unchanged."""
    fields = {
        "first_name": "أمل",
        "last_name": "حدّاد",
        "city": "الرياض",
        "street1": "طريق الملك فهد",
    }
    intent = stack.paid_intent(**fields)
    stack.drain()
    done = stack.intent(intent.ref)
    assert done.state == State.FULFILLED
    assert (done.first_name, done.last_name, done.city, done.street1) == tuple(fields.values())
    (created,) = [c for c in stack.wp.calls if c.name == "create_user"]
    assert created.args["intent_ref"] == intent.ref
