"""The invariant checker can fail: each kind of broken promise, seeded directly, is reported."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from sidecar.domain.states import Event, State
from sidecar.jobs.runner import drain
from sidecar.store import repository as repo
from sidecar.store.repository import Intent
from sidecar.store.transitions import apply_event
from tests.support.invariants import (
    StoreView,
    WordPressView,
    assert_invariants,
    check_invariants,
    check_world,
    store_from_db,
    wordpress_from_client,
    wordpress_from_fake,
)
from wp_bridge.models import Booking


def kinds(found: list[str]) -> set[str]:
    """Return the ``P<n> <kind>`` heads of the checker's lines."""
    return {line.split(":", 1)[0] for line in found}


def fulfilled(stack: Any, **form: str) -> Intent:
    """Check out, pay, deliver the IPN and run the worker: a clean fulfilled intent."""
    intent = stack.start(**form)
    stack.pay(intent)
    stack.deliver_ipns()
    stack.drain()
    done = stack.intent(intent.ref)
    assert done.state == State.FULFILLED
    return done


def move(stack: Any, intent: Intent, *events: Event) -> None:
    """Apply events to an intent through the one transition function."""
    with stack.services.db.transaction() as tx:
        for event in events:
            apply_event(tx, intent.id, event, source="test", now=stack.clock())


def test_invariants_clean_paid_and_fulfilled_history_reports_nothing(stack: Any) -> None:
    fulfilled(stack)
    fulfilled(stack, group_id=str(stack.small_group.id))
    stack.start()  # still awaiting payment: not a problem
    assert check_invariants(stack) == []
    assert check_invariants(stack, settled=True) == []
    assert_invariants(stack, settled=True)


def test_invariants_clean_refunded_history_reports_nothing(stack: Any) -> None:
    intent = stack.start()
    stack.wp.set_group_open(stack.group.id, False)
    stack.pay(intent)
    stack.deliver_ipns()
    stack.drain()
    assert stack.intent(intent.ref).state == State.REFUNDED
    assert check_invariants(stack, settled=True) == []


def test_invariants_refunded_intent_still_booked_and_member_is_p2_when_settled(stack: Any) -> None:
    intent = stack.start()
    stack.wp.set_group_open(stack.group.id, False)
    stack.pay(intent)
    stack.deliver_ipns()
    stack.drain()
    refunded = stack.intent(intent.ref)
    assert refunded.state == State.REFUNDED
    # What a worker acting on a stale view of the intent would leave behind.
    user = stack.wp.add_user(username="late", email="late@example.com", intent_ref=intent.ref)
    stack.wp.set_group_open(stack.group.id, True)
    stack.wp.book_session(intent_ref=intent.ref, group_id=stack.group.id, user_id=user.id)
    stack.wp.join_group(refunded.bp_group_id, user.id)
    assert check_invariants(stack) == []
    found = kinds(check_invariants(stack, settled=True))
    assert found == {"P2 refunded_but_booked", "P2 refunded_but_member"}


def test_invariants_booking_without_payment_is_p1(stack: Any) -> None:
    intent = stack.start()
    stack.wp.book_session(intent_ref=intent.ref, group_id=stack.group.id, user_id=stack.wp.admin.id)
    found = check_invariants(stack)
    assert "P1 booked_without_payment" in kinds(found)
    assert any(intent.ref in line for line in found)


def test_invariants_user_and_member_without_payment_are_p1(stack: Any) -> None:
    intent = stack.start()
    user = stack.wp.add_user(username="early", email="early@example.com", intent_ref=intent.ref)
    stack.wp.join_group(stack.group.bp_group_id, user.id)
    assert {"P1 user_without_payment", "P1 member_without_payment"} <= kinds(
        check_invariants(stack)
    )


def test_invariants_store_claiming_wordpress_work_without_payment_is_p1(stack: Any) -> None:
    intent = stack.start()
    with stack.services.db.transaction() as tx:
        repo.update_intent(tx, intent.id, stack.clock(), booking_id=99, member_joined=True)
    assert "P1 store_without_payment" in kinds(check_invariants(stack))


def test_invariants_foreign_booking_is_allowed_only_by_its_prefix(stack: Any) -> None:
    other = stack.wp.add_user(username="walkin", email="walkin@example.com")
    stack.wp.book_session(intent_ref="fill-1", group_id=stack.group.id, user_id=other.id)
    assert kinds(check_invariants(stack)) == {"P1 booked_without_payment"}
    assert check_invariants(stack, foreign_ref_prefixes=("fill-",)) == []


