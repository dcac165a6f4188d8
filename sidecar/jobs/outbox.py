"""The durable job queue's outbox: enqueue in the caller's transaction, fence with the lease.

Handlers (in ``sidecar.jobs.runner``'s table) are small functions ``(services, job) -> outcome``.
They raise ``Retry`` for a transient failure and ``GiveUp`` for a permanent one; everything they
do is idempotent, because a job whose worker died is run again once its lease runs out.
"""

from __future__ import annotations

import random
from typing import Any

from sidecar.core.container import Services
from sidecar.jobs import wakeup
from sidecar.jobs.kinds import JobKind
from sidecar.store import repository as repo
from sidecar.store.repository import Job


class Retry(Exception):
    """A transient failure: run the job again later."""


class GiveUp(Exception):
    """A permanent failure: stop retrying (the handler's on-exhausted action runs)."""


class IntentMovedOn(Exception):
    """The intent left the state this job works in (another worker or an operator moved it)."""


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


def crash_point(services: Services, name: str) -> None:
    """Kill this process at a named point when the test-only crash switch asks for it."""
    hook = services.extras.get("crash_point")
    if hook is not None:
        hook(name)


def enqueue(
    services: Services, tx: Any, intent_id: int, kind: JobKind | str, *, delay: float = 0.0
) -> None:
    """Queue a job of ``kind`` for an intent inside the caller's transaction.

    The worker is woken once the web request that queued it is over (see ``sidecar.jobs.wakeup``).
    """
    now = services.clock()
    value = JobKind(kind).value  # an unknown kind fails here, not in the runner
    repo.enqueue_job(tx, intent_id=intent_id, kind=value, now=now, run_after=now + delay)
    if delay <= 0:
        wakeup.mark_pending()
