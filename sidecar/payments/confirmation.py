"""The confirmation job: read the cart at PayTabs, check amount, currency and refunds, move the intent."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from sidecar.core.container import Services
from sidecar.domain.states import AWAITING_CONFIRMATION, Event, holds_seat, is_allowed
from sidecar.jobs.kinds import JobKind
from sidecar.jobs.outbox import Retry, crash_point, enqueue
from sidecar.payments import ledger, seats
from sidecar.payments.alerts import alert
from sidecar.payments.ledger import cart_transactions, mismatch
from sidecar.paytabs import Transaction
from sidecar.store import repository as repo
from sidecar.store.repository import Intent, Job, SeatHolder
from sidecar.store.transitions import apply_event
from wp_bridge import errors as wp_errors
from wp_bridge.models import Booking, GroupInfo

log = logging.getLogger(__name__)
__all__ = ["cart_transactions", "find_sale", "mismatch", "run_confirmation"]


def run_confirmation(services: Services, job: Job) -> str:
    """Read the intent's cart at PayTabs and apply what it says (A paid, H/P wait, else failed).

    One query by cart_id shows every sale and refund of the cart, so a payment made on another
    page of the cart, a sale already refunded at PayTabs, another amount or currency, and a
    second sale are all seen here, not only the sale the intent knows.
    """
    with services.db.transaction() as tx:
        intent = repo.get_intent(tx, job.intent_id)
    if intent is None:
        return "nothing_to_confirm"
    if intent.state not in AWAITING_CONFIRMATION:
        return check_extra_sales(services, intent)
    txns = cart_transactions(services, intent)
    with services.db.transaction() as tx:
        repo.update_intent(tx, intent.id, services.clock(), last_queried_at=services.clock())
    sale = ledger.pick_sale(intent, txns)
    if sale is None:
        return "not_found"
    if sale.is_pending:
        return "pending"
    if sale.is_failed:
        return record_failure(services, intent, sale)
    return record_approved(services, intent, sale, txns)


def find_sale(services: Services, intent: Intent) -> Transaction | None:
    """Return PayTabs' sale that answers for the intent (an approved one first), or None."""
    return ledger.pick_sale(intent, cart_transactions(services, intent))


def record_approved(
    services: Services, intent: Intent, sale: Transaction, txns: list[Transaction]
) -> str:
    """Settle an approved sale: paid, or ended when PayTabs' ledger says it cannot buy the place."""
    given_back = ledger.refunded(txns, sale)
    if given_back >= sale.amount:
        refund = ledger.refunds_of(txns, sale)[-1]
        return record_unusable(
            services, intent, sale, Event.REFUNDED_AT_PAYTABS, "refunded_at_paytabs",
            f"refunded at PayTabs: sale {sale.tran_ref} in full ({refund.tran_ref})",
            job=JobKind.EMAIL, refund_tran_ref=refund.tran_ref, refund_status="A",
        )  # fmt: skip
    if given_back > 0:
        return record_unusable(
            services, intent, sale, Event.PARTLY_REFUNDED_AT_PAYTABS,
            "partly_refunded_at_paytabs",
            f"PayTabs refunded {given_back} of {sale.amount} {sale.currency} of {sale.tran_ref}",
        )  # fmt: skip
    problem = mismatch(intent, sale)
    if problem:
        why = "currency" if problem.startswith("currency") else "amount"
        return record_unusable(
            services, intent, sale, Event.PAYMENT_MISMATCHED, f"paytabs_{why}_differs",
            f"PayTabs took {sale.amount} {sale.currency} ({sale.tran_ref}): {problem}",
            job=JobKind.REFUND,
        )  # fmt: skip
    outcome = record_payment(services, intent, sale)
    paid = replace(intent, tran_ref=sale.tran_ref)
    if outcome.startswith("paid") and ledger.extra_sales(paid, txns):
        with services.db.transaction() as tx:
            enqueue(services, tx, intent.id, JobKind.REFUND)  # the cart's other sales go back
    return outcome


