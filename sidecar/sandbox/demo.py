"""``sidecar demo``: the whole payment flow on one machine, with no configuration at all.

On 127.0.0.1 it starts the sidecar (web app and worker), the PayTabs simulator and the in-memory
WordPress (seeded groups, the bridge routes, the registration, status and thank-you pages), with
SQLite underneath. The retreat's PayTabs credentials are written into a demo ``wp_options`` table
and read back through the normal CredentialStore, as in production. The browser tests build the
same stack with ``build_demo``.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import signal
import socket
import sqlite3
import tempfile
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import click
import phpserialize
import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from sidecar import create_app
from sidecar.core.config import MAX_SOCKET_PATH
from sidecar.core.container import Services
from sidecar.jobs.wakeup import Listener
from sidecar.jobs.worker import serve_queue, sweep_safely
from sidecar.sandbox.demo_env import cli_command, write_env_file
from sidecar.sandbox.paytabs_sim import PayTabsSimulator
from sidecar.sandbox.wordpress import create_wordpress_app, seed_demo_groups
from sidecar.store.db import migrate
from wp_bridge.client import WordPressClient
from wp_bridge.fake import FakeWordPress
from wp_bridge.models import GroupInfo

log = logging.getLogger(__name__)
HOST = "127.0.0.1"  # one spelling everywhere: cookies and CORS origins compare host names
DEFAULT_PORT_BASE = 8000
# The demo's ports, in this order from the port base N: N, N+1, N+2 (0: free ports).
SERVICES = ("sidecar", "paytabs", "wordpress")
LABELS = {"sidecar": "sidecar", "paytabs": "PayTabs simulator", "wordpress": "WordPress"}
FIRST_PORT, LAST_PORT = 1024, 65535
PROFILE_ID = 100001
APP_USER = "admin"
OPTION_NAME = "retreat_paytabs_settings"
DEMO_TIMEZONE = "Asia/Riyadh"


def listen(port: int) -> socket.socket:
    """Return a socket listening on ``HOST:port``, or on a free port when that one is taken."""
    for candidate in dict.fromkeys((port, 0)):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, candidate))
        except OSError:
            sock.close()
            continue
        sock.listen(128)
        return sock
    raise OSError("no free port on 127.0.0.1")


def port_base_problem(port_base: int) -> str | None:
    """Return why ``port_base`` cannot be the demo's, or None (0 means free ports)."""
    last = port_base + len(SERVICES) - 1
    if port_base == 0 or (port_base >= FIRST_PORT and last <= LAST_PORT):
        return None
    return (
        f"{port_base} puts the demo on ports {port_base}-{last}; the port base must be from "
        f"{FIRST_PORT} to {LAST_PORT - len(SERVICES) + 1} (or 0 for free ports)"
    )


def serve(sock: socket.socket, app: Any) -> BaseWSGIServer:
    """Return a threaded werkzeug server on an already listening socket (which it takes over)."""
    server = make_server(HOST, sock.getsockname()[1], app, threaded=True, fd=sock.fileno())
    sock.close()  # werkzeug works on a duplicate of the descriptor
    return server


def write_wp_options(path: Path, *, profile_id: int, server_key: str, region: str = "SAU") -> str:
    """Store the retreat's PayTabs settings as WordPress does (a serialized array option), and the
    site's timezone (Riyadh: the demo's buyers read the times a Saudi site shows)."""
    value = {"profile_id": str(profile_id), "server_key": server_key, "region": region}
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS wp_options (option_id INTEGER PRIMARY KEY, "
            "option_name VARCHAR(191) UNIQUE, option_value TEXT NOT NULL, "
            "autoload VARCHAR(20) DEFAULT 'yes')"
        )
        conn.execute(
            "INSERT OR REPLACE INTO wp_options (option_name, option_value) VALUES (?, ?)",
            (OPTION_NAME, phpserialize.dumps(value).decode("utf-8")),
        )
        conn.execute(
            "INSERT OR REPLACE INTO wp_options (option_name, option_value) VALUES (?, ?)",
            ("timezone_string", DEMO_TIMEZONE),
        )
    return f"sqlite:///{path}"


class Worker(threading.Thread):
    """The worker in a thread: drain the queue when woken or every ``poll`` s, sweep every ``sweep`` s."""

    def __init__(self, services: Services, *, poll: float, sweep: float) -> None:
        super().__init__(name="demo-worker", daemon=True)
        self.services, self.poll, self.sweep = services, poll, sweep
        self.stopping = threading.Event()
        self.listener: Listener | None = None  # bound when the thread starts
        self._next_sweep = time.monotonic()

    def run(self) -> None:
        """Loop until ``stop`` is called; the job in hand always finishes first."""
        listener = self.listener = Listener(self.services.settings.wakeup_socket)
        try:
            serve_queue(self.services, listener, self.stopping, poll=self.poll, between=self._sweep)
        finally:
            self.services.db.close()  # this thread's connection
            listener.close()

    def stop(self) -> None:
        """Ask the loop to end (at once if it is waiting)."""
        self.stopping.set()
        if self.listener is not None:
            self.listener.interrupt()

    def _sweep(self) -> None:
        if time.monotonic() >= self._next_sweep:
            sweep_safely(self.services)
            self._next_sweep = time.monotonic() + self.sweep