def test_invariants_duplicate_booking_and_user_for_one_intent_are_p3(stack: Any) -> None:
    intent = fulfilled(stack)
    assert intent.wp_user_id is not None
    # The fake keys bookings by intent ref, so a second one can only be planted in its internals.
    stack.wp._bookings["planted"] = Booking(
        9999, intent.ref, stack.group.id, intent.wp_user_id, True
    )
    stack.wp.add_user(username="twin", email="twin@example.com", intent_ref=intent.ref)
    found = kinds(check_invariants(stack))
    assert {"P3 duplicate_booking", "P3 duplicate_user"} <= found


def test_invariants_second_paid_transition_is_p3(stack: Any) -> None:
    intent = fulfilled(stack)
    with stack.services.db.transaction() as tx:
        repo.insert_transition(
            tx,
            intent_id=intent.id,
            from_state="expired",
            to_state="paid",
            event="payment_confirmed",
            source="test",
            detail=None,
            now=stack.clock(),
        )
    assert "P3 paid_twice" in kinds(check_invariants(stack))


def test_invariants_paid_intent_left_unfulfilled_is_p2_only_when_settled(stack: Any) -> None:
    intent = stack.start()
    stack.pay(intent)
    stack.deliver_ipns()
    drain(stack.services, kinds=["confirm"])  # paid; the fulfilment job never ran
    assert stack.intent(intent.ref).state == State.PAID
    assert check_invariants(stack) == []
    found = check_invariants(stack, settled=True)
    assert {"P2 paid_not_settled", "P2 queue_not_drained"} <= kinds(found)


def test_invariants_needs_attention_is_p2_unless_expected(stack: Any) -> None:
    intent = stack.start()
    stack.pay(intent)
    stack.deliver_ipns()
    drain(stack.services, kinds=["confirm"])
    move(stack, stack.intent(intent.ref), Event.FULFILMENT_STARTED, Event.FULFILMENT_GAVE_UP)
    with stack.services.db.transaction() as tx:
        tx.execute("UPDATE jobs SET state = 'failed' WHERE intent_id = ?", (intent.id,))
    found = check_invariants(stack, settled=True)
    assert kinds(found) == {"P2 paid_not_settled"}
    assert "needs_attention" in found[0]
    assert check_invariants(stack, settled=True, expected_attention={intent.ref}) == []


def test_invariants_fulfilled_without_membership_is_p2(stack: Any) -> None:
    intent = fulfilled(stack)
    del stack.wp._bp_groups[intent.bp_group_id][intent.wp_user_id]
    found = check_invariants(stack)
    assert kinds(found) == {"P2 fulfilled_incomplete"}
    assert "not in group" in found[0]


def test_invariants_refunded_state_without_paytabs_refund_is_p2(stack: Any) -> None:
    intent = stack.start()
    stack.pay(intent)
    stack.deliver_ipns()
    drain(stack.services, kinds=["confirm"])
    move(stack, stack.intent(intent.ref), Event.OPERATOR_REFUND, Event.REFUND_CONFIRMED)
    assert "P2 refunded_without_refund" in kinds(check_invariants(stack))


def test_invariants_over_capacity_group_is_p4(stack: Any) -> None:
    small = stack.small_group
    first = stack.wp.add_user(username="first", email="first@example.com")
    second = stack.wp.add_user(username="second", email="second@example.com")
    stack.wp.book_session(intent_ref="fill-1", group_id=small.id, user_id=first.id)
    # The fake refuses a booking beyond capacity, so the second seat is planted in its internals.
    stack.wp._bookings["fill-2"] = Booking(9998, "fill-2", small.id, second.id, True)
    found = check_invariants(stack, foreign_ref_prefixes=("fill-",))
    assert kinds(found) == {"P4 over_capacity"}
    assert f"group {small.id} has 2 bookings for a capacity of 1" in found[0]


def test_invariants_forged_paid_transition_is_p5(stack: Any) -> None:
    intent = stack.start()  # never paid
    with stack.services.db.transaction() as tx:
        repo.update_intent(tx, intent.id, stack.clock(), state=State.PAID)
        repo.insert_transition(
            tx,
            intent_id=intent.id,
            from_state="awaiting_payment",
            to_state="paid",
            event="payment_confirmed",
            source="ipn",
            detail="forged",
            now=stack.clock(),
        )
    found = kinds(check_invariants(stack))
    assert {"P5 payment_not_confirmed", "P5 state_without_sale"} <= found


def test_invariants_paid_transition_with_other_amount_is_p5(stack: Any) -> None:
    intent = fulfilled(stack)
    with stack.services.db.transaction() as tx:
        repo.update_intent(tx, intent.id, stack.clock(), amount_minor=100)  # tampered: 1.00 SAR
    found = check_invariants(stack)
    assert kinds(found) == {"P5 payment_not_confirmed"}
    assert "amount 150.00 differs" in found[0]


