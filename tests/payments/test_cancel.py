"""Cancel and refund a fulfilled registration: un-booked, left the group, refunded once, mailed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sidecar.domain.states import State
from sidecar.ops.actions import OperatorRefused
from sidecar.ops.cancel import cancel_and_refund
from sidecar.paytabs import PayTabsTransportError
from sidecar.store.repository import Intent
from tests.support.invariants import assert_invariants
from tests.support.stack import Stack

ACTOR = "wp:admin(1)"


def fulfilled(stack: Stack) -> Intent:
    """Return a registration the worker has fulfilled."""
    intent = stack.paid_intent()
    stack.drain()
    done = stack.intent(intent.ref)
    assert done.state == State.FULFILLED
    return done


def refunds_of(stack: Stack, intent: Intent) -> list[dict[str, Any]]:
    """Return PayTabs' refunds of the intent's sale."""
    return [
        t
        for t in stack.sim.ledger()
        if t["tran_type"].lower() == "refund" and t["previous_tran_ref"] == intent.tran_ref
    ]


def cancel(stack: Stack, intent: Intent, amount: str | None = None) -> Any:
    """Cancel as an operator would."""
    return cancel_and_refund(
        stack.services, intent.ref, amount=amount, reason="buyer cancelled", actor=ACTOR
    )


def assert_cancelled(stack: Stack, intent: Intent, amount: str) -> None:
    """Booking and membership gone, one refund of ``amount``, the mail queued, the account kept."""
    after = stack.intent(intent.ref)
    assert after.state == State.REFUNDED
    assert stack.wp.find_bookings(intent_ref=intent.ref) == []
    assert intent.wp_user_id is not None
    assert stack.wp.member(intent.bp_group_id, intent.wp_user_id) is None
    assert stack.wp.get_user(intent.wp_user_id) is not None  # the account stays
    refunds = refunds_of(stack, intent)
    assert len(refunds) == 1, refunds
    assert refunds[0]["status"] == "A"
    assert Decimal(str(refunds[0]["amount"])) == Decimal(amount)
    mails = [m for m in stack.wp.emails if m["template"] == "cancelled"]
    assert [m["intent_ref"] for m in mails] == [intent.ref]
    assert mails[0]["data"]["amount"] == amount
    assert [b.intent_ref for b in stack.wp.cancelled_bookings] == [intent.ref]
    assert_invariants(stack)


def test_cancel_and_refund_removes_booking_and_membership_and_refunds_in_full(
    stack: Stack,
) -> None:
    intent = fulfilled(stack)
    outcome = cancel(stack, intent)
    assert (outcome.before, outcome.after) == ("fulfilled", "refunding")
    stack.drain()
    assert_cancelled(stack, intent, "150.00")
    with stack.services.db.transaction() as tx:
        rows = tx.all("SELECT source, detail FROM transitions WHERE event = 'operator_cancel'")
    assert len(rows) == 1 and ACTOR in rows[0]["detail"] and "buyer cancelled" in rows[0]["detail"]


def test_cancel_and_refund_partial_amount_is_balanced(stack: Stack) -> None:
    intent = fulfilled(stack)
    cancel(stack, intent, amount="100.50")
    stack.drain()
    assert_cancelled(stack, intent, "100.50")
    assert stack.intent(intent.ref).cancel_refund_minor == 10050


def test_cancel_and_refund_twice_never_refunds_twice(stack: Stack) -> None:
    intent = fulfilled(stack)
    cancel(stack, intent)
    again = cancel(stack, intent)  # before the worker ran
    assert "already cancelled" in again.message
    stack.drain()
    later = cancel(stack, intent, amount="10")
    assert "already cancelled" in later.message and "done" in later.message
    stack.drain()
    assert_cancelled(stack, intent, "150.00")


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("0", "more than 0"),
        ("-5", "more than 0"),
        ("abc", "not a number"),
        ("150.01", "more than is left"),
        ("10.001", "decimals"),
        ("NaN", "more than 0"),
    ],
)
def test_cancel_and_refund_refuses_bad_amounts(stack: Stack, amount: str, says: str) -> None:
    intent = fulfilled(stack)
    with pytest.raises(OperatorRefused, match=says):
        cancel(stack, intent, amount=amount)
    assert stack.intent(intent.ref).state == State.FULFILLED
    assert refunds_of(stack, intent) == []


def test_cancel_and_refund_refuses_an_intent_not_fulfilled(stack: Stack) -> None:
    intent = stack.start()
    with pytest.raises(OperatorRefused, match="only fulfilled registrations"):
        cancel(stack, intent)
    with pytest.raises(OperatorRefused, match="no intent"):
        cancel_and_refund(stack.services, "tp_nope", reason="", actor=ACTOR)


class LostRefundAnswer:
    """PayTabs makes the refund, but the answer never arrives (once)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.lost = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def refund(self, **kwargs: Any) -> Any:
        answer = self.real.refund(**kwargs)
        if self.lost == 0:
            self.lost += 1
            raise PayTabsTransportError("read timed out", timed_out=True)
        return answer


def test_cancel_and_refund_lost_refund_answer_is_looked_up_not_asked_again(stack: Stack) -> None:
    intent = fulfilled(stack)
    wrapper = LostRefundAnswer(stack.services.paytabs())
    stack.services.paytabs_factory = lambda _creds: wrapper  # type: ignore[assignment,return-value]
    cancel(stack, intent, amount="50")
    stack.drain()
    assert stack.intent(intent.ref).state == State.REFUNDING
    stack.clock.advance(3600)  # past the retry's backoff
    stack.drain()
    assert wrapper.lost == 1
    assert_cancelled(stack, intent, "50.00")


class Crash(BaseException):
    """The worker process dies here."""


@pytest.mark.parametrize("point", ["before_refund_call", "after_refund_call"])
def test_cancel_and_refund_crash_around_the_refund_call_refunds_once(
    stack: Stack, point: str
) -> None:
    intent = fulfilled(stack)
    crashed: list[str] = []

    def crash_once(name: str) -> None:
        if name == point and not crashed:
            crashed.append(name)
            raise Crash(name)

    stack.services.extras["crash_point"] = crash_once
    cancel(stack, intent)
    with pytest.raises(Crash):
        stack.drain()
    stack.clock.advance(stack.services.settings.job_lease_seconds + 3600)  # the lease runs out
    stack.drain()
    assert crashed == [point]
    assert_cancelled(stack, intent, "150.00")


def test_cancel_and_refund_unbooking_is_idempotent_after_a_crash(stack: Stack) -> None:
    intent = fulfilled(stack)
    crashed: list[str] = []

    def crash_once(name: str) -> None:
        if name == "after_wp_booking_cancelled" and not crashed:
            crashed.append(name)
            raise Crash(name)

    stack.services.extras["crash_point"] = crash_once
    cancel(stack, intent)
    with pytest.raises(Crash):
        stack.drain()
    stack.clock.advance(stack.services.settings.job_lease_seconds + 3600)
    stack.drain()
    assert_cancelled(stack, intent, "150.00")


def test_cancel_and_refund_buyer_status_says_cancelled_not_could_not_register(
    stack: Stack,
) -> None:
    intent = fulfilled(stack)
    cancel(stack, intent)
    refunding = stack.client.get(f"/therapy/status/{intent.ref}").get_json()["message"]
    stack.drain()
    refunded = stack.client.get(f"/therapy/status/{intent.ref}").get_json()["message"]
    assert "cancelled" in refunding and "could not register" not in refunding
    assert "cancelled and your payment refunded" in refunded
    assert "could not register" not in refunded
