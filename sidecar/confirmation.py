"""The confirmation job: ask PayTabs, check cart, amount and currency, and move the intent."""

from __future__ import annotations

import logging
from typing import Any

from sidecar import repository as repo
from sidecar.jobs import GiveUp, Retry, crash_point, enqueue
from sidecar.money import same_amount
from sidecar.paytabs import PayTabsInvalidRequest, Transaction
from sidecar.repository import Intent, Job
from sidecar.services import Services
from sidecar.states import AWAITING_CONFIRMATION, Event, State
from sidecar.transitions import apply_event
from wp_bridge import errors as wp_errors

log = logging.getLogger(__name__)


def run_confirmation(services: Services, job: Job) -> str:
    """Query PayTabs for the intent's sale and apply what it says (A paid, H/P wait, else failed)."""
    with services.db.transaction() as tx:
        intent = repo.get_intent(tx, job.intent_id)
    if intent is None or intent.state not in AWAITING_CONFIRMATION:
        return "nothing_to_confirm"
    sale = find_sale(services, intent)
    with services.db.transaction() as tx:
        repo.update_intent(tx, intent.id, services.clock(), last_queried_at=services.clock())
    if sale is None:
        return "not_found"
    problem = mismatch(intent, sale)
    if problem:
        log.error(
            "PayTabs transaction %s does not match intent %s: %s",
            sale.tran_ref,
            intent.ref,
            problem,
        )
        raise GiveUp(f"transaction does not match the intent: {problem}")
    if sale.is_pending:
        return "pending"
    if sale.is_failed:
        return record_failure(services, intent, sale)
    return record_payment(services, intent, sale)


def find_sale(services: Services, intent: Intent) -> Transaction | None:
    """Return PayTabs' sale for the intent: by tran_ref, else the newest sale of its cart."""
    client = services.paytabs()
    if intent.tran_ref:
        try:
            return client.query_transaction(intent.tran_ref)
        except PayTabsInvalidRequest:
            # PayTabs does not list a page nobody has acted on yet: nothing to confirm (the
            # pending sweep asks again later, the hold sweep before releasing the seat).
            return None
    sales = [t for t in client.query_cart(intent.ref) if t.is_sale]
    approved = [t for t in sales if t.is_approved]
    candidates = approved or sales
    return candidates[-1] if candidates else None


def mismatch(intent: Intent, sale: Transaction) -> str | None:
    """Say why a PayTabs transaction cannot be this intent's payment, or None if it is."""
    if sale.cart_id != intent.ref:
        return "cart_id differs"
    if not sale.is_sale:
        return f"tran_type is {sale.tran_type!r}, not Sale"
    if sale.currency.upper() != intent.currency:
        return f"currency {sale.currency!r} differs"
    if not same_amount(intent.amount_minor, intent.currency, sale.amount):
        return f"amount {sale.amount} differs"
    return None


def record_failure(services: Services, intent: Intent, sale: Transaction) -> str:
    """A declined, cancelled, expired or failed payment releases the seat."""
    with services.db.transaction() as tx:
        current = repo.get_intent(tx, intent.id, lock=True)
        if current is None or current.state != State.AWAITING_PAYMENT:
            return "already_settled"
        apply_event(
            tx,
            intent.id,
            Event.PAYMENT_FAILED,
            source="worker",
            now=services.clock(),
            detail=f"PayTabs status {sale.status} ({sale.response_code})",
            state_reason=f"paytabs_{sale.status or 'unknown'}",
            tran_ref=sale.tran_ref,
            password_enc=None,
        )
    return "payment_failed"


def record_payment(services: Services, intent: Intent, sale: Transaction) -> str:
    """Mark the intent paid and queue its fulfilment in one transaction (or refund if no seat)."""
    group: Any = None
    for _ in range(2):
        with services.db.transaction() as tx:
            current = repo.get_intent(tx, intent.id, lock=True)
            if current is None or current.state not in AWAITING_CONFIRMATION:
                return "already_settled"
            settled = None
            if current.state == State.AWAITING_PAYMENT or group is not None:
                settled = _settle_payment(services, tx, current, sale, group)
        if settled is not None:
            crash_point(services, "after_paid_transition")
            return settled
        # Its seat was released (expired or failed): price the group again, outside the lock.
        group = _load_group_for_late_payment(services, intent)
    return "retry_state_changed"


def _settle_payment(
    services: Services, tx: Any, intent: Intent, sale: Transaction, group: Any
) -> str:
    now = services.clock()
    event = Event.PAYMENT_CONFIRMED
    if intent.state != State.AWAITING_PAYMENT:
        repo.lock_group(tx, intent.group_id)
        held = repo.count_unbooked_holds(tx, intent.group_id, exclude_intent_id=intent.id)
        if group is None or not group.open or group.seats_taken + held >= group.capacity:
            event = Event.PAYMENT_CONFIRMED_NO_SEAT
    apply_event(
        tx,
        intent.id,
        event,
        source="worker",
        now=now,
        tran_ref=sale.tran_ref,
        paid_at=now,
        detail=f"PayTabs status A ({sale.response_code}) for {sale.amount} {sale.currency}",
        state_reason=None if event == Event.PAYMENT_CONFIRMED else "group_full_after_payment",
    )
    enqueue(services, tx, intent.id, "fulfil" if event == Event.PAYMENT_CONFIRMED else "refund")
    return "paid" if event == Event.PAYMENT_CONFIRMED else "paid_no_seat"


def _load_group_for_late_payment(services: Services, intent: Intent) -> Any:
    try:
        return services.wordpress.get_group(intent.group_id)
    except (wp_errors.GroupNotFound, wp_errors.GroupClosed):
        return None  # the group is gone: the late payment is refunded
    except wp_errors.WPBridgeError as exc:
        raise Retry(f"group information unavailable: {type(exc).__name__}") from exc
