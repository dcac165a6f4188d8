"""Fixtures: settings, the store on SQLite and on a real MariaDB, the app and its test client."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import mariadb

IN_CI = os.environ.get("CI", "").lower() == "true"
_db_counter = itertools.count()


def require_component(available: bool, reason: str) -> None:
    """Skip locally with a visible reason when a real component is missing; fail in CI."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI must provide it: see .ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[Any]:
    """A throwaway MariaDB server for the whole session (or the one SIDECAR_TEST_MYSQL_URL names)."""
    require_component(
        mariadb.available(),
        "MariaDB server binaries not installed (apt-get install mariadb-server)",
    )
    server = mariadb.MariaDBServer(Path(tempfile.mkdtemp(prefix="sidecar-mariadb-")))
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "mariadb"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once on SQLite and once on MariaDB: every store test runs on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sidecar.sqlite3'}"
    server = request.getfixturevalue("mariadb_server")
    return server.create_database(f"t{os.getpid()}_{next(_db_counter)}")


@pytest.fixture
def mariadb_url(mariadb_server: Any) -> str:
    """An empty database on the real MariaDB server (for concurrency tests)."""
    return mariadb_server.create_database(f"t{os.getpid()}_{next(_db_counter)}")


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[Any]:
    """Sidecar + PayTabs simulator + fake WordPress, on SQLite and on MariaDB."""
    from tests.support.stack import Stack

    s = Stack(tmp_path, database_url)
    yield s
    s.close()


@pytest.fixture
def maria_stack(tmp_path: Path, mariadb_url: str) -> Iterator[Any]:
    """The stack on the real MariaDB only (for races with real concurrency)."""
    from tests.support.stack import Stack

    s = Stack(tmp_path, mariadb_url)
    yield s
    s.close()


@pytest.fixture
def unsafe_stack(tmp_path: Path, mariadb_url: str) -> Iterator[Any]:
    """The stack on MariaDB with the locks switched off and the race windows widened."""
    from tests.support.stack import Stack

    s = Stack(tmp_path, mariadb_url, SIDECAR_TEST_UNSAFE="skip_locks,widen_races")
    yield s
    s.close()


@pytest.fixture
def widened_stack(tmp_path: Path, mariadb_url: str) -> Iterator[Any]:
    """The stack on MariaDB with the real locks and the same widened race windows."""
    from tests.support.stack import Stack

    s = Stack(tmp_path, mariadb_url, SIDECAR_TEST_UNSAFE="widen_races")
    yield s
    s.close()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the whole session (Playwright's sync API allows one driver)."""
    require_component(
        Path(CHROMIUM).exists(), f"{CHROMIUM} not installed (apt-get install chromium)"
    )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_component(False, "playwright is not installed (pip install -e '.[test]')")
        raise
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
