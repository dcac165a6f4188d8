"""The append-only logs: notifications, transitions, and the worker's marks."""

from __future__ import annotations

from typing import Any

from sidecar.store.db import Tx


def insert_transition(
    tx: Tx,
    *,
    intent_id: int,
    from_state: str | None,
    to_state: str,
    event: str,
    source: str,
    detail: str | None,
    now: float,
) -> None:
    """Append one state change to the audit trail."""
    tx.execute(
        "INSERT INTO transitions (intent_id, from_state, to_state, event, source, detail, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (intent_id, from_state, to_state, event, source, detail, now),
    )


def insert_notification(
    tx: Tx,
    *,
    channel: str,
    intent_id: int | None,
    tran_ref: str | None,
    cart_id: str | None,
    signature_ok: bool,
    outcome: str,
    body: str,
    headers: str,
    now: float,
    body_sha256: str | None = None,
    body_length: int | None = None,
) -> int:
    """Append one inbound notification (return, IPN) to the log."""
    return tx.insert(
        "INSERT INTO notifications (intent_id, channel, tran_ref, cart_id, signature_ok, outcome,"
        " body, headers, body_sha256, body_length, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            intent_id,
            channel,
            tran_ref,
            cart_id,
            int(signature_ok),
            outcome,
            body,
            headers,
            body_sha256,
            body_length,
            now,
        ),
    )


def delete_unmatched_notifications(tx: Tx, *, received_before: float, limit: int) -> int:
    """Delete up to ``limit`` of the oldest notifications that matched no intent; return how many."""
    # A range of ix_notifications_intent_received (intent_id NULL, then by age): the sweep's cost
    # follows the batch, not the history. Ids first, as SQLite has no DELETE ... LIMIT.
    ids = [
        int(row["id"])
        for row in tx.all(
            "SELECT id FROM notifications WHERE intent_id IS NULL AND received_at < ?"
            " ORDER BY received_at LIMIT ?",
            (received_before, int(limit)),
        )
    ]
    if ids:
        marks = ", ".join("?" * len(ids))
        tx.execute(f"DELETE FROM notifications WHERE id IN ({marks})", ids)
    return len(ids)


def list_notifications(tx: Tx, intent_id: int) -> list[dict[str, Any]]:
    """Return the notifications logged for an intent, oldest first."""
    return tx.all("SELECT * FROM notifications WHERE intent_id = ? ORDER BY id", (intent_id,))


def list_transitions(tx: Tx, intent_id: int) -> list[dict[str, Any]]:
    """Return an intent's state changes, oldest first."""
    return tx.all("SELECT * FROM transitions WHERE intent_id = ? ORDER BY id", (intent_id,))


def last_notification_at(tx: Tx, channel: str) -> float | None:
    """Return when the last notification on ``channel`` arrived, or None."""
    value = tx.scalar("SELECT MAX(received_at) FROM notifications WHERE channel = ?", (channel,))
    return float(value) if value is not None else None


def last_genuine_notification_at(tx: Tx, channel: str) -> float | None:
    """Return when the last notification on ``channel`` with a valid signature arrived."""
    # Walks ix_notifications_received backwards: stops at the first genuine one.
    value = tx.scalar(
        "SELECT received_at FROM notifications WHERE channel = ? AND signature_ok = 1"
        " ORDER BY received_at DESC LIMIT 1",
        (channel,),
    )
    return float(value) if value is not None else None


def transitions_after(tx: Tx, after_id: int, limit: int) -> list[dict[str, Any]]:
    """Return state changes with an id above ``after_id``, in id order (a primary-key range)."""
    return tx.all(
        "SELECT id, to_state, event, at FROM transitions WHERE id > ? ORDER BY id LIMIT ?",
        (after_id, int(limit)),
    )


def worker_mark_at(tx: Tx, name: str) -> float | None:
    """Return when the worker last recorded ``name`` (a sweep, a heartbeat), or None."""
    value = tx.scalar("SELECT at FROM worker_marks WHERE name = ?", (name,))
    return float(value) if value is not None else None


def set_worker_mark(tx: Tx, name: str, now: float) -> None:
    """Record that ``name`` (a sweep, the worker's heartbeat) ran at ``now``."""
    if tx.one("SELECT name FROM worker_marks WHERE name = ?" + tx.for_update, (name,)):
        tx.execute("UPDATE worker_marks SET at = ? WHERE name = ?", (now, name))
    else:
        tx.execute("INSERT INTO worker_marks (name, at) VALUES (?, ?)", (name, now))


def count_migrations(tx: Tx) -> int:
    """Return how many migrations are applied (raises if the store was never migrated)."""
    return int(tx.scalar("SELECT COUNT(*) FROM schema_migrations") or 0)


def record_operator_jti(tx: Tx, *, jti: str, actor: str, expires_at: float, now: float) -> None:
    """Remember an operator token's id until it expires; raise DuplicateRow when it was used."""
    tx.execute(
        "INSERT INTO operator_tokens (jti, actor, expires_at, used_at) VALUES (?, ?, ?, ?)",
        (jti, actor, expires_at, now),
    )


def delete_expired_operator_jtis(tx: Tx, *, now: float, limit: int) -> int:
    """Delete up to ``limit`` used operator token ids whose tokens have expired; return how many."""
    jtis = [
        str(row["jti"])
        for row in tx.all(
            "SELECT jti FROM operator_tokens WHERE expires_at < ? ORDER BY expires_at LIMIT ?",
            (now, int(limit)),
        )
    ]
    if jtis:
        marks = ", ".join("?" * len(jtis))
        tx.execute(f"DELETE FROM operator_tokens WHERE jti IN ({marks})", jtis)
    return len(jtis)
