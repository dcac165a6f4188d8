"""The job runner: claim a due job with a lease, run its kind's handler, record, retry with backoff.

The handler table is the one place that says which function runs each ``JobKind`` and what
happens to the intent when a kind gives up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sidecar.core.container import Services
from sidecar.core.errors import DatabaseBusy, DatabaseUnavailable
from sidecar.core.logs import correlated_job
from sidecar.domain.states import InvalidTransition
from sidecar.jobs.kinds import JobKind
from sidecar.jobs.outbox import (
    GiveUp,
    IntentMovedOn,
    LeaseLost,
    Retry,
    add_jitter,
    backoff_seconds,
    crash_point,
    hold_lease,
)
from sidecar.payments import confirmation, emails, fulfilment, refunds
from sidecar.paytabs import PayTabsError, PayTabsProtocolError
from sidecar.store import repository as repo
from sidecar.store.repository import Job
from wp_bridge.errors import WPBridgeError

log = logging.getLogger(__name__)
Handler = Callable[[Services, Job], str]
GiveUpAction = Callable[[Services, Job, str], None]

HANDLERS: dict[JobKind, Handler] = {
    JobKind.CONFIRM: confirmation.run_confirmation,
    JobKind.FULFIL: fulfilment.run_fulfilment,
    JobKind.REFUND: refunds.run_refund,
    JobKind.EMAIL: emails.run_emails,
}
# What happens to the intent when its job of a kind gives up (the other kinds just stop).
ON_GIVE_UP: dict[JobKind, GiveUpAction] = {
    JobKind.FULFIL: fulfilment.on_gave_up,
    JobKind.REFUND: refunds.on_gave_up,
}


def max_attempts(services: Services, kind: str) -> int:
    """Return the retry budget of a job kind."""
    s = services.settings
    budgets = {JobKind.FULFIL: s.fulfil_max_attempts, JobKind.REFUND: s.refund_max_attempts}
    return budgets.get(JobKind(kind), 12)


def drain(services: Services, *, limit: int = 100, kinds: list[JobKind] | None = None) -> int:
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
        return HANDLERS[JobKind(job.kind)](services, job), None
    except (Retry, DatabaseBusy, DatabaseUnavailable) as exc:
        return "retry", _describe(exc)
    except (PayTabsError, WPBridgeError) as exc:
        permanent = isinstance(exc, PayTabsProtocolError) or getattr(exc, "is_permanent", False)
        return ("gave_up" if permanent else "retry"), _describe(exc)
    except GiveUp as exc:
        return "gave_up", _describe(exc)
    except (LeaseLost, IntentMovedOn, InvalidTransition) as exc:
        # Another worker took the job over, or the intent moved on under us: nothing to do.
        return "superseded", _describe(exc)


def _on_gave_up(services: Services, job: Job, error: str) -> None:
    """Run the kind's on-exhausted action, unless another worker holds the job by now."""
    action = ON_GIVE_UP.get(JobKind(job.kind))
    if action is None:
        return
    try:
        hold_lease(services, job)
    except LeaseLost:
        return
    action(services, job, error)


def _describe(exc: BaseException) -> str:
    text = str(exc)[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
