"""Runs last (file order): the requests of the other tests left no PHP warning or database error from
the plugins under test in WordPress's debug log (WP_DEBUG_LOG, written by the setup's config)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.realwp.helpers import WPSite, require

pytestmark = pytest.mark.realwp

OUR_FILES = ("therapy-sidecar-bridge", "fake-buddypress-rest", "therapy-test-mailbox")


def test_no_php_notices_or_database_errors_from_our_plugins(wp: WPSite) -> None:
    log_path = Path(wp.env.get("WP_DEBUG_LOG", ""))
    require(log_path.is_file(), f"WordPress debug log {log_path} not readable on this machine")
    problems = []
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        if "WordPress database error" in line or any(name in line for name in OUR_FILES):
            problems.append(line)
    assert problems == []
