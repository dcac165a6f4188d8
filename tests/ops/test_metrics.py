"""/metrics: Prometheus text from a registry per app; counters move with the work they count."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sidecar.core.errors import DatabaseUnavailable
from sidecar.domain.states import State
from sidecar.jobs.runner import drain
from sidecar.ops.metrics import SETTLE_SECONDS, Histogram, Metrics, StoreCollector, classify_attempt
from sidecar.payments import sweeps
from sidecar.paytabs import sign_ipn
from tests.support.stack import SERVER_KEY

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(stack: Any) -> Samples:
    """GET /metrics and return every sample by (name, labels)."""
    response = stack.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """Return one sample's value (0 when the series does not exist yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def paid_and_fulfilled(stack: Any) -> Any:
    """Start, pay, deliver the IPN and drain: a fulfilled intent."""
    intent = stack.start()
    stack.pay(intent)
    stack.deliver_ipns()
    stack.drain()
    return stack.intent(intent.ref)


def refunded(stack: Any) -> Any:
    """Pay for the small group, close it before fulfilment: the payment is refunded."""
    intent = stack.start(group_id=str(stack.small_group.id))
    stack.pay(intent)
    stack.deliver_ipns()
    stack.wp.set_group_open(stack.small_group.id, False)
    stack.drain()
    return stack.intent(intent.ref)


def test_metrics_endpoint_parses_and_names_every_family(stack: Any) -> None:
    stack.start()
    samples = scrape(stack)
    names = {name for name, _ in samples}
    assert {
        "sidecar_database_up",
        "sidecar_intents",
        "sidecar_jobs",
        "sidecar_oldest_unfulfilled_paid_seconds",
        "sidecar_oldest_due_job_seconds",
        "sidecar_refunds_total",
    } <= names
    assert value(samples, "sidecar_database_up") == 1
    assert value(samples, "sidecar_intents", state="awaiting_payment") == 1
    assert value(samples, "sidecar_intents", state="fulfilled") == 0
    assert "sidecar_seconds_since_last_ipn" not in names  # absent until the first genuine IPN


