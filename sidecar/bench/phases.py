"""The measured phases of ``sidecar bench``: checkouts, paid -> fulfilled, IPN acknowledgements."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import requests

from sidecar.bench.load import (
    LoadResult,
    checkout_sender,
    closed_loop,
    ipn_sender,
    signed_ipns,
)
from sidecar.bench.mariadb import BenchSetupError
from sidecar.bench.procs import MemoryPeaks, ServedWordPress, cpu_seconds, start_worker
from sidecar.bench.sweeps import COLUMNS, insert_rows, intent_row
from sidecar.domain.states import State
from sidecar.store.db import Database

IPN_INTENTS = 5000
PROFILE_ID = 100001
SETTLED = ("fulfilled", "needs_attention", "refunding", "refunded")


@dataclass
class Parts:
    """The running stack the phases measure, and where they report progress."""

    base: Path
    db: Database
    db_url: str
    web_url: str
    noop_url: str
    sim_url: str
    wp: ServedWordPress
    worker_env: dict[str, str]
    server_key: str
    shared_secret: str
    memory: MemoryPeaks
    progress: Callable[[str], None]
    pids: dict[str, int]  # "web sidecar", "web no-op", "MariaDB", "simulator"


@dataclass(frozen=True)
class Sample:
    """One payment: paid -> fulfilled, and when each WordPress call began (seconds after paid)."""

    took: float
    calls: list[float]


@dataclass(frozen=True)
class FulfilResult:
    """paid -> fulfilled of each sample at one WordPress latency, and the WordPress floor."""

    latency_ms: int
    samples: list[Sample]

    @property
    def durations(self) -> list[float]:
        """paid -> fulfilled of each sample, in seconds."""
        return [s.took for s in self.samples]

    @property
    def calls(self) -> list[int]:
        """WordPress calls made by each sample's fulfilment."""
        return [len(s.calls) for s in self.samples]

    @property
    def floor(self) -> float:
        """Seconds the WordPress calls of one fulfilment wait at least (most calls seen)."""
        return max(self.calls, default=0) * self.latency_ms / 1000

    def split_ms(self) -> tuple[float, float, float]:
        """Median ms before the first call, between calls beyond the delay, after the last one."""
        delay = self.latency_ms / 1000
        timed = [s for s in self.samples if s.calls]
        lead = [s.calls[0] for s in timed]
        gaps = [b - a - delay for s in timed for a, b in zip(s.calls, s.calls[1:], strict=False)]
        tail = [s.took - s.calls[-1] - delay for s in timed]
        return _median_ms(lead), _median_ms(gaps), _median_ms(tail)


def _median_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000 if seconds else 0.0


def run_checkouts(parts: Parts, seconds: float, concurrency: int) -> LoadResult:
    """Submit the form as new buyers, ``concurrency`` at once, for ``seconds``."""
    parts.progress(f"checkout: {concurrency} concurrent buyers for {seconds:g} s")
    roles = {
        "gunicorn": (parts.pids["web sidecar"], True),
        "MariaDB": (parts.pids["MariaDB"], False),
        "simulator": (parts.pids["simulator"], False),
        "client+WP": (os.getpid(), False),
    }
    result = with_cpu(roles, partial(closed_loop, concurrency, seconds, _checkout_send(parts)))
    parts.progress(
        f"checkout: {result.rate:.1f}/s, p50 {result.ms(50):.0f} ms, {result.errors} failed"
    )
    return result


def with_cpu(roles: dict[str, tuple[int, bool]], run: Callable[[], LoadResult]) -> LoadResult:
    """Run a load and note the CPU time each process (pid, with children) spent per request."""
    before = {name: cpu_seconds(pid, with_children=kids) for name, (pid, kids) in roles.items()}
    result = run()
    spent = {
        name: cpu_seconds(pid, with_children=kids) - before[name]
        for name, (pid, kids) in roles.items()
    }
    return replace(result, cpu_ms={n: t * 1000 / max(1, result.sent) for n, t in spent.items()})


def _checkout_send(parts: Parts) -> Callable[[requests.Session, int], bool]:
    url = f"{parts.web_url}/therapy/checkout"
    return checkout_sender(url, parts.wp.group.id, parts.shared_secret, parts.sim_url)


def awaiting_carts(parts: Parts, count: int) -> list[tuple[int, str]]:
    """Return ``count`` intents awaiting payment on a PayTabs page (checking out more if needed)."""
    found = _awaiting(parts.db, count)
    if len(found) < count:
        send = _checkout_send(parts)
        with requests.Session() as session:
            for number in range(count - len(found)):
                send(session, 10**6 + number)
        found = _awaiting(parts.db, count)
    if len(found) < count:
        raise BenchSetupError(f"checkouts fail: {len(found)} of {count} intents to pay")
    return found


def _awaiting(db: Database, count: int) -> list[tuple[int, str]]:
    with db.transaction() as tx:
        rows = tx.all(
            "SELECT id, tran_ref FROM intents WHERE state = ? AND tran_ref IS NOT NULL"
            " ORDER BY id LIMIT ?",
            (State.AWAITING_PAYMENT.value, count),
        )
    return [(int(r["id"]), str(r["tran_ref"])) for r in rows]


