"""``sidecar bench``: PayTabs return received -> status page told "fulfilled", three ways at once.

Each sample pays one intent at the simulator (its IPN dropped, so the browser's return is what
starts the work), posts the signed return to gunicorn as the browser does, then asks the status
endpoint as the status page's script does until it answers "fulfilled":

- today: ``sidecar worker`` polling its queue every 0.5 s without wake-up, the page every 1.5 s;
- now: the worker woken by the web's datagram, the page long-polling (``?wait=25&since=``);
- floor: what the work itself waits on, timed call by call in the same samples: the PayTabs
  query (the same query, asked again by the benchmark on a warm connection) plus every WordPress
  request served between the return and the "fulfilled" transition (timed by the server).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import requests

from sidecar.bench.load import percentile
from sidecar.bench.mariadb import BenchSetupError
from sidecar.bench.phases import PROFILE_ID, Parts, _settled, awaiting_carts
from sidecar.bench.procs import ServedWordPress, start_worker
from sidecar.domain.states import State

TODAY_WORKER_POLL = "0.5"  # seconds: SIDECAR_POLL_INTERVAL_SECONDS's default
TODAY_PAGE_POLL = 1.5  # seconds: the plugin's status page
LONG_POLL_WAIT = 25  # seconds: the plugin's status page
JSON = {"Accept": "application/json"}


@dataclass(frozen=True)
class Told:
    """One sample: return -> told "fulfilled", and the floor of its own calls (seconds)."""

    took: float
    floor: float


@dataclass(frozen=True)
class ToldResult:
    """The samples of each way, at one WordPress delay."""

    latency_ms: int
    today: list[Told]
    now: list[Told]

    @property
    def floors(self) -> list[float]:
        """The floor of every sample, both ways (seconds)."""
        return [s.floor for s in (*self.today, *self.now)]


class RequestTimer:
    """Times each request the sandbox WordPress serves: (unix start, seconds it took)."""

    def __init__(self, served: ServedWordPress) -> None:
        self.spans: list[tuple[float, float]] = []
        self._lock = threading.Lock()
        self._app = served.server.app
        served.server.app = self

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Serve the request and note how long it took."""
        started, begin = time.time(), time.perf_counter()
        try:
            return self._app(environ, start_response)
        finally:
            with self._lock:
                self.spans.append((started, time.perf_counter() - begin))

    def total_between(self, start: float, end: float) -> float:
        """Return the seconds spent serving the requests that began between start and end."""
        with self._lock:
            return sum(took for at, took in self.spans if start <= at <= end)


def run_told(parts: Parts, samples: int, latency_ms: int) -> ToldResult:
    """Measure ``samples`` payments today's way, then as many the new way, in this one run."""
    carts = awaiting_carts(parts, 2 * samples)
    timer = RequestTimer(parts.wp)
    _sim_config(parts, ipn="drop")
    parts.wp.fake.latency_seconds = latency_ms / 1000
    try:
        ways = {}
        for name, batch in (("today", carts[:samples]), ("now", carts[samples:])):
            ways[name] = _batch(parts, timer, batch, long_poll=name == "now")
    finally:
        parts.wp.fake.latency_seconds = 0.0
        _sim_config(parts, ipn="deliver")
    return ToldResult(latency_ms, ways["today"], ways["now"])


def _sim_config(parts: Parts, **switches: Any) -> None:
    requests.post(f"{parts.sim_url}/_sim/config", json=switches, timeout=10).raise_for_status()


def _batch(
    parts: Parts, timer: RequestTimer, carts: list[tuple[int, str]], *, long_poll: bool
) -> list[Told]:
    """Start the worker of this way, pay the carts one at a time, stop it."""
    way = "long poll + wake-up" if long_poll else "polling today"
    env = dict(parts.worker_env)
    if not long_poll:
        env.update(SIDECAR_WAKEUP_SOCKET="off", SIDECAR_POLL_INTERVAL_SECONDS=TODAY_WORKER_POLL)
    parts.progress(f"return -> told fulfilled, {way}: starting `sidecar worker`")
    worker = start_worker(env, parts.base)
    told: list[Told] = []
    try:
        with requests.Session() as page, requests.Session() as query:
            for number, (intent_id, tran_ref) in enumerate(carts, 1):
                told.append(_told_one(parts, timer, (page, query), intent_id, tran_ref, long_poll))
                ms = told[-1].took * 1000
                parts.progress(
                    f"return -> told fulfilled, {way}: {number}/{len(carts)}, {ms:.0f} ms"
                )
    finally:
        worker.stop()
    return told


