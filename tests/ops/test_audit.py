"""The audit: pure cross-checks of intents, PayTabs and WordPress, and `sidecar audit` end to end."""

from __future__ import annotations

import json
from dataclasses import fields
from decimal import Decimal
from typing import Any

import pytest
from click.testing import Result

from sidecar.cli import ops as cli_ops
from sidecar.cli.main import cli
from sidecar.domain.states import State
from sidecar.ops.audit import Discrepancy, Rules, Snapshot, find_discrepancies
from sidecar.paytabs import PayTabsServerError, Transaction
from sidecar.store.repository import Intent
from wp_bridge.models import Booking, GroupInfo

cli_ops.register(cli)
NOW = 1_800_000_000.0
OLD = NOW - 3600


def intent(ref: str = "tp_a", state: State = State.FULFILLED, **values: Any) -> Intent:
    """An intent of group 10 (BuddyPress group 11), fulfilled an hour ago unless told otherwise."""
    base: dict[str, Any] = {f.name: None for f in fields(Intent)}
    base.update(
        id=1, ref=ref, state=state, group_id=10, bp_group_id=11, group_name="G", amount_minor=15000,
        currency="SAR", buyer_logged_in=False, user_created=True, member_joined=True,
        confirmation_sent=False, unfulfilled_alerted=False, wp_user_id=5, booking_id=7,
        tran_ref=f"S-{ref}", browser_secret_hash="h", registration_url="", status_url="",
        thank_you_url="", hold_expires_at=OLD, created_at=OLD, updated_at=OLD,
    )  # fmt: skip
    base.update(values)
    return Intent(**base)


def txn(tran_ref: str, cart: str, kind: str = "Sale", status: str = "A", prev: str | None = None) -> Transaction:  # fmt: skip
    """A PayTabs transaction."""
    return Transaction(tran_ref, cart, kind, status, "G1", "ok", Decimal("150.00"), "SAR", prev, {})


GROUP = GroupInfo(10, "G", Decimal("150.00"), "SAR", 2, 1, True, 11, "", "", "")


def snapshot(intents: list[Intent], txns: list[Transaction], bookings: list[Booking],
             members: list[int], **extra: Any) -> Snapshot:  # fmt: skip
    """A snapshot with group 10 and its BuddyPress group 11."""
    by_cart: dict[str, list[Transaction]] = {i.ref: [] for i in intents if i.tran_ref}
    for t in txns:
        by_cart.setdefault(t.cart_id, []).append(t)
    return Snapshot(intents, by_cart, bookings, {11: members}, [GROUP], **extra)


def kinds(found: list[Discrepancy]) -> list[tuple[str, str | None]]:
    """Return (kind, ref) of each discrepancy."""
    return [(d.kind, d.ref) for d in found]


def clean() -> Snapshot:
    return snapshot([intent()], [txn("S-tp_a", "tp_a")], [Booking(7, "tp_a", 10, 5, True)], [1, 5])


def test_audit_clean_history_has_no_discrepancy() -> None:
    assert find_discrepancies(clean(), Rules(NOW, admin_user_ids=frozenset({1}))) == []


def test_audit_group_admin_counts_only_when_not_named() -> None:
    found = find_discrepancies(clean(), Rules(NOW))
    assert kinds(found) == [("membership_without_booking", None)]
    assert "user 1 is in BuddyPress group 11" in found[0].detail


def test_audit_booking_without_intent_or_payment_is_reported() -> None:
    unpaid = intent("tp_b", State.AWAITING_PAYMENT, booking_id=None, member_joined=False)
    bookings = [Booking(8, "tp_forged", 10, 6, True), Booking(9, "tp_b", 10, 7, True)]
    found = find_discrepancies(snapshot([unpaid], [], bookings, [6, 7]), Rules(NOW))
    assert kinds(found) == [
        ("booked_without_payment", "tp_b"),
        ("booked_without_payment", "tp_forged"),
    ]
    assert "has no intent" in found[1].detail


