"""Queries on intents: store, find, update, seats, and the batches the sweeps work through.

Every sweep query walks an index range of live rows with a LIMIT, so its cost does not grow with
the number of ended intents.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from sidecar.core.errors import DuplicateRow
from sidecar.domain.states import State
from sidecar.store.db import Tx
from sidecar.store.repository.rows import (
    INTENT_COLUMNS,
    SEAT_CLAUSE,
    SEAT_PARAMS,
    Intent,
    SeatHolder,
    db_value,
    placeholders,
)


def insert_intent(tx: Tx, values: dict[str, Any]) -> int:
    """Insert a new intent; raise DuplicateRow if its ref or idempotency key exists."""
    cols = [c for c in INTENT_COLUMNS if c in values]
    sql = f"INSERT INTO intents ({', '.join(cols)}) VALUES ({placeholders(cols)})"
    return tx.insert(sql, [db_value(values[c]) for c in cols])


def get_intent(tx: Tx, intent_id: int, *, lock: bool = False) -> Intent | None:
    """Return the intent with this id (locking its row when ``lock``)."""
    row = tx.one(
        "SELECT * FROM intents WHERE id = ?" + (tx.for_update if lock else ""), (intent_id,)
    )
    return Intent.from_row(row) if row else None


def find_intent_by_ref(tx: Tx, ref: str, *, lock: bool = False) -> Intent | None:
    """Return the intent with this public reference, or None."""
    row = tx.one("SELECT * FROM intents WHERE ref = ?" + (tx.for_update if lock else ""), (ref,))
    return Intent.from_row(row) if row else None


def find_intent_key_by_ref(tx: Tx, ref: str) -> tuple[int, str | None] | None:
    """Return (id, tran_ref) of the intent with this reference: all a notification needs."""
    row = tx.one("SELECT id, tran_ref FROM intents WHERE ref = ?", (ref,))
    return (int(row["id"]), row["tran_ref"]) if row else None


def find_intent_by_idempotency_key(tx: Tx, key: str) -> Intent | None:
    """Return the intent a form submission with this idempotency key created, or None."""
    row = tx.one("SELECT * FROM intents WHERE idempotency_key = ?", (key,))
    return Intent.from_row(row) if row else None


def find_intent_by_tran_ref(tx: Tx, tran_ref: str) -> Intent | None:
    """Return the intent PayTabs knows by this transaction reference, or None."""
    row = tx.one("SELECT * FROM intents WHERE tran_ref = ?", (tran_ref,))
    return Intent.from_row(row) if row else None


def update_intent(tx: Tx, intent_id: int, now: float, **values: Any) -> None:
    """Set the given columns of one intent (and its updated_at)."""
    values["updated_at"] = now
    assignments = ", ".join(f"{name} = ?" for name in values)
    tx.execute(
        f"UPDATE intents SET {assignments} WHERE id = ?",
        [db_value(v) for v in values.values()] + [intent_id],
    )


def list_intents(
    tx: Tx, *, state: str | None = None, since: float | None = None, limit: int = 200
) -> list[Intent]:
    """Return intents, newest first, optionally filtered by state and creation time."""
    clauses: list[str] = ["1 = 1"]
    params: list[object] = []
    if state:
        clauses.append("state = ?")
        params.append(state)
    if since is not None:
        clauses.append("created_at >= ?")
        params.append(since)
    rows = tx.all(
        f"SELECT * FROM intents WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT {int(limit)}",
        params,
    )
    return [Intent.from_row(r) for r in rows]


def count_intents_by_state(tx: Tx) -> dict[str, int]:
    """Return how many intents are in each state."""
    rows = tx.all("SELECT state, COUNT(*) AS n FROM intents GROUP BY state")
    return {r["state"]: int(r["n"]) for r in rows}


def lock_group(tx: Tx, group_id: int) -> None:
    """Take the group's lock row (creating it once) so seat counts and holds serialize."""
    if tx.skip_locks:
        return
    if tx.one("SELECT group_id FROM group_locks WHERE group_id = ?" + tx.for_update, (group_id,)):
        return
    # Another transaction may create the row first; the SELECT below then waits for its lock.
    with contextlib.suppress(DuplicateRow):
        tx.execute("INSERT INTO group_locks (group_id) VALUES (?)", (group_id,))
    tx.one("SELECT group_id FROM group_locks WHERE group_id = ?" + tx.for_update, (group_id,))


