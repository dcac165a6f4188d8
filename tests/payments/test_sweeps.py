"""Sweeps: lost notifications are found, unpaid holds expire, late payments are fulfilled or refunded."""

from __future__ import annotations

from typing import Any

from sidecar.domain.states import State
from sidecar.payments import sweeps
from sidecar.store import repository as repo


def sweep_and_drain(stack: Any) -> None:
    sweeps.run_all(stack.services)
    stack.drain()


def test_sweep_finds_a_payment_whose_ipn_was_dropped_and_browser_closed(stack: Any) -> None:
    intent = stack.start()
    stack.sim.configure(ipn="drop")
    stack.pay(intent)  # no return (tab closed), no IPN (dropped)
    stack.deliver_ipns()
    sweep_and_drain(stack)
    assert stack.intent(intent.ref).state == State.AWAITING_PAYMENT  # too early to ask PayTabs
    stack.clock.advance(stack.services.settings.pending_query_after_seconds + 1)
    sweep_and_drain(stack)
    done = stack.intent(intent.ref)
    assert done.state == State.FULFILLED
    assert len(stack.wp.find_bookings(intent_ref=intent.ref)) == 1
    sweep_and_drain(stack)  # nothing is done twice
    assert stack.count("transitions", "intent_id = ? AND to_state = 'paid'", (intent.id,)) == 1
    assert [c.name for c in stack.wp.calls].count("create_user") == 1


def test_sweep_expires_an_unpaid_hold_and_releases_the_seat(stack: Any) -> None:
    intent = stack.start(group_id=str(stack.small_group.id))
    stack.clock.advance(stack.services.settings.hold_minutes * 60 + 1)
    sweep_and_drain(stack)
    expired = stack.intent(intent.ref)
    assert expired.state == State.EXPIRED and expired.state_reason == "hold_expired"
    stack.start(group_id=str(stack.small_group.id))  # the seat is free again


def test_sweep_keeps_the_seat_of_a_payment_on_hold(stack: Any) -> None:
    intent = stack.start(group_id=str(stack.small_group.id))
    stack.pay(intent, card="4000000000000119")  # H: fraud hold, not final
    stack.deliver_ipns()
    stack.drain()
    stack.clock.advance(stack.services.settings.hold_minutes * 60 + 1)
    sweep_and_drain(stack)
    assert stack.intent(intent.ref).state == State.AWAITING_PAYMENT
    response = stack.checkout(
        stack.form(stack.small_group.id), headers={"Accept": "application/json"}
    )
    assert response.get_json()["error"]["code"] == "group_full"


def test_two_buyers_one_seat_both_pay_one_fulfilled_one_refunded_once(stack: Any) -> None:
    first = stack.start(group_id=str(stack.small_group.id))
    # The first buyer's hold runs out while they are still on the payment page.
    with stack.services.db.transaction() as tx:
        repo.update_intent(tx, first.id, stack.clock(), hold_expires_at=stack.clock() - 1)
    sweep_and_drain(stack)
    assert stack.intent(first.ref).state == State.EXPIRED
    second = stack.start(group_id=str(stack.small_group.id))
    stack.pay(second)
    stack.deliver_ipns()
    stack.drain()
    assert stack.intent(second.ref).state == State.FULFILLED
    fields = stack.pay(first)  # the first buyer pays after all
    stack.post_return(fields)
    stack.deliver_ipns()
    stack.drain()
    late = stack.intent(first.ref)
    assert late.state == State.REFUNDED
    assert late.state_reason == "group_full_after_payment"
    refunds = [t for t in stack.sim.ledger() if t["tran_type"].lower() == "refund"]
    assert len(refunds) == 1 and refunds[0]["previous_tran_ref"] == first.tran_ref
    assert stack.wp.find_bookings(intent_ref=first.ref) == []
    sweep_and_drain(stack)
    assert len([t for t in stack.sim.ledger() if t["tran_type"].lower() == "refund"]) == 1
    first_view = stack.client.get(f"/therapy/status/{first.ref}").get_json()
    second_view = stack.client.get(f"/therapy/status/{second.ref}").get_json()
    assert first_view["state"] == "refunded" and "refunded" in first_view["message"]
    assert second_view["state"] == "fulfilled"
    assert any(a[0] == "refunded" and a[1] == first.ref for a in stack.alerts)


def test_late_payment_with_a_free_seat_is_fulfilled(stack: Any) -> None:
    intent = stack.start()
    with stack.services.db.transaction() as tx:
        repo.update_intent(tx, intent.id, stack.clock(), hold_expires_at=stack.clock() - 1)
    sweep_and_drain(stack)
    assert stack.intent(intent.ref).state == State.EXPIRED
    stack.pay(intent)
    stack.deliver_ipns()
    stack.drain()
    assert stack.intent(intent.ref).state == State.FULFILLED


def test_sweep_alerts_once_about_a_paid_intent_left_unfulfilled(stack: Any) -> None:
    intent = stack.paid_intent()
    stack.wp.down = True
    stack.drain()
    stack.clock.advance(stack.services.settings.unfulfilled_alert_minutes * 60 + 1)
    sweeps.run_all(stack.services)
    sweeps.run_all(stack.services)
    assert [a for a in stack.alerts if a[0] == "unfulfilled"] == [
        ("unfulfilled", intent.ref, "paid but still fulfilling")
    ]


def test_sweep_purges_personal_data_of_ended_intents_after_retention(stack: Any) -> None:
    intent = stack.start()
    fields = stack.pay(intent, card="4000000000000002")
    stack.post_return(fields)
    stack.deliver_ipns()
    stack.drain()
    stack.clock.advance(stack.services.settings.retention_days * 86400 + 1)
    sweeps.run_all(stack.services)
    purged = stack.intent(intent.ref)
    assert purged.email is None and purged.phone is None and purged.purged_at is not None
    assert purged.tran_ref == intent.tran_ref and purged.amount_minor == intent.amount_minor
    assert stack.count("notifications", "intent_id = ? AND body IS NOT NULL", (intent.id,)) == 0