def test_invariants_work_from_plain_lists_as_from_a_real_client(stack: Any) -> None:
    """The same checks over lists (the shape a real WordPress client gives) find the same things."""
    intent = fulfilled(stack)
    store = store_from_db(stack.services)
    from_fake = wordpress_from_fake(stack.wp)
    from_client = wordpress_from_client(stack.wordpress, store.intents, [stack.group.id])
    assert sorted(u.id for u in from_client.users) == sorted(
        u.id for u in from_fake.users if u.intent_ref
    )
    ledger = stack.sim.ledger()
    assert check_world(ledger, store, from_client, settled=True) == []
    sale = next(e for e in ledger if e["cart_id"] == intent.ref)
    refund = {**sale, "tran_type": "Refund", "previous_tran_ref": sale["tran_ref"]}
    twice = [*ledger, {**refund, "tran_ref": "R1"}, {**refund, "tran_ref": "R2"}]
    members = {k: [*v, *v] for k, v in from_client.members.items()}
    broken = WordPressView(from_client.users, from_client.bookings, members, from_client.groups)
    found = kinds(check_world(twice, store, broken))
    assert {"P3 double_refund", "P3 duplicate_membership", "P2 fulfilled_and_refunded"} <= found


def test_invariants_read_wordpress_while_it_is_down_without_eating_its_failures(stack: Any) -> None:
    fulfilled(stack)
    stack.wp.down = True
    stack.wp.fail_next(2)
    assert check_invariants(stack) == []
    assert stack.wp.down is True
    assert stack.wp._failures == [500, 500]


def test_invariants_sale_for_an_unknown_cart_is_p2_when_settled() -> None:
    """A pure check: PayTabs approved a cart the store never heard of."""
    ledger = [
        {
            "tran_ref": "TST1",
            "tran_type": "Sale",
            "cart_id": "tp_ghost",
            "amount": "150.00",
            "currency": "SAR",
            "status": "A",
            "open": False,
            "previous_tran_ref": None,
        }
    ]
    empty_store = StoreView([], [], [])
    no_wp = WordPressView([], [], {}, [])
    assert check_world(ledger, empty_store, no_wp) == []
    assert kinds(check_world(ledger, empty_store, no_wp, settled=True)) == {
        "P2 sale_without_intent"
    }


def test_invariants_second_sale_kept_is_p7_when_settled(stack: Any) -> None:
    intent = stack.start()
    second = stack.sim.open_second_page(intent.tran_ref)
    stack.pay(intent)
    stack.deliver_ipns()
    stack.drain()
    stack.sim.configure(ipn="drop")  # the sidecar never hears of the second sale
    stack.sim.pay(second)
    assert "P7 cart_unbalanced" not in kinds(check_invariants(stack))
    found = check_invariants(stack, settled=True)
    assert (
        f"P7 cart_unbalanced: {intent.ref}: fulfilled but sale {second} keeps 150.00 SAR" in found
    )


def test_invariants_fulfilled_sale_refunded_at_paytabs_is_p7_when_settled(stack: Any) -> None:
    intent = fulfilled(stack)
    stack.sim.dashboard_refund(intent.tran_ref, Decimal("10.00"))
    found = check_invariants(stack, settled=True)
    assert (
        f"P7 cart_unbalanced: {intent.ref}: fulfilled but PayTabs refunded 10.00 SAR of its sale "
        f"{intent.tran_ref}"
    ) in found


def test_invariants_expired_intent_keeping_money_is_p7_when_settled(stack: Any) -> None:
    intent = stack.start()
    stack.pay(intent)
    with stack.services.db.transaction() as tx:  # what the hold sweep used to do to a mismatch
        repo.update_intent(tx, intent.id, stack.clock(), state=State.EXPIRED)
    found = check_invariants(stack, settled=True)
    assert (
        f"P7 cart_unbalanced: {intent.ref}: expired but sale {intent.tran_ref} keeps 150.00 SAR"
        in found
    )


def test_invariants_two_bookings_of_one_user_in_one_group_is_p8(stack: Any) -> None:
    first, second = fulfilled(stack), fulfilled(stack)
    store = store_from_db(stack.services)
    view = wordpress_from_fake(stack.wp)
    assert check_world(stack.sim.ledger(), store, view) == []
    same_user = [replace(b, user_id=first.wp_user_id) for b in view.bookings]
    twice = WordPressView(view.users, same_user, view.members, view.groups)
    found = [f for f in check_world(stack.sim.ledger(), store, twice) if f.startswith("P8")]
    assert found == [
        f"P8 duplicate_place: user {first.wp_user_id} has 2 bookings in group {second.group_id}"
    ]
