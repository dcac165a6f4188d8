"""What a wheel install carries: the migrations and the bridge plugin."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sidecar.store import db
from sidecar.store.db import MigrationsMissing, migration_files

ROOT = Path(__file__).resolve().parents[2]


def test_packaging_wheel_carries_migrations_and_the_bridge_plugin(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for path in sorted((ROOT / "sql").glob("*.sql")):
        assert any(n.endswith(f"data/share/therapy-sidecar/sql/{path.name}") for n in names), path
    assert "wp_bridge/wordpress/therapy-sidecar-bridge.php" in names
    assert any(n.startswith("wp_bridge/wordpress/therapy-sidecar-bridge/") for n in names)
    assert not [n for n in names if "wordpress/testing" in n], "test-only plugin in the wheel"
    assert not [n for n in names if n.startswith("tests/")]


def test_packaging_missing_migrations_are_an_error_not_up_to_date(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(db, "SQL_DIRS", (tmp_path / "nowhere",))
    with pytest.raises(MigrationsMissing, match="no migration files found"):
        migration_files("sqlite")
