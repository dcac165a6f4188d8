"""Try again: a fresh PayTabs page for a declined intent, while its seat is still kept.

A declined or cancelled payment keeps the intent's seat until its original hold ends
(``seat_kept``, set by the confirmation job; released by the hold sweep), so a retry cannot lose
the place to another buyer. The paying browser (its ``tps_<ref>`` secret) asks; PayTabs' ledger
for the cart is read first, so a late "A" of the first page wins over a new page; then the intent
moves payment_failed -> awaiting_payment through the one transition function (Event.RETRY) and a
new page is made for the same cart. Should both pages be paid, the ledger treats the second sale
as an extra and the confirmation job refunds it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from sidecar.core.container import Services
from sidecar.core.errors import CheckoutRejected, IntentNotFound, PaymentProviderUnavailable
from sidecar.core.i18n import paypage_lang
from sidecar.core.secretbox import matches_any
from sidecar.domain import messages
from sidecar.domain.money import from_minor
from sidecar.domain.states import Event, State, can_retry, is_allowed, is_payable
from sidecar.jobs.kinds import JobKind
from sidecar.jobs.outbox import enqueue
from sidecar.payments import ledger
from sidecar.payments.checkout import status_page_url
from sidecar.paytabs import (
    Customer,
    PageCreated,
    PageRequest,
    PayTabsDuplicateRequest,
    PayTabsError,
    create_page_or_recover,
)
from sidecar.store import repository as repo
from sidecar.store.db import Tx
from sidecar.store.repository import Intent
from sidecar.store.transitions import apply_event

log = logging.getLogger(__name__)
# A double click waits this long for the first click's page before giving up.
SECOND_CLICK_WAIT_SECONDS = 10.0
# PayTabs refuses another page for the same cart, amount and currency within about two minutes
# ("Duplicate Request"); the retry waits that long after the cart's last page, plus a margin
# (the page is made a moment after the time recorded here, and PayTabs' two minutes are "about").
PAYTABS_DUPLICATE_WINDOW_SECONDS = 130.0


@dataclass(frozen=True)
class RetryOutcome:
    """Where the browser goes: a PayTabs page, the status page, or (``to_form``) the form."""

    redirect_url: str
    intent: Intent
    to_form: bool = False


class RetryRefused(CheckoutRejected):
    """The retry cannot happen; ``code`` says why (the route answers 403/409 or the form)."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(code, message, None, status)


def retry_payment(services: Services, ref: str, browser_secret: str | None) -> RetryOutcome:
    """Open a fresh PayTabs page for the paying browser's declined intent ``ref``."""
    intent = _paying_browsers_intent(services, ref, browser_secret)
    if is_payable(intent.state):
        return _page_of_the_first_click(services, intent)
    if intent.state != State.PAYMENT_FAILED:
        return RetryOutcome(status_page_url(intent), intent)  # paid, or ended otherwise
    if not can_retry(intent.state, intent.seat_kept, intent.hold_expires_at, services.clock()):
        return RetryOutcome(intent.registration_url, intent, to_form=True)
    with services.db.transaction() as tx:
        too_soon = services.clock() < retry_possible_at(tx, intent)
    if too_soon:  # nothing asked of PayTabs, nothing changed: the button says when
        raise RetryRefused("retry_too_soon", messages.RETRY_TOO_SOON, 429)
    try:
        txns = ledger.cart_transactions(services, intent)
    except PayTabsError as exc:  # no new page without knowing whether the first was paid
        raise PaymentProviderUnavailable(messages.PAYMENT_PAGE_NOT_OPENED) from exc
    if ledger.approved_sales(txns, intent.ref):
        # PayTabs took the money after all (a late "A"): confirm it; never open a second page.
        with services.db.transaction() as tx:
            enqueue(services, tx, intent.id, JobKind.CONFIRM)
        return RetryOutcome(status_page_url(intent), intent)
    started = _start_retry(services, intent)
    if started is None:  # another click moved it first
        return _page_of_the_first_click(services, intent)
    return _open_page(services, started)


def retry_possible_at(tx: Tx, intent: Intent) -> float:
    """Return when PayTabs accepts another page for the intent's cart: its last page + window."""
    retries = [
        float(row["at"])
        for row in repo.list_transitions(tx, intent.id)
        if row["event"] == Event.RETRY.value
    ]
    return math.ceil(max([intent.created_at, *retries]) + PAYTABS_DUPLICATE_WINDOW_SECONDS)


def _paying_browsers_intent(services: Services, ref: str, browser_secret: str | None) -> Intent:
    """Return the intent, only to the browser holding its secret (403 to anyone else)."""
    with services.db.transaction() as tx:
        intent = repo.find_intent_by_ref(tx, ref)
    if intent is None:
        raise IntentNotFound(messages.STATUS_TEXTS["notFound"])
    if not matches_any(browser_secret, intent.browser_secret_hash):
        raise RetryRefused("retry_forbidden", messages.RETRY_FORBIDDEN, 403)
    return intent