# What the operator is told when PayTabs' ledger ends an intent that was not yet confirmed.
UNUSABLE_ALERTS = {
    Event.PAYMENT_MISMATCHED: "payment_mismatch",
    Event.REFUNDED_AT_PAYTABS: "refunded_at_paytabs",
    Event.PARTLY_REFUNDED_AT_PAYTABS: "needs_attention",
}


def record_unusable(
    services: Services,
    intent: Intent,
    sale: Transaction,
    event: Event,
    reason: str,
    detail: str,
    *,
    job: JobKind | None = None,
    **changes: Any,
) -> str:
    """Move an approved sale that cannot buy the place along ``event`` and alert the operator."""
    log.error("intent %s: %s", intent.ref, detail)
    now = services.clock()
    with services.db.transaction() as tx:
        current = repo.get_intent(tx, intent.id, lock=True)
        if current is None or current.state not in AWAITING_CONFIRMATION:
            return "already_settled"
        apply_event(
            tx, intent.id, event, source="worker", now=now, detail=detail[:300],
            state_reason=reason, tran_ref=sale.tran_ref, paid_at=now, **changes,
        )  # fmt: skip
        if job is not None:
            enqueue(services, tx, intent.id, job)
    alert(services, UNUSABLE_ALERTS[event], intent.ref, detail)
    return event.value


def check_extra_sales(services: Services, intent: Intent) -> str:
    """After the intent settled, queue a refund for any other sale of its cart (a second page)."""
    if intent.state not in ledger.HOLDS_A_SALE or not intent.tran_ref:
        return "nothing_to_confirm"
    if not ledger.extra_sales(intent, cart_transactions(services, intent)):
        return "nothing_to_confirm"
    with services.db.transaction() as tx:
        enqueue(services, tx, intent.id, JobKind.REFUND)
    return "extra_sale_refund_queued"


def record_failure(services: Services, intent: Intent, sale: Transaction) -> str:
    """A declined, cancelled, expired or failed payment: the seat (and the form's password) stay
    until the original hold ends, for "Try again" (payments.retry); after it, both go."""
    now = services.clock()
    with services.db.transaction() as tx:
        current = repo.get_intent(tx, intent.id, lock=True)
        if current is None or not is_allowed(current.state, Event.PAYMENT_FAILED):
            return "already_settled"
        keep = holds_seat(current.state) and now < current.hold_expires_at
        apply_event(
            tx,
            intent.id,
            Event.PAYMENT_FAILED,
            source="worker",
            now=now,
            detail=f"PayTabs status {sale.status} ({sale.response_code})",
            state_reason=f"paytabs_{sale.status or 'unknown'}",
            tran_ref=sale.tran_ref,
            seat_kept=keep,
            **({} if keep else {"password_enc": None}),
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
            if holds_seat(current.state) or group is not None:
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
    if not holds_seat(intent.state):  # a late payment: its seat was released
        # A late payment gets its seat back only if one is free now, counted as checkout counts.
        repo.lock_group(tx, intent.group_id)
        holders = [h for h in repo.list_seat_holders(tx, intent.group_id) if h.id != intent.id]
        if group is None or not _seat_free(group, holders):
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
    enqueue(
        services,
        tx,
        intent.id,
        JobKind.FULFIL if event == Event.PAYMENT_CONFIRMED else JobKind.REFUND,
    )
    return "paid" if event == Event.PAYMENT_CONFIRMED else "paid_no_seat"


def _seat_free(group: tuple[GroupInfo, list[Booking]], holders: list[SeatHolder]) -> bool:
    info, bookings = group
    return info.open and seats.seats_in_use(holders, bookings) < info.capacity


def _load_group_for_late_payment(services: Services, intent: Intent) -> Any:
    try:
        group = services.wordpress.get_group(intent.group_id)
        return group, services.wordpress.list_bookings(intent.group_id)
    except (wp_errors.GroupNotFound, wp_errors.GroupClosed):
        return None  # the group is gone: the late payment is refunded
    except wp_errors.WPBridgeError as exc:
        raise Retry(f"group information unavailable: {type(exc).__name__}") from exc
