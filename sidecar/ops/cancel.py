"""Cancel and refund a fulfilled registration (a buyer cancels within the centre's policy; a duplicate).

``cancel_and_refund`` is the one entry point (the CLI's ``sidecar cancel`` today, an admin panel
later): it checks the amount against what PayTabs says is left of the sale, then moves the intent
along ``operator_cancel`` (recording who acted and why) and queues the refund job, which removes the
booking and the membership through the bridge before it refunds: record before the call, look up
before any retry, never twice. The WordPress account stays.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sidecar.core.container import Services
from sidecar.domain.money import exponent, from_minor, to_minor
from sidecar.domain.states import Event, State, is_allowed
from sidecar.jobs.kinds import JobKind
from sidecar.jobs.outbox import enqueue
from sidecar.ops.actions import OperatorRefused, Outcome, _apply, _locked
from sidecar.payments import ledger
from sidecar.store.repository import Intent


class BadAmount(OperatorRefused):
    """The amount to refund is not a valid part of what is left of the sale (the message says why)."""


def cancel_and_refund(
    services: Services, ref: str, *, amount: str | Decimal | None = None, reason: str, actor: str
) -> Outcome:
    """Cancel a fulfilled intent and queue its refund (all, or ``amount``); a repeat changes nothing."""
    with services.db.transaction() as tx:
        intent = _locked(tx, ref)
    if intent.cancel_refund_minor is not None:
        return _already(intent)
    if not is_allowed(intent.state, Event.OPERATOR_CANCEL):
        raise OperatorRefused(
            f"{ref} is {intent.state}: only fulfilled registrations can be cancelled "
            "(use refund for paid or needs_attention ones)"
        )
    minor = _amount_minor(intent, amount, _left_to_refund(services, intent))
    text = f"{from_minor(minor, intent.currency)} {intent.currency}"
    detail = f"cancel by {actor or 'unknown'}: refund {text}; reason: {reason or '-'}"
    with services.db.transaction() as tx:
        locked = _locked(tx, ref)
        if locked.cancel_refund_minor is not None:
            return _already(locked)  # another operator cancelled it meanwhile
        moved = _apply(
            tx, locked, Event.OPERATOR_CANCEL, services.clock(), detail[:1000],
            state_reason="cancelled", cancel_refund_minor=minor,
        )  # fmt: skip
        enqueue(services, tx, locked.id, JobKind.REFUND)
    return Outcome(
        ref, intent.state.value, moved.state.value, f"cancelled; refund of {text} queued"
    )


def _already(intent: Intent) -> Outcome:
    """A second cancellation is answered, not acted on: the first one's refund is the only one."""
    done = intent.state == State.REFUNDED
    text = f"{from_minor(intent.cancel_refund_minor or 0, intent.currency)} {intent.currency}"
    message = f"already cancelled; refund of {text} {'done' if done else 'under way'}"
    return Outcome(intent.ref, intent.state.value, intent.state.value, message)


def _left_to_refund(services: Services, intent: Intent) -> Decimal:
    """Return what PayTabs says is left to refund of the intent's sale (its price if unlisted)."""
    txns = ledger.cart_transactions(services, intent)
    sale = next((t for t in txns if t.is_sale and t.tran_ref == intent.tran_ref), None)
    if sale is None:
        return from_minor(intent.amount_minor, intent.currency)
    return ledger.left_to_refund(txns, sale)


def _amount_minor(intent: Intent, amount: str | Decimal | None, left: Decimal) -> int:
    """Return the refund in minor units: all that is left, or a valid part of it; else refuse."""
    cur = intent.currency
    if amount is None:
        if left <= 0:
            raise OperatorRefused(f"{intent.ref}: nothing is left to refund at PayTabs")
        return to_minor(left, cur)
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise BadAmount(f"amount {amount!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise BadAmount(f"amount must be more than 0 {cur} (got {amount})")
    if value != value.quantize(Decimal(1).scaleb(-exponent(cur))):
        raise BadAmount(f"amount {amount} has more decimals than {cur} allows")
    if value > left:
        raise BadAmount(f"amount {value} {cur} is more than is left to refund ({left} {cur})")
    return to_minor(value, cur)


def refund_kinds() -> tuple[JobKind, ...]:
    """Return the jobs a cancellation runs, in order (for ``--now``)."""
    return (JobKind.REFUND, JobKind.EMAIL)
