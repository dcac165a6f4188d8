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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from sidecar import bench_load
from sidecar.bench_mariadb import BenchSetupError, MariaDB, free_port, require_binaries
from sidecar.bench_phases import (
    PROFILE_ID,
    Parts,
    probe_dependencies,
    run_checkouts,
    run_fulfilment,
    run_ipn,
)
from sidecar.bench_procs import (
    MemoryPeaks,
    ServedWordPress,
    gunicorn_settings,
    machine,
    start_gunicorn,
    stop_children,
)
from sidecar.bench_procs import start_simulator as start_sim
from sidecar.bench_report import Report, render
from sidecar.bench_sweeps import run_sweep_sizes
from sidecar.config import load_settings
from sidecar.db import Database, migrate
from sidecar.services import build_services

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


def _start_stack(
    base: Path, stack: ExitStack, progress: Callable[[str], None]
) -> tuple[Parts, Report]:
    progress("starting a throwaway MariaDB")
    db = MariaDB(base)
    stack.callback(db.stop)
    db.start()
    server_key = "SBENCH" + secrets.token_hex(14).upper()
    shared_secret, wp_password = secrets.token_urlsafe(48), secrets.token_urlsafe(18)
    db_url = db.create_database("sidecar")
    migrate(_closing(stack, Database(db_url)))
    report = Report(mariadb=db.version(), machine=machine(), sweep_db_url="")
    report.sweep_db_url = db.create_database("sidecar_sweeps")
    migrate(_closing(stack, Database(report.sweep_db_url)))
    wp_db_url = db.create_wordpress_options("wordpress", PROFILE_ID, server_key)
    progress("starting the PayTabs simulator and the sandbox WordPress")
    sim, sim_url = start_sim(
        {**clean_environ(), "PAYTABS_SERVER_KEY": server_key}, base, PROFILE_ID
    )
    stack.callback(sim.stop)
    web_port, noop_port = free_port(), free_port()
    wp = ServedWordPress(
        app_password=wp_password,
        shared_secret=shared_secret,
        sidecar_url=f"http://127.0.0.1:{web_port}",
    )
    stack.callback(wp.stop)
    env = {
        **clean_environ(),
        "SIDECAR_ENV": "production",
        "SIDECAR_DATABASE_URL": db_url,
        "SIDECAR_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        "SIDECAR_SHARED_SECRET": shared_secret,
        "WP_BASE_URL": wp.url,
        "WP_API_USER": "admin",
        "WP_API_APP_PASSWORD": wp_password,
        "WP_DATABASE_URL": wp_db_url,
        "PAYTABS_BASE_URL": sim_url,
        # Deployed with an SQLite counter file; every benchmark buyer comes from 127.0.0.1.
        "SIDECAR_RATELIMIT_STORAGE": f"sqlite:///{base}/ratelimit.sqlite3",
        "SIDECAR_RATELIMIT_CHECKOUT": "1000000/minute",
    }
    report.gunicorn = gunicorn_settings(env)
    memory = MemoryPeaks()
    stack.callback(memory.close)
    for role, port, app in (
        ("sidecar", web_port, None),
        ("no-op", noop_port, "sidecar.bench_noop:app"),
    ):
        progress(f"starting gunicorn ({role}) with sidecar/gunicorn_conf.py on port {port}")
        web = start_gunicorn(
            f"gunicorn-{role}", {**env, "SIDECAR_WEB_BIND": f"127.0.0.1:{port}"}, base, app
        )
        stack.callback(web.stop)
        memory.watch(f"gunicorn {role}", web.pid, with_children=True)
    parts = Parts(
        base=base, db=_closing(stack, Database(db_url)), db_url=db_url,
        web_url=f"http://127.0.0.1:{web_port}", noop_url=f"http://127.0.0.1:{noop_port}",
        sim_url=sim_url, wp=wp, worker_env={**env, "SIDECAR_SWEEP_INTERVAL_SECONDS": "3600"},
        server_key=server_key, shared_secret=shared_secret, memory=memory, progress=progress,
    )  # fmt: skip
    return parts, report


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
