"""``sidecar bench``: each dependency alone, one call at a time (simulator, WordPress, MariaDB)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from sidecar.bench.phases import PROFILE_ID, Parts
from sidecar.store.db import Database


@dataclass(frozen=True)
class Probe:
    """Median round trip of each dependency alone, one call at a time (milliseconds)."""

    paytabs_page_ms: float
    wordpress_call_ms: float
    mariadb_tx_ms: float


def probe_dependencies(parts: Parts, rounds: int = 20) -> Probe:
    """Time a hosted-page request at the simulator, a WordPress read and a MariaDB transaction."""
    from wp_bridge.client import WordPressClient

    wordpress = WordPressClient(parts.wp.url, "admin", parts.worker_env["WP_API_APP_PASSWORD"])
    timings: dict[str, list[float]] = {"paytabs": [], "wordpress": [], "mariadb": []}
    with requests.Session() as session:
        for _ in range(rounds):
            timings["paytabs"].append(_timed(lambda: _request_page(parts, session)))
            timings["wordpress"].append(_timed(lambda: wordpress.get_group(parts.wp.group.id)))
            timings["mariadb"].append(_timed(lambda: _select_one(parts.db)))
    medians = [statistics.median(timings[k]) * 1000 for k in ("paytabs", "wordpress", "mariadb")]
    return Probe(*medians)


def _request_page(parts: Parts, session: requests.Session) -> None:
    """Ask the simulator for a hosted page as the sidecar's PayTabs client does."""
    body = {
        "profile_id": PROFILE_ID,
        "tran_type": "sale",
        "tran_class": "ecom",
        "cart_id": f"PROBE{time.time_ns()}",
        "cart_description": "probe",
        "cart_currency": "SAR",
        "cart_amount": "150.00",
    }
    headers = {"authorization": parts.server_key}
    url = f"{parts.sim_url}/payment/request"
    session.post(url, json=body, headers=headers, timeout=30).raise_for_status()


def _timed(call: Callable[[], object]) -> float:
    begin = time.perf_counter()
    call()
    return time.perf_counter() - begin


def _select_one(db: Database) -> None:
    with db.transaction() as tx:
        tx.scalar("SELECT 1")
