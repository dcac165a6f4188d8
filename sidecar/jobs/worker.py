"""The worker process: drains the job queue when woken (or every poll interval), runs the sweeps."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from sidecar.core.container import Services
from sidecar.core.errors import SidecarError
from sidecar.jobs import runner as jobs
from sidecar.jobs import wakeup
from sidecar.payments import sweeps
from sidecar.paytabs import PayTabsError

log = logging.getLogger(__name__)
DRAIN_BATCH = 500  # jobs per drain before the loop looks at the stop flag again


def drain_safely(services: Services) -> int:
    """Drain the queue and return how many jobs ran; an outage is logged and retried later."""
    try:
        return jobs.drain(services, limit=DRAIN_BATCH)
    except (SidecarError, PayTabsError) as exc:
        log.warning("queue drain interrupted: %s", exc)
        services.db.close()
        return 0


def serve_queue(
    services: Services,
    listener: wakeup.Listener,
    stopping: threading.Event,
    *,
    poll: float,
    between: Callable[[], None] | None = None,
) -> None:
    """Drain the queue when woken, or every ``poll`` s, until ``stopping`` is set.

    ``drain`` runs job after job until none is due, so what a job queues (fulfilment's e-mail)
    runs at once; a full batch goes straight on to the next one instead of sleeping.
    """
    while not stopping.is_set():
        try:
            ran = drain_safely(services)
            if between is not None:
                between()
        except Exception:  # a bug must not end the worker: log it, go on after the poll interval
            log.exception("worker tick failed")
            services.db.close()
            ran = 0
        if ran < DRAIN_BATCH and not stopping.is_set():
            listener.wait(poll)


def sweep_safely(services: Services) -> None:
    """Run the sweeps; failures are logged and retried on the next tick."""
    try:
        counts = sweeps.run_all(services)
        if any(counts.values()):
            log.info("sweeps: %s", counts)
    except (SidecarError, PayTabsError) as exc:
        log.warning("sweep interrupted: %s", exc)
        services.db.close()


def build_scheduler(services: Services) -> BackgroundScheduler:
    """Return the scheduler of the sweeps (one instance at a time, never overlapping)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    # A long sweep makes APScheduler skip the next ticks (max_instances=1, on purpose) and warn
    # about each one; the skipped tick is harmless, so only errors are logged.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    common: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.add_job(
        sweep_safely,
        "interval",
        args=[services],
        seconds=services.settings.sweep_interval_seconds,
        id="sweep",
        **common,
    )
    return scheduler


def run_worker(services: Services) -> None:
    """Run until SIGTERM or SIGINT; the jobs in flight finish first."""
    settings = services.settings
    listener = wakeup.Listener(settings.wakeup_socket)
    stopping = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping the worker after the running jobs", signum)
        stopping.set()
        listener.interrupt()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info(
        "worker started: drain when woken and every %ss, sweeps every %ss",
        settings.poll_interval_seconds,
        settings.sweep_interval_seconds,
    )
    scheduler = build_scheduler(services)
    scheduler.start()
    try:
        serve_queue(services, listener, stopping, poll=settings.poll_interval_seconds)
    finally:
        scheduler.shutdown(wait=True)
        listener.close()
