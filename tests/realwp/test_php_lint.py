"""`php -l` on every PHP file of the bridge plugin, the test plugins and the CI scripts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.realwp.helpers import REPO_ROOT, php_binary

pytestmark = pytest.mark.realwp

PHP_DIRS = (REPO_ROOT / "wp_bridge" / "wordpress", REPO_ROOT / ".ci" / "wordpress")
PHP_FILES = sorted(path for folder in PHP_DIRS for path in folder.rglob("*.php"))


def test_there_are_php_files_to_check() -> None:
    names = {path.name for path in PHP_FILES}
    assert {
        "therapy-sidecar-bridge.php",
        "fake-buddypress-rest.php",
        "install.php",
        "router.php",
    } <= names


@pytest.mark.parametrize("path", PHP_FILES, ids=lambda p: str(Path(p).relative_to(REPO_ROOT)))
def test_php_lint(path: Path) -> None:
    result = subprocess.run(
        [php_binary(), "-n", "-l", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax errors detected" in result.stdout
