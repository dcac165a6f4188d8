"""The worker process: one APScheduler that drains the job queue and runs the sweeps."""

from __future__ import annotations

import logging
import signal
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler

from sidecar.core.container import Services
from sidecar.core.errors import SidecarError
from sidecar.jobs import runner as jobs
from sidecar.payments import sweeps
from sidecar.paytabs import PayTabsError

log = logging.getLogger(__name__)


def drain_safely(services: Services) -> None:
    """Drain the queue; a database or provider outage is logged and retried on the next tick."""
    try:
        jobs.drain(services, limit=500)
    except (SidecarError, PayTabsError) as exc:
        log.warning("queue drain interrupted: %s", exc)
        services.db.close()


def sweep_safely(services: Services) -> None:
    """Run the sweeps; failures are logged and retried on the next tick."""
    try:
        counts = sweeps.run_all(services)
        if any(counts.values()):
            log.info("sweeps: %s", counts)
    except (SidecarError, PayTabsError) as exc:
        log.warning("sweep interrupted: %s", exc)
        services.db.close()


def build_scheduler(services: Services) -> BlockingScheduler:
    """Return the scheduler with the drain and sweep jobs (one instance each, never overlapping)."""
    scheduler = BlockingScheduler(timezone="UTC")
    # A long drain makes APScheduler skip the next ticks (max_instances=1, on purpose) and warn
    # about each one every half second; the skipped tick is harmless, so only errors are logged.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    settings = services.settings
    common: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.add_job(
        drain_safely,
        "interval",
        args=[services],
        seconds=settings.poll_interval_seconds,
        id="drain",
        **common,
    )
    scheduler.add_job(
        sweep_safely,
        "interval",
        args=[services],
        seconds=settings.sweep_interval_seconds,
        id="sweep",
        **common,
    )
    return scheduler


def run_worker(services: Services) -> None:
    """Run until SIGTERM or SIGINT; the jobs in flight finish first."""
    scheduler = build_scheduler(services)

    def _stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping the worker after the running jobs", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info(
        "worker started: drain every %ss, sweeps every %ss",
        services.settings.poll_interval_seconds,
        services.settings.sweep_interval_seconds,
    )
    drain_safely(services)
    scheduler.start()