def test_metrics_bad_signature_ipn_counts_a_failed_verification(stack: Any) -> None:
    before = scrape(stack)
    response = stack.client.post(
        "/paytabs/ipn",
        data=b'{"cart_id": "tp_x", "tran_ref": "TST1"}',
        headers={"Signature": "0" * 64, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    after = scrape(stack)
    key = {"channel": "ipn", "result": "failed"}
    verifications = "sidecar_signature_verifications_total"
    assert value(after, verifications, **key) == value(before, verifications, **key) + 1
    assert (
        value(after, "sidecar_notifications_total", channel="ipn", outcome="invalid_signature") == 1
    )
    assert value(after, verifications, channel="ipn", result="ok") == 0


def test_metrics_genuine_ipn_counts_notification_and_last_ipn_age(stack: Any) -> None:
    intent = stack.start()
    stack.pay(intent)
    assert stack.deliver_ipns() >= 1
    samples = scrape(stack)
    assert value(samples, "sidecar_notifications_total", channel="ipn", outcome="queued") >= 1
    assert value(samples, "sidecar_signature_verifications_total", channel="ipn", result="ok") >= 1
    assert 0 <= value(samples, "sidecar_seconds_since_last_ipn") < 60
    assert value(samples, "sidecar_jobs", kind="confirm", state="pending") == 1


def test_metrics_drain_counts_job_attempts_and_durations(stack: Any) -> None:
    before = scrape(stack)
    paid_and_fulfilled(stack)
    after = scrape(stack)
    for kind, outcome in (
        ("confirm", "paid"),
        ("fulfil", "fulfilled"),
        ("email", "fulfilled_mails"),
    ):
        name, labels = "sidecar_job_attempts_total", {"kind": kind, "outcome": outcome}
        assert value(after, name, **labels) == value(before, name, **labels) + 1, kind
    assert value(after, "sidecar_job_duration_seconds_count", kind="fulfil") == 1
    assert value(after, "sidecar_job_duration_seconds_bucket", kind="fulfil", le="+Inf") == 1
    assert value(after, "sidecar_intents", state="fulfilled") == 1
    assert value(after, "sidecar_transitions_total", event="fulfilment_done") == 1
    assert value(after, "sidecar_oldest_unfulfilled_paid_seconds") == 0


def test_metrics_paid_but_unfulfilled_age_grows_with_the_clock(stack: Any) -> None:
    intent = stack.start()
    stack.pay(intent)
    stack.deliver_ipns()
    drain(stack.services, kinds=["confirm"])
    assert stack.intent(intent.ref).state == State.PAID
    stack.clock.advance(90)
    samples = scrape(stack)
    assert value(samples, "sidecar_oldest_unfulfilled_paid_seconds") == pytest.approx(90, abs=1)
    assert value(samples, "sidecar_oldest_due_job_seconds") == pytest.approx(90, abs=1)


def test_metrics_refund_counter_moves_when_a_refund_is_confirmed(stack: Any) -> None:
    assert refunded(stack).state == State.REFUNDED
    samples = scrape(stack)
    assert value(samples, "sidecar_refunds_total", outcome="requested") == 1
    assert value(samples, "sidecar_refunds_total", outcome="confirmed") == 1
    assert value(samples, "sidecar_refunds_total", outcome="gave_up") == 0
    assert value(samples, "sidecar_job_attempts_total", kind="refund", outcome="refunded") == 1


def test_metrics_counters_stay_monotonic_once_rows_are_folded(stack: Any) -> None:
    paid_and_fulfilled(stack)
    first = scrape(stack)
    stack.clock.advance(SETTLE_SECONDS + 1)  # the rows so far are folded in for good
    folded = scrape(stack)
    paid_and_fulfilled(stack)
    later = scrape(stack)
    name, labels = "sidecar_job_attempts_total", {"kind": "fulfil", "outcome": "fulfilled"}
    assert value(first, name, **labels) == value(folded, name, **labels) == 1
    assert value(later, name, **labels) == 2
    assert value(later, "sidecar_transitions_total", event="fulfilment_done") == 2


def test_metrics_last_sweep_age_comes_from_the_worker_mark(stack: Any) -> None:
    sweeps.run_all(stack.services)
    stack.clock.advance(30)
    assert value(scrape(stack), "sidecar_seconds_since_last_sweep") == pytest.approx(30, abs=1)


def test_metrics_registries_are_per_app_and_never_global(stack: Any) -> None:
    one, two = Metrics(stack.services), Metrics(stack.services)  # would collide if global
    one.notifications.labels("ipn", "queued").inc()
    assert b'sidecar_notifications_total{channel="ipn",outcome="queued"} 1.0' in one.render()
    assert b"sidecar_notifications_total{" not in two.render()


def test_metrics_unreadable_database_reports_database_up_zero() -> None:
    class DownDatabase:
        def transaction(self) -> Any:
            raise DatabaseUnavailable("down")

    services = SimpleNamespace(
        db=DownDatabase(), clock=lambda: 0.0, settings=SimpleNamespace(job_lease_seconds=60)
    )
    families = list(StoreCollector(services).collect())  # type: ignore[arg-type]
    assert [(f.name, f.samples[0].value) for f in families] == [("sidecar_database_up", 0)]


def test_metrics_attempt_without_end_is_abandoned_only_after_lease_and_margin() -> None:
    classify = classify_attempt(lease_seconds=60)
    row = {"kind": "fulfil", "outcome": None, "started_at": 1000.0, "finished_at": None}
    assert classify(row, 1000.0 + 30) == (False, [], None)
    assert classify(row, 1000.0 + SETTLE_SECONDS + 61) == (True, [("fulfil", "abandoned")], None)
    done = {**row, "outcome": "fulfilled", "finished_at": 1002.5}
    assert classify(done, 1010.0) == (False, [("fulfil", "fulfilled")], ("fulfil", 2.5))


def test_metrics_histogram_buckets_are_cumulative() -> None:
    histogram = Histogram()
    for seconds in (0.01, 0.3, 0.3, 999.0):
        histogram.observe(seconds)
    pairs = dict(histogram.cumulative())
    assert pairs["0.05"] == 1 and pairs["0.5"] == 3 and pairs["300.0"] == 3 and pairs["+Inf"] == 4
    assert histogram.total == pytest.approx(999.61)


def test_metrics_rejected_notifications_are_counted_by_channel_and_reason(stack: Any) -> None:
    """Fails on the previous main: no counter told a flood of junk from ordinary traffic."""
    name = "sidecar_notifications_rejected_total"
    for _ in range(3):
        response = stack.client.post(
            "/paytabs/ipn", data=b"x" * 1000, headers={"Signature": "0" * 64}
        )
        assert response.status_code == 400
    signed = b"not json"
    response = stack.client.post(
        "/paytabs/ipn", data=signed, headers={"Signature": sign_ipn(signed, SERVER_KEY)}
    )
    assert response.get_json()["error"]["code"] == "malformed_body"
    for _ in range(2):
        response = stack.client.post("/paytabs/return", data={"cartId": "x", "signature": "0"})
        assert response.status_code == 400
    samples = scrape(stack)
    assert value(samples, name, channel="ipn", reason="invalid_signature") == 3
    assert value(samples, name, channel="ipn", reason="malformed_body") == 1
    assert value(samples, name, channel="return", reason="invalid_signature") == 2
    paid_and_fulfilled(stack)  # genuine notifications are not rejected
    assert value(scrape(stack), name, channel="ipn", reason="invalid_signature") == 3