def run_fulfilment(parts: Parts, latencies_ms: list[int], samples: int) -> list[FulfilResult]:
    """Pay intents one at a time with the worker running; time paid -> fulfilled at each latency."""
    carts = awaiting_carts(parts, samples * len(latencies_ms))
    requests.post(f"{parts.sim_url}/_sim/config", json={"ipn_delay_seconds": 0}, timeout=10)
    parts.progress("fulfilment: starting `sidecar worker`")
    worker = start_worker(parts.worker_env, parts.base)
    parts.memory.watch("sidecar worker", worker.pid)
    results = []
    try:
        for ms in latencies_ms:
            parts.wp.fake.latency_seconds = ms / 1000
            batch, carts = carts[:samples], carts[samples:]
            done = []
            for number, (intent_id, tran_ref) in enumerate(batch, 1):
                done.append(fulfil_one(parts, intent_id, tran_ref))
                took = done[-1].took * 1000
                parts.progress(f"fulfilment, WordPress {ms} ms: {number}/{samples}, {took:.0f} ms")
            results.append(FulfilResult(ms, done))
    finally:
        parts.memory.unwatch("sidecar worker")  # a last VmHWM sample while it still runs
        worker.stop()  # (if interrupted in between, the cleanup's stop_children stops it)
        parts.wp.fake.latency_seconds = 0.0
    return results


def fulfil_one(parts: Parts, intent_id: int, tran_ref: str) -> Sample:
    """Pay one intent at the simulator; time paid -> fulfilled and the WordPress calls between."""
    paid = requests.post(f"{parts.sim_url}/_sim/pay/{tran_ref}", json={}, timeout=30)
    if paid.status_code != 200:
        raise BenchSetupError(f"the simulator did not take the payment: {paid.text[:200]}")
    deadline = time.monotonic() + 120
    while not _settled(parts.db, intent_id):
        if time.monotonic() > deadline:
            raise BenchSetupError(f"intent {intent_id} was not fulfilled within 120 s")
        time.sleep(0.02)
    with parts.db.transaction() as tx:
        rows = tx.all(
            "SELECT to_state, at FROM transitions WHERE intent_id = ? AND to_state IN (?, ?)",
            (intent_id, State.PAID.value, State.FULFILLED.value),
        )
    at = {r["to_state"]: float(r["at"]) for r in rows}
    if State.FULFILLED.value not in at:
        raise BenchSetupError(f"intent {intent_id} ended without being fulfilled (worker log)")
    begin, end = at[State.PAID.value], at[State.FULFILLED.value]
    return Sample(end - begin, [t - begin for t in parts.wp.fake.calls_between(begin, end)])


def _settled(db: Database, intent_id: int) -> bool:
    """Tell whether the intent is past fulfilment and its jobs (the email too) are done."""
    with db.transaction() as tx:
        state = tx.scalar("SELECT state FROM intents WHERE id = ?", (intent_id,))
        open_jobs = tx.scalar(
            "SELECT COUNT(*) FROM jobs WHERE intent_id = ? AND state IN ('pending', 'running')",
            (intent_id,),
        )
    return state in SETTLED and not open_jobs


def insert_ipn_intents(parts: Parts, count: int) -> list[tuple[str, str]]:
    """Store ``count`` intents awaiting payment in bulk; return their (ref, tran_ref)."""
    now = time.time()
    group = parts.wp.group.id
    rows = [
        intent_row(State.AWAITING_PAYMENT, now, group_id=group, now=now, tran=True)
        for _ in range(count)
    ]
    insert_rows(parts.db_url, rows)
    ref, tran = COLUMNS.index("ref"), COLUMNS.index("tran_ref")
    return [(row[ref], row[tran]) for row in rows]


def run_ipn(parts: Parts, levels: list[int], seconds: float) -> dict[tuple[str, int], LoadResult]:
    """Send genuine IPNs at each concurrency to the sidecar and to the no-op endpoint."""
    parts.progress(f"IPN: storing {IPN_INTENTS:,} intents awaiting payment (bulk INSERT)")
    signed = signed_ipns(insert_ipn_intents(parts, IPN_INTENTS), parts.server_key)
    results: dict[tuple[str, int], LoadResult] = {}
    for level in levels:
        for target, url in (("sidecar", parts.web_url), ("no-op", parts.noop_url)):
            roles = {
                "gunicorn": (parts.pids[f"web {target}"], True),
                "MariaDB": (parts.pids["MariaDB"], False),
                "client": (os.getpid(), False),
            }
            send = ipn_sender(f"{url}/paytabs/ipn", signed)
            result = with_cpu(roles, partial(closed_loop, level, seconds, send))
            results[(target, level)] = result
            parts.progress(
                f"IPN, {level} sender(s) -> {target}: p50 {result.ms(50):.1f} ms,"
                f" p99 {result.ms(99):.1f} ms, {result.rate:.0f} acks/s, {result.errors} failed"
            )
    return results