def _told_one(
    parts: Parts,
    timer: RequestTimer,
    sessions: tuple[requests.Session, requests.Session],
    intent_id: int,
    tran_ref: str,
    long_poll: bool,
) -> Told:
    """Pay, post the return, ask the status as the page does; time it and its floor."""
    page, query = sessions
    paid = requests.post(f"{parts.sim_url}/_sim/pay/{tran_ref}", json={}, timeout=30)
    if paid.status_code != 200:
        raise BenchSetupError(f"the simulator did not take the payment: {paid.text[:200]}")
    ref = _ref(parts, intent_id)
    status_url = f"{parts.web_url}/therapy/status/{ref}"
    started, begin = time.time(), time.perf_counter()
    back = page.post(
        f"{parts.web_url}/paytabs/return", data=paid.json(), allow_redirects=False, timeout=30
    )
    if back.status_code != 303:
        raise BenchSetupError(f"the return was refused ({back.status_code}): {back.text[:200]}")
    _until_fulfilled(page, status_url, long_poll)
    took = time.perf_counter() - begin
    fulfilled_at = _fulfilled_at(parts, intent_id)
    floor = _timed_query(parts, query, ref) + timer.total_between(started, fulfilled_at)
    _wait_settled(parts, intent_id)  # the e-mail job too: the next sample starts on a quiet queue
    return Told(took, floor)


def _until_fulfilled(page: requests.Session, url: str, long_poll: bool) -> None:
    """Ask as the status page's script does until the answer says "fulfilled"."""
    seen: str | None = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ask = f"{url}?wait={LONG_POLL_WAIT}&since={seen}" if long_poll and seen else url
        answer = page.get(ask, headers=JSON, timeout=LONG_POLL_WAIT + 10)
        if answer.status_code != 200:
            raise BenchSetupError(f"the status answered {answer.status_code}: {answer.text[:200]}")
        body = answer.json()
        if body["state"] == State.FULFILLED.value:
            return
        if body["done"]:
            raise BenchSetupError(f"the intent ended {body['state']}, not fulfilled (worker log)")
        changed, seen = body["state"] != seen, body["state"]
        if not long_poll or not (changed or body.get("waited")):
            time.sleep(TODAY_PAGE_POLL)
    raise BenchSetupError("an intent was not fulfilled within 120 s")


def _ref(parts: Parts, intent_id: int) -> str:
    with parts.db.transaction() as tx:
        return str(tx.scalar("SELECT ref FROM intents WHERE id = ?", (intent_id,)))


def _fulfilled_at(parts: Parts, intent_id: int) -> float:
    with parts.db.transaction() as tx:
        at = tx.scalar(
            "SELECT MAX(at) FROM transitions WHERE intent_id = ? AND to_state = ?",
            (intent_id, State.FULFILLED.value),
        )
    return float(at)


def _timed_query(parts: Parts, session: requests.Session, ref: str) -> float:
    """Ask the simulator about the cart as the worker's confirmation does; return the seconds."""
    body = {"profile_id": PROFILE_ID, "cart_id": ref}
    begin = time.perf_counter()
    answer = session.post(
        f"{parts.sim_url}/payment/query",
        json=body,
        headers={"authorization": parts.server_key},
        timeout=30,
    )
    took = time.perf_counter() - begin
    answer.raise_for_status()
    return took


def _wait_settled(parts: Parts, intent_id: int) -> None:
    deadline = time.monotonic() + 120
    while not _settled(parts.db, intent_id):
        if time.monotonic() > deadline:
            raise BenchSetupError(f"intent {intent_id}'s jobs did not finish within 120 s")
        time.sleep(0.02)


def summary_ms(seconds: Iterable[float]) -> tuple[float, float, float]:
    """Return p50, p95 and max in milliseconds."""
    values = list(seconds)
    if not values:
        return 0.0, 0.0, 0.0
    return (
        statistics.median(values) * 1000,
        percentile(values, 95) * 1000,
        max(values) * 1000,
    )