def count_unbooked_holds(tx: Tx, group_id: int, *, exclude_intent_id: int | None = None) -> int:
    """Count intents holding a seat of the group that WordPress has not booked yet.

    Call with the group lock held: it is a locking read's partner, never a snapshot.
    """
    sql = f"SELECT COUNT(*) AS n FROM intents WHERE group_id = ? AND booking_id IS NULL AND {SEAT_CLAUSE}"
    params: list[Any] = [group_id, *SEAT_PARAMS]
    if exclude_intent_id is not None:
        sql += " AND id <> ?"
        params.append(exclude_intent_id)
    return int(tx.scalar(sql, params) or 0)


def list_seat_holders(tx: Tx, group_id: int) -> list[SeatHolder]:
    """Return every intent holding a seat of the group, booked or not (call under the group lock)."""
    rows = tx.all(
        "SELECT id, ref, state, wp_user_id, email, hold_expires_at FROM intents"
        f" WHERE group_id = ? AND {SEAT_CLAUSE} ORDER BY id",
        [group_id, *SEAT_PARAMS],
    )
    return [
        SeatHolder(
            id=int(r["id"]),
            ref=str(r["ref"]),
            state=State(r["state"]),
            wp_user_id=int(r["wp_user_id"]) if r["wp_user_id"] is not None else None,
            email=(r["email"] or "").lower(),
            hold_expires_at=float(r["hold_expires_at"]),
        )
        for r in rows
    ]


def list_intents_in_states(
    tx: Tx, states: Sequence[str], *, since: float | None = None, limit: int = 500
) -> list[Intent]:
    """Return intents in any of ``states`` (created at or after ``since``), oldest first."""
    params: list[Any] = list(states)
    sql = f"SELECT * FROM intents WHERE state IN ({placeholders(states)})"
    if since is not None:
        sql += " AND created_at >= ?"
        params.append(since)
    rows = tx.all(sql + f" ORDER BY id LIMIT {int(limit)}", params)
    return [Intent.from_row(r) for r in rows]


def oldest_paid_unfulfilled_at(tx: Tx) -> float | None:
    """Return the payment time of the oldest intent still paid or fulfilling, or None."""
    value = tx.scalar(
        "SELECT MIN(paid_at) FROM intents WHERE state IN (?, ?)",
        (State.PAID.value, State.FULFILLING.value),
    )
    return float(value) if value is not None else None


def list_unconfirmed_intent_ids(
    tx: Tx, *, created_before: float, queried_before: float, limit: int
) -> list[int]:
    """Return intents awaiting payment since before ``created_before`` and not queried lately."""
    rows = tx.all(
        "SELECT id FROM intents WHERE state = ? AND created_at < ? AND tran_ref IS NOT NULL"
        " AND (last_queried_at IS NULL OR last_queried_at < ?) ORDER BY created_at LIMIT ?",
        (State.AWAITING_PAYMENT.value, created_before, queried_before, int(limit)),
    )
    return [int(r["id"]) for r in rows]


def list_lost_page_intent_ids(
    tx: Tx, *, holds_after: float, page_ends_after_hold: float, queried_before: float, limit: int
) -> list[int]:
    """Return failed intents whose PayTabs page never reached the buyer and was not asked about
    since the page's life ended.

    Nobody should be able to pay such a page, but if PayTabs reports it paid (and its IPN is lost)
    the money must still be found: each is queried like an unconfirmed intent until one query
    after its page expired. (The page ends ``page_ends_after_hold`` seconds after the hold.)
    """
    rows = tx.all(
        "SELECT id FROM intents WHERE state = ? AND hold_expires_at > ? AND state_reason = ?"
        " AND tran_ref IS NOT NULL AND (last_queried_at IS NULL OR"
        " (last_queried_at < ? AND last_queried_at < hold_expires_at + ?))"
        " ORDER BY hold_expires_at LIMIT ?",
        (
            State.PAYMENT_FAILED.value,
            holds_after,
            "paytabs_page_lost",
            queried_before,
            page_ends_after_hold,
            int(limit),
        ),
    )
    return [int(r["id"]) for r in rows]


