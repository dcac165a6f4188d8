"""Every SQL statement the sidecar runs, as named functions over an open transaction (``Tx``)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sidecar.db import Tx
from sidecar.errors import DuplicateRow
from sidecar.states import SEAT_HOLDING, State


@dataclass(frozen=True)
class Intent:
    """One registration attempt: the buyer, the group, the payment and the fulfilment steps."""

    id: int
    ref: str
    state: State
    state_reason: str | None
    group_id: int
    bp_group_id: int
    group_name: str
    amount_minor: int
    currency: str
    email: str | None
    first_name: str | None
    last_name: str | None
    phone: str | None
    street1: str | None
    city: str | None
    country: str | None
    client_ip: str | None
    password_enc: str | None
    wp_user_id: int | None
    buyer_logged_in: bool
    user_created: bool
    booking_id: int | None
    member_joined: bool
    confirmation_sent: bool
    tran_ref: str | None
    redirect_url: str | None
    idempotency_key: str | None
    browser_secret_hash: str
    login_jti: str | None
    login_exp: float | None
    registration_url: str
    status_url: str
    thank_you_url: str
    hold_expires_at: float
    refund_tran_ref: str | None
    refund_status: str | None
    refund_requested_at: float | None
    paid_at: float | None
    fulfilled_at: float | None
    last_queried_at: float | None
    unfulfilled_alerted: bool
    purged_at: float | None
    created_at: float
    updated_at: float

    def __repr__(self) -> str:
        # Personal data and secrets stay out of logs and tracebacks.
        return f"Intent(id={self.id}, ref={self.ref!r}, state={self.state.value})"

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Intent:
        """Build an Intent from a database row."""
        values = {f.name: row[f.name] for f in fields(cls)}
        values["state"] = State(values["state"])
        for flag in ("buyer_logged_in", "user_created", "member_joined", "confirmation_sent"):
            values[flag] = bool(values[flag])
        values["unfulfilled_alerted"] = bool(values["unfulfilled_alerted"])
        return cls(**values)


@dataclass(frozen=True)
class Job:
    """A unit of durable work for one intent (confirm, fulfil, refund)."""

    id: int
    intent_id: int
    kind: str
    state: str
    attempts: int
    run_after: float
    lease_until: float | None
    lease_token: str | None
    last_error: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        """Build a Job from a database row."""
        return cls(**{f.name: row[f.name] for f in fields(cls)})


INTENT_COLUMNS = [f.name for f in fields(Intent) if f.name != "id"]
SEAT_STATES = tuple(s.value for s in SEAT_HOLDING)


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


# --- intents -----------------------------------------------------------------------------------


def insert_intent(tx: Tx, values: dict[str, Any]) -> int:
    """Insert a new intent; raise DuplicateRow if its ref or idempotency key exists."""
    cols = [c for c in INTENT_COLUMNS if c in values]
    sql = f"INSERT INTO intents ({', '.join(cols)}) VALUES ({_placeholders(cols)})"
    return tx.insert(sql, [_db_value(values[c]) for c in cols])


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
        [_db_value(v) for v in values.values()] + [intent_id],
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


# --- seats -------------------------------------------------------------------------------------


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
    sql = (
        f"SELECT COUNT(*) AS n FROM intents WHERE group_id = ? AND booking_id IS NULL"
        f" AND state IN ({_placeholders(SEAT_STATES)})"
    )
    params: list[Any] = [group_id, *SEAT_STATES]
    if exclude_intent_id is not None:
        sql += " AND id <> ?"
        params.append(exclude_intent_id)
    return int(tx.scalar(sql, params) or 0)


# --- transitions and notifications -------------------------------------------------------------


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
) -> int:
    """Append one inbound notification (return, IPN) to the log."""
    return tx.insert(
        "INSERT INTO notifications (intent_id, channel, tran_ref, cart_id, signature_ok, outcome,"
        " body, headers, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (intent_id, channel, tran_ref, cart_id, int(signature_ok), outcome, body, headers, now),
    )


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


# --- jobs --------------------------------------------------------------------------------------


def enqueue_job(
    tx: Tx, *, intent_id: int, kind: str, now: float, run_after: float | None = None
) -> None:
    """Make sure a job of ``kind`` is due for the intent (one row per intent and kind).

    A finished job is re-armed; a running one is marked to run once more when it ends, so a
    notification that arrives during a run is never lost.
    """
    due = now if run_after is None else run_after
    row = tx.one(
        "SELECT id, state FROM jobs WHERE intent_id = ? AND kind = ?" + tx.for_update,
        (intent_id, kind),
    )
    if row is None:
        try:
            tx.execute(
                "INSERT INTO jobs (intent_id, kind, state, attempts, run_after, created_at,"
                " updated_at) VALUES (?, ?, 'pending', 0, ?, ?, ?)",
                (intent_id, kind, due, now, now),
            )
            return
        except DuplicateRow:
            row = tx.one(
                "SELECT id, state FROM jobs WHERE intent_id = ? AND kind = ?" + tx.for_update,
                (intent_id, kind),
            )
            assert row is not None
    if row["state"] == "running":
        tx.execute("UPDATE jobs SET requeue = 1, updated_at = ? WHERE id = ?", (now, row["id"]))
    elif row["state"] == "pending":
        tx.execute(
            "UPDATE jobs SET run_after = CASE WHEN run_after < ? THEN run_after ELSE ? END,"
            " updated_at = ? WHERE id = ?",
            (due, due, now, row["id"]),
        )
    else:
        tx.execute(
            "UPDATE jobs SET state = 'pending', attempts = 0, run_after = ?, last_error = NULL,"
            " updated_at = ? WHERE id = ?",
            (due, now, row["id"]),
        )


def claim_jobs(
    tx: Tx, *, now: float, lease_seconds: float, limit: int, kinds: Iterable[str] | None = None
) -> list[Job]:
    """Claim due jobs (and jobs whose lease ran out) for this worker; other workers skip them."""
    kind_list = list(kinds or [])
    kind_sql = f" AND kind IN ({_placeholders(kind_list)})" if kind_list else ""
    rows = tx.all(
        "SELECT id FROM jobs WHERE ((state = 'pending' AND run_after <= ?)"
        " OR (state = 'running' AND lease_until < ?))"
        + kind_sql
        + f" ORDER BY run_after LIMIT {int(limit)}"
        + tx.skip_locked,
        [now, now, *kind_list],
    )
    tx.race_window()
    claimed = []
    for row in rows:
        token = secrets.token_hex(16)
        tx.execute(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = ?,"
            " lease_token = ?, requeue = 0, updated_at = ? WHERE id = ?",
            (now + lease_seconds, token, now, row["id"]),
        )
        job = tx.one("SELECT * FROM jobs WHERE id = ?", (row["id"],))
        assert job is not None
        claimed.append(Job.from_row(job))
    return claimed


def get_job(tx: Tx, job_id: int, *, lock: bool = False) -> Job | None:
    """Return one job."""
    row = tx.one("SELECT * FROM jobs WHERE id = ?" + (tx.for_update if lock else ""), (job_id,))
    return Job.from_row(row) if row else None


def find_job(tx: Tx, intent_id: int, kind: str) -> Job | None:
    """Return the intent's job of ``kind``, or None."""
    row = tx.one("SELECT * FROM jobs WHERE intent_id = ? AND kind = ?", (intent_id, kind))
    return Job.from_row(row) if row else None


