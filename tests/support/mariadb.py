"""A throwaway MariaDB server for the test session (Debian's binaries, a temp dir, a free port)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pymysql

MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"


def available() -> bool:
    """Tell whether MariaDB's server binaries are installed."""
    return os.path.exists(MARIADBD) and os.path.exists(INSTALL_DB)


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MariaDBServer:
    """Start ``mariadbd`` on loopback with a private data dir; stop and remove it afterwards."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.datadir = base / "data"
        self.socket = base / "mysqld.sock"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Initialise the data dir and start the server; wait until it accepts connections."""
        user = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run(
            [
                INSTALL_DB,
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *user,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        log = self._log = open(self.base / "mariadb.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                MARIADBD,
                "--no-defaults",
                f"--datadir={self.datadir}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--socket={self.socket}",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=64M",
                "--innodb-flush-log-at-trx-commit=2",
                "--max-connections=300",
                *user,
            ],
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                pymysql.connect(host="127.0.0.1", port=self.port, user="root", password="").close()
                return
            except pymysql.err.OperationalError:
                if self.process.poll() is not None:
                    raise RuntimeError((self.base / "mariadb.log").read_text()[-2000:]) from None
                time.sleep(0.2)
        raise RuntimeError("MariaDB did not start within 60 s")

    def url(self, database: str) -> str:
        """Return the SIDECAR_DATABASE_URL of ``database`` on this server."""
        return f"mysql://root@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        conn = pymysql.connect(host="127.0.0.1", port=self.port, user="root", password="")
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        conn.close()
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and remove its files."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()
        shutil.rmtree(self.base, ignore_errors=True)
