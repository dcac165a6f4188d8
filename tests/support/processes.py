"""Run `sidecar worker` as a real process, kill it, start it again."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

WORKER = [sys.executable, "-c", "from sidecar.cli.main import main; main()", "worker"]


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start a worker process writing its log to ``log_path``."""
    log = open(log_path, "ab")  # noqa: SIM115 - the child owns it; closed in stop()
    proc = subprocess.Popen(WORKER, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc._log_file = log  # type: ignore[attr-defined]
    return proc


def wait_for(
    predicate: Callable[[], bool], timeout: float, proc: subprocess.Popen[bytes] | None = None
) -> bool:
    """Poll ``predicate`` until true or timeout; stop early if ``proc`` died (returns the predicate)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            return predicate()
        time.sleep(0.05)
    return predicate()


def stop(proc: subprocess.Popen[bytes]) -> int:
    """Stop a worker (SIGTERM, then SIGKILL) and return its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(15)
    proc._log_file.close()  # type: ignore[attr-defined]
    return int(proc.returncode)


def start_web(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """Start the sidecar web app under gunicorn (one sync worker) on a loopback port."""
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
    proc = subprocess.Popen(
        [gunicorn, "-w", "1", "-b", f"127.0.0.1:{port}", "app:create_app()"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )
    proc._log_file = log  # type: ignore[attr-defined]
    return proc


def answers(url: str) -> bool:
    """Tell whether the sidecar at ``url`` answers /healthz."""
    import requests

    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False