def _start_retry(services: Services, intent: Intent) -> Intent | None:
    """Move payment_failed -> awaiting_payment under the row lock; None if no longer retryable."""
    now = services.clock()
    with services.db.transaction() as tx:
        current = repo.get_intent(tx, intent.id, lock=True)
        if current is None or not is_allowed(current.state, Event.RETRY):
            return None
        if not can_retry(current.state, current.seat_kept, current.hold_expires_at, now):
            return None
        return apply_event(
            tx, intent.id, Event.RETRY, source="retry", now=now,
            detail="the buyer pressed Try again", state_reason=None, redirect_url=None,
        )  # fmt: skip


def _page_of_the_first_click(services: Services, intent: Intent) -> RetryOutcome:
    """A second click: wait for the page the first click is opening, never make a second one."""
    deadline = time.monotonic() + SECOND_CLICK_WAIT_SECONDS
    while True:
        with services.db.transaction() as tx:
            current = repo.get_intent(tx, intent.id)
        if current is None:
            raise IntentNotFound(messages.STATUS_TEXTS["notFound"])
        if not is_payable(current.state) or current.redirect_url:
            return RetryOutcome(current.redirect_url or status_page_url(current), current)
        if time.monotonic() > deadline:
            return RetryOutcome(status_page_url(current), current)
        time.sleep(0.1)


def _open_page(services: Services, intent: Intent) -> RetryOutcome:
    """Create the new PayTabs page for the intent's cart; on failure the seat stays kept."""
    try:
        outcome = create_page_or_recover(services.paytabs(), page_request(services, intent))
    except PayTabsError as exc:
        too_soon = isinstance(exc, PayTabsDuplicateRequest)
        _back_to_failed(services, intent, "retry_too_soon" if too_soon else "retry_page_failed")
        if too_soon:  # PayTabs refuses a second page for one cart within about two minutes
            raise RetryRefused("retry_too_soon", messages.RETRY_TOO_SOON, 429) from exc
        raise PaymentProviderUnavailable(messages.PAYMENT_PAGE_NOT_OPENED) from exc
    if not isinstance(outcome, PageCreated):
        # A lost answer, and the cart shows a sale: an approved one is confirmed; any other
        # (the declined first page) means the new page's address never reached us.
        if outcome.is_approved:
            with services.db.transaction() as tx:
                enqueue(services, tx, intent.id, JobKind.CONFIRM)
            return RetryOutcome(status_page_url(intent), intent)
        _back_to_failed(services, intent, "retry_page_failed")
        raise PaymentProviderUnavailable(messages.PAYMENT_PAGE_NOT_OPENED)
    with services.db.transaction() as tx:
        repo.update_intent(
            tx,
            intent.id,
            services.clock(),
            tran_ref=outcome.tran_ref,
            redirect_url=outcome.redirect_url,
        )
    return RetryOutcome(outcome.redirect_url, intent)


def _back_to_failed(services: Services, intent: Intent, reason: str) -> None:
    """No new page: back to payment_failed, the seat still kept until the hold ends."""
    log.warning("retry of %s opened no page: %s", intent.ref, reason)
    now = services.clock()
    with services.db.transaction() as tx:
        current = repo.get_intent(tx, intent.id, lock=True)
        if current is None or not is_allowed(current.state, Event.PAYMENT_FAILED):
            return
        apply_event(
            tx, intent.id, Event.PAYMENT_FAILED, source="retry", now=now,
            detail=f"retry opened no page: {reason}", state_reason=reason,
            seat_kept=now < current.hold_expires_at,
        )  # fmt: skip


def page_request(services: Services, intent: Intent) -> PageRequest:
    """Describe the new page from the intent itself: same cart, amount, buyer and addresses."""
    settings = services.settings
    return PageRequest(
        cart_id=intent.ref,
        description=f"Therapy group: {intent.group_name}"[:128],
        amount=from_minor(intent.amount_minor, intent.currency),
        currency=intent.currency,
        customer=Customer(
            name=f"{intent.first_name or ''} {intent.last_name or ''}".strip(),
            email=intent.email or "",
            phone=intent.phone or "",
            street1=intent.street1 or "",
            city=intent.city or "",
            country=intent.country or "",
            ip=intent.client_ip or "",
        ),
        return_url=f"{settings.public_url}/paytabs/return",
        callback_url=f"{settings.public_url}/paytabs/ipn",
        paypage_ttl_minutes=settings.paypage_ttl_minutes,
        lang=paypage_lang(intent.locale),
    )
