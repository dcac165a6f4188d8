"""The refund job: record the attempt, call PayTabs once, and on doubt query before calling again.

Never two refunds for one tran_ref: the attempt is committed before the call, and a run that finds
an attempt without an answer looks the refund up at PayTabs instead of asking for another one.
Each run reads the cart first (one query), so what was already refunded, at PayTabs or by an
earlier run, is never asked for again; and a cart's second sale is refunded by the same job.
"""

from __future__ import annotations

import logging

from sidecar.core.container import Services
from sidecar.domain.money import from_minor
from sidecar.domain.states import Event, is_allowed
from sidecar.jobs.kinds import JobKind
from sidecar.jobs.outbox import GiveUp, Retry, crash_point, enqueue, hold_lease
from sidecar.payments import ledger
from sidecar.payments.attention import park_for_operator
from sidecar.payments.unbooking import remove_from_wordpress
from sidecar.paytabs import PayTabsInvalidRequest, PayTabsTransportError, Transaction
from sidecar.store import repository as repo
from sidecar.store.repository import Intent, Job
from sidecar.store.transitions import apply_event

log = logging.getLogger(__name__)


def run_refund(services: Services, job: Job) -> str:
    """Give back what the intent's cart must not keep: its other sales, then its own if refunding.

    The intent's own sale is refunded for what PayTabs took (its amount, in its currency, less
    what is already refunded), confirmed ``A`` (``P`` is pending: check again later).
    """
    with services.db.transaction() as tx:
        intent = repo.get_intent(tx, job.intent_id)
    if intent is None or intent.state not in ledger.HOLDS_A_SALE:
        return "nothing_to_refund"
    if not intent.tran_ref:
        raise GiveUp("no PayTabs transaction to refund")
    if intent.cancel_refund_minor is not None and is_allowed(intent.state, Event.REFUND_CONFIRMED):
        intent = remove_from_wordpress(services, job, intent)  # a cancellation un-books first
    txns = _cart(services, intent)
    extras = refund_extra_sales(services, job, intent, txns)
    outcome = f"refunded_{extras}_extra_sales" if extras else "nothing_to_refund"
    if is_allowed(intent.state, Event.REFUND_CONFIRMED):
        refund = _known_refund(services, intent, txns)
        if refund is None:
            hold_lease(services, job)  # never ask PayTabs for money back on a job we no longer hold
            refund = _request_refund(services, intent, txns)
        outcome = _apply_refund_status(services, intent, refund)
    # A second sale's refund that PayTabs has not settled yet (P) is asked about again until it
    # is A (the cart balances) or refused (then it is asked for again): the job comes back.
    pending = pending_extra_refunds(intent, _cart(services, intent) if extras else txns)
    if pending:
        raise Retry(f"refund of a second sale is pending at PayTabs: {', '.join(pending)}")
    return outcome


def pending_extra_refunds(intent: Intent, txns: list[Transaction]) -> list[str]:
    """Return the refunds of the cart's other sales that PayTabs still reports pending."""
    others = {
        t.tran_ref for t in txns if t.is_sale and t.is_approved and t.tran_ref != intent.tran_ref
    }
    return [
        t.tran_ref for t in txns if t.is_refund and t.is_pending and t.previous_tran_ref in others
    ]


def _cart(services: Services, intent: Intent) -> list[Transaction]:
    try:
        return services.paytabs().query_cart(intent.ref)
    except PayTabsInvalidRequest:
        return []  # not listed (yet): the intent's amount is refunded, as before


