"""On the real WordPress: readiness says "not ready", naming what is missing, when the bridge
mu-plugin or the (fake) BuddyPress REST routes are gone; the file is always put back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.realwp.helpers import WPSite, require
from tests.support.stack import Stack

pytestmark = pytest.mark.realwp

# Where .ci/wordpress-setup.sh installs the mu-plugins (Debian's wp-content).
DEFAULT_CONTENT_DIR = "/var/lib/wordpress/wp-content"


@pytest.fixture
def real_stack(tmp_path: Path, wp: WPSite) -> Iterator[Stack]:
    """Sidecar (SQLite) + PayTabs simulator + the real WordPress; a fresh client, nothing cached."""
    stack = Stack(tmp_path, f"sqlite:///{tmp_path / 'sidecar.sqlite3'}", real_wp=wp.env)
    yield stack
    stack.close()


@contextmanager
def moved_away(plugin: Path) -> Iterator[None]:
    """Rename a mu-plugin so WordPress stops loading it (only *.php files are), then restore it."""
    parked = plugin.with_name(plugin.name + ".parked-by-test")
    os.replace(plugin, parked)
    try:
        yield
    finally:
        os.replace(parked, plugin)


@pytest.mark.parametrize(
    ("plugin", "check", "words"),
    [
        ("therapy-sidecar-bridge.php", "wordpress_bridge", "therapy-sidecar/v1 is missing"),
        ("fake-buddypress-rest.php", "buddypress", "buddypress/v1 or buddypress/v2) is missing"),
    ],
)
def test_real_wp_readiness_names_a_missing_plugin(
    real_stack: Stack, wp: WPSite, plugin: str, check: str, words: str
) -> None:
    content = Path(os.environ.get("WP_CONTENT_DIR", DEFAULT_CONTENT_DIR))
    path = content / "mu-plugins" / plugin
    require(path.is_file() and os.access(path.parent, os.W_OK), f"cannot move {path} away")
    with moved_away(path):
        response = real_stack.client.get("/readyz")
    assert response.status_code == 503, response.get_json()
    checks = response.get_json()["checks"]
    assert words in checks[check], checks
    others = {name: v for name, v in checks.items() if name != check}
    assert all(v.startswith("ok") for v in others.values()), checks
    # Back in place: a fresh read (the client caches the index for a minute) says ready again.
    assert real_stack.wordpress.rest_index(max_age=0).missing() == []
