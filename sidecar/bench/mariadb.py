"""A throwaway MariaDB server for ``sidecar bench``: Debian's binaries, a temp data dir, loopback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

import phpserialize
import pymysql

MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"


class BenchSetupError(Exception):
    """Something the benchmark needs is missing or did not start; the message says what to do."""


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_binaries() -> None:
    """Fail with the install command when MariaDB's server binaries are missing."""
    missing = [path for path in (MARIADBD, INSTALL_DB) if not os.path.exists(path)]
    if missing:
        raise BenchSetupError(
            f"MariaDB's server binaries are missing ({', '.join(missing)}): "
            "install them with `apt-get install mariadb-server` (the benchmark starts its own "
            "throwaway server; the system service may stay stopped)"
        )


class MariaDB:
    """``mariadbd`` with Debian's defaults on a free loopback port and a private data dir."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.datadir = base / "mariadb-data"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        """Initialise the data dir and start the server; wait until it accepts connections."""
        require_binaries()
        user = ["--user=root"] if os.geteuid() == 0 else []
        init_args = [INSTALL_DB, f"--datadir={self.datadir}", "--skip-test-db", *user]
        init = subprocess.run(  # noqa: S603 - fixed binaries, arguments built here
            [*init_args, "--auth-root-authentication-method=normal"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
        if init.returncode != 0:
            raise BenchSetupError(f"mariadb-install-db failed: {init.stderr.decode()[-500:]}")
        self._log = open(self.base / "mariadb.log", "wb")  # noqa: SIM115 - closed in stop()
        where = [f"--datadir={self.datadir}", f"--socket={self.base / 'mysqld.sock'}"]
        network = [f"--port={self.port}", "--bind-address=127.0.0.1", "--skip-name-resolve"]
        self.process = subprocess.Popen(  # noqa: S603
            [MARIADBD, "--no-defaults", *where, *network, "--max-connections=300", *user],
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,  # Ctrl-C reaches the benchmark only; it stops the server
        )
        self._wait_ready()

    @property
    def pid(self) -> int:
        """The server's process id (0 before it starts)."""
        return self.process.pid if self.process is not None else 0

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.connect().close()
                return
            except pymysql.err.OperationalError:
                if self.process is not None and self.process.poll() is not None:
                    log = (self.base / "mariadb.log").read_text(errors="replace")[-1500:]
                    raise BenchSetupError(f"mariadbd exited:\n{log}") from None
                time.sleep(0.2)
        raise BenchSetupError("MariaDB did not accept connections within 60 s")

    def connect(self, database: str | None = None) -> pymysql.connections.Connection:
        """Open a root connection (autocommit)."""
        return pymysql.connect(
            host="127.0.0.1", port=self.port, user="root", password="", database=database,
            autocommit=True, charset="utf8mb4",
        )  # fmt: skip

    def url(self, database: str) -> str:
        """Return the database URL of ``database`` on this server."""
        return f"mysql://root@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        conn.close()
        return self.url(name)

    def create_wordpress_options(self, name: str, profile_id: int, server_key: str) -> str:
        """Create a WordPress database whose options hold the retreat's PayTabs settings."""
        url = self.create_database(name)
        value = phpserialize.dumps(
            {"profile_id": str(profile_id), "server_key": server_key, "region": "SAU"}
        ).decode()
        conn = self.connect(name)
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE wp_options (option_id BIGINT AUTO_INCREMENT PRIMARY KEY,"
                " option_name VARCHAR(191) UNIQUE, option_value LONGTEXT NOT NULL,"
                " autoload VARCHAR(20) NOT NULL DEFAULT 'yes')"
            )
            cur.execute(
                "INSERT INTO wp_options (option_name, option_value) VALUES (%s, %s)",
                ("retreat_paytabs_settings", value),
            )
        conn.close()
        return url

    def version(self) -> str:
        """Return the server's version string."""
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            row = cur.fetchone()
        conn.close()
        return str(row[0]) if row else "?"

    def stop(self) -> None:
        """Stop the server (its data dir goes with the benchmark's temp dir)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
