"""The worker is woken the moment the web side queues a job; polling stays the safety net."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sidecar.core.config import ConfigError, load_settings
from sidecar.core.throttled_log import Throttle
from sidecar.jobs import wakeup
from sidecar.jobs.worker import serve_queue
from sidecar.paytabs.errors import PayTabsTransportError
from tests.support.processes import start_worker, stop, wait_for
from tests.support.stack import Stack


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short directory for sockets (a Unix socket path is at most 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="wk-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Watched(wakeup.Listener):
    """A listener that tells the test when the worker waits and whether a wait was a wake-up."""

    def __init__(self, path: str | None) -> None:
        super().__init__(path)
        self.idle = threading.Event()
        self.woken = threading.Event()

    def wait(self, timeout: float) -> bool:
        self.idle.set()
        woken = super().wait(timeout)
        if woken:
            self.woken.set()
        return woken


def test_wakeup_listener_returns_when_a_byte_is_sent(socket_dir: Path) -> None:
    path = str(socket_dir / "w.sock")
    listener = wakeup.Listener(path)
    try:
        assert listener.path == path
        assert wakeup.wake(path) and wakeup.wake(path)
        assert listener.wait(60) is True  # not the 60 s timeout: both bytes read at once
        assert listener.wait(0) is False
    finally:
        listener.close()
    assert not Path(path).exists()


def test_wakeup_listener_replaces_a_stale_socket_file(socket_dir: Path) -> None:
    path = str(socket_dir / "w.sock")
    wakeup.Listener(path).close()
    Path(path).touch()  # as left by a worker that was killed
    listener = wakeup.Listener(path)
    try:
        assert listener.path == path and wakeup.wake(path)
        assert listener.wait(60) is True
    finally:
        listener.close()


def test_wakeup_listener_without_a_socket_still_waits_and_stops(socket_dir: Path) -> None:
    listener = wakeup.Listener(str(socket_dir / "missing" / "w.sock"))
    try:
        assert listener.path is None
        assert listener.wait(0.01) is False
        listener.interrupt()
        assert listener.wait(60) is True
    finally:
        listener.close()


def test_wakeup_send_pending_sends_only_after_a_job_was_queued(socket_dir: Path) -> None:
    path = str(socket_dir / "w.sock")
    wakeup.send_pending(None)  # forget what earlier tests in this thread queued
    listener = wakeup.Listener(path)
    try:
        assert wakeup.send_pending(path) is False
        wakeup.mark_pending()
        assert wakeup.send_pending(path) is True
        assert wakeup.send_pending(path) is False  # once per batch of jobs
        assert listener.wait(60) is True
    finally:
        listener.close()


def test_wakeup_failure_is_logged_once_per_interval(
    socket_dir: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wakeup, "_throttle", Throttle(wakeup.THROTTLE_SECONDS))
    with caplog.at_level(logging.WARNING, logger="sidecar.jobs.wakeup"):
        assert wakeup.wake(str(socket_dir / "nobody.sock")) is False
        assert wakeup.wake(str(socket_dir / "nobody.sock")) is False
    assert len([r for r in caplog.records if "could not wake" in r.message]) == 1


def test_wakeup_socket_setting_defaults_to_the_runtime_directory() -> None:
    base = {
        "SIDECAR_PUBLIC_URL": "https://pay.example.org",
        "SIDECAR_SHARED_SECRET": "s" * 40,
        "WP_BASE_URL": "https://example.org",
        "WP_API_USER": "admin",
        "WP_API_APP_PASSWORD": "abcd efgh ijkl mnop qrst uvwx",
        "WP_DATABASE_URL": "sqlite:///wp.sqlite3",
    }
    assert load_settings(base).wakeup_socket is None
    runtime = {**base, "RUNTIME_DIRECTORY": "/run/therapy-sidecar"}
    assert load_settings(runtime).wakeup_socket == "/run/therapy-sidecar/wakeup.sock"
    off = {**runtime, "SIDECAR_WAKEUP_SOCKET": "off"}
    assert load_settings(off).wakeup_socket is None
    for bad in ("relative.sock", "/" + "x" * 120):
        with pytest.raises(ConfigError, match="SIDECAR_WAKEUP_SOCKET"):
            load_settings({**base, "SIDECAR_WAKEUP_SOCKET": bad})


def test_wakeup_return_queued_by_the_web_is_run_without_waiting_for_the_poll(
    tmp_path: Path, database_url: str, socket_dir: Path
) -> None:
    path = str(socket_dir / "w.sock")
    stack = Stack(tmp_path, database_url, SIDECAR_WAKEUP_SOCKET=path)
    listener = Watched(path)
    stopping = threading.Event()
    # The worker polls every 60 s: only the wake-up can explain a job done within the test.
    worker = threading.Thread(
        target=serve_queue, args=(stack.services, listener, stopping), kwargs={"poll": 60.0}
    )
    try:
        intent = stack.start()
        fields = stack.pay(intent)
        worker.start()
        assert listener.idle.wait(10)  # the first drain found nothing; the worker sleeps
        assert stack.post_return(fields).status_code == 303  # queues the confirmation
        assert listener.woken.wait(30)
        # Confirmation, fulfilment and its e-mail ran one after the other on that one wake-up
        # (30 s: half the poll interval).
        assert wait_for(lambda: _settled(stack, intent.ref), 30)
    finally:
        stopping.set()
        listener.interrupt()
        worker.join(30)
        listener.close()
        stack.close()
    assert not worker.is_alive()  # stopped at once, not after its 60 s wait


def _settled(stack: Any, ref: str) -> bool:
    """Tell whether the intent is fulfilled and its jobs (the e-mail too) are all done."""
    intent = stack.intent(ref)
    open_jobs = stack.count(
        "jobs", "intent_id = ? AND state IN ('pending', 'running')", (intent.id,)
    )
    return intent.state.value == "fulfilled" and not open_jobs


def test_wakeup_worker_process_is_woken_by_the_web_and_stops_at_once(
    tmp_path: Path, database_url: str, socket_dir: Path
) -> None:
    path = str(socket_dir / "w.sock")
    stack = Stack(tmp_path, database_url, SIDECAR_WAKEUP_SOCKET=path)
    log = tmp_path / "worker.log"
    # `sidecar worker` as systemd runs it, polling every 60 s: only the wake-up is quick.
    env = stack.process_env(SIDECAR_WAKEUP_SOCKET=path, SIDECAR_POLL_INTERVAL_SECONDS="60")
    worker = start_worker(env, log)
    try:
        intent = stack.start()
        fields = stack.pay(intent)
        assert wait_for(lambda: "worker started" in log.read_text(), 30, worker), log.read_text()
        assert "woken through" in log.read_text()  # bound before it says it started
        assert stack.post_return(fields).status_code == 303
        assert wait_for(lambda: _settled(stack, intent.ref), 30, worker), log.read_text()[-3000:]
    finally:
        code = stop(worker)
        stack.close()
    assert code == 0, log.read_text()[-3000:]  # SIGTERM ended its 60 s wait: no SIGKILL
    assert not Path(path).exists()


class PaidBeforeTheAnswer:
    """PayTabs makes the page, the buyer pays it, and the create answer is lost on the way back."""

    def __init__(self, stack: Stack, real: Any) -> None:
        self.stack = stack
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def create_payment_page(self, req: Any) -> Any:
        page = self.real.create_payment_page(req)
        self.stack.sim.pay(page.tran_ref, "4111111111111111")
        raise PayTabsTransportError("read timed out", timed_out=True)


def test_wakeup_checkout_adopting_an_approved_sale_wakes_the_worker(
    tmp_path: Path, database_url: str, socket_dir: Path
) -> None:
    path = str(socket_dir / "w.sock")
    stack = Stack(tmp_path, database_url, SIDECAR_WAKEUP_SOCKET=path)
    listener = Watched(path)
    try:
        real = stack.services.paytabs()
        stack.services.paytabs_factory = lambda _creds: PaidBeforeTheAnswer(stack, real)  # type: ignore[assignment,return-value]
        wakeup.send_pending(None)  # forget what earlier tests in this thread queued
        response = stack.checkout(stack.form())
        assert response.status_code == 303  # to the status page: PayTabs has the money already
        assert stack.count("jobs", "kind = 'confirm' AND state = 'pending'") == 1
        assert listener.wait(10)  # the byte the request sent, not the timeout
    finally:
        listener.close()
        stack.close()