@dataclass
class DemoStack:
    """The running demo: URLs, the objects behind them, and how to stop it all."""

    sidecar_url: str
    paytabs_url: str
    wordpress_url: str
    services: Services
    fake: FakeWordPress
    sim: PayTabsSimulator
    groups: list[GroupInfo]
    data_dir: Path
    worker: Worker
    servers: dict[str, BaseWSGIServer]
    wp_session: requests.Session
    remove_data_dir: bool = False
    env_file: Path | None = None  # the settings the CLI reads (see instructions)
    taken: dict[str, int] = field(default_factory=dict)  # service -> its port that was busy
    _threads: dict[str, threading.Thread] = field(default_factory=dict)

    def url(self, name: str) -> str:
        """Return the URL of ``name`` (one of SERVICES)."""
        return {
            "sidecar": self.sidecar_url,
            "paytabs": self.paytabs_url,
            "wordpress": self.wordpress_url,
        }[name]

    @property
    def registration_url(self) -> str:
        """Where a person starts: the WordPress registration page."""
        return f"{self.wordpress_url}/therapy-registration/"

    def start(self) -> DemoStack:
        """Serve the three sites and start the worker."""
        for name, server in self.servers.items():
            thread = threading.Thread(target=server.serve_forever, name=f"demo-{name}", daemon=True)
            thread.start()
            self._threads[name] = thread
        self.worker.start()
        return self

    def stop(self) -> None:
        """Stop taking requests, let the worker finish its job, then close everything."""
        self._shutdown("sidecar")
        self.worker.stop()
        if self.worker.is_alive():  # it may still be talking to PayTabs or WordPress
            self.worker.join(15)
        self._shutdown("paytabs")
        self._shutdown("wordpress")
        self.sim.close()
        self.wp_session.close()
        self.services.db.close()
        if self.remove_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def _shutdown(self, name: str) -> None:
        thread = self._threads.get(name)
        if thread is not None:  # shutdown() would wait forever for a loop that never ran
            self.servers[name].shutdown()
            thread.join(5)
        self.servers[name].server_close()

    def __enter__(self) -> DemoStack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def demo_settings(urls: dict[str, str], data_dir: Path, wp_options_url: str) -> dict[str, Any]:
    """Return create_app's settings for the demo; the developer's .env and environment are ignored."""
    return {
        "SIDECAR_IGNORE_DOTENV": "1",
        "SIDECAR_IGNORE_ENVIRON": "1",
        "SIDECAR_ENV": "development",
        "SIDECAR_DATABASE_URL": f"sqlite:///{data_dir / 'sidecar.sqlite3'}",
        "SIDECAR_PUBLIC_URL": urls["sidecar"],
        "SIDECAR_SHARED_SECRET": secrets.token_urlsafe(32),
        "WP_BASE_URL": urls["wordpress"],  # exactly the origin the browser uses (CORS)
        "WP_API_USER": APP_USER,
        "WP_API_APP_PASSWORD": " ".join(secrets.token_hex(2) for _ in range(6)),
        "WP_DATABASE_URL": wp_options_url,
        "PAYTABS_BASE_URL": urls["paytabs"],
        "CLOSE_DB_AFTER_REQUEST": True,
        # The web side wakes the worker thread the moment it queues a confirmation.
        "SIDECAR_WAKEUP_SOCKET": wakeup_socket_for(data_dir),
    }


def wakeup_socket_for(data_dir: Path) -> str:
    """Return the wake-up socket in ``data_dir``, or "off" where its path would be too long."""
    path = str(data_dir.resolve() / "wakeup.sock")
    return path if len(path.encode()) <= MAX_SOCKET_PATH else "off"


def build_demo(
    *,
    port_base: int = DEFAULT_PORT_BASE,
    data_dir: Path | None = None,
    poll: float = 0.2,
    sweep: float = 30.0,
    settings: dict[str, Any] | None = None,
) -> DemoStack:
    """Build (not start) the demo on ports port_base, +1, +2 (sidecar, PayTabs, WordPress).

    port_base 0 takes free ports; a taken port falls back to a free one, named in ``taken``.
    """
    wanted = {name: port_base + offset if port_base else 0 for offset, name in enumerate(SERVICES)}
    socks = {name: listen(port) for name, port in wanted.items()}
    try:
        stack = _assemble(socks, data_dir, poll, sweep, settings or {})
        stack.taken = {
            name: port
            for name, port in wanted.items()
            if port and port != int(stack.url(name).rsplit(":", 1)[1])
        }
        return stack
    except BaseException:
        for sock in socks.values():
            sock.close()
        raise


