"""Operator commands through the `sidecar` click group: intents, redrive, refund, reconcile."""

from __future__ import annotations

import json
from typing import Any

from click.testing import Result

from sidecar.cli import ops as cli_ops
from sidecar.cli.main import cli
from sidecar.domain.states import State
from sidecar.jobs.runner import drain

cli_ops.register(cli)


def run(stack: Any, *args: str) -> Result:
    """Invoke `sidecar ARGS...` against the stack's app."""
    return stack.app.test_cli_runner().invoke(cli, list(args))


def fulfilled(stack: Any) -> Any:
    """Start, pay, deliver the IPN and drain: a fulfilled intent."""
    intent = stack.start()
    stack.pay(intent)
    stack.deliver_ipns()
    stack.drain()
    return stack.intent(intent.ref)


def paid(stack: Any, **form: str) -> Any:
    """Start, pay, deliver the IPN and confirm only: a paid intent with its fulfilment queued."""
    intent = stack.start(**form)
    stack.pay(intent)
    stack.deliver_ipns()
    drain(stack.services, kinds=["confirm"])
    return stack.intent(intent.ref)


def refunded(stack: Any) -> Any:
    """Pay for the small group and close it before fulfilment: the payment is refunded."""
    intent = paid(stack, group_id=str(stack.small_group.id))
    stack.wp.set_group_open(stack.small_group.id, False)
    stack.drain()
    return stack.intent(intent.ref)


def stuck_in_fulfilment(stack: Any) -> Any:
    """A paid intent whose fulfilment ran out of retries while WordPress was down."""
    intent = paid(stack)
    stack.wp.down = True
    for _ in range(stack.services.settings.fulfil_max_attempts):
        stack.drain()
        stack.clock.advance(400)
    stack.wp.down = False
    found = stack.intent(intent.ref)
    assert found.state == State.NEEDS_ATTENTION, found
    return found


def test_intents_list_prints_a_table_and_filters_by_state(stack: Any) -> None:
    done, waiting = fulfilled(stack), stack.start()
    result = run(stack, "intents", "list")
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[0]
    assert header.split() == ["REF", "STATE", "REASON", "EMAIL", "GROUP", "AMOUNT", "CREATED",
                              "(UTC)", "UPDATED", "(UTC)"]  # fmt: skip
    assert done.ref in result.output and waiting.ref in result.output
    assert "150.00 SAR" in result.output and "2 intent(s)" in result.output
    only = run(stack, "intents", "list", "--state", "fulfilled", "--json")
    assert [row["ref"] for row in json.loads(only.output)] == [done.ref]


def test_intents_list_since_accepts_durations_and_iso_dates(stack: Any) -> None:
    intent = stack.start()
    stack.clock.advance(3 * 3600)
    assert run(stack, "intents", "list", "--since", "2h", "--json").output.strip() == "[]"
    rows = json.loads(run(stack, "intents", "list", "--since", "1d", "--json").output)
    assert [r["ref"] for r in rows] == [intent.ref]
    assert json.loads(run(stack, "intents", "list", "--since", "2000-01-01", "--json").output)
    assert json.loads(run(stack, "intents", "list", "--since", "86400", "--json").output)
    bad = run(stack, "intents", "list", "--since", "yesterday-ish")
    assert bad.exit_code == 2 and "neither a duration" in bad.output


def test_intents_show_fulfilled_intent_merges_transitions_notifications_and_jobs(
    stack: Any,
) -> None:
    intent = fulfilled(stack)
    result = run(stack, "intents", "show", intent.ref)
    print(result.output)  # the report quotes a real run
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"intent   {intent.ref}  fulfilled" in out
    assert f"booking  {intent.booking_id}   membership: yes" in out
    assert f"sale {intent.tran_ref}" in out and intent.email in out
    for line in ("new -> awaiting_payment", "awaiting_payment -> paid", "paid -> fulfilling",
                 "fulfilling -> fulfilled", "ipn  signature ok  queued", "confirm #1  paid",
                 "fulfil #1  fulfilled", "email #1  fulfilled_mails"):  # fmt: skip
        assert line in out, line
    # Personal data from the raw notification bodies never shows (only the email does).
    assert "+966500000000" not in out and "King Fahd" not in out and "Haddad" not in out


def test_intents_show_refunded_intent_has_refund_ref_and_refund_job(stack: Any) -> None:
    intent = refunded(stack)
    assert intent.state == State.REFUNDED
    result = run(stack, "intents", "show", intent.ref)
    print(result.output)
    assert result.exit_code == 0, result.output
    assert f"refund {intent.refund_tran_ref} (A)" in result.output
    for line in ("paid -> fulfilling", "fulfilling -> refunding  fulfilment_impossible by worker",
                 "refunding -> refunded", "fulfil #1  impossible_refunding", "refund #1  refunded"):  # fmt: skip
        assert line in result.output, line
    data = json.loads(run(stack, "intents", "show", intent.ref, "--json").output)
    assert data["intent"]["refund_tran_ref"] == intent.refund_tran_ref
    assert "password_enc" not in data["intent"] and "browser_secret_hash" not in data["intent"]
    assert all("body" not in event for event in data["timeline"])