def release_job(
    tx: Tx,
    job: Job,
    *,
    now: float,
    outcome: str,
    retry_at: float | None = None,
    error: str | None = None,
) -> bool:
    """End this worker's run of ``job``: done, failed, or back in the queue at ``retry_at``.

    Returns False (and changes nothing) when the lease was lost to another worker.
    """
    row = tx.one("SELECT lease_token, requeue FROM jobs WHERE id = ?" + tx.for_update, (job.id,))
    if row is None or row["lease_token"] != job.lease_token:
        return False
    if row["requeue"] and outcome == "done":
        retry_at, outcome = now, "requeued"
    state = {"failed": "failed"}.get(outcome, "done") if retry_at is None else "pending"
    tx.execute(
        "UPDATE jobs SET state = ?, run_after = ?, lease_until = NULL, lease_token = NULL,"
        " requeue = 0, last_error = ?, updated_at = ? WHERE id = ?",
        (state, retry_at if retry_at is not None else now, error, now, job.id),
    )
    if outcome == "requeued":
        tx.execute("UPDATE jobs SET attempts = 0 WHERE id = ?", (job.id,))
    return True


def insert_job_attempt(tx: Tx, job: Job, *, now: float) -> int:
    """Record that a worker started a run of ``job``."""
    return tx.insert(
        "INSERT INTO job_attempts (job_id, intent_id, kind, attempt, started_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (job.id, job.intent_id, job.kind, job.attempts, now),
    )


def finish_job_attempt(
    tx: Tx, attempt_id: int, *, now: float, outcome: str, error: str | None
) -> None:
    """Record how a run ended."""
    tx.execute(
        "UPDATE job_attempts SET finished_at = ?, outcome = ?, error = ? WHERE id = ?",
        (now, outcome, error, attempt_id),
    )


def list_jobs(tx: Tx, intent_id: int) -> list[dict[str, Any]]:
    """Return an intent's jobs."""
    return tx.all("SELECT * FROM jobs WHERE intent_id = ? ORDER BY id", (intent_id,))


def list_job_attempts(tx: Tx, intent_id: int) -> list[dict[str, Any]]:
    """Return every run of an intent's jobs, oldest first."""
    return tx.all("SELECT * FROM job_attempts WHERE intent_id = ? ORDER BY id", (intent_id,))


