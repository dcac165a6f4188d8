"""The durable job queue (the outbox): enqueue, claim with a lease, release, and its history."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from sidecar.core.errors import DuplicateRow
from sidecar.store.db import Tx
from sidecar.store.repository.rows import Job, placeholders


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
        except DuplicateRow as exc:
            row = tx.one(
                "SELECT id, state FROM jobs WHERE intent_id = ? AND kind = ?" + tx.for_update,
                (intent_id, kind),
            )
            if row is None:
                raise AssertionError("the duplicate job row is gone") from exc
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
    kind_sql = f" AND kind IN ({placeholders(kind_list)})" if kind_list else ""
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
        if job is None:
            raise AssertionError("the job row just leased is gone")
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


def extend_lease(tx: Tx, job_id: int, lease_until: float) -> None:
    """Push a running job's lease further (the worker holding it is alive and still at it)."""
    tx.execute("UPDATE jobs SET lease_until = ? WHERE id = ?", (lease_until, job_id))


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


def job_attempts_after(tx: Tx, after_id: int, limit: int) -> list[dict[str, Any]]:
    """Return job runs with an id above ``after_id``, in id order (a primary-key range)."""
    return tx.all(
        "SELECT id, kind, outcome, started_at, finished_at FROM job_attempts WHERE id > ?"
        " ORDER BY id LIMIT ?",
        (after_id, int(limit)),
    )