def _assemble(
    socks: dict[str, socket.socket],
    data_dir: Path | None,
    poll: float,
    sweep: float,
    settings: dict[str, Any],
) -> DemoStack:
    """Build the three apps on their sockets; the WordPress store is seeded with demo groups."""
    urls = {name: f"http://{HOST}:{sock.getsockname()[1]}" for name, sock in socks.items()}
    data = Path(tempfile.mkdtemp(prefix="sidecar-demo-")) if data_dir is None else data_dir
    data.mkdir(parents=True, exist_ok=True)
    server_key = f"SDEMO{secrets.token_hex(3).upper()}-{secrets.token_hex(6).upper()}"
    sim = PayTabsSimulator(server_key=server_key, profile_id=PROFILE_ID, base_url=urls["paytabs"])
    session = requests.Session()
    try:
        app, config = _sidecar_app(urls, data, server_key, session, settings)
    except BaseException:
        sim.close()
        session.close()
        raise
    services: Services = app.extensions["sidecar"]
    fake = FakeWordPress(site_url=urls["wordpress"])
    groups = seed_demo_groups(fake)
    apps = {"sidecar": app, "paytabs": sim.app, "wordpress": _wordpress_app(fake, urls, config)}
    return DemoStack(
        sidecar_url=urls["sidecar"],
        paytabs_url=urls["paytabs"],
        wordpress_url=urls["wordpress"],
        services=services,
        fake=fake,
        sim=sim,
        groups=groups,
        data_dir=data,
        worker=Worker(services, poll=poll, sweep=sweep),
        servers={name: serve(socks[name], wsgi) for name, wsgi in apps.items()},
        wp_session=session,
        remove_data_dir=data_dir is None,
        env_file=write_env_file(data, config),
    )


def _wordpress_app(fake: FakeWordPress, urls: dict[str, str], config: dict[str, Any]) -> Flask:
    """Return the in-memory WordPress, sharing the sidecar's app password and shared secret."""
    return create_wordpress_app(
        fake,
        app_user=APP_USER,
        app_password=config["WP_API_APP_PASSWORD"],
        shared_secret=config["SIDECAR_SHARED_SECRET"],
        sidecar_url=urls["sidecar"],
        server_side_status=True,
    )


def _sidecar_app(
    urls: dict[str, str],
    data: Path,
    server_key: str,
    session: requests.Session,
    settings: dict[str, Any],
) -> tuple[Flask, dict[str, Any]]:
    """Return the sidecar app (store migrated, credentials read back) and its configuration."""
    wp_options = write_wp_options(
        data / "wp-options.sqlite3", profile_id=PROFILE_ID, server_key=server_key
    )
    config = {**demo_settings(urls, data, wp_options), **settings}
    config["wordpress"] = WordPressClient(
        urls["wordpress"], APP_USER, config["WP_API_APP_PASSWORD"], session=session
    )
    app = create_app(config)
    services: Services = app.extensions["sidecar"]
    migrate(services.db)
    services.credentials.get()  # the options just written, read back the production way
    services.db.close()
    return app, config


def busy_lines(stack: DemoStack) -> list[str]:
    """Return one line per demo port that was taken, saying where that service went instead."""
    return [
        f"Port {port} ({LABELS[name]}) is taken: using {stack.url(name)} instead."
        for name, port in stack.taken.items()
    ]


def instructions(stack: DemoStack) -> str:
    """Return what the person running the demo reads."""
    busy = "".join(f"\n{line}" for line in busy_lines(stack))
    return f"""{busy}
Therapy Pay Sidecar demo is running.

  Open {stack.registration_url}

  Pick a group, fill in the form and continue to payment. On the PayTabs simulator page use
    4111 1111 1111 1111  approved: you are registered, logged in and taken to the thank-you page
    4000 0000 0000 0002  declined: nothing is created, the status page says so
    or press Cancel.
  "Log in as a demo member" (top right) tries the path of a buyer who already has an account.

  sidecar            {stack.sidecar_url}  (/healthz, /readyz, /metrics)
  PayTabs simulator  {stack.paytabs_url}  (/_sim/ledger)
  WordPress          {stack.wordpress_url}  (in memory: forgotten on exit)
  data               {stack.data_dir}

  The sidecar CLI (intents list, audit, check...) in another terminal, after:
    {cli_command(stack.env_file) if stack.env_file else "-"}

Press Ctrl-C to stop.
"""


def run_demo(*, port_base: int = DEFAULT_PORT_BASE, data_dir: str | Path | None = None) -> None:
    """Run the demo in the foreground until Ctrl-C (or SIGTERM), then stop everything cleanly.

    A port base outside 1024-65535 is refused as a bad ``--port-base`` (exit 2, no traceback).
    """
    problem = port_base_problem(port_base)
    if problem:
        raise click.BadParameter(problem, param_hint="'--port-base'")
    stopping = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    # Our own handlers: no KeyboardInterrupt in the middle of anything, and Ctrl-C works even
    # where a shell started us with SIGINT ignored.
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log of every poll
    try:
        stack = build_demo(port_base=port_base, data_dir=Path(data_dir) if data_dir else None)
        stack.start()
        print(instructions(stack), flush=True)
        stopping.wait()
        print("Stopping the demo…", flush=True)
        stack.stop()
        print("Stopped.", flush=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