def test_audit_ignored_prefix_skips_legacy_bookings_only() -> None:
    bookings = [Booking(8, "seed-10-1", 10, 6, True), Booking(9, "tp_x", 10, 7, True)]
    rules = Rules(NOW, ignore_ref_prefixes=("seed-",))
    assert kinds(find_discrepancies(snapshot([], [], bookings, [6, 7]), rules)) == [
        ("booked_without_payment", "tp_x")
    ]


@pytest.mark.parametrize(
    "state", [State.AWAITING_PAYMENT, State.EXPIRED, State.PAID, State.REFUNDING]
)
def test_audit_approved_sale_not_delivered_is_reported_after_the_grace(state: State) -> None:
    stuck = intent(state=state, booking_id=None, member_joined=False, wp_user_id=None)
    snap = snapshot([stuck], [txn("S-tp_a", "tp_a")], [], [])
    assert kinds(find_discrepancies(snap, Rules(NOW))) == [("paid_not_fulfilled", "tp_a")]
    in_flight = Rules(NOW, grace_seconds=7200)
    assert find_discrepancies(snap, in_flight) == []


def test_audit_needs_attention_is_always_reported() -> None:
    parked = intent(state=State.NEEDS_ATTENTION, state_reason="fulfilment_retries_exhausted",
                    updated_at=NOW, booking_id=None, member_joined=False)  # fmt: skip
    found = find_discrepancies(snapshot([parked], [txn("S-tp_a", "tp_a")], [], []), Rules(NOW))
    assert kinds(found) == [("paid_not_fulfilled", "tp_a")]
    assert "fulfilment_retries_exhausted" in found[0].detail


def test_audit_fulfilled_without_booking_or_membership_is_a_state_mismatch() -> None:
    found = find_discrepancies(snapshot([intent()], [txn("S-tp_a", "tp_a")], [], []), Rules(NOW))
    assert kinds(found) == [("state_mismatch", "tp_a")] * 2
    assert {d.detail for d in found} == {
        "fulfilled but WordPress has no booking",
        "fulfilled but user 5 is not a group member",
    }


def test_audit_refunded_without_approved_refund_is_an_unbalanced_cart() -> None:
    gone = intent(state=State.REFUNDED, booking_id=None, member_joined=False)
    declined = txn("R1", "tp_a", "Refund", "D", prev="S-tp_a")
    snap = snapshot([gone], [txn("S-tp_a", "tp_a"), declined], [], [])
    found = find_discrepancies(snap, Rules(NOW))
    assert [(d.kind, d.detail) for d in found] == [
        ("unbalanced_cart", "refunded but sale S-tp_a keeps 150.00 SAR")
    ]
    approved = txn("R2", "tp_a", "Refund", "A", prev="S-tp_a")
    snap = snapshot([gone], [txn("S-tp_a", "tp_a"), declined, approved], [], [])
    assert find_discrepancies(snap, Rules(NOW)) == []


def test_audit_fulfilled_sale_refunded_at_paytabs_is_an_unbalanced_cart() -> None:
    refund = txn("R1", "tp_a", "Refund", "A", prev="S-tp_a")
    snap = snapshot([intent()], [txn("S-tp_a", "tp_a"), refund], [Booking(7, "tp_a", 10, 5, True)], [5])  # fmt: skip
    found = find_discrepancies(snap, Rules(NOW))
    assert [(d.kind, d.detail) for d in found] == [
        ("unbalanced_cart", "fulfilled but PayTabs refunded 150.00 SAR of its sale S-tp_a")
    ]


def test_audit_second_sale_kept_by_a_fulfilled_intent_is_an_unbalanced_cart() -> None:
    txns = [txn("S-tp_a", "tp_a"), txn("S2", "tp_a")]
    snap = snapshot([intent()], txns, [Booking(7, "tp_a", 10, 5, True)], [5])
    found = find_discrepancies(snap, Rules(NOW))
    assert [(d.kind, d.detail) for d in found] == [
        ("unbalanced_cart", "fulfilled but sale S2 keeps 150.00 SAR")
    ]
    refunded = snapshot([intent()], [*txns, txn("R2", "tp_a", "Refund", prev="S2")],
                        [Booking(7, "tp_a", 10, 5, True)], [5])  # fmt: skip
    assert find_discrepancies(refunded, Rules(NOW)) == []


