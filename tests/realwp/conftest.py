"""Fixtures for the tests against a real WordPress set up by .ci/wordpress-setup.sh.

The setup script writes its results (URL, application password, database URL, group ids...) as
KEY=VALUE lines to the file named by THERAPY_WP_ENV (default /tmp/therapy-wp.env). Without that file
the tests skip with "real WordPress not set up: run .ci/wordpress-setup.sh"; with CI=true they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.realwp.helpers import (
    DEFAULT_ENV_FILE,
    NOT_SET_UP,
    REF_PREFIX,
    WPSite,
    read_env_file,
    require,
)


@pytest.fixture(scope="session")
def wp() -> Iterator[WPSite]:
    """The real WordPress; skips (or fails in CI) when .ci/wordpress-setup.sh has not run."""
    path = Path(os.environ.get("THERAPY_WP_ENV", DEFAULT_ENV_FILE))
    require(path.is_file(), NOT_SET_UP)
    site = WPSite(read_env_file(path))
    missing = [
        key
        for key in ("WP_BASE_URL", "WP_API_USER", "WP_API_APP_PASSWORD", "WP_DATABASE_URL")
        if not site.env.get(key)
    ]
    require(not missing, f"{path} lacks {', '.join(missing)}: run .ci/wordpress-setup.sh")
    try:
        reachable = site.session.get(site.url("/"), timeout=5).status_code == 200
    except requests.RequestException:
        reachable = False
    if not reachable:
        site.session.close()
    require(
        reachable, f"real WordPress at {site.base_url} does not answer: run .ci/wordpress-setup.sh"
    )
    yield site
    for user_id in site.created_user_ids:
        site.rest("DELETE", f"/wp/v2/users/{user_id}", params={"force": "true", "reassign": "1"})
    site.query(
        f"DELETE FROM {site.prefix}therapy_sidecar_bookings WHERE intent_ref LIKE %s",
        (REF_PREFIX + "%",),
    )
    site.query(
        f"DELETE FROM {site.prefix}therapy_sidecar_emails WHERE intent_ref LIKE %s",
        (REF_PREFIX + "%",),
    )
    site.session.close()


# Lines of WordPress's debug log (WP_DEBUG_LOG, written by the setup's config) that mean one of the
# plugins under test misbehaved.
OUR_FILES = (
    "therapy-sidecar-bridge",
    "fake-buddypress-rest",
    "therapy-test-mailbox",
    "therapy-test-hooks",
)


@pytest.fixture(autouse=True)
def no_php_notices_or_database_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that used the real WordPress: its requests left no PHP notice or database
    error from our plugins in the debug log (checked per test, so the culprit is named)."""
    if "wp" not in request.fixturenames:
        yield
        return
    site: WPSite = request.getfixturevalue("wp")
    log_path = Path(site.env.get("WP_DEBUG_LOG", ""))
    require(log_path.is_file(), f"WordPress debug log {log_path} not readable on this machine")
    start = log_path.stat().st_size
    yield
    with log_path.open("rb") as log:
        log.seek(start)
        added = log.read().decode("utf-8", errors="replace")
    problems = [
        line
        for line in added.splitlines()
        if "WordPress database error" in line or any(name in line for name in OUR_FILES)
    ]
    assert problems == [], "the plugins under test logged problems"


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A page in a fresh browser context (its own cookies: a new device)."""
    context = chromium.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def new_ref() -> Callable[[], str]:
    """Fresh intent references (cleaned up after the session)."""
    return lambda: f"{REF_PREFIX}{uuid.uuid4().hex[:16]}"


@pytest.fixture
def buyer(wp: WPSite) -> dict[str, Any]:
    """A fresh WordPress subscriber."""
    return wp.create_user()


@pytest.fixture
def empty_small_group(wp: WPSite) -> int:
    """The one-seat group, emptied of bookings (a test site: other runs may have filled it)."""
    group_id = wp.group_id("small")
    wp.query(f"DELETE FROM {wp.prefix}therapy_sidecar_bookings WHERE group_id = %s", (group_id,))
    return group_id


@pytest.fixture
def fresh_session() -> Iterator[requests.Session]:
    """A browser-like session with its own cookie jar."""
    session = requests.Session()
    yield session
    session.close()
