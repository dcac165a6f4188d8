"""Connections and transactions for SQLite and MariaDB/MySQL; migrations from sql/.

Nothing else in the sidecar knows which database is in use: the repository writes ``?`` placeholders
and asks ``Tx.for_update`` / ``Tx.skip_locked`` for the locking clauses.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pymysql
import pymysql.cursors

from sidecar.core.errors import DatabaseBusy, DatabaseUnavailable, DuplicateRow, SidecarError


class MigrationsMissing(SidecarError):
    """The installed package has no migration files: refuse rather than pretend all is applied."""

    code = "migrations_missing"


# The migrations live in sql/ beside the package in a checkout (or an editable install) and under
# <prefix>/share/therapy-sidecar/sql in a wheel install (pyproject's data-files).
SQL_DIRS = (
    Path(__file__).resolve().parents[2] / "sql",
    Path(sys.prefix) / "share" / "therapy-sidecar" / "sql",
)
MYSQL_BUSY = {1205, 1213}  # lock wait timeout, deadlock: the work is retried, never lost
MYSQL_GONE = {2002, 2003, 2006, 2013, 2055}


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed SIDECAR_DATABASE_URL (or WP_DATABASE_URL)."""

    dialect: str
    path: str = ""
    host: str = "127.0.0.1"
    port: int = 3306
    user: str = ""
    password: str = ""
    database: str = ""
    unix_socket: str | None = None

    @classmethod
    def parse(cls, url: str) -> DatabaseURL:
        """Parse sqlite:///path or mysql://user:pass@host:port/db?unix_socket=..."""
        parts = urlsplit(url)
        if parts.scheme == "sqlite":
            path = unquote(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else ""
            return cls(dialect="sqlite", path=path or ":memory:")
        if parts.scheme in ("mysql", "mysql+pymysql", "mariadb"):
            query = parse_qs(parts.query)
            return cls(
                dialect="mysql",
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 3306,
                user=unquote(parts.username or ""),
                password=unquote(parts.password or ""),
                database=parts.path.lstrip("/"),
                unix_socket=query.get("unix_socket", [None])[0],
            )
        raise ValueError("database URL must start with sqlite:/// or mysql://")

    def __repr__(self) -> str:
        return f"DatabaseURL({self.dialect}, {self.host if self.dialect == 'mysql' else self.path})"


def connect(url: DatabaseURL, *, read_only: bool = False) -> Any:
    """Open a DB-API connection in the sidecar's conventions (dict rows, explicit transactions)."""
    if url.dialect == "sqlite":
        if read_only:
            target, uri = f"file:{url.path}?mode=ro", True
        else:
            if url.path != ":memory:":
                Path(url.path).parent.mkdir(parents=True, exist_ok=True)
            target, uri = url.path, False
        try:
            conn = sqlite3.connect(
                target, timeout=30, isolation_level=None, check_same_thread=False, uri=uri
            )
        except sqlite3.OperationalError as exc:
            raise DatabaseUnavailable(f"cannot open the SQLite database {url.path}") from exc
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        if not read_only:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn
    try:
        conn = pymysql.connect(
            host=url.host,
            port=url.port,
            user=url.user,
            password=url.password,
            database=url.database,
            unix_socket=url.unix_socket,
            charset="utf8mb4",
            autocommit=True,
            cursorclass=pymysql.cursors.DictCursor,
            connect_timeout=5,
            read_timeout=60,
            write_timeout=60,
        )
    except pymysql.err.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to MySQL at {url.host}:{url.port}") from exc
    with conn.cursor() as cur:
        # READ COMMITTED: counts taken under a lock see the latest committed rows, never an old
        # REPEATABLE READ snapshot (which is how InnoDB oversells).
        cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cur.execute("SET SESSION innodb_lock_wait_timeout = 10")
        cur.execute("SET time_zone = '+00:00'")
    return conn


class Tx:
    """One open transaction: run statements, fetch dict rows."""

    def __init__(
        self, conn: Any, dialect: str, *, skip_locks: bool = False, race_pause: float = 0.0
    ):
        self.conn = conn
        self.dialect = dialect
        # Test-only switches (SIDECAR_TEST_UNSAFE), for the negative controls of the race tests.
        self.skip_locks = skip_locks
        self.race_pause = race_pause

    @property
    def for_update(self) -> str:
        """The row-locking suffix for SELECTs (SQLite already holds the write lock)."""
        return " FOR UPDATE" if self.dialect == "mysql" and not self.skip_locks else ""

    @property
    def skip_locked(self) -> str:
        """The suffix for claim queries: other workers skip rows this one holds."""
        return " FOR UPDATE SKIP LOCKED" if self.dialect == "mysql" and not self.skip_locks else ""

    def race_window(self) -> None:
        """Widen a critical section when a test asks for it (no-op in normal runs)."""
        if self.race_pause:
            time.sleep(self.race_pause)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement and return its cursor."""
        if self.dialect == "mysql":
            sql = sql.replace("?", "%s")
        try:
            cur = self.conn.cursor()
            cur.execute(sql, tuple(params))
            return cur
        except (sqlite3.IntegrityError, pymysql.err.IntegrityError) as exc:
            raise DuplicateRow(str(exc)) from exc
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise DatabaseBusy("the SQLite database is busy") from exc
            raise
        except pymysql.err.OperationalError as exc:
            _raise_mysql_operational(exc)
            raise

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        """Return the first row as a dict, or None."""
        row = self.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Return every row as a dict."""
        return [dict(row) for row in self.execute(sql, params).fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Return the first column of the first row, or None."""
        row = self.execute(sql, params).fetchone()
        if row is None:
            return None
        return next(iter(dict(row).values()))

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run an INSERT and return the new row's id."""
        return int(self.execute(sql, params).lastrowid)


def _raise_mysql_operational(exc: pymysql.err.OperationalError) -> None:
    code = exc.args[0] if exc.args else None
    if code in MYSQL_BUSY:
        raise DatabaseBusy(f"MySQL lock contention ({code})") from exc
    if code in MYSQL_GONE:
        raise DatabaseUnavailable(f"MySQL connection lost ({code})") from exc


class Database:
    """The sidecar's store: one connection per thread, transactions through ``transaction()``."""

    def __init__(
        self,
        url: str,
        *,
        read_only: bool = False,
        skip_locks: bool = False,
        race_pause: float = 0.0,
    ) -> None:
        self.url = DatabaseURL.parse(url)
        self.read_only = read_only
        self.dialect = self.url.dialect
        self.skip_locks = skip_locks
        self.race_pause = race_pause
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"Database({self.url!r})"

    def _connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.url, read_only=self.read_only)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection (the next transaction opens a new one)."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            # Closing a broken connection must not hide the original error.
            with contextlib.suppress(sqlite3.Error, pymysql.err.Error):
                conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """Open a transaction: commit when the block ends, roll back if it raises."""
        conn = self._begin_with_reconnect()
        tx = Tx(conn, self.dialect, skip_locks=self.skip_locks, race_pause=self.race_pause)
        try:
            yield tx
        except BaseException:
            self._rollback(conn)
            raise
        else:
            try:
                if self.dialect == "sqlite":
                    conn.execute("COMMIT")
                else:
                    conn.commit()
            except (sqlite3.OperationalError, pymysql.err.OperationalError) as exc:
                self._rollback(conn)
                self.close()
                raise DatabaseUnavailable("commit failed") from exc

    def _begin_with_reconnect(self) -> Any:
        for attempt in range(2):
            conn = self._connection()
            try:
                if self.dialect == "sqlite":
                    # IMMEDIATE takes the write lock at once: SQLite has one writer, so this is
                    # its row lock, and counts taken inside cannot go stale.
                    conn.execute("BEGIN" if self.read_only else "BEGIN IMMEDIATE")
                else:
                    conn.begin()
                return conn
            except sqlite3.OperationalError as exc:
                raise DatabaseBusy("the SQLite database is busy") from exc
            except (pymysql.err.OperationalError, pymysql.err.InterfaceError) as exc:
                self.close()
                if attempt == 1:
                    raise DatabaseUnavailable("the database is unavailable") from exc
                time.sleep(0.05)
        raise DatabaseUnavailable("the database is unavailable")

    def _rollback(self, conn: Any) -> None:
        try:
            if self.dialect == "sqlite":
                conn.execute("ROLLBACK")
            else:
                conn.rollback()
        except (sqlite3.Error, pymysql.err.Error):
            self.close()


def migration_files(dialect: str) -> list[tuple[str, Path]]:
    """Return (version, path) of every migration for ``dialect``, in order."""
    for directory in SQL_DIRS:
        paths = sorted(directory.glob(f"*.{dialect}.sql"))
        if paths:
            return [(path.name.split(".")[0], path) for path in paths]
    raise MigrationsMissing(
        "no migration files found (looked in "
        + ", ".join(str(d) for d in SQL_DIRS)
        + "): reinstall the sidecar"
    )


def migrate(db: Database) -> list[str]:
    """Apply the migrations not yet recorded in schema_migrations; return the versions applied."""
    with db.transaction() as tx:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version VARCHAR(64) NOT NULL PRIMARY KEY, applied_at DOUBLE NOT NULL)"
        )
    applied: list[str] = []
    for version, path in migration_files(db.dialect):
        with db.transaction() as tx:
            # The lock on the bookkeeping table makes two concurrent `migrate` runs take turns.
            done = tx.one(
                "SELECT version FROM schema_migrations WHERE version = ?" + tx.for_update,
                (version,),
            )
            if done:
                continue
            for statement in split_statements(path.read_text(encoding="utf-8")):
                tx.execute(statement)
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                (version, time.time()),
            )
        applied.append(version)
    return applied


def split_statements(script: str) -> list[str]:
    """Split a migration file on ';' at line ends, dropping comments and blank statements."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";\n") if part.strip().strip(";")]