def test_audit_duplicate_booking_of_one_user_in_one_group_is_reported() -> None:
    second = intent("tp_b", id=2, booking_id=8)
    bookings = [Booking(7, "tp_a", 10, 5, True), Booking(8, "tp_b", 10, 5, True)]
    txns = [txn("S-tp_a", "tp_a"), txn("S-tp_b", "tp_b")]
    found = find_discrepancies(snapshot([intent(), second], txns, bookings, [5]), Rules(NOW))
    assert [(d.kind, d.ref, d.group_id) for d in found] == [("duplicate_booking", "tp_b", 10)]
    assert found[0].detail == "user 5 has 2 bookings in group 10: 7 (tp_a), 8 (tp_b)"


def test_audit_two_groups_sharing_a_buddypress_group_report_no_member() -> None:
    other = GroupInfo(20, "H", Decimal("150.00"), "SAR", 2, 1, True, 11, "", "", "")
    in_other = intent("tp_b", id=2, group_id=20, wp_user_id=6, booking_id=8)
    bookings = [Booking(7, "tp_a", 10, 5, True), Booking(8, "tp_b", 20, 6, True)]
    txns = [txn("S-tp_a", "tp_a"), txn("S-tp_b", "tp_b")]
    snap = Snapshot([intent(), in_other], {"tp_a": txns[:1], "tp_b": txns[1:]}, bookings,
                    {11: [5, 6, 9]}, [GROUP, other])  # fmt: skip
    found = find_discrepancies(snap, Rules(NOW))
    assert [(d.kind, d.detail) for d in found] == [
        ("membership_without_booking", "user 9 is in BuddyPress group 11 without a booking")
    ]


def test_audit_paid_state_without_approved_sale_is_a_state_mismatch() -> None:
    snap = snapshot([intent()], [txn("S-tp_a", "tp_a", status="D")], [Booking(7, "tp_a", 10, 5, True)], [5])  # fmt: skip
    assert kinds(find_discrepancies(snap, Rules(NOW))) == [
        ("booked_without_payment", "tp_a"),
        ("state_mismatch", "tp_a"),
    ]


def test_audit_double_refund_and_over_capacity_are_reported() -> None:
    gone = intent(state=State.REFUNDED, booking_id=None, member_joined=False)
    refunds = [txn(f"R{n}", "tp_a", "Refund", "A", prev="S-tp_a") for n in (1, 2)]
    others = [intent(f"tp_{n}", id=n) for n in "xyz"]
    bookings = [Booking(n, i.ref, 10, 20 + n, True) for n, i in enumerate(others)]
    txns = [txn("S-tp_a", "tp_a"), *refunds, *(txn(f"S-{i.ref}", i.ref) for i in others)]
    members = [20, 21, 22]
    found = find_discrepancies(snapshot([gone, *others], txns, bookings, members), Rules(NOW))
    assert ("double_refund", "tp_a") in kinds(found)
    assert ("over_capacity", None) in kinds(found)
    over = next(d for d in found if d.kind == "over_capacity")
    assert over.detail == "3 bookings for a capacity of 2" and over.group_id == 10


def test_audit_unverified_intent_is_reported_and_not_judged() -> None:
    snap = snapshot([intent()], [], [Booking(7, "tp_a", 10, 5, True)], [5],
                    unverified={"tp_a": PayTabsServerError.__name__})  # fmt: skip
    found = find_discrepancies(snap, Rules(NOW))
    assert [(d.kind, d.detail) for d in found] == [
        ("unverified", "PayTabs could not be asked: PayTabsServerError")
    ]


# --- `sidecar audit` on the whole stack (SQLite and MariaDB) -----------------------------------


def run(stack: Any, *args: str) -> Result:
    """Invoke `sidecar ARGS...` against the stack's app."""
    return stack.app.test_cli_runner().invoke(cli, list(args))


