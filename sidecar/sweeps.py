"""Periodic sweeps run by the worker: nothing paid is lost, nothing unpaid keeps a seat.

Each sweep reads a bounded batch through an index (its time does not grow with history) and acts
through the one transition function, so two workers sweeping at once cannot act twice.
"""

from __future__ import annotations

import logging
from typing import Any

from sidecar import repository as repo
from sidecar.alerts import alert
from sidecar.confirmation import find_sale, mismatch
from sidecar.db import Tx
from sidecar.jobs import enqueue
from sidecar.paytabs import PayTabsError, PayTabsInvalidRequest
from sidecar.repository import Intent
from sidecar.services import Services
from sidecar.states import Event, State
from sidecar.transitions import apply_event

log = logging.getLogger(__name__)
BATCH = 200
ENDED = (
    State.PAYMENT_FAILED.value,
    State.EXPIRED.value,
    State.REFUNDED.value,
    State.FULFILLED.value,
)


def run_all(services: Services) -> dict[str, int]:
    """Run every sweep once and return how many intents each touched."""
    counts = {
        "pending_queried": sweep_pending_payments(services),
        "holds_expired": sweep_expired_holds(services),
        "unfulfilled_alerted": sweep_unfulfilled(services),
        "purged": sweep_retention(services),
    }
    with services.db.transaction() as tx:
        mark(tx, "sweep", services.clock())
    return counts


def sweep_pending_payments(services: Services) -> int:
    """Queue a PayTabs query for intents still awaiting payment a few minutes after checkout."""
    now = services.clock()
    cutoff = now - services.settings.pending_query_after_seconds
    with services.db.transaction() as tx:
        rows = tx.all(
            "SELECT id FROM intents WHERE state = ? AND created_at < ? AND tran_ref IS NOT NULL"
            " AND (last_queried_at IS NULL OR last_queried_at < ?) ORDER BY created_at LIMIT ?",
            (State.AWAITING_PAYMENT.value, cutoff, cutoff, BATCH),
        )
        for row in rows:
            repo.update_intent(tx, row["id"], now, last_queried_at=now)
            enqueue(services, tx, row["id"], "confirm")
    return len(rows)


def sweep_expired_holds(services: Services) -> int:
    """Ask PayTabs about each intent whose hold ran out; only an unpaid one expires."""
    with services.db.transaction() as tx:
        rows = tx.all(
            "SELECT * FROM intents WHERE state = ? AND hold_expires_at < ? ORDER BY hold_expires_at LIMIT ?",
            (State.AWAITING_PAYMENT.value, services.clock(), BATCH),
        )
    expired = 0
    for row in rows:
        intent = Intent.from_row(row)
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
        if (
            sale is not None
            and not mismatch(intent, sale)
            and (sale.is_approved or sale.is_pending)
        ):
            if sale.is_approved:
                enqueue(services, tx, intent.id, "confirm")  # paid after all: confirm it now
            return 0  # H or P: not final, the seat stays held
        current = repo.get_intent(tx, intent.id, lock=True)
        if current is None or current.state != State.AWAITING_PAYMENT:
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


def sweep_unfulfilled(services: Services) -> int:
    """Alert once about each paid intent still not fulfilled after the configured minutes."""
    cutoff = services.clock() - services.settings.unfulfilled_alert_minutes * 60
    with services.db.transaction() as tx:
        rows = tx.all(
            "SELECT id, ref, state FROM intents WHERE state IN (?, ?) AND paid_at < ?"
            " AND unfulfilled_alerted = 0 LIMIT ?",
            (State.PAID.value, State.FULFILLING.value, cutoff, BATCH),
        )
        for row in rows:
            repo.update_intent(tx, row["id"], services.clock(), unfulfilled_alerted=True)
    for row in rows:
        alert(services, "unfulfilled", row["ref"], f"paid but still {row['state']}")
    return len(rows)


def sweep_retention(services: Services) -> int:
    """Purge personal data of ended intents past the retention period (payment facts stay)."""
    now = services.clock()
    cutoff = now - services.settings.retention_days * 86400
    marks = ", ".join("?" for _ in ENDED)
    with services.db.transaction() as tx:
        rows = tx.all(
            f"SELECT id FROM intents WHERE state IN ({marks}) AND updated_at < ? AND purged_at IS NULL LIMIT ?",
            (*ENDED, cutoff, BATCH),
        )
        for row in rows:
            purge_personal_data(tx, row["id"], now)
        # Secrets go as soon as the intent no longer needs them, whatever its age.
        tx.execute(
            f"UPDATE intents SET password_enc = NULL WHERE password_enc IS NOT NULL AND state IN ({marks})",
            ENDED,
        )
    return len(rows)


def purge_personal_data(tx: Tx, intent_id: int, now: float) -> None:
    """Erase the buyer's personal data from an intent and its logged notifications."""
    repo.update_intent(
        tx,
        intent_id,
        now,
        email=None,
        first_name=None,
        last_name=None,
        phone=None,
        street1=None,
        city=None,
        country=None,
        client_ip=None,
        password_enc=None,
        purged_at=now,
    )
    tx.execute(
        "UPDATE notifications SET body = NULL, headers = NULL WHERE intent_id = ?", (intent_id,)
    )


def mark(tx: Tx, name: str, now: float) -> None:
    """Record that ``name`` (a sweep, the worker's heartbeat) ran at ``now``."""
    if tx.one("SELECT name FROM worker_marks WHERE name = ?" + tx.for_update, (name,)):
        tx.execute("UPDATE worker_marks SET at = ? WHERE name = ?", (now, name))
    else:
        tx.execute("INSERT INTO worker_marks (name, at) VALUES (?, ?)", (name, now))
