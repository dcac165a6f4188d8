"""JSON log lines, the correlation id (requests, jobs, wp_bridge) and redaction of secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sidecar.core.logs import (
    CORRELATION,
    Redactor,
    configure_logging,
    correlated_job,
    correlation,
    remember_server_key,
)
from sidecar.jobs import runner as jobs
from sidecar.payments.notifications import REJECTED_WARNING_SECONDS
from tests.support.stack import SERVER_KEY, SHARED_SECRET, Stack

CARD = "4111 1111 1111 1111"
FORM_PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture
def clean_root_logger() -> Iterator[None]:
    """Restore the root logger's handlers and level after a test that configures logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture
def captured(clean_root_logger: None) -> io.StringIO:
    """JSON logging of a worker process into a buffer."""
    stream = io.StringIO()
    configure_logging("worker", stream=stream, level="DEBUG")
    return stream


@pytest.fixture
def lone(tmp_path: Path) -> Iterator[Stack]:
    """The payment stack on SQLite."""
    s = Stack(tmp_path, f"sqlite:///{tmp_path / 'sidecar.sqlite3'}")
    yield s
    s.close()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Parse every line written so far (each must be one JSON object)."""
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_logging_writes_one_json_object_per_line(captured: io.StringIO) -> None:
    logging.getLogger("sidecar.test").info("hello %s", "world")
    logging.getLogger("sidecar.test").warning("two\nlines")
    first, second = lines(captured)
    assert first["message"] == "hello world" and first["level"] == "info"
    assert first["logger"] == "sidecar.test" and first["role"] == "worker"
    assert isinstance(first["pid"], int) and first["ts"].endswith("Z")
    assert second["message"] == "two\nlines"
    assert "ref" not in first and "intent_id" not in first


def test_logging_exceptions_become_an_exc_field(captured: io.StringIO) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("sidecar.test").exception("failed")
    (line,) = lines(captured)
    assert line["message"] == "failed" and "RuntimeError: boom" in line["exc"]


def test_logging_correlation_names_the_intent_and_is_reset(captured: io.StringIO) -> None:
    log = logging.getLogger("sidecar.test")
    with correlation("tp_abc"):
        log.info("by ref")
        with correlation(42):
            log.info("by id")
        log.info("ref again")
    log.info("none")
    by_ref, by_id, again, none = lines(captured)
    assert by_ref["ref"] == "tp_abc" and by_id["intent_id"] == 42 and again["ref"] == "tp_abc"
    assert "ref" not in none and CORRELATION.get() is None


def test_logging_wp_bridge_records_carry_the_correlation(captured: io.StringIO) -> None:
    with correlation("tp_wp"):
        logging.getLogger("wp_bridge.client").warning("WordPress answered 502")
    (line,) = lines(captured)
    assert line["logger"] == "wp_bridge.client" and line["ref"] == "tp_wp"


def test_logging_correlated_job_sets_the_intent_id() -> None:
    seen: list[object] = []

    @correlated_job
    def run(services: object, job: object) -> str:
        seen.append(CORRELATION.get())
        return "done"

    class Job:
        intent_id = 7

    assert run(None, Job()) == "done" and seen == [7] and CORRELATION.get() is None
    assert hasattr(jobs.run_job, "__wrapped__"), "sidecar.jobs.runner.run_job is correlated"


def test_logging_worker_jobs_log_with_their_intent_id(lone: Stack, captured: io.StringIO) -> None:
    intent = lone.start()
    lone.pay(intent)
    lone.deliver_ipns()
    lone.drain()
    job_lines = [line for line in lines(captured) if line["logger"] == "sidecar.jobs.runner"]
    assert job_lines, "run_job logs each job"
    assert all(line.get("intent_id") == intent.id for line in job_lines)


def test_logging_status_requests_carry_ref_and_request_id(
    lone: Stack, captured: io.StringIO
) -> None:
    @lone.app.after_request
    def _log(response: Any) -> Any:
        logging.getLogger("sidecar.web.test").info("answered %s", response.status_code)
        return response

    lone.client.get("/therapy/status/tp_known_ref", headers={"X-Request-Id": "req-123"})
    lone.client.get("/therapy/status/tp_other", headers={"X-Request-Id": 'bad"id x'})
    lone.client.get("/healthz")
    first, second, third = [
        line for line in lines(captured) if line["logger"] == "sidecar.web.test"
    ]
    assert first["ref"] == "tp_known_ref" and first["request_id"] == "req-123"
    assert second["ref"] == "tp_other" and len(second["request_id"]) == 16
    assert "ref" not in third and third["request_id"]
    assert CORRELATION.get() is None


def secrets_of(stack: Stack) -> list[str]:
    """The values that must never reach a log line."""
    return [
        SERVER_KEY,
        SHARED_SECRET,
        stack.services.settings.wp_api_app_password.reveal(),
        FORM_PASSWORD,
        CARD,
        CARD.replace(" ", ""),
        "amal.haddad@example.com",
    ]


def test_redaction_removes_real_secrets_from_messages_args_and_exceptions(
    lone: Stack, clean_root_logger: None
) -> None:
    stream = io.StringIO()
    configure_logging("web", lone.services.settings, stream=stream, level="DEBUG")
    remember_server_key(lone.services)
    log = logging.getLogger("sidecar.test")
    app_password = lone.services.settings.wp_api_app_password.reveal()
    log.info("server key %s and secret %s", SERVER_KEY, SHARED_SECRET)
    log.info(f"app password {app_password} / compact {app_password.replace(' ', '')}")
    log.info("form %r", {"password": FORM_PASSWORD, "email": "amal.haddad@example.com"})
    log.warning("card %s paid, also %s", CARD, CARD.replace(" ", "-"))
    log.info(
        "headers %s",
        {"Authorization": "Basic YWRtaW46ZmFrZSBhcHAgcGFzc3dvcmQ=", "Signature": "ab12"},
    )
    try:
        raise ValueError(f"PayTabs refused key {SERVER_KEY} for amal.haddad@example.com")
    except ValueError:
        log.exception("request failed with password=%s", FORM_PASSWORD)
    output = stream.getvalue()
    for secret in secrets_of(lone):
        assert secret not in output, secret
    assert "YWRtaW46" not in output and "ab12" not in output
    assert "[CARD ****1111]" in output and "a***@example.com" in output
    assert len(lines(stream)) == 6


def test_redaction_keeps_secrets_out_of_a_whole_payment(
    lone: Stack, clean_root_logger: None
) -> None:
    stream = io.StringIO()
    configure_logging("web", lone.services.settings, stream=stream, level="DEBUG")
    remember_server_key(lone.services)
    form = lone.form(email="amal.haddad@example.com", password=FORM_PASSWORD)
    response = lone.checkout(form)
    assert response.status_code == 303
    intent = lone.intent_by_key(form["idempotency_key"])
    fields = lone.pay(intent, card=CARD.replace(" ", ""))
    logging.getLogger("sidecar.test").info("return fields: %s", fields)
    lone.post_return(fields)
    lone.deliver_ipns()
    lone.drain()
    assert lone.intent(intent.ref).state.value == "fulfilled"
    output = stream.getvalue()
    assert output.count("\n") >= 5
    for secret in secrets_of(lone):
        assert secret not in output, secret
    assert fields["signature"] not in output


def test_redaction_masks_secret_shapes_without_knowing_them() -> None:
    redact = Redactor()
    text = redact(
        "key SABCDEFGHI-JKLMNOPQRS-TUVWXYZ012 token eyJ0eXAiOiJmb3JtIn0abc."
        + "A" * 43
        + " mysql://u:pw-123456@db/x password: 'two words' 5500-0000-0000-0004"
    )
    assert "SABCDEFGHI" not in text and "AAAA" not in text and "pw-123456" not in text
    assert "two words" not in text and "[CARD ****0004]" in text
    assert redact("tran TST2401234567890 at 1700000000.5 phone +966500000000") == (
        "tran TST2401234567890 at 1700000000.5 phone +966500000000"
    )


def test_redaction_never_drops_a_record_with_bad_arguments(captured: io.StringIO) -> None:
    logging.getLogger("sidecar.test").info("needs two %s %s", "only one")
    (line,) = lines(captured)
    assert "needs two" in line["message"]


def test_configure_logging_replaces_its_handler_and_basic_config(clean_root_logger: None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", force=False)
    configure_logging("worker", stream=io.StringIO())
    configure_logging("worker", stream=io.StringIO())
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_sidecar_json_handler", False)]
    plain = [
        h
        for h in logging.getLogger().handlers
        if type(h) is logging.StreamHandler and h not in ours
    ]
    assert plain == [] and len(ours) == 1


def test_remember_server_key_leaves_no_cached_failure(clean_root_logger: None) -> None:
    calls: list[str] = []

    class Credentials:
        def get(self) -> None:
            from sidecar.core.errors import CredentialsUnavailable

            calls.append("get")
            raise CredentialsUnavailable("options table unreachable")

        def forget(self) -> None:
            calls.append("forget")

    configure_logging("web", stream=io.StringIO())
    remember_server_key(type("Services", (), {"credentials": Credentials()})())
    assert calls == ["get", "forget"]


def test_redaction_masks_url_encoded_emails_in_urllib3_debug_lines(captured: io.StringIO) -> None:
    # urllib3's own format: the request line carries the search query, "@" encoded as %40.
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s',
        "http",
        "wp.test",
        80,
        "GET",
        "/?rest_route=/wp/v2/users&search=amal.haddad%2Bgroup%40example.com&context=edit",
        "HTTP/1.1",
        200,
        512,
    )
    (line,) = lines(captured)
    assert "haddad" not in line["message"] and "%2Bgroup" not in line["message"]
    assert "search=a***%40example.com&context=edit" in line["message"]


def test_redaction_masks_url_encoded_personal_data_it_masks_in_plain_text() -> None:
    redact = Redactor()
    assert redact("to=amal%2540example.com") == "to=a***%2540example.com"
    assert redact("card=4111+1111+1111+1111&x=4111%201111%201111%201111") == (
        "card=[CARD ****1111]&x=[CARD ****1111]"
    )
    assert redact("phone=%2B966500000000 tran TST2401234567890") == (
        "phone=%2B966500000000 tran TST2401234567890"
    )


def notification_lines(stream: io.StringIO, level: str) -> list[str]:
    """Messages of sidecar.payments.notifications at ``level`` written so far."""
    return [
        line["message"]
        for line in lines(stream)
        if line["logger"] == "sidecar.payments.notifications" and line["level"] == level
    ]


def test_logging_rejected_notifications_warn_once_per_channel_and_interval(
    lone: Stack, captured: io.StringIO
) -> None:
    """Fails on the previous main: each junk request was one INFO line, and none was a warning."""
    for _ in range(5):
        junk = lone.client.post("/paytabs/ipn", data=b"junk", headers={"Signature": "0" * 64})
        assert junk.status_code == 400
    for _ in range(3):
        assert lone.post_return({"cartId": "tp_x", "signature": "0"}).status_code == 400
    assert notification_lines(captured, "warning") == [
        "ipn notification rejected (invalid_signature); 0 more rejected on this channel since"
        " the last warning (count: sidecar_notifications_rejected_total)",
        "return notification rejected (invalid_signature); 0 more rejected on this channel since"
        " the last warning (count: sidecar_notifications_rejected_total)",
    ]
    assert notification_lines(captured, "info") == []  # per request only at DEBUG
    assert len(notification_lines(captured, "debug")) == 8
    lone.clock.advance(REJECTED_WARNING_SECONDS - 1)
    lone.client.post("/paytabs/ipn", data=b"junk", headers={"Signature": "0" * 64})
    assert len(notification_lines(captured, "warning")) == 2  # still within the interval
    lone.clock.advance(1)
    lone.client.post("/paytabs/ipn", data=b"junk", headers={"Signature": "0" * 64})
    warnings = notification_lines(captured, "warning")
    assert len(warnings) == 3 and warnings[-1].startswith(
        "ipn notification rejected (invalid_signature); 5 more rejected on this channel"
    )


def test_logging_genuine_notification_is_one_info_line_and_no_warning(
    lone: Stack, captured: io.StringIO
) -> None:
    intent = lone.start()
    lone.pay(intent)
    assert lone.deliver_ipns() == 1
    assert notification_lines(captured, "warning") == []
    assert notification_lines(captured, "info") == [f"ipn notification for {intent.ref}: queued"]