def fulfilled(stack: Any) -> Any:
    """Start, pay, deliver the IPN and drain: a fulfilled intent."""
    started = stack.start()
    stack.pay(started)
    stack.deliver_ipns()
    stack.drain()
    return stack.intent(started.ref)


def test_audit_command_exits_0_on_a_clean_history(stack: Any) -> None:
    done = fulfilled(stack)
    assert done.state == State.FULFILLED
    result = run(stack, "audit")
    assert result.exit_code == 0, result.output
    assert "checked 1 intent(s), 1 booking(s), 1 group(s): 0 discrepancy(ies)" in result.output


def test_audit_command_reports_a_forged_booking_and_exits_1(stack: Any) -> None:
    done = fulfilled(stack)
    stranger = stack.wp.add_user(username="stranger", email="stranger@example.com")
    stack.wp.book_session(intent_ref="tp_forged", group_id=stack.group.id, user_id=stranger.id)
    result = run(stack, "audit")
    print(result.output)
    assert result.exit_code == 1
    assert "booked_without_payment  tp_forged" in result.output
    assert done.email not in result.output and "stranger@example.com" not in result.output
    data = json.loads(run(stack, "audit", "--json").output)
    assert [(d["kind"], d["ref"]) for d in data["discrepancies"]] == [
        ("booked_without_payment", "tp_forged")
    ]


def test_audit_command_reports_a_member_without_booking(stack: Any) -> None:
    fulfilled(stack)
    stranger = stack.wp.add_user(username="stranger", email="stranger@example.com")
    stack.wp.join_group(stack.group.bp_group_id, stranger.id)
    result = run(stack, "audit", "--json")
    assert result.exit_code == 1
    found = json.loads(result.output)["discrepancies"]
    assert [(d["kind"], d["group_id"]) for d in found] == [
        ("membership_without_booking", stack.group.id)
    ]
    assert run(stack, "audit", "--skip-user", str(stranger.id)).exit_code == 0


def test_audit_command_reports_a_payment_left_unconfirmed_after_the_grace(stack: Any) -> None:
    started = stack.start()
    stack.pay(started)
    stack.deliver_ipns()  # queued, never drained: the worker is down
    assert run(stack, "audit").exit_code == 0  # in flight: younger than the grace period
    stack.clock.advance(3600)
    result = run(stack, "audit", "--since", "2h")
    assert result.exit_code == 1
    assert f"paid_not_fulfilled  {started.ref}" in result.output
    assert run(stack, "audit", "--since", "2h", "--grace", "2h").exit_code == 0


def test_audit_command_reports_a_fulfilled_sale_later_refunded_at_paytabs(stack: Any) -> None:
    done = fulfilled(stack)
    refund = stack.sim.dashboard_refund(done.tran_ref)
    stack.clock.advance(3600)
    result = run(stack, "audit", "--json")
    assert result.exit_code == 1, result.output
    found = json.loads(result.output)["discrepancies"]
    assert [(d["kind"], d["ref"]) for d in found] == [("unbalanced_cart", done.ref)]
    assert done.tran_ref in found[0]["detail"] and refund not in found[0]["detail"]


def test_audit_command_reports_a_second_sale_kept_and_reconcile_refunds_it(stack: Any) -> None:
    started = stack.start()
    second = stack.sim.open_second_page(started.tran_ref)
    stack.pay(started)
    stack.deliver_ipns()
    stack.drain()
    stack.sim.configure(ipn="drop")  # the second sale's IPN is lost
    stack.sim.pay(second)
    stack.clock.advance(3600)
    result = run(stack, "audit")
    assert result.exit_code == 1
    assert f"unbalanced_cart  {started.ref}" in result.output and second in result.output
    reconciled = run(stack, "reconcile", "--all", "--since", "2h")
    assert reconciled.exit_code == 0, reconciled.output
    assert f"refund queued for second sale {second}" in reconciled.output
    stack.drain()
    stack.clock.advance(3600)
    assert run(stack, "audit").exit_code == 0
