"""``sidecar cancel REF``: cancel a fulfilled registration and refund it (all, or --amount)."""

from __future__ import annotations

import getpass

import click
from flask.cli import with_appcontext

from sidecar.cli.ops import act
from sidecar.ops.cancel import cancel_and_refund, refund_kinds


@click.command()
@click.argument("ref")
@click.option("--amount", help="Refund only this much (default: all that is left of the sale).")
@click.option("--reason", default="", help="Why (recorded in the intent's history).")
@click.option("--now", "now_", is_flag=True, help="Run the cancellation here, not in the worker.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def cancel(ref: str, amount: str | None, reason: str, now_: bool, as_json: bool) -> None:
    """Cancel a fulfilled registration: booking and membership removed, money refunded once."""
    actor = f"cli:{_who()}"
    act(
        lambda s: cancel_and_refund(s, ref, amount=amount, reason=reason, actor=actor),
        ref,
        refund_kinds() if now_ else (),
        as_json,
    )


def _who() -> str:
    """Return the operator's login name (recorded as the actor), or "unknown"."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
