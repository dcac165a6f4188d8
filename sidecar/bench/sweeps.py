"""Stored history for ``sidecar bench``: bulk-inserted intents, and the sweeps timed over them."""

from __future__ import annotations

import random
import secrets
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sidecar.core.container import Services
from sidecar.domain.states import State
from sidecar.payments import sweeps
from sidecar.store.db import DatabaseURL, connect

CHUNK = 5000
AWAITING = 20  # "a few awaiting ones": the live part of the table, the same at every size
DAY = 86400.0
HISTORY_DAYS = 730
ENDED_MIX = (
    (State.FULFILLED, 70),
    (State.EXPIRED, 15),
    (State.PAYMENT_FAILED, 12),
    (State.REFUNDED, 3),
)
COLUMNS = (
    "ref", "state", "group_id", "bp_group_id", "group_name", "amount_minor", "currency",
    "email", "first_name", "last_name", "phone", "street1", "city", "country", "tran_ref",
    "browser_secret_hash", "registration_url", "status_url", "thank_you_url", "hold_expires_at",
    "paid_at", "fulfilled_at", "wp_user_id", "booking_id", "member_joined", "user_created",
    "purged_at", "created_at", "updated_at",
)  # fmt: skip
# Column names are the constants above; every value is bound.
INSERT = f"INSERT INTO intents ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"  # noqa: S608
SWEEPS: tuple[tuple[str, Callable[[Services], int]], ...] = (
    ("pending payments", sweeps.sweep_pending_payments),
    ("expired holds", sweeps.sweep_expired_holds),
    ("unfulfilled", sweeps.sweep_unfulfilled),
    ("retention", sweeps.sweep_retention),
)


def intent_row(
    state: State, created: float, *, group_id: int, now: float, tran: bool
) -> tuple[Any, ...]:
    """Return one intent in ``state`` created at ``created`` (purged if past the retention)."""
    ref = "TPS" + secrets.token_hex(8).upper()
    ended = state != State.AWAITING_PAYMENT
    purged = ended and created < now - 30 * DAY
    purged_at = min(now, created + 31 * DAY) if purged else None  # the purge set updated_at too
    person = (None,) * 7 if purged else (
        f"{ref.lower()}@example.com", "Amal", "Haddad", "+966500000000", "King Fahd Rd",
        "Riyadh", "SA",
    )  # fmt: skip
    paid = created + 60 if state in (State.FULFILLED, State.REFUNDED) else None
    done = state == State.FULFILLED
    return (
        ref, state.value, group_id, group_id, "Benchmark circle", 15000, "SAR", *person,
        "TST2" + secrets.token_hex(8).upper() if tran else None,
        "bench:" + secrets.token_hex(16), "http://wp.test/therapy-registration/",
        "http://wp.test/therapy-registration-status/", "http://wp.test/thank-you/",
        created + 1800, paid, paid + 2 if done and paid else None,
        7 if done else None, 9 if done else None, int(done), int(done),
        purged_at, created, purged_at or (created + 120 if ended else created),
    )  # fmt: skip


def insert_rows(url: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert intents with multi-row INSERTs (pymysql's executemany), in chunks."""
    conn = connect(DatabaseURL.parse(url))
    try:
        with conn.cursor() as cur:
            for start in range(0, len(rows), CHUNK):
                cur.executemany(INSERT, rows[start : start + CHUNK])
    finally:
        conn.close()


def load_history(
    url: str, count: int, *, group_id: int, progress: Callable[[str], None], label: str
) -> None:
    """Add ``count`` ended intents spread over two years, in chunks, showing progress."""
    rng = random.Random(count)
    now = time.time()
    mix = [state for state, weight in ENDED_MIX for _ in range(weight)]
    done, step = 0, max(CHUNK, count // 10)
    while done < count:
        size = min(step, count - done)
        rows = [
            intent_row(
                rng.choice(mix),
                now - rng.uniform(1, HISTORY_DAYS) * DAY,
                group_id=group_id,
                now=now,
                tran=True,
            )
            for _ in range(size)
        ]
        insert_rows(url, rows)
        done += size
        progress(f"{label}: {done:,}/{count:,} intents stored")


def refresh_awaiting(url: str, group_id: int) -> None:
    """Keep exactly AWAITING fresh intents awaiting payment (created now, hold in 30 minutes)."""
    now = time.time()
    conn = connect(DatabaseURL.parse(url))
    try:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM intents WHERE state = %s", (State.AWAITING_PAYMENT.value,))
            rows = [
                intent_row(State.AWAITING_PAYMENT, now, group_id=group_id, now=now, tran=True)
                for _ in range(AWAITING)
            ]
            cur.executemany(INSERT, rows)
            cur.execute("ANALYZE TABLE intents")  # fresh statistics, as a settled table has
            cur.fetchall()
    finally:
        conn.close()


@dataclass(frozen=True)
class SweepTiming:
    """``run_all`` over one history size: median and worst of the repeats, and each sweep's median."""

    size: int
    median: float
    worst: float
    parts: dict[str, float]
    touched: int


def time_sweeps(services: Services, size: int, repeats: int) -> SweepTiming:
    """Run the sweeps once to settle, then time ``run_all`` and each sweep ``repeats`` times."""
    sweeps.run_all(services)
    totals, touched = [], 0
    for _ in range(repeats):
        begin = time.perf_counter()
        counts: dict[str, Any] = sweeps.run_all(services)
        totals.append(time.perf_counter() - begin)
        touched += sum(counts.values())
    parts: dict[str, float] = {}
    for name, sweep in SWEEPS:
        times = []
        for _ in range(repeats):
            begin = time.perf_counter()
            sweep(services)
            times.append(time.perf_counter() - begin)
        parts[name] = statistics.median(times)
    return SweepTiming(size, statistics.median(totals), max(totals), parts, touched)


def run_sweep_sizes(
    services: Services, sizes: list[int], *, repeats: int, progress: Callable[[str], None]
) -> list[SweepTiming]:
    """Grow the history to each size in turn and time the sweeps over it."""
    url = services.settings.database_url
    timings, stored = [], 0
    for size in sorted(sizes):
        load_history(
            url,
            max(0, size - AWAITING - stored),
            group_id=1,
            progress=progress,
            label=f"sweeps {size:,}",
        )
        stored = size - AWAITING
        refresh_awaiting(url, group_id=1)
        progress(f"sweeps {size:,}: timing run_all x{repeats}")
        timings.append(time_sweeps(services, size, repeats))
    return timings