def count_jobs_by_state(tx: Tx) -> dict[tuple[str, str], int]:
    """Return how many jobs of each kind are in each state."""
    rows = tx.all("SELECT kind, state, COUNT(*) AS n FROM jobs GROUP BY kind, state")
    return {(r["kind"], r["state"]): int(r["n"]) for r in rows}


def _db_value(value: Any) -> Any:
    if isinstance(value, State):
        return value.value
    if isinstance(value, bool):
        return int(value)
    return value


# --- operators and metrics (sidecar/cli_ops.py, sidecar/audit.py, sidecar/metrics.py) ---------
# Read-mostly queries for operator commands and the /metrics scrape. Every scrape query is bounded:
# it walks an index range of active rows or a primary-key range after a watermark, with a LIMIT.


def list_intents_in_states(
    tx: Tx, states: Sequence[str], *, since: float | None = None, limit: int = 500
) -> list[Intent]:
    """Return intents in any of ``states`` (created at or after ``since``), oldest first."""
    params: list[Any] = list(states)
    sql = f"SELECT * FROM intents WHERE state IN ({_placeholders(states)})"
    if since is not None:
        sql += " AND created_at >= ?"
        params.append(since)
    rows = tx.all(sql + f" ORDER BY id LIMIT {int(limit)}", params)
    return [Intent.from_row(r) for r in rows]


def claim_job_for_intent(
    tx: Tx, *, intent_id: int, kind: str, now: float, lease_seconds: float
) -> Job | None:
    """Claim the intent's job of ``kind`` if it is due (as claim_jobs does), else return None."""
    row = tx.one(
        "SELECT id FROM jobs WHERE intent_id = ? AND kind = ? AND ((state = 'pending'"
        " AND run_after <= ?) OR (state = 'running' AND lease_until < ?))" + tx.for_update,
        (intent_id, kind, now, now),
    )
    if row is None:
        return None
    tx.execute(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = ?,"
        " lease_token = ?, requeue = 0, updated_at = ? WHERE id = ?",
        (now + lease_seconds, secrets.token_hex(16), now, row["id"]),
    )
    return get_job(tx, row["id"])


def last_genuine_notification_at(tx: Tx, channel: str) -> float | None:
    """Return when the last notification on ``channel`` with a valid signature arrived."""
    # Walks ix_notifications_received backwards: stops at the first genuine one.
    value = tx.scalar(
        "SELECT received_at FROM notifications WHERE channel = ? AND signature_ok = 1"
        " ORDER BY received_at DESC LIMIT 1",
        (channel,),
    )
    return float(value) if value is not None else None


def oldest_paid_unfulfilled_at(tx: Tx) -> float | None:
    """Return the payment time of the oldest intent still paid or fulfilling, or None."""
    value = tx.scalar(
        "SELECT MIN(paid_at) FROM intents WHERE state IN (?, ?)",
        (State.PAID.value, State.FULFILLING.value),
    )
    return float(value) if value is not None else None


def count_open_jobs(tx: Tx) -> dict[tuple[str, str], int]:
    """Return how many jobs of each kind are pending, running or failed (done ones are history)."""
    rows = tx.all(
        "SELECT kind, state, COUNT(*) AS n FROM jobs"
        " WHERE state IN ('pending', 'running', 'failed') GROUP BY kind, state"
    )
    return {(r["kind"], r["state"]): int(r["n"]) for r in rows}


def oldest_due_job_at(tx: Tx, now: float) -> float | None:
    """Return since when the longest-waiting due pending job has been due, or None."""
    value = tx.scalar(
        "SELECT MIN(run_after) FROM jobs WHERE state = 'pending' AND run_after <= ?", (now,)
    )
    return float(value) if value is not None else None


def worker_mark_at(tx: Tx, name: str) -> float | None:
    """Return when the worker last recorded ``name`` (a sweep, a heartbeat), or None."""
    value = tx.scalar("SELECT at FROM worker_marks WHERE name = ?", (name,))
    return float(value) if value is not None else None


def job_attempts_after(tx: Tx, after_id: int, limit: int) -> list[dict[str, Any]]:
    """Return job runs with an id above ``after_id``, in id order (a primary-key range)."""
    return tx.all(
        "SELECT id, kind, outcome, started_at, finished_at FROM job_attempts WHERE id > ?"
        " ORDER BY id LIMIT ?",
        (after_id, int(limit)),
    )


def transitions_after(tx: Tx, after_id: int, limit: int) -> list[dict[str, Any]]:
    """Return state changes with an id above ``after_id``, in id order (a primary-key range)."""
    return tx.all(
        "SELECT id, to_state, event, at FROM transitions WHERE id > ? ORDER BY id LIMIT ?",
        (after_id, int(limit)),
    )
