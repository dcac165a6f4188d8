"""Processes and servers ``sidecar bench`` starts: simulator, gunicorn, worker, sandbox WordPress."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, ClassVar

import requests

from sidecar.bench.mariadb import BenchSetupError, free_port
from sidecar.sandbox.wordpress import make_wordpress_server
from wp_bridge.fake import FakeWordPress

GUNICORN = [sys.executable, "-m", "gunicorn", "--config", "python:sidecar.web.gunicorn_conf"]
SIMULATOR = [sys.executable, "-m", "sidecar.sandbox.paytabs_sim"]


def sidecar_script() -> list[str]:
    """Return the ``sidecar`` console script next to this Python (the venv's), or on PATH."""
    beside = Path(sys.executable).with_name("sidecar")
    found = str(beside) if beside.exists() else shutil.which("sidecar")
    return [found] if found else [sys.executable, "-c", "from sidecar.cli.main import main; main()"]


class Child:
    """A subprocess in its own session, logging to a file, stopped with SIGTERM then SIGKILL."""

    started: ClassVar[list[Child]] = []  # every child, so that a cleanup can miss none

    def __init__(self, name: str, argv: list[str], env: dict[str, str], base: Path) -> None:
        self.name = name
        self.log_path = base / f"{name}.log"
        self._log: IO[bytes] = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and scripts
            argv, env=env, cwd=base, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the benchmark only; it stops its children
        )  # fmt: skip
        Child.started.append(self)

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def log_tail(self, chars: int = 1500) -> str:
        """Return the end of the process's log."""
        return self.log_path.read_text(errors="replace")[-chars:]

    def wait_until(self, ready: Any, what: str, timeout: float = 60.0) -> None:
        """Poll ``ready()`` until true; raise BenchSetupError with the log if the child died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            if self.process.poll() is not None:
                raise BenchSetupError(f"{self.name} exited before {what}:\n{self.log_tail()}")
            time.sleep(0.1)
        raise BenchSetupError(f"{self.name}: no {what} within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 40.0) -> None:
        """Stop the process (gracefully first) and close its log."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()


def stop_children() -> None:
    """Stop every child still running (the last line of the cleanup)."""
    while Child.started:
        Child.started.pop().stop()


def answers(url: str) -> bool:
    """Tell whether ``url`` answers 200 right now."""
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def start_simulator(env: dict[str, str], base: Path, profile_id: int) -> tuple[Child, str]:
    """Start the PayTabs simulator as a process; return it and its URL."""
    port = free_port()
    argv = [*SIMULATOR, "--port", str(port), "--profile-id", str(profile_id)]
    child = Child("paytabs-sim", argv, env, base)
    url = f"http://127.0.0.1:{port}"
    child.wait_until(lambda: answers(f"{url}/_sim/config"), "an answer on /_sim/config")
    return child, url


def start_gunicorn(name: str, env: dict[str, str], base: Path, app: str | None = None) -> Child:
    """Start gunicorn with the shipped config (SIDECAR_WEB_BIND in ``env``); wait for /healthz."""
    child = Child(name, [*GUNICORN, *([app] if app else [])], env, base)
    url = f"http://{env['SIDECAR_WEB_BIND']}"
    child.wait_until(lambda: answers(f"{url}/healthz"), "an answer on /healthz")
    return child


def start_worker(env: dict[str, str], base: Path) -> Child:
    """Start ``sidecar worker`` as production runs it; wait for its start line."""
    child = Child("worker", [*sidecar_script(), "worker"], env, base)
    child.wait_until(lambda: "worker started" in child.log_tail(20_000), "its start line")
    return child


