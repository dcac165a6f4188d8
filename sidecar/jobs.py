"""The durable job queue's runner: claim with a lease, run the handler, retry with backoff.

Handlers are small functions ``(services, job) -> outcome``. They raise ``Retry`` for a transient
failure and ``GiveUp`` for a permanent one; everything they do is idempotent, because a job whose
worker died is run again once its lease runs out.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from sidecar import repository as repo
from sidecar.errors import DatabaseBusy, DatabaseUnavailable
from sidecar.logging_setup import correlated_job
from sidecar.paytabs import PayTabsError, PayTabsProtocolError
from sidecar.repository import Job
from sidecar.services import Services
from sidecar.states import InvalidTransition
from wp_bridge.errors import WPBridgeError

log = logging.getLogger(__name__)
Handler = Callable[[Services, Job], str]


class Retry(Exception):
    """A transient failure: run the job again later."""


class GiveUp(Exception):
    """A permanent failure: stop retrying (the handler's on-exhausted action runs)."""


class LeaseLost(Exception):
    """Another worker took this job over (our lease ran out): stop at once, touch nothing."""


def hold_lease(services: Services, job: Job) -> None:
    """Fence a step: confirm the job is still ours and extend its lease, or raise LeaseLost.

    Called before each external side effect, so a worker that stalled past its lease (and whose
    job another worker has since taken over, perhaps into a refund) never acts on stale state.
    """
    now = services.clock()
    with services.db.transaction() as tx:
        current = repo.get_job(tx, job.id, lock=True)
        if current is None or current.lease_token != job.lease_token:
            raise LeaseLost(f"job {job.id} was taken over by another worker")
        repo.extend_lease(tx, job.id, now + services.settings.job_lease_seconds)


def backoff_seconds(attempt: int, *, base: float = 1.0, cap: float = 300.0) -> float:
    """Return the capped exponential delay before run ``attempt + 1``."""
    return float(min(cap, base * (2 ** max(0, attempt - 1))))


def add_jitter(seconds: float) -> float:
    """Spread retries so that many failed jobs do not come back at once ("equal jitter")."""
    return seconds / 2 + random.uniform(0, seconds / 2)


def handlers() -> dict[str, Handler]:
    """Return the handler for each job kind."""
    from sidecar import confirmation, emails, fulfilment, refunds

    return {
        "confirm": confirmation.run_confirmation,
        "fulfil": fulfilment.run_fulfilment,
        "refund": refunds.run_refund,
        "email": emails.run_emails,
    }


def exhausted_actions() -> dict[str, Callable[[Services, Job, str], None]]:
    """Return what happens to an intent when its job of each kind gives up."""
    from sidecar import fulfilment, refunds

    return {"fulfil": fulfilment.on_gave_up, "refund": refunds.on_gave_up}


def max_attempts(services: Services, kind: str) -> int:
    """Return the retry budget of a job kind."""
    s = services.settings
    return {"fulfil": s.fulfil_max_attempts, "refund": s.refund_max_attempts}.get(kind, 12)


def drain(services: Services, *, limit: int = 100, kinds: list[str] | None = None) -> int:
    """Run due jobs until none is left (or ``limit`` runs); return how many ran."""
    ran = 0
    while ran < limit:
        with services.db.transaction() as tx:
            jobs = repo.claim_jobs(
                tx,
                now=services.clock(),
                lease_seconds=services.settings.job_lease_seconds,
                limit=1,
                kinds=kinds,
            )
        if not jobs:
            return ran
        run_job(services, jobs[0])
        ran += 1
    return ran


@correlated_job  # log lines (and wp_bridge's) carry the job's intent id
def run_job(services: Services, job: Job) -> str:
    """Run one claimed job and record the attempt and its outcome."""
    with services.db.transaction() as tx:
        attempt_id = repo.insert_job_attempt(tx, job, now=services.clock())
    crash_point(services, "after_job_claimed")
    outcome, error = _run_handler(services, job)
    if outcome == "retry" and job.attempts >= max_attempts(services, job.kind):
        outcome = "gave_up"
    retry_at = None
    if outcome == "retry":
        retry_at = services.clock() + add_jitter(backoff_seconds(job.attempts))
    elif outcome == "gave_up":
        _on_gave_up(services, job, error or "gave up")
    with services.db.transaction() as tx:
        repo.finish_job_attempt(tx, attempt_id, now=services.clock(), outcome=outcome, error=error)
        repo.release_job(
            tx,
            job,
            now=services.clock(),
            outcome="failed" if outcome == "gave_up" else "done",
            retry_at=retry_at,
            error=error,
        )
    log.info(
        "job %s/%s for intent %s: %s%s",
        job.kind,
        job.attempts,
        job.intent_id,
        outcome,
        f" ({error})" if error else "",
    )
    return outcome


def _run_handler(services: Services, job: Job) -> tuple[str, str | None]:
    """Run the job's handler and classify how it ended: (outcome, error)."""
    try:
        return handlers()[job.kind](services, job), None
    except (Retry, DatabaseBusy, DatabaseUnavailable) as exc:
        return "retry", _describe(exc)
    except (PayTabsError, WPBridgeError) as exc:
        permanent = isinstance(exc, PayTabsProtocolError) or getattr(exc, "is_permanent", False)
        return ("gave_up" if permanent else "retry"), _describe(exc)
    except GiveUp as exc:
        return "gave_up", _describe(exc)
    except (LeaseLost, InvalidTransition) as exc:
        # Another worker took the job over, or the intent moved on under us: nothing to do.
        return "superseded", _describe(exc)


def _on_gave_up(services: Services, job: Job, error: str) -> None:
    """Run the kind's on-exhausted action, unless another worker holds the job by now."""
    action = exhausted_actions().get(job.kind)
    if action is None:
        return
    try:
        hold_lease(services, job)
    except LeaseLost:
        return
    action(services, job, error)


def crash_point(services: Services, name: str) -> None:
    """Kill this process at a named point when the test-only crash switch asks for it."""
    hook = services.extras.get("crash_point")
    if hook is not None:
        hook(name)


def _describe(exc: BaseException) -> str:
    text = str(exc)[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def enqueue(services: Services, tx: Any, intent_id: int, kind: str, *, delay: float = 0.0) -> None:
    """Queue a job of ``kind`` for an intent inside the caller's transaction."""
    now = services.clock()
    repo.enqueue_job(tx, intent_id=intent_id, kind=kind, now=now, run_after=now + delay)