def refund_extra_sales(
    services: Services, job: Job, intent: Intent, txns: list[Transaction]
) -> int:
    """Refund every other approved sale of the intent's cart in full; return how many were asked.

    The cart was read just before, and is read again before any retry: a refund PayTabs already
    has (approved or pending) leaves nothing to ask for, so a sale is never refunded twice.
    """
    asked = 0
    for sale in ledger.extra_sales(intent, txns):
        amount = ledger.left_to_refund(txns, sale)
        hold_lease(services, job)
        crash_point(services, "before_extra_refund_call")
        try:
            refund = services.paytabs().refund(
                tran_ref=sale.tran_ref, cart_id=intent.ref, amount=amount, currency=sale.currency,
                reason="Automatic refund: a second payment for one registration",
            )  # fmt: skip
        except PayTabsTransportError as exc:
            raise Retry("extra sale refund answer lost; will look it up before retrying") from exc
        if refund.is_failed:
            raise GiveUp(f"PayTabs refused to refund extra sale {sale.tran_ref} ({refund.status})")
        from sidecar.payments.alerts import alert

        alert(
            services,
            "extra_sale_refunded",
            intent.ref,
            f"second sale {sale.tran_ref} refunded {amount} {sale.currency} ({refund.status})",
        )
        asked += 1
    return asked


def _known_refund(
    services: Services, intent: Intent, txns: list[Transaction]
) -> Transaction | None:
    """Return the refund PayTabs already has for the intent's sale, if one was asked for or made."""
    mine = [t for t in txns if t.is_refund and t.previous_tran_ref == intent.tran_ref]
    if intent.refund_tran_ref:
        listed = [t for t in mine if t.tran_ref == intent.refund_tran_ref]
        return (
            listed[-1] if listed else services.paytabs().query_transaction(intent.refund_tran_ref)
        )
    sale = next((t for t in txns if t.is_sale and t.tran_ref == intent.tran_ref), None)
    if sale is not None and ledger.left_to_refund(txns, sale) <= 0:
        return mine[-1]  # refunded in full already (at PayTabs, or by an earlier run)
    if intent.refund_requested_at is None:
        return None
    return mine[-1] if mine else None


def _request_refund(services: Services, intent: Intent, txns: list[Transaction]) -> Transaction:
    with services.db.transaction() as tx:
        repo.update_intent(tx, intent.id, services.clock(), refund_requested_at=services.clock())
    crash_point(services, "before_refund_call")
    if intent.tran_ref is None:
        raise AssertionError(f"intent {intent.ref} has no sale to refund")
    sale = next((t for t in txns if t.is_sale and t.tran_ref == intent.tran_ref), None)
    # What PayTabs took, in its currency, less what is already given back (a partial refund).
    amount = from_minor(intent.amount_minor, intent.currency)
    currency = intent.currency
    if sale is not None:
        amount, currency = ledger.left_to_refund(txns, sale), sale.currency
    reason = f"Automatic refund: {intent.state_reason or 'registration not possible'}"
    if intent.cancel_refund_minor is not None:
        # An operator's cancellation gives back what they chose (all, or part), never more.
        amount = min(amount, from_minor(intent.cancel_refund_minor, intent.currency))
        reason = "Registration cancelled by the centre"
    try:
        refund = services.paytabs().refund(
            tran_ref=intent.tran_ref,
            cart_id=intent.ref,
            amount=amount,
            currency=currency,
            reason=reason,
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
            enqueue(services, tx, intent.id, JobKind.EMAIL)
    if refund.is_approved:
        from sidecar.payments.alerts import alert

        alert(services, "refunded", intent.ref, f"refunded {refund.amount} {refund.currency}")
        return "refunded"
    if refund.is_pending:
        raise Retry(f"refund {refund.tran_ref} is pending at PayTabs")
    with services.db.transaction() as tx:
        # A declined refund may be asked for again (PayTabs moved no money), so forget it.
        repo.update_intent(tx, intent.id, now, refund_tran_ref=None, refund_requested_at=None)
    raise GiveUp(f"PayTabs refused the refund ({refund.status} {refund.response_message})")


def on_gave_up(services: Services, job: Job, error: str) -> None:
    """A refund that cannot be completed goes to an operator (an extra sale's: by an alert)."""
    with services.db.transaction() as tx:
        intent = repo.get_intent(tx, job.intent_id)
    if intent is not None and not is_allowed(intent.state, Event.REFUND_CONFIRMED):
        from sidecar.payments.alerts import alert

        alert(services, "needs_attention", intent.ref, f"refund failed: {error[:200]}")
        return
    park_for_operator(
        services,
        job.intent_id,
        event=Event.REFUND_GAVE_UP,
        reason="refund_failed",
        detail=error,
        message=f"refund failed: {error[:200]}",
    )