class CountingWordPress(FakeWordPress):
    """The in-memory WordPress, noting when each call (after which it waits its latency) began."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.call_times: list[float] = []
        self._times_lock = threading.Lock()

    def _gate(self) -> None:
        with self._times_lock:
            self.call_times.append(time.time())
        super()._gate()

    def calls_between(self, start: float, end: float) -> list[float]:
        """Return when each call that began between ``start`` and ``end`` began (unix seconds)."""
        with self._times_lock:
            return [at for at in self.call_times if start <= at <= end]


class ServedWordPress:
    """The sandbox WordPress over HTTP in a thread of the benchmark process."""

    def __init__(self, *, app_password: str, shared_secret: str, sidecar_url: str) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access line per call
        self.fake = CountingWordPress()
        self.group = self.fake.add_group(name="Benchmark circle", price="150.00", capacity=10**7)
        self.server = make_wordpress_server(
            "127.0.0.1", 0, fake=self.fake, app_user="admin", app_password=app_password,
            shared_secret=shared_secret, sidecar_url=sidecar_url,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def vm_hwm_kb(pid: int) -> int:
    """Return the process's peak resident set (VmHWM) in kB, or 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return 0
    return 0


def cpu_seconds(pid: int, *, with_children: bool = False) -> float:
    """Return the user + system CPU time of a process (and of its children, live or reaped)."""
    fields = _stat_fields(pid)
    if not fields:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if with_children:
        ticks += int(fields[13]) + int(fields[14])  # children already reaped: cutime, cstime
        ticks += sum(_own_ticks(child) for child in children_of(pid))
    return ticks / os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    """Return the fields of /proc/<pid>/stat after the command name (index 0 is the state)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def _own_ticks(pid: int) -> int:
    fields = _stat_fields(pid)
    return int(fields[11]) + int(fields[12]) if fields else 0


def children_of(pid: int) -> list[int]:
    """Return the ids of the live processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


class MemoryPeaks:
    """Peak RSS (VmHWM) per role, sampled in a thread: gunicorn replaces its workers now and then."""

    def __init__(self, interval: float = 0.5) -> None:
        self.peaks_kb: dict[str, int] = {}
        self.seen: dict[str, set[int]] = {}
        self._watched: dict[str, tuple[int, bool]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def watch(self, role: str, pid: int, *, with_children: bool = False) -> None:
        """Sample ``pid`` (and its children, as "<role> workers") until unwatched."""
        with self._lock:
            self._watched[role] = (pid, with_children)
        self.sample()

    def unwatch(self, role: str) -> None:
        """Take a last sample of ``role`` and stop watching it."""
        self.sample()
        with self._lock:
            self._watched.pop(role, None)

    def sample(self) -> None:
        """Read VmHWM of every watched process now."""
        with self._lock:
            watched = list(self._watched.items())
        for role, (pid, with_children) in watched:
            self._note(role, pid)
            for child in children_of(pid) if with_children else []:
                self._note(f"{role} workers", child)

    def _note(self, role: str, pid: int) -> None:
        kb = vm_hwm_kb(pid)
        if kb:
            with self._lock:
                self.peaks_kb[role] = max(kb, self.peaks_kb.get(role, 0))
                self.seen.setdefault(role, set()).add(pid)

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.sample()

    def close(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join(timeout=5)


def machine() -> str:
    """Describe the machine: cores, CPU model, memory."""
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    cores = len(os.sched_getaffinity(0))
    return f"{cores} cores (nproc), {cpu}, {mem_kb / 1024 / 1024:.1f} GiB RAM"


def gunicorn_settings(env: dict[str, str]) -> str:
    """Describe the shipped gunicorn config as it loads with ``env`` (worker class, processes)."""
    probe = "import sidecar.web.gunicorn_conf as c; print(c.worker_class, c.workers, c.threads)"
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return "gunicorn -c python:sidecar.web.gunicorn_conf"
    kind, workers, threads = done.stdout.split()
    return (
        f"web: gunicorn -c python:sidecar.web.gunicorn_conf ({kind}, {workers} workers x {threads}"
        " threads) on loopback; worker: `sidecar worker` process"
    )
