"""``sidecar bench``: measure the sidecar on loopback against MariaDB, the simulator and WordPress.

Everything runs on this machine: a throwaway MariaDB (Debian's binaries), the PayTabs simulator
(a process), the sandbox WordPress (a thread here, answering with a set delay), the web under
gunicorn with the shipped config (plus a do-nothing Flask app under the same config, for
comparison) and ``sidecar worker``. Everything it starts is stopped and removed, even on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import click

from sidecar.bench import load as bench_load
from sidecar.bench.mariadb import BenchSetupError, MariaDB, free_port, require_binaries
from sidecar.bench.measured import Report
from sidecar.bench.phases import (
    PROFILE_ID,
    Parts,
    run_checkouts,
    run_fulfilment,
    run_ipn,
)
from sidecar.bench.probe import probe_dependencies
from sidecar.bench.procs import (
    MemoryPeaks,
    ServedWordPress,
    gunicorn_settings,
    machine,
    start_gunicorn,
    stop_children,
)
from sidecar.bench.procs import start_simulator as start_sim
from sidecar.bench.report import render
from sidecar.bench.sweeps import run_sweep_sizes
from sidecar.bench.told import run_told
from sidecar.core.config import load_settings
from sidecar.core.container import build_services
from sidecar.store.db import Database, migrate

NOOP_APP = "sidecar.bench.noop:app"
__all__ = ["BenchOptions", "BenchSetupError", "main", "parse_sizes", "run_bench"]


@dataclass(frozen=True)
class BenchOptions:
    """What to measure and for how long."""

    ipn_seconds: float = 10.0
    ipn_levels: tuple[int, ...] = (1, 16, 64)
    checkout_seconds: float = 10.0
    checkout_concurrency: int = 8
    fulfil_samples: int = 20
    wp_latencies_ms: tuple[int, ...] = (35, 200)
    sweep_sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    sweep_repeats: int = 5
    command: str = "sidecar bench"


QUICK = BenchOptions(
    ipn_seconds=0.5,
    checkout_seconds=1.0,
    fulfil_samples=2,
    sweep_sizes=(200, 400, 800),
    sweep_repeats=2,
)


def parse_sizes(text: str) -> tuple[int, ...]:
    """Parse ``10000,100000`` (underscores allowed) into sizes; raise click.BadParameter."""
    try:
        sizes = tuple(
            int(part.strip().replace("_", "")) for part in text.split(",") if part.strip()
        )
    except ValueError:
        raise click.BadParameter("use whole numbers separated by commas") from None
    if not sizes or min(sizes) < 100:
        raise click.BadParameter("give at least one size, each at least 100")
    return tuple(sorted(set(sizes)))


def main(quick: bool, command: str, **overrides: Any) -> str:
    """Run the benchmark with the defaults (or --quick's) and the given overrides; return the table."""
    options = replace(QUICK if quick else BenchOptions(), command=command)
    options = replace(options, **{k: v for k, v in overrides.items() if v is not None})
    return run_bench(options)


def progress_printer() -> Callable[[str], None]:
    """Return a function printing progress lines on stderr, with the time since the start."""
    started = time.monotonic()

    def show(line: str) -> None:
        """Print one progress line."""
        click.echo(f"[bench {time.monotonic() - started:6.1f}s] {line}", err=True)

    return show


def run_bench(options: BenchOptions) -> str:
    """Start everything, run the phases, stop everything, and return the rendered table."""
    require_binaries()
    progress = progress_printer()
    started = time.monotonic()
    stack = ExitStack()
    try:
        with sigterm_as_interrupt():
            report = _run_phases(options, stack, progress)
    except BaseException:
        bench_load.STOP.set()
        raise
    finally:
        progress("stopping everything the benchmark started")
        with interrupts_ignored():
            stack.close()
    report.minutes = (time.monotonic() - started) / 60
    return render(report)


def _run_phases(options: BenchOptions, stack: ExitStack, progress: Callable[[str], None]) -> Report:
    base = Path(tempfile.mkdtemp(prefix="sidecar-bench-"))
    stack.callback(shutil.rmtree, base, ignore_errors=True)
    stack.callback(stop_children)
    parts, report = _start_stack(base, stack, progress)
    report.options = options
    progress("timing each dependency alone (simulator, WordPress, MariaDB)")
    report.probe = probe_dependencies(parts)
    report.checkout = run_checkouts(parts, options.checkout_seconds, options.checkout_concurrency)
    report.fulfil = run_fulfilment(parts, list(options.wp_latencies_ms), options.fulfil_samples)
    report.told = run_told(parts, options.fulfil_samples, options.wp_latencies_ms[0])
    report.ipn = run_ipn(parts, list(options.ipn_levels), options.ipn_seconds)
    parts.memory.sample()
    progress(f"sweeps: history sizes {', '.join(f'{s:,}' for s in options.sweep_sizes)}")
    sweep_env = {**parts.worker_env, "SIDECAR_DATABASE_URL": report.sweep_db_url}
    services = build_services(load_settings(sweep_env))
    stack.callback(services.db.close)
    report.sweeps = run_sweep_sizes(
        services, list(options.sweep_sizes), repeats=options.sweep_repeats, progress=progress
    )
    report.memory = dict(parts.memory.peaks_kb)
    report.workers_seen = {role: len(pids) for role, pids in parts.memory.seen.items()}
    report.load_end = os.getloadavg()[0]
    return report


@dataclass(frozen=True)
class Keys:
    """The run's fresh secrets: PayTabs server key, bridge shared secret, WordPress app password."""

    server_key: str = field(default_factory=lambda: "SBENCH" + secrets.token_hex(14).upper())
    shared_secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    wp_password: str = field(default_factory=lambda: secrets.token_urlsafe(18))


def _start_stack(
    base: Path, stack: ExitStack, progress: Callable[[str], None]
) -> tuple[Parts, Report]:
    keys = Keys()
    db, urls, report = _start_mariadb(base, stack, progress, keys)
    progress("starting the PayTabs simulator and the sandbox WordPress")
    sim_env = {**clean_environ(), "PAYTABS_SERVER_KEY": keys.server_key}
    sim, sim_url = start_sim(sim_env, base, PROFILE_ID)
    stack.callback(sim.stop)
    web_port, noop_port = free_port(), free_port()
    web_url = f"http://127.0.0.1:{web_port}"
    wp = ServedWordPress(
        app_password=keys.wp_password, shared_secret=keys.shared_secret, sidecar_url=web_url
    )
    stack.callback(wp.stop)
    env = sidecar_env(base, keys, urls, wp_url=wp.url, sim_url=sim_url, web_url=web_url)
    report.gunicorn = gunicorn_settings(env)
    memory = MemoryPeaks()
    stack.callback(memory.close)
    pids = {"MariaDB": db.pid, "simulator": sim.pid}
    for role, port, app in (("sidecar", web_port, None), ("no-op", noop_port, NOOP_APP)):
        progress(f"starting gunicorn ({role}) with sidecar/web/gunicorn_conf.py on port {port}")
        web_env = {**env, "SIDECAR_WEB_BIND": f"127.0.0.1:{port}"}
        web = start_gunicorn(f"gunicorn-{role}", web_env, base, app)
        stack.callback(web.stop)
        pids[f"web {role}"] = web.pid
        memory.watch(f"gunicorn {role}", web.pid, with_children=True)
    parts = Parts(
        base=base, db=_closing(stack, Database(urls["sidecar"])), db_url=urls["sidecar"],
        web_url=web_url, noop_url=f"http://127.0.0.1:{noop_port}", sim_url=sim_url, wp=wp,
        worker_env={**env, "SIDECAR_SWEEP_INTERVAL_SECONDS": "3600"}, server_key=keys.server_key,
        shared_secret=keys.shared_secret, memory=memory, progress=progress, pids=pids,
    )  # fmt: skip
    return parts, report


def _start_mariadb(
    base: Path, stack: ExitStack, progress: Callable[[str], None], keys: Keys
) -> tuple[MariaDB, dict[str, str], Report]:
    """Start MariaDB; create and migrate the sidecar's databases and WordPress's options."""
    progress("starting a throwaway MariaDB")
    db = MariaDB(base)
    stack.callback(db.stop)
    db.start()
    urls = {name: db.create_database(name) for name in ("sidecar", "sidecar_sweeps")}
    for url in urls.values():
        migrate(_closing(stack, Database(url)))
    urls["wordpress"] = db.create_wordpress_options("wordpress", PROFILE_ID, keys.server_key)
    report = Report(mariadb=db.version(), machine=machine(), sweep_db_url=urls["sidecar_sweeps"])
    return db, urls, report


def sidecar_env(
    base: Path, keys: Keys, urls: dict[str, str], *, wp_url: str, sim_url: str, web_url: str
) -> dict[str, str]:
    """Return the environment of the web and worker processes, as a deployment's env file."""
    return {
        **clean_environ(),
        "SIDECAR_ENV": "production",
        "SIDECAR_DATABASE_URL": urls["sidecar"],
        "SIDECAR_PUBLIC_URL": web_url,
        "SIDECAR_SHARED_SECRET": keys.shared_secret,
        "WP_BASE_URL": wp_url,
        "WP_API_USER": "admin",
        "WP_API_APP_PASSWORD": keys.wp_password,
        "WP_DATABASE_URL": urls["wordpress"],
        "PAYTABS_BASE_URL": sim_url,
        # Deployed with an SQLite counter file; every benchmark buyer comes from 127.0.0.1.
        "SIDECAR_RATELIMIT_STORAGE": f"sqlite:///{base}/ratelimit.sqlite3",
        "SIDECAR_RATELIMIT_CHECKOUT": "1000000/minute",
        "SIDECAR_RATELIMIT_STATUS": "1000000/minute",
        # As the systemd units' runtime directory: the web wakes the worker through it.
        "SIDECAR_WAKEUP_SOCKET": str(base / "wakeup.sock"),
    }


def _closing(stack: ExitStack, db: Database) -> Database:
    stack.callback(db.close)
    return db


def clean_environ() -> dict[str, str]:
    """Return this process's environment without any sidecar, WordPress or PayTabs setting."""
    prefixes = ("SIDECAR_", "WP_", "PAYTABS_", "FLASK_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C, so that the cleanup runs either way."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def interrupts_ignored() -> Iterator[None]:
    """Let the cleanup finish even if Ctrl-C is pressed again."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
