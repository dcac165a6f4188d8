"""Prometheus metrics for ``GET /metrics``, on a registry per app (never the global default one).

The web process (gunicorn) and the worker are different processes, so a counter the worker
increments in its own memory would never reach the web's /metrics. Hence two kinds of metric:

- In-process counters, for what the web process itself sees: ``sidecar_notifications_total``
  (channel, outcome), ``sidecar_signature_verifications_total`` (channel, result) and
  ``sidecar_notifications_rejected_total`` (channel, reason: a flood of junk shows here). They
  start at zero when the process starts and count that process only: run gunicorn with one
  worker process (and threads), or expect each scrape to answer for one of the processes.
- Everything else is read from the database at scrape time, so it is the same in every process
  and survives restarts: gauges of intents by state, jobs by kind and state, the age of the
  oldest paid-but-unfulfilled intent and of the oldest due job, and the seconds since the last
  genuine IPN and the last sweep; and counters folded from the append-only tables:
  ``sidecar_job_attempts_total`` (kind, outcome) and the ``sidecar_job_duration_seconds``
  histogram (kind) from ``job_attempts``, ``sidecar_refunds_total`` (outcome: requested,
  confirmed, gave_up) and ``sidecar_transitions_total`` (event) from ``transitions``.

The scrape stays cheap: gauges read index ranges of active rows, and the folded counters read
only rows past a watermark (a primary-key range with a LIMIT). A row is folded in for good once
it is older than SETTLE_SECONDS, so a row whose insert commits late (MariaDB hands out ids before
commit) is never skipped; younger rows are re-counted at each scrape, which keeps the counters
monotonic. A run with no end after its lease plus SETTLE_SECONDS is counted as ``abandoned``
(its worker died). When the database cannot be read, ``sidecar_database_up`` is 0.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pymysql
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from sidecar.core.container import Services
from sidecar.core.errors import SidecarError
from sidecar.domain.states import State
from sidecar.jobs.kinds import JobKind
from sidecar.store import repository as repo
from sidecar.store.db import Tx

log = logging.getLogger(__name__)
SETTLE_SECONDS = 300.0
BATCH = 2000
MAX_ROWS_PER_SCRAPE = 50_000
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
JOB_KINDS = tuple(kind.value for kind in JobKind)
OPEN_JOB_STATES = ("pending", "running", "failed")
REFUND_EVENTS = {"refund_confirmed": "confirmed", "refund_gave_up": "gave_up"}
_create_lock = threading.Lock()


class Metrics:
    """The app's registry: in-process counters plus the database collector."""

    def __init__(self, services: Services) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.notifications = Counter(
            "sidecar_notifications",
            "PayTabs notifications received by this process",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.verifications = Counter(
            "sidecar_signature_verifications",
            "Signature checks of PayTabs notifications in this process",
            ["channel", "result"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "sidecar_notifications_rejected",
            "PayTabs notifications refused by this process (400) by channel and reason",
            ["channel", "reason"],
            registry=self.registry,
        )
        self.store = StoreCollector(services)
        self.registry.register(self.store)

    def render(self) -> bytes:
        """Return the Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


def metrics_for(services: Services) -> Metrics:
    """Return the Metrics of these services, creating them on first use."""
    found = services.extras.get("metrics")
    if found is None:
        with _create_lock:
            found = services.extras.get("metrics")
            if found is None:
                found = services.extras["metrics"] = Metrics(services)
    if not isinstance(found, Metrics):
        raise AssertionError("extras['metrics'] is not a Metrics")
    return found


def notification_recorded(
    services: Services,
    channel: str,
    outcome: str,
    signature_ok: bool,
    rejected: str | None = None,
) -> None:
    """Count one logged notification, its signature check and, if refused, the reason."""
    metrics = metrics_for(services)
    metrics.notifications.labels(channel, outcome).inc()
    metrics.verifications.labels(channel, "ok" if signature_ok else "failed").inc()
    if rejected is not None:
        metrics.rejected.labels(channel, rejected).inc()


@dataclass
class Histogram:
    """Bucket counts (not cumulative; the last bucket is +Inf), count and sum of observations."""

    buckets: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS) + 1))
    total: float = 0.0

    def observe(self, value: float) -> None:
        """Add one observation."""
        index = next((i for i, le in enumerate(DURATION_BUCKETS) if value <= le), -1)
        self.buckets[index] += 1
        self.total += value

    def copy(self) -> Histogram:
        """Return an independent copy."""
        return Histogram(list(self.buckets), self.total)

    def cumulative(self) -> list[tuple[str, float]]:
        """Return (le, cumulative count) pairs as Prometheus wants them."""
        bounds = [*(str(le) for le in DURATION_BUCKETS), "+Inf"]
        running, pairs = 0, []
        for bound, count in zip(bounds, self.buckets, strict=True):
            running += count
            pairs.append((bound, float(running)))
        return pairs


@dataclass
class Fold:
    """Totals of an append-only table: rows up to ``watermark`` are folded in for good."""

    watermark: int = 0
    counts: Tally[tuple[str, ...]] = field(default_factory=Tally)
    durations: dict[str, Histogram] = field(default_factory=dict)

    def copy(self) -> Fold:
        """Return an independent copy (the live view of one scrape)."""
        durations = {kind: h.copy() for kind, h in self.durations.items()}
        return Fold(self.watermark, Tally(self.counts), durations)


Row = dict[str, Any]
Keys = list[tuple[str, ...]]
Reader = Callable[[Tx, int, int], list[Row]]
# (row, now) -> (settled for good, counter keys, (kind, seconds) for the histogram or None)
Classifier = Callable[[Row, float], tuple[bool, Keys, tuple[str, float] | None]]


def advance(fold: Fold, tx: Tx, read: Reader, classify: Classifier, now: float) -> Fold:
    """Fold settled rows into ``fold`` for good; return the live totals including younger rows."""
    live, folding, seen = fold.copy(), True, 0
    while seen < MAX_ROWS_PER_SCRAPE:
        rows = read(tx, fold.watermark if folding else live.watermark, BATCH)
        for row in rows:
            settled, keys, duration = classify(row, now)
            folding = folding and settled
            targets = (fold, live) if folding else (live,)
            for target in targets:
                target.counts.update(keys)
                if duration is not None:
                    target.durations.setdefault(duration[0], Histogram()).observe(duration[1])
                target.watermark = row["id"]
        seen += len(rows)
        if len(rows) < BATCH:
            break
    return live


def classify_attempt(lease_seconds: float) -> Classifier:
    """Return the classifier of job_attempts rows (abandoned after the lease and the margin)."""

    def classify(row: Row, now: float) -> tuple[bool, Keys, tuple[str, float] | None]:
        started, finished = float(row["started_at"]), row["finished_at"]
        old = started < now - SETTLE_SECONDS
        if finished is not None:
            seconds = max(0.0, float(finished) - started)
            return old, [(row["kind"], row["outcome"] or "unknown")], (row["kind"], seconds)
        if started < now - SETTLE_SECONDS - lease_seconds:
            return True, [(row["kind"], "abandoned")], None
        return False, [], None

    return classify


def classify_transition(row: Row, now: float) -> tuple[bool, Keys, tuple[str, float] | None]:
    """Classify a transitions row: its event, and its refund outcome if it is one."""
    keys: Keys = [("event", row["event"])]
    if row["to_state"] == State.REFUNDING.value:
        keys.append(("refund", "requested"))
    if row["event"] in REFUND_EVENTS:
        keys.append(("refund", REFUND_EVENTS[row["event"]]))
    return float(row["at"]) < now - SETTLE_SECONDS, keys, None


class StoreCollector:
    """Reads gauges and folded counters from the database at each scrape."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.attempts = Fold()
        self.transitions = Fold()
        self._lock = threading.Lock()

    def describe(self) -> Iterable[Metric]:
        """Describe nothing up front: the scrape must not query the database at registration."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Yield every database-derived metric (or sidecar_database_up 0 when it is unreadable)."""
        try:
            with self._lock:
                families = self._read()
        except (SidecarError, sqlite3.Error, pymysql.err.Error) as exc:
            log.warning("metrics: database unreadable: %s", type(exc).__name__)
            families = []
        yield GaugeMetricFamily(
            "sidecar_database_up",
            "1 if the scrape could read the database",
            value=int(bool(families)),
        )
        yield from families

    def _read(self) -> list[Metric]:
        services = self.services
        now = services.clock()
        with services.db.transaction() as tx:
            attempts = advance(
                self.attempts,
                tx,
                repo.job_attempts_after,
                classify_attempt(services.settings.job_lease_seconds),
                now,
            )
            transitions = advance(
                self.transitions, tx, repo.transitions_after, classify_transition, now
            )
            gauges = gauge_families(tx, now)
        return [*gauges, *attempt_families(attempts), *transition_families(transitions)]


def gauge_families(tx: Tx, now: float) -> list[Metric]:
    """Return the gauges read from the current state of the store."""
    intents = GaugeMetricFamily("sidecar_intents", "Intents by state", labels=["state"])
    counts = repo.count_intents_by_state(tx)
    for state in State:
        intents.add_metric([state.value], counts.get(state.value, 0))
    jobs = GaugeMetricFamily(
        "sidecar_jobs", "Jobs pending, running or failed", labels=["kind", "state"]
    )
    open_jobs = repo.count_open_jobs(tx)
    for kind in sorted(set(JOB_KINDS) | {k for k, _ in open_jobs}):
        for job_state in OPEN_JOB_STATES:
            jobs.add_metric([kind, job_state], open_jobs.get((kind, job_state), 0))
    ages = [
        # (name, help, since when, value when there is nothing: 0, or None for no sample)
        ("sidecar_oldest_unfulfilled_paid_seconds", "Age of the oldest paid, unfulfilled intent",
         repo.oldest_paid_unfulfilled_at(tx), 0.0),
        ("sidecar_oldest_due_job_seconds", "How long the longest-waiting due job has waited",
         repo.oldest_due_job_at(tx, now), 0.0),
        ("sidecar_seconds_since_last_ipn", "Seconds since the last IPN with a valid signature",
         repo.last_genuine_notification_at(tx, "ipn"), None),
        ("sidecar_seconds_since_last_sweep", "Seconds since the worker's last sweep",
         repo.worker_mark_at(tx, "sweep"), None),
    ]  # fmt: skip
    return [intents, jobs, *(_age(name, doc, since, now, none) for name, doc, since, none in ages)]


def _age(name: str, doc: str, since: float | None, now: float, none: float | None) -> Metric:
    family = GaugeMetricFamily(name, doc)
    value = max(0.0, now - since) if since is not None else none
    if value is not None:
        family.add_metric([], value)
    return family


def attempt_families(fold: Fold) -> list[Metric]:
    """Return the job attempt counter and the job duration histogram."""
    attempts = CounterMetricFamily(
        "sidecar_job_attempts",
        "Job runs by kind and outcome (from job_attempts)",
        labels=["kind", "outcome"],
    )
    for (kind, outcome), n in sorted(fold.counts.items()):
        attempts.add_metric([kind, outcome], n)
    durations = HistogramMetricFamily(
        "sidecar_job_duration_seconds", "Duration of finished job runs by kind", labels=["kind"]
    )
    for kind, histogram in sorted(fold.durations.items()):
        durations.add_metric([kind], histogram.cumulative(), sum_value=histogram.total)
    return [attempts, durations]


def transition_families(fold: Fold) -> list[Metric]:
    """Return the refund and transition counters."""
    refunds = CounterMetricFamily(
        "sidecar_refunds",
        "Refunds by outcome: requested, confirmed (A), gave_up",
        labels=["outcome"],
    )
    for outcome in ("requested", "confirmed", "gave_up"):
        refunds.add_metric([outcome], fold.counts.get(("refund", outcome), 0))
    transitions = CounterMetricFamily(
        "sidecar_transitions", "Intent state changes by event", labels=["event"]
    )
    for (group, event), n in sorted(fold.counts.items()):
        if group == "event":
            transitions.add_metric([event], n)
    return [refunds, transitions]
