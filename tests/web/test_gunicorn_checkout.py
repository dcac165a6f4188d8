"""The shipped deployment shape for real: `sidecar migrate`, gunicorn with sidecar.web.gunicorn_conf, a
`sidecar worker` process, driven over loopback HTTP like nginx would, against the PayTabs simulator
and the sandbox WordPress served by the test process."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import require_component
from tests.support.mariadb import free_port
from tests.support.processes import start_worker, stop, wait_for
from tests.support.stack import Stack

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
NGINX_HEADERS = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Prefix": "/sidecar",
    "X-Forwarded-Host": "example.org",
}


class Gunicorn:
    """gunicorn -c python:sidecar.web.gunicorn_conf as a child process, logs in files."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.out_path, self.err_path = cwd / "gunicorn.out", cwd / "gunicorn.err"
        self._out, self._err = open(self.out_path, "wb"), open(self.err_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", "python:sidecar.web.gunicorn_conf"],
            env=env,
            cwd=cwd,
            stdout=self._out,
            stderr=self._err,
        )

    def log_lines(self) -> list[str]:
        """Every line gunicorn wrote so far (access log on stdout, the rest on stderr)."""
        text = self.out_path.read_text() + self.err_path.read_text()
        return [line for line in text.splitlines() if line.strip()]

    def stop(self) -> int:
        """SIGTERM (graceful), then SIGKILL; close the log files."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._out.close()
        self._err.close()
        return int(self.proc.returncode)


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Simulator + sandbox WordPress in this process; migrations, gunicorn and a worker as processes."""
    stack = Stack(tmp_path, f"sqlite:///{tmp_path / 'stack.sqlite3'}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = stack.process_env(
        SIDECAR_DATABASE_URL=f"sqlite:///{tmp_path / 'state' / 'sidecar.sqlite3'}",
        SIDECAR_PUBLIC_URL=url,
        SIDECAR_WEB_BIND=f"127.0.0.1:{port}",
        SIDECAR_WEB_WORKERS="2",
        SIDECAR_WEB_THREADS="2",
        SIDECAR_TRUSTED_PROXIES="1",
        SIDECAR_RATELIMIT_STORAGE=f"sqlite:///{tmp_path / 'state' / 'ratelimit.sqlite3'}",
        SIDECAR_LOG_LEVEL="INFO",
    )
    migrated = subprocess.run(
        [str(BIN / "sidecar"), "migrate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    assert "applied" in migrated.stdout
    web = Gunicorn(env, tmp_path)
    session = requests.Session()
    worker = None
    try:
        assert wait_for(lambda: _alive(session, url), 60, None), web.err_path.read_text()[-2000:]
        worker = start_worker(env, tmp_path / "worker.log")
        yield {
            "stack": stack,
            "url": url,
            "web": web,
            "session": session,
            "tmp": tmp_path,
            "worker": worker,
        }
    finally:
        session.close()
        if worker is not None:
            stop(worker)
        web.stop()
        stack.close()


def _alive(session: requests.Session, url: str) -> bool:
    try:
        return session.get(f"{url}/healthz", timeout=5).status_code == 200
    except requests.RequestException:  # not listening yet, or the workers are still loading
        return False


def assert_security_headers(response: requests.Response) -> None:
    """The headers every sidecar answer carries (HSTS: only with an https public URL)."""
    headers = response.headers
    assert "default-src" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"


def test_gunicorn_checkout_redirects_to_paytabs_with_security_headers(
    deployed: dict[str, Any],
) -> None:
    stack, url, session = deployed["stack"], deployed["url"], deployed["session"]
    headers = {**NGINX_HEADERS, "X-Forwarded-For": "203.0.113.20"}
    response = session.post(
        f"{url}/therapy/checkout",
        data=stack.form(),
        headers=headers,
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 303, response.text[:500]
    assert response.headers["Location"].startswith(stack.sim_server.url + "/payment/page/")
    assert_security_headers(response)
    cookie = response.headers["Set-Cookie"]
    assert "Path=/sidecar/therapy/;" in cookie and "HttpOnly" in cookie
    ref = cookie.split("=", 1)[0].removeprefix("tps_")
    status = session.get(f"{url}/therapy/status/{ref}", timeout=10)
    assert status.status_code == 200 and status.json()["state"] == "awaiting_payment"
    assert_security_headers(status)
    assert status.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_gunicorn_payment_is_fulfilled_by_the_worker_process(deployed: dict[str, Any]) -> None:
    stack, url, session = deployed["stack"], deployed["url"], deployed["session"]
    response = session.post(
        f"{url}/therapy/checkout", data=stack.form(), allow_redirects=False, timeout=30
    )
    assert response.status_code == 303
    tran_ref = stack.sim.tran_ref_for_page(response.headers["Location"])
    assert tran_ref
    fields = stack.sim.pay(tran_ref)
    back = session.post(f"{url}/paytabs/return", data=fields, allow_redirects=False, timeout=10)
    assert back.status_code == 303 and "intent=" in back.headers["Location"]
    assert_security_headers(back)
    ref = back.headers["Location"].split("intent=", 1)[1].split("&", 1)[0]
    stack.deliver_ipns()

    def fulfilled() -> bool:
        return bool(
            session.get(f"{url}/therapy/status/{ref}", timeout=10).json()["state"] == "fulfilled"
        )

    assert wait_for(fulfilled, 60, deployed["worker"]), (
        deployed["tmp"] / "worker.log"
    ).read_text()[-3000:]
    answer = session.get(f"{url}/therapy/status/{ref}", timeout=10).json()
    assert (
        answer["done"] is True and "login_url" in answer
    )  # the session holds the paying browser's cookie
    worker_lines = [
        json.loads(line)
        for line in (deployed["tmp"] / "worker.log").read_text().splitlines()
        if line.startswith("{")
    ]
    assert any(line.get("role") == "worker" and "intent_id" in line for line in worker_lines)


def test_gunicorn_access_log_is_json_without_query_strings_or_cookies(
    deployed: dict[str, Any],
) -> None:
    url, session, web = deployed["url"], deployed["session"], deployed["web"]
    session.get(
        f"{url}/therapy/status/tp_logged_ref?grant=GRANTSECRETVALUE",
        headers={"Cookie": "tps_tp_logged_ref=COOKIESECRETVALUE", "X-Request-Id": "rid-77"},
        timeout=10,
    )
    session.get(
        f"{url}/paytabs/return?signature=SIGSECRETVALUE&tranRef=T1",
        allow_redirects=False,
        timeout=10,
    )
    assert wait_for(lambda: any("rid-77" in line for line in web.log_lines()), 10, None)
    lines = web.log_lines()
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {line["role"] for line in parsed} == {"web"}
    access = [line["message"] for line in parsed if line["logger"] == "gunicorn.access"]
    assert any('"GET /therapy/status/tp_logged_ref" 404' in m and "rid=rid-77" in m for m in access)
    text = "\n".join(lines)
    for secret in ("GRANTSECRETVALUE", "COOKIESECRETVALUE", "SIGSECRETVALUE"):
        assert secret not in text


def booted(web: Gunicorn) -> int:
    """How many workers gunicorn has started so far."""
    return sum("Booting worker" in line for line in web.log_lines())


def test_gunicorn_rate_limit_counts_live_outside_the_workers(deployed: dict[str, Any]) -> None:
    url, web = deployed["url"], deployed["web"]
    headers = {"Accept": "application/json", "X-Forwarded-For": "198.51.100.4"}

    def attempt() -> requests.Response:
        with requests.Session() as fresh:  # a new connection each time
            return fresh.post(f"{url}/therapy/checkout", data={}, headers=headers, timeout=10)

    first = [attempt().status_code for _ in range(6)]
    before = booted(web)
    web.proc.send_signal(signal.SIGHUP)  # every worker process is replaced
    assert wait_for(lambda: booted(web) >= before + 2, 30, None)
    time.sleep(0.5)  # the old workers finish and exit
    later = [attempt() for _ in range(5)]
    assert first + [a.status_code for a in later[:4]] == [422] * 10
    assert later[4].status_code == 429  # per-process memory would have forgotten the first six
    assert later[4].json()["error"]["code"] == "rate_limited"
    assert int(later[4].headers["Retry-After"]) >= 1


def test_gunicorn_reload_replaces_workers_without_downtime(deployed: dict[str, Any]) -> None:
    url, session, web = deployed["url"], deployed["session"], deployed["web"]

    before = booted(web)
    web.proc.send_signal(signal.SIGHUP)  # what `systemctl reload therapy-sidecar-web` sends
    deadline = time.monotonic() + 30
    answers = []
    while time.monotonic() < deadline and booted(web) < before + 2:
        answers.append(session.get(f"{url}/healthz", timeout=10).status_code)
        time.sleep(0.05)
    assert booted(web) >= before + 2
    assert set(answers) <= {200}
    assert session.get(f"{url}/healthz", timeout=10).status_code == 200
    assert web.proc.poll() is None


def test_gunicorn_serves_the_socket_systemd_hands_over(tmp_path: Path) -> None:
    """therapy-sidecar-web.socket: gunicorn takes the listening socket from LISTEN_FDS.

    systemd-socket-activate plays systemd: it holds the socket, queues the first connection and
    only then starts gunicorn, which is what a restart behind the socket unit looks like.
    """
    activate = shutil.which("systemd-socket-activate")
    require_component(
        activate is not None, "systemd-socket-activate not installed (apt-get install systemd)"
    )
    assert activate is not None
    stack = Stack(tmp_path, f"sqlite:///{tmp_path / 'stack.sqlite3'}")
    port = free_port()
    env = stack.process_env(
        SIDECAR_DATABASE_URL=f"sqlite:///{tmp_path / 'sidecar.sqlite3'}",
        SIDECAR_PUBLIC_URL=f"http://127.0.0.1:{port}",
        SIDECAR_WEB_BIND="127.0.0.1:1",  # ignored: the inherited socket wins
        SIDECAR_WEB_WORKERS="1",
    )
    passed = [arg for name in env for arg in ("-E", name)]
    out = open(tmp_path / "activated.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            activate,
            "-l",
            f"127.0.0.1:{port}",
            *passed,
            str(BIN / "gunicorn"),
            "--config",
            "python:sidecar.web.gunicorn_conf",
        ],
        env=env,
        cwd=tmp_path,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(0.3)  # listening, gunicorn not started yet
        response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=60)  # queued meanwhile
        assert response.status_code == 200 and response.json() == {"status": "alive"}
        log = (tmp_path / "activated.log").read_text()
        assert f"Listening at: http://127.0.0.1:{port} " in log  # not SIDECAR_WEB_BIND
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        out.close()
        stack.close()
