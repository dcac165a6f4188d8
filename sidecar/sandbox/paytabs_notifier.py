"""IPN delivery for the PayTabs simulator: queue, delay, duplicate, reorder and retries.

PayTabs retries a notification up to five times with increasing delay until the receiver
answers exactly 200; the simulator does the same with short, configurable delays. Delays
and retries run on real (monotonic) time, because delivery is real network I/O.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

IPN_HEADERS = {"Content-Type": "application/json", "User-Agent": "Go-http-client/1.1"}


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    url: str = field(compare=False)
    body: bytes = field(compare=False)
    signature: str = field(compare=False)
    retry_delays: tuple[float, ...] = field(compare=False)
    attempt: int = field(default=1, compare=False)


class Notifier:
    """Queues signed IPN bodies and POSTs them, in a background thread or on demand."""

    def __init__(self, *, background: bool, timeout: float = 5.0) -> None:
        self._background = background
        self.timeout = timeout
        self._cond = threading.Condition()
        self._queue: list[_Job] = []
        self._held: list[_Job] = []
        self._sent: list[dict[str, Any]] = []
        self._seq = itertools.count()
        self._in_flight = 0
        self._closed = False
        self._thread: threading.Thread | None = None

    def submit(
        self,
        url: str,
        body: bytes,
        signature: str,
        *,
        mode: str,
        delay: float,
        retry_delays: Sequence[float],
    ) -> None:
        """Queue one notification according to the ``ipn`` switch of the simulator."""
        if mode == "drop":
            return
        job = _Job(0.0, 0, url, body, signature, tuple(retry_delays))
        with self._cond:
            if mode == "reorder":
                self._held.append(job)
                return
            start = time.monotonic() + (delay if mode == "delay" else 0.0)
            self._push(job, start)
            if mode == "duplicate":
                self._push(_Job(0.0, 0, url, body, signature, job.retry_delays), start)
            # Notifications held by an earlier "reorder" go out after this one, newest first.
            self._release_held(start)
        self._ensure_thread()

    def flush_held(self) -> int:
        """Release notifications held by ``reorder``, newest first; return how many."""
        with self._cond:
            count = len(self._held)
            self._release_held(time.monotonic())
        self._ensure_thread()
        return count

    def deliver_pending(self, *, wait: bool = True) -> int:
        """Deliver queued notifications in this thread; return the number of attempts.

        With ``wait`` it also sleeps through delays and retries until the queue is empty
        (held ``reorder`` notifications stay held); without it, only what is due now.
        """
        attempts = 0
        while True:
            with self._cond:
                if not self._queue:
                    return attempts
                pause = self._queue[0].due - time.monotonic()
                if pause <= 0:
                    job = heapq.heappop(self._queue)
                    self._in_flight += 1
                elif not wait:
                    return attempts
            if pause > 0:
                time.sleep(pause)
                continue
            self._attempt(job)
            attempts += 1

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or in flight (held ones excepted); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def sent(self) -> list[dict[str, Any]]:
        """Return every delivery attempt: url, status (None if unreachable), body, attempt."""
        with self._cond:
            return [dict(item) for item in self._sent]

    def pending_count(self) -> int:
        """Return how many notifications are queued or held."""
        with self._cond:
            return len(self._queue) + len(self._held)

    def close(self) -> None:
        """Stop the background thread; queued notifications are abandoned."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=self.timeout + 1)

    def _push(self, job: _Job, due: float) -> None:
        job.due, job.seq = due, next(self._seq)
        heapq.heappush(self._queue, job)
        self._cond.notify_all()

    def _release_held(self, due: float) -> None:
        held, self._held = self._held, []
        for job in reversed(held):
            self._push(job, due)

    def _ensure_thread(self) -> None:
        with self._cond:
            if not self._background or self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(target=self._run, name="paytabs-sim-ipn", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                job = self._next_due_locked()
                if job is None:
                    return
                self._in_flight += 1
            self._attempt(job)

    def _next_due_locked(self) -> _Job | None:
        while not self._closed:
            if not self._queue:
                self._cond.wait()
                continue
            pause = self._queue[0].due - time.monotonic()
            if pause <= 0:
                return heapq.heappop(self._queue)
            self._cond.wait(pause)
        return None

    def _attempt(self, job: _Job) -> None:
        headers = {**IPN_HEADERS, "Signature": job.signature}
        try:
            response = requests.post(
                job.url, data=job.body, headers=headers, timeout=self.timeout, allow_redirects=False
            )
            status: int | None = response.status_code
        except requests.RequestException:
            status = None  # the receiver was unreachable: retried like a non-200 answer
        record = {"url": job.url, "status": status, "body": job.body, "attempt": job.attempt}
        with self._cond:
            self._sent.append({**record, "signature": job.signature})
            if status != 200 and job.attempt <= len(job.retry_delays):
                delay = job.retry_delays[job.attempt - 1]
                job.attempt += 1
                self._push(job, time.monotonic() + delay)
            self._in_flight -= 1
            self._cond.notify_all()