def test_intents_show_unknown_ref_exits_1(stack: Any) -> None:
    result = run(stack, "intents", "show", "tp_nope")
    assert result.exit_code == 1 and "no intent with ref tp_nope" in result.output


def test_redrive_needs_attention_goes_back_to_fulfilling_and_completes(stack: Any) -> None:
    intent = stuck_in_fulfilment(stack)
    result = run(stack, "redrive", intent.ref)
    assert result.exit_code == 0, result.output
    assert "needs_attention  fulfilling" in result.output
    assert stack.intent(intent.ref).state == State.FULFILLING
    stack.drain()
    assert stack.intent(intent.ref).state == State.FULFILLED
    assert stack.count("transitions", "intent_id = ? AND source = 'operator'", (intent.id,)) == 1


def test_redrive_refund_that_gave_up_retries_the_refund(stack: Any) -> None:
    stack.sim.configure(refund_mode="decline")
    intent = refunded(stack)
    assert intent.state == State.NEEDS_ATTENTION and intent.state_reason == "refund_failed"
    stack.sim.configure(refund_mode="approve")
    stack.clock.advance(200)  # past PayTabs' two-minute duplicate-request window
    result = run(stack, "redrive", intent.ref, "--now")
    assert result.exit_code == 0, result.output
    assert "needs_attention  refunded" in result.output and "ran refund: refunded" in result.output
    assert stack.intent(intent.ref).state == State.REFUNDED


def test_redrive_refuses_an_intent_that_is_not_stuck(stack: Any) -> None:
    intent = fulfilled(stack)
    result = run(stack, "redrive", intent.ref)
    assert result.exit_code == 1
    assert f"{intent.ref} is fulfilled: only needs_attention intents" in result.output
    assert stack.intent(intent.ref).state == State.FULFILLED


def test_refund_now_refunds_a_paid_intent_once(stack: Any) -> None:
    intent = paid(stack)
    result = run(stack, "refund", intent.ref, "--now", "--json")
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)["outcomes"][0]
    assert (outcome["before"], outcome["after"]) == ("paid", "refunded")
    refunds = [t for t in stack.sim.ledger() if t["tran_type"] == "Refund"]
    assert len(refunds) == 1 and refunds[0]["status"] == "A"
    stack.drain()  # the fulfilment job queued at payment finds nothing to do
    assert stack.intent(intent.ref).state == State.REFUNDED
    assert not [c for c in stack.wp.calls if c.name == "book_session"]


def test_refund_of_needs_attention_goes_through_the_worker(stack: Any) -> None:
    intent = stuck_in_fulfilment(stack)
    result = run(stack, "refund", intent.ref)
    assert result.exit_code == 0 and "refund job queued" in result.output
    assert stack.intent(intent.ref).state == State.REFUNDING
    stack.drain()
    assert stack.intent(intent.ref).state == State.REFUNDED


def test_refund_refuses_a_fulfilled_intent(stack: Any) -> None:
    intent = fulfilled(stack)
    result = run(stack, "refund", intent.ref)
    assert result.exit_code == 1
    assert "only paid or needs_attention intents can be refunded" in result.output
    assert not [t for t in stack.sim.ledger() if t["tran_type"] == "Refund"]


def test_reconcile_finds_a_payment_whose_notifications_were_lost(stack: Any) -> None:
    stack.sim.configure(ipn="drop")
    intent = stack.start()
    stack.pay(intent)  # the buyer closed the browser: no return, and the IPN is dropped
    stack.deliver_ipns()
    assert stack.intent(intent.ref).state == State.AWAITING_PAYMENT
    result = run(stack, "reconcile", intent.ref)
    assert result.exit_code == 0, result.output
    assert "awaiting_payment  paid" in result.output and "1 checked, 1 changed" in result.output
    assert stack.intent(intent.ref).state == State.PAID


def test_reconcile_all_reports_unpaid_intents_unchanged(stack: Any) -> None:
    unpaid, done = stack.start(), fulfilled(stack)
    result = run(stack, "reconcile", "--all", "--json")
    assert result.exit_code == 0, result.output
    outcomes = json.loads(result.output)["outcomes"]
    assert [(o["ref"], o["after"]) for o in outcomes] == [(unpaid.ref, "awaiting_payment")]
    assert done.ref not in result.output


def test_reconcile_refuses_settled_intents_and_needs_a_target(stack: Any) -> None:
    intent = fulfilled(stack)
    refused = run(stack, "reconcile", intent.ref)
    assert refused.exit_code == 1 and "only awaiting_payment, payment_failed and expired" in (
        refused.output
    )
    assert run(stack, "reconcile").exit_code == 2
