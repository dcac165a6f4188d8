"""``sidecar cancel``: cancel a fulfilled registration from the command line."""

from __future__ import annotations

import json
from typing import Any

from click.testing import Result

from sidecar.cli import cancel as cli_cancel
from sidecar.cli.main import cli
from sidecar.domain.states import State

cli.add_command(cli_cancel.cancel)


def run(stack: Any, *args: str) -> Result:
    """Invoke the CLI inside the stack's app."""
    return stack.app.test_cli_runner().invoke(cli, list(args))


def test_cancel_cli_now_cancels_and_refunds_part(stack: Any) -> None:
    intent = stack.paid_intent()
    stack.drain()
    result = run(
        stack, "cancel", intent.ref, "--amount", "40", "--reason", "dup", "--now", "--json"
    )
    assert result.exit_code == 0, result.output
    assert stack.intent(intent.ref).state == State.REFUNDED
    assert "refund of 40.00 SAR" in result.output
    assert stack.wp.find_bookings(intent_ref=intent.ref) == []
    again = run(stack, "cancel", intent.ref)
    assert again.exit_code == 0 and "already cancelled" in again.output


def test_cancel_cli_refuses_a_bad_amount_clearly(stack: Any) -> None:
    intent = stack.paid_intent()
    stack.drain()
    result = run(stack, "cancel", intent.ref, "--amount", "999")
    assert result.exit_code == 1
    assert "more than is left to refund" in result.output
    assert "Traceback" not in result.output
    assert stack.intent(intent.ref).state == State.FULFILLED


def test_cancel_cli_json_names_the_states(stack: Any) -> None:
    intent = stack.paid_intent()
    stack.drain()
    result = run(stack, "cancel", intent.ref, "--json")
    assert result.exit_code == 0, result.output
    assert '"before": "fulfilled"' in result.output or "fulfilled" in json.dumps(result.output)
