"""The load generator of ``sidecar bench``: closed-loop senders, genuine IPNs, checkout forms."""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from sidecar.paytabs import sign_ipn
from wp_bridge.tokens import issue_form_token

Send = Callable[[requests.Session, int], bool]
STOP = threading.Event()  # set on Ctrl-C: every sender stops after its current request


@dataclass(frozen=True)
class LoadResult:
    """Client-side latencies of the successful requests of one run, and what failed."""

    latencies: list[float]
    elapsed: float
    errors: int
    sent: int = 0  # every request, warm-ups included
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU per request sent, by process

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def ms(self, quantile: float) -> float:
        """Return a latency percentile in milliseconds (nearest rank)."""
        return percentile(self.latencies, quantile) * 1000


def percentile(values: list[float], quantile: float) -> float:
    """Return the nearest-rank percentile of ``values`` (0.0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(quantile / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


class _Run:
    """What the senders of one run share: request numbers, the start barrier, the window."""

    def __init__(self, concurrency: int, seconds: float, send: Send, warmup: int) -> None:
        self.numbers = itertools.count()
        self.send, self.seconds, self.warmup = send, seconds, warmup
        self.start = 0.0
        self.barrier = threading.Barrier(concurrency, action=self._open, timeout=300)

    def _open(self) -> None:
        self.start = time.perf_counter()

    def sender(self) -> tuple[list[float], int, float]:
        """Warm up, wait for every sender, then send back to back until the window closes."""
        latencies: list[float] = []
        errors = 0
        with requests.Session() as session:
            for _ in range(self.warmup if not STOP.is_set() else 0):
                self.send(session, next(self.numbers))
            self.barrier.wait()
            deadline = self.start + self.seconds
            end = time.perf_counter()
            while end < deadline and not STOP.is_set():
                begin = time.perf_counter()
                ok = self.send(session, next(self.numbers))
                end = time.perf_counter()
                if ok:
                    latencies.append(end - begin)
                else:
                    errors += 1
        return latencies, errors, end


def closed_loop(concurrency: int, seconds: float, send: Send, warmup: int = 2) -> LoadResult:
    """Run ``concurrency`` senders, one Session each, back to back for ``seconds``."""
    run = _Run(concurrency, seconds, send, warmup)
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="sender")
    try:
        outcomes = [f.result() for f in [pool.submit(run.sender) for _ in range(concurrency)]]
    except BaseException:
        STOP.set()  # Ctrl-C: senders stop, and none waits at the barrier for one never started
        run.barrier.abort()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return LoadResult(
        latencies=[lat for o in outcomes for lat in o[0]],
        elapsed=max(o[2] for o in outcomes) - run.start,
        errors=sum(o[1] for o in outcomes),
        sent=next(run.numbers),
    )


CUSTOMER = {
    "name": "Amal Haddad",
    "phone": "+966500000000",
    "street1": "King Fahd Rd",
    "city": "Riyadh",
    "state": "01",
    "country": "SA",
    "ip": "203.0.113.7",
}
PAYMENT_INFO = {
    "payment_method": "Visa",
    "card_type": "Credit",
    "card_scheme": "Visa",
    "payment_description": "4111 11## #### 1111",
    "expiryMonth": 12,
    "expiryYear": 2030,
}


def ipn_body(ref: str, tran_ref: str, amount: str = "150.00") -> bytes:
    """Return an IPN body shaped like PayTabs' (a Sale approved with A), compact JSON."""
    payload = {
        "tran_ref": tran_ref,
        "merchant_id": 100000,
        "profile_id": 100001,
        "cart_id": ref,
        "cart_description": "Benchmark circle",
        "cart_currency": "SAR",
        "cart_amount": amount,
        "tran_currency": "SAR",
        "tran_total": amount,
        "tran_type": "Sale",
        "tran_class": "ECom",
        "customer_details": {**CUSTOMER, "email": f"{ref.lower()}@example.com"},
        "payment_result": {
            "response_status": "A",
            "response_code": "831000",
            "response_message": "Authorised",
            "acquirer_ref": f"TRAN{secrets.randbelow(10**10):010d}",
            "cvv_result": " ",
            "avs_result": " ",
            "transaction_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
        "payment_info": PAYMENT_INFO,
        "ipn_trace": f"IPNS{secrets.token_hex(2)}.{secrets.token_hex(4)}".upper(),
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def signed_ipns(carts: list[tuple[str, str]], server_key: str) -> list[tuple[bytes, str]]:
    """Return an IPN body and its Signature header for each cart (ref, tran_ref)."""
    bodies = [ipn_body(ref, tran_ref) for ref, tran_ref in carts]
    return [(body, sign_ipn(body, server_key)) for body in bodies]


def ipn_sender(url: str, signed: list[tuple[bytes, str]]) -> Send:
    """Return a sender posting the signed IPNs round robin (each to a different intent)."""

    def send(session: requests.Session, number: int) -> bool:
        """Post IPN ``number``; tell whether it was acknowledged (200)."""
        body, signature = signed[number % len(signed)]
        headers = {
            "Content-Type": "application/json",
            "Signature": signature,
            "User-Agent": "PayTabs IPN",
        }
        try:
            return session.post(url, data=body, headers=headers, timeout=60).status_code == 200
        except requests.RequestException:
            return False

    return send


def checkout_sender(url: str, group_id: int, shared_secret: str, paytabs_url: str) -> Send:
    """Return a sender submitting the registration form as a new buyer's browser does."""
    page_prefix = f"{paytabs_url}/payment/page/"

    def send(session: requests.Session, number: int) -> bool:
        """Submit form ``number``; tell whether the buyer was sent to the hosted page."""
        form = {
            "group_id": str(group_id),
            "first_name": "Amal",
            "last_name": "Haddad",
            "email": f"bench.{number}.{secrets.token_hex(4)}@example.com",
            "phone": "+966500000000",
            "street1": "King Fahd Rd",
            "city": "Riyadh",
            "country": "SA",
            "idempotency_key": secrets.token_urlsafe(18),
            "form_token": issue_form_token(uid=0, email="", secret=shared_secret, now=time.time()),
        }
        try:
            answer = session.post(url, data=form, allow_redirects=False, timeout=60)
        except requests.RequestException:
            return False
        return answer.status_code == 303 and answer.headers["Location"].startswith(page_prefix)

    return send