def list_expired_holds(tx: Tx, *, now: float, limit: int) -> list[Intent]:
    """Return intents still awaiting payment whose seat hold has run out, oldest first."""
    rows = tx.all(
        "SELECT * FROM intents WHERE state = ? AND hold_expires_at < ?"
        " ORDER BY hold_expires_at LIMIT ?",
        (State.AWAITING_PAYMENT.value, now, int(limit)),
    )
    return [Intent.from_row(r) for r in rows]


def list_kept_seats_past_hold(tx: Tx, *, now: float, limit: int) -> list[int]:
    """Return declined intents still keeping their seat although their hold has run out."""
    rows = tx.all(
        "SELECT id FROM intents WHERE state = ? AND seat_kept = 1 AND hold_expires_at < ?"
        " ORDER BY hold_expires_at LIMIT ?",
        (State.PAYMENT_FAILED.value, now, int(limit)),
    )
    return [int(r["id"]) for r in rows]


def list_unalerted_unfulfilled(tx: Tx, *, paid_before: float, limit: int) -> list[Intent]:
    """Return paid intents not fulfilled since ``paid_before`` that no alert has named yet."""
    rows = tx.all(
        "SELECT * FROM intents WHERE state IN (?, ?) AND paid_at < ? AND unfulfilled_alerted = 0"
        " LIMIT ?",
        (State.PAID.value, State.FULFILLING.value, paid_before, int(limit)),
    )
    return [Intent.from_row(r) for r in rows]


def list_purgeable_intent_ids(
    tx: Tx, states: Sequence[str], *, updated_before: float, limit: int
) -> list[int]:
    """Return ended intents, untouched since ``updated_before``, whose personal data remains."""
    rows = tx.all(
        "SELECT id FROM intents WHERE purged_at IS NULL AND updated_at < ?"
        f" AND state IN ({placeholders(states)}) ORDER BY updated_at LIMIT ?",
        (updated_before, *states, int(limit)),
    )
    return [int(r["id"]) for r in rows]


def purge_personal_data(tx: Tx, intent_id: int, now: float) -> None:
    """Erase the buyer's personal data from an intent and its logged notifications."""
    update_intent(
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


def search_intents(
    tx: Tx,
    *,
    email: str | None = None,
    name: str | None = None,
    state: str | None = None,
    since: float | None = None,
    limit: int = 200,
    text: str | None = None,
) -> list[Intent]:
    """Return intents, newest first, whose e-mail or name contains the given text (any case).

    ``text`` matches an intent whose e-mail, name, ref or PayTabs tran_ref contains it.
    """
    clauses: list[str] = ["1 = 1"]
    params: list[object] = []
    if text and text.strip():
        anywhere = " OR ".join(
            f"LOWER({c}) LIKE ? ESCAPE '!'" for c in ("email", "ref", "tran_ref")
        )
        clauses.append(f"({anywhere} OR {_full_name(tx)} LIKE ? ESCAPE '!')")
        params.extend([_contains(text)] * 4)
    if email:
        clauses.append("LOWER(email) LIKE ? ESCAPE '!'")
        params.append(_contains(email))
    if name:
        clauses.append(f"{_full_name(tx)} LIKE ? ESCAPE '!'")
        params.append(_contains(name))
    if state:
        clauses.append("state = ?")
        params.append(state)
    if since is not None:
        clauses.append("created_at >= ?")
        params.append(since)
    where = " AND ".join(clauses)
    rows = tx.all(
        f"SELECT * FROM intents WHERE {where} ORDER BY id DESC LIMIT {int(limit)}", params
    )
    return [Intent.from_row(r) for r in rows]


def _full_name(tx: Tx) -> str:
    """Return the SQL of the buyer's "first last" name, lower-cased."""
    if tx.dialect == "sqlite":
        return "LOWER(COALESCE(first_name, '') || ' ' || COALESCE(last_name, ''))"
    return "LOWER(CONCAT(COALESCE(first_name, ''), ' ', COALESCE(last_name, '')))"


def _contains(text: str) -> str:
    """Return a LIKE pattern (escape character !) matching ``text`` anywhere, lower-cased."""
    escaped = text.strip().lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def payment_reported(tx: Tx, intent_id: int) -> bool:
    """Tell whether PayTabs told us about the intent's payment (a signed return or IPN logged)."""
    return (
        tx.one(
            "SELECT id FROM notifications WHERE intent_id = ? AND signature_ok = 1 LIMIT 1",
            (intent_id,),
        )
        is not None
    )
