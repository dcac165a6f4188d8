"""The refund job: record the attempt, call PayTabs once, and on doubt query before calling again.

Never two refunds for one tran_ref: the attempt is committed before the call, and a run that finds
an attempt without an answer looks the refund up at PayTabs instead of asking for another one.
"""

from __future__ import annotations

import logging

from sidecar import repository as repo
from sidecar.jobs import GiveUp, Retry, crash_point, enqueue, hold_lease
from sidecar.money import from_minor
from sidecar.paytabs import PayTabsTransportError, Transaction
from sidecar.repository import Intent, Job
from sidecar.services import Services
from sidecar.states import Event, State
from sidecar.transitions import apply_event, park_for_operator

log = logging.getLogger(__name__)


def run_refund(services: Services, job: Job) -> str:
    """Drive the intent's refund to a confirmed ``A`` (``P`` is pending: check again later)."""
    with services.db.transaction() as tx:
        intent = repo.get_intent(tx, job.intent_id)
    if intent is None or intent.state != State.REFUNDING:
        return "nothing_to_refund"
    if not intent.tran_ref:
        raise GiveUp("no PayTabs transaction to refund")
    refund = _known_refund(services, intent)
    if refund is None:
        hold_lease(services, job)  # never ask PayTabs for money back on a job we no longer hold
        refund = _request_refund(services, intent)
    return _apply_refund_status(services, intent, refund)


def _known_refund(services: Services, intent: Intent) -> Transaction | None:
    """Return the refund PayTabs already has for this intent, if an earlier run asked for one."""
    client = services.paytabs()
    if intent.refund_tran_ref:
        return client.query_transaction(intent.refund_tran_ref)
    if intent.refund_requested_at is None:
        return None
    refunds = [
        t
        for t in client.query_cart(intent.ref)
        if t.is_refund and t.previous_tran_ref == intent.tran_ref
    ]
    return refunds[-1] if refunds else None


def _request_refund(services: Services, intent: Intent) -> Transaction:
    with services.db.transaction() as tx:
        repo.update_intent(tx, intent.id, services.clock(), refund_requested_at=services.clock())
    crash_point(services, "before_refund_call")
    assert intent.tran_ref is not None
    try:
        refund = services.paytabs().refund(
            tran_ref=intent.tran_ref,
            cart_id=intent.ref,
            amount=from_minor(intent.amount_minor, intent.currency),
            currency=intent.currency,
            reason=f"Automatic refund: {intent.state_reason or 'registration not possible'}",
        )
    except PayTabsTransportError as exc:
        # The outcome is unknown: the next run queries the cart before asking again.
        raise Retry("refund answer lost; will look it up before retrying") from exc
    crash_point(services, "after_refund_call")
    return refund


def _apply_refund_status(services: Services, intent: Intent, refund: Transaction) -> str:
    now = services.clock()
    with services.db.transaction() as tx:
        repo.update_intent(
            tx, intent.id, now, refund_tran_ref=refund.tran_ref, refund_status=refund.status[:1]
        )
        if refund.is_approved:
            apply_event(
                tx,
                intent.id,
                Event.REFUND_CONFIRMED,
                source="worker",
                now=now,
                detail=f"refund {refund.tran_ref} A",
                password_enc=None,
            )
            enqueue(services, tx, intent.id, "email")
    if refund.is_approved:
        from sidecar.alerts import alert

        alert(
            services,
            "refunded",
            intent.ref,
            f"refunded {from_minor(intent.amount_minor, intent.currency)} {intent.currency}",
        )
        return "refunded"
    if refund.is_pending:
        raise Retry(f"refund {refund.tran_ref} is pending at PayTabs")
    with services.db.transaction() as tx:
        # A declined refund may be asked for again (PayTabs moved no money), so forget it.
        repo.update_intent(tx, intent.id, now, refund_tran_ref=None, refund_requested_at=None)
    raise GiveUp(f"PayTabs refused the refund ({refund.status} {refund.response_message})")


def on_gave_up(services: Services, job: Job, error: str) -> None:
    """A refund that cannot be completed goes to an operator."""
    park_for_operator(
        services,
        job.intent_id,
        expected=State.REFUNDING,
        event=Event.REFUND_GAVE_UP,
        reason="refund_failed",
        detail=error,
        message=f"refund failed: {error[:200]}",
    )
