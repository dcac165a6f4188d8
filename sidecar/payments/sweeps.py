"""Periodic sweeps run by the worker: nothing paid is lost, nothing unpaid keeps a seat.

Each sweep reads a bounded batch through an index (its time does not grow with history) and acts
through the one transition function, so two workers sweeping at once cannot act twice.
"""

from __future__ import annotations

import logging
from typing import Any

from sidecar.core.container import Services
from sidecar.domain.states import ENDED, Event, is_allowed
from sidecar.jobs.kinds import JobKind
from sidecar.jobs.outbox import enqueue
from sidecar.payments.alerts import alert
from sidecar.payments.confirmation import find_sale
from sidecar.paytabs import PayTabsError, PayTabsInvalidRequest
from sidecar.store import repository as repo
from sidecar.store.repository import Intent
from sidecar.store.repository.log import delete_unmatched_notifications
from sidecar.store.transitions import apply_event

log = logging.getLogger(__name__)
BATCH = 200
ENDED_VALUES = tuple(sorted(state.value for state in ENDED))


def run_all(services: Services) -> dict[str, int]:
    """Run every sweep once and return how many intents each touched."""
    counts = {
        "pending_queried": sweep_pending_payments(services),
        "holds_expired": sweep_expired_holds(services),
        "unfulfilled_alerted": sweep_unfulfilled(services),
        "purged": sweep_retention(services),
        # After the purge: releasing a kept seat touches updated_at, which the purge reads.
        "kept_seats_released": sweep_kept_seats(services),
    }
    with services.db.transaction() as tx:
        repo.set_worker_mark(tx, "sweep", services.clock())
    return counts


def sweep_pending_payments(services: Services) -> int:
    """Queue a PayTabs query for intents still awaiting payment a few minutes after checkout,
    and for intents whose page was made but lost, until one query after that page expired."""
    now = services.clock()
    s = services.settings
    cutoff = now - s.pending_query_after_seconds
    with services.db.transaction() as tx:
        ids = repo.list_unconfirmed_intent_ids(
            tx, created_before=cutoff, queried_before=cutoff, limit=BATCH
        )
        ids += repo.list_lost_page_intent_ids(
            tx,
            holds_after=now - LOST_PAGE_LOOKUP_DAYS * 86400,
            page_ends_after_hold=(s.paypage_ttl_minutes - s.hold_minutes) * 60,
            queried_before=cutoff,
            limit=BATCH,
        )
        for intent_id in ids:
            repo.update_intent(tx, intent_id, now, last_queried_at=now)
            enqueue(services, tx, intent_id, JobKind.CONFIRM)
    return len(ids)


# How long a lost page is looked for at most, should the worker be down that long.
LOST_PAGE_LOOKUP_DAYS = 7


def sweep_expired_holds(services: Services) -> int:
    """Ask PayTabs about each intent whose hold ran out; only an unpaid one expires."""
    with services.db.transaction() as tx:
        holds = repo.list_expired_holds(tx, now=services.clock(), limit=BATCH)
    expired = 0
    for intent in holds:
        try:
            sale = find_sale(services, intent)
        except PayTabsInvalidRequest:
            sale = None  # PayTabs does not know the transaction: nothing was paid
        except PayTabsError as exc:
            log.warning("cannot check %s before expiring it: %s", intent.ref, type(exc).__name__)
            continue  # never release a seat without an answer from PayTabs
        expired += _settle_expired_hold(services, intent, sale)
    return expired


def _settle_expired_hold(services: Services, intent: Intent, sale: Any) -> int:
    with services.db.transaction() as tx:
        if sale is not None and (sale.is_approved or sale.is_pending):
            # PayTabs took money (whatever the amount or currency: the confirmation job refunds
            # what cannot buy the place), or H/P is not final: never expire, the seat stays held.
            if sale.is_approved:
                enqueue(services, tx, intent.id, JobKind.CONFIRM)
            return 0
        current = repo.get_intent(tx, intent.id, lock=True)
        if current is None or not is_allowed(current.state, Event.HOLD_EXPIRED):
            return 0
        apply_event(
            tx,
            intent.id,
            Event.HOLD_EXPIRED,
            source="sweep",
            now=services.clock(),
            detail=f"PayTabs says {sale.status if sale else 'no transaction'}",
            state_reason="hold_expired",
            password_enc=None,
        )
    return 1


def sweep_kept_seats(services: Services) -> int:
    """Release the seat a declined payment kept for "Try again" once its original hold is over.

    No state moves (the intent stays payment_failed, its sentence unchanged) and PayTabs need not
    be asked: a late "A" of the cart is settled like any late payment, seat counted again.
    """
    now = services.clock()
    with services.db.transaction() as tx:
        ids = repo.list_kept_seats_past_hold(tx, now=now, limit=BATCH)
    released = 0
    for intent_id in ids:
        with services.db.transaction() as tx:
            current = repo.get_intent(tx, intent_id, lock=True)
            if current is None or not current.seat_kept or current.hold_expires_at >= now:
                continue  # a retry (or another sweeper) came first
            repo.update_intent(tx, intent_id, now, seat_kept=False, password_enc=None)
            released += 1
    return released


def sweep_unfulfilled(services: Services) -> int:
    """Alert once about each paid intent still not fulfilled after the configured minutes."""
    cutoff = services.clock() - services.settings.unfulfilled_alert_minutes * 60
    with services.db.transaction() as tx:
        late = repo.list_unalerted_unfulfilled(tx, paid_before=cutoff, limit=BATCH)
        for intent in late:
            repo.update_intent(tx, intent.id, services.clock(), unfulfilled_alerted=True)
    for intent in late:
        alert(services, "unfulfilled", intent.ref, f"paid but still {intent.state.value}")
    return len(late)


# A flood of junk can leave millions of unmatched notifications: delete them in batches, a
# bounded number per sweep, each batch its own short transaction.
NOTIFICATION_PURGE_BATCH = 1000
NOTIFICATION_PURGE_BATCHES = 20


def sweep_retention(services: Services) -> int:
    """Purge personal data of ended intents, and unmatched notifications, past the retention.

    Returns how many intents were purged plus how many unmatched notifications were deleted.
    Payment facts stay: an intent's own notifications lose only their body and headers.
    """
    now = services.clock()
    cutoff = now - services.settings.retention_days * 86400
    with services.db.transaction() as tx:
        ids = repo.list_purgeable_intent_ids(tx, ENDED_VALUES, updated_before=cutoff, limit=BATCH)
        for intent_id in ids:
            repo.purge_personal_data(tx, intent_id, now)
    deleted = 0
    for _ in range(NOTIFICATION_PURGE_BATCHES):
        with services.db.transaction() as tx:
            batch = delete_unmatched_notifications(
                tx, received_before=cutoff, limit=NOTIFICATION_PURGE_BATCH
            )
        deleted += batch
        if batch < NOTIFICATION_PURGE_BATCH:
            break
    with services.db.transaction() as tx:  # the operator API's used token ids, once expired
        repo.delete_expired_operator_jtis(tx, now=now, limit=NOTIFICATION_PURGE_BATCH)
    return len(ids) + deleted
