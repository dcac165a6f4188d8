"""PayTabs is the ledger: money PayTabs took for a cart ends delivered or returned, never kept.

Each test makes PayTabs answer differently from the plain path (another amount or currency, a
second sale on a cart, a refund made in the dashboard) and checks where the money and the
intent end, on SQLite and MariaDB.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sidecar.cli import ops as cli_ops
from sidecar.cli.main import cli
from sidecar.domain.states import State
from sidecar.payments import sweeps
from tests.support.invariants import assert_invariants

cli_ops.register(cli)


def sweep_and_drain(stack: Any) -> None:
    sweeps.run_all(stack.services)
    stack.drain()


def refunds_of(stack: Any, sale_tran_ref: str) -> list[dict[str, Any]]:
    """Return PayTabs' refunds of one sale."""
    return [
        t
        for t in stack.sim.ledger()
        if t["tran_type"] == "Refund" and t["previous_tran_ref"] == sale_tran_ref
    ]


def lose_notifications(stack: Any) -> None:
    """No IPN reaches the sidecar and the buyer closes the tab: only a query can tell."""
    stack.sim.configure(ipn="drop")


def after_the_hold(stack: Any) -> None:
    """Let the hold run out and the sweeps and worker do their rounds."""
    stack.clock.advance(stack.services.settings.hold_minutes * 60 + 1)
    sweep_and_drain(stack)
    sweep_and_drain(stack)


@pytest.mark.parametrize(
    ("charged", "why"),
    [((Decimal("165.00"), "SAR"), "amount"), ((Decimal("150.00"), "USD"), "currency")],
)
def test_ledger_mismatched_sale_is_refunded_what_was_taken(
    stack: Any, charged: tuple[Decimal, str], why: str
) -> None:
    intent = stack.start()
    stack.sim.pay(intent.tran_ref, charge=charged)
    stack.deliver_ipns()
    stack.drain()
    after_the_hold(stack)
    ended = stack.intent(intent.ref)
    assert ended.state == State.REFUNDED, ended.state_reason
    assert ended.state_reason == f"paytabs_{why}_differs"
    refunds = refunds_of(stack, intent.tran_ref)
    assert [(r["amount"], r["currency"], r["status"]) for r in refunds] == [
        (f"{charged[0]:.2f}", charged[1], "A")
    ]
    assert stack.wp.find_bookings(intent_ref=intent.ref) == []
    assert any(a[0] == "payment_mismatch" and a[1] == intent.ref for a in stack.alerts)
    assert_invariants(stack, settled=True)


def test_ledger_hold_sweep_never_expires_a_mismatched_sale(stack: Any) -> None:
    intent = stack.start()
    lose_notifications(stack)
    stack.sim.pay(intent.tran_ref, charge=(Decimal("151.00"), "SAR"))
    after_the_hold(stack)
    ended = stack.intent(intent.ref)
    assert ended.state == State.REFUNDED
    assert [r["amount"] for r in refunds_of(stack, intent.tran_ref)] == ["151.00"]
    assert_invariants(stack, settled=True)


def test_ledger_second_sale_on_a_cart_is_refunded_and_the_place_kept(stack: Any) -> None:
    intent = stack.start()
    second = stack.sim.open_second_page(intent.tran_ref)
    stack.pay(intent)
    stack.deliver_ipns()
    stack.drain()
    stack.sim.pay(second)  # the buyer pays the other page too
    stack.deliver_ipns()
    stack.drain()
    kept = stack.intent(intent.ref)
    assert kept.state == State.FULFILLED and kept.tran_ref == intent.tran_ref
    assert [r["status"] for r in refunds_of(stack, second)] == ["A"]
    assert refunds_of(stack, intent.tran_ref) == []
    assert any(a[0] == "extra_sale_refunded" and second in a[2] for a in stack.alerts)
    sweep_and_drain(stack)
    assert len(refunds_of(stack, second)) == 1
    assert_invariants(stack, settled=True)


def test_ledger_second_sale_found_by_the_sweep_when_its_ipn_was_lost(stack: Any) -> None:
    intent = stack.start()
    second = stack.sim.open_second_page(intent.tran_ref)
    stack.pay(intent)
    stack.deliver_ipns()
    stack.drain()
    lose_notifications(stack)
    stack.sim.pay(second)
    result = stack.app.test_cli_runner().invoke(cli, ["reconcile", "--all"])
    assert result.exit_code == 0, result.output
    stack.drain()
    assert [r["status"] for r in refunds_of(stack, second)] == ["A"]
    assert stack.intent(intent.ref).state == State.FULFILLED
    assert_invariants(stack, settled=True)


def test_ledger_payment_on_the_other_page_of_a_cart_is_found(stack: Any) -> None:
    intent = stack.start()
    second = stack.sim.open_second_page(intent.tran_ref)
    lose_notifications(stack)
    stack.sim.pay(second)  # the page the intent does not know is the one paid
    after_the_hold(stack)
    done = stack.intent(intent.ref)
    assert done.state == State.FULFILLED and done.tran_ref == second
    assert_invariants(stack, settled=True)


def test_ledger_sale_refunded_at_paytabs_is_not_fulfilled(stack: Any) -> None:
    intent = stack.start()
    lose_notifications(stack)
    stack.pay(intent)
    stack.sim.dashboard_refund(intent.tran_ref)
    after_the_hold(stack)
    ended = stack.intent(intent.ref)
    assert ended.state == State.REFUNDED
    assert ended.state_reason == "refunded_at_paytabs"
    assert ended.wp_user_id is None and ended.booking_id is None
    assert [c.name for c in stack.wp.calls if c.name in ("create_user", "book_session")] == []
    status = stack.client.get(f"/therapy/status/{intent.ref}").get_json()
    assert status["state"] == "refunded" and "login_url" not in status
    assert len(refunds_of(stack, intent.tran_ref)) == 1  # the sidecar asked for nothing more
    assert_invariants(stack, settled=True)


def test_ledger_partial_refund_at_paytabs_needs_attention(stack: Any) -> None:
    intent = stack.start()
    lose_notifications(stack)
    stack.pay(intent)
    stack.sim.dashboard_refund(intent.tran_ref, Decimal("50.00"))
    after_the_hold(stack)
    parked = stack.intent(intent.ref)
    assert parked.state == State.NEEDS_ATTENTION
    assert parked.state_reason == "partly_refunded_at_paytabs"
    assert stack.wp.find_bookings(intent_ref=intent.ref) == []
    assert any(a[0] == "needs_attention" and a[1] == intent.ref for a in stack.alerts)
    assert_invariants(stack, settled=True, expected_attention={intent.ref})


def test_ledger_operator_refund_after_a_partial_refund_returns_the_rest(stack: Any) -> None:
    intent = stack.start()
    lose_notifications(stack)
    stack.pay(intent)
    stack.sim.dashboard_refund(intent.tran_ref, Decimal("50.00"))
    after_the_hold(stack)
    result = stack.app.test_cli_runner().invoke(cli, ["refund", intent.ref, "--now"])
    assert result.exit_code == 0, result.output
    assert stack.intent(intent.ref).state == State.REFUNDED
    amounts = sorted(r["amount"] for r in refunds_of(stack, intent.tran_ref))
    assert amounts == ["100.00", "50.00"]
    assert_invariants(stack, settled=True)
