"""Smoke test of ``sidecar bench --quick``: it runs end to end, prints every row, leaves nothing.

No figure is checked against anything: speed is measured by the benchmark, never by tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import require_component
from tests.support import mariadb

pytestmark = [pytest.mark.mariadb, pytest.mark.slow]

ROWS = [
    "IPN ack p50 / p99, 1 sender",
    "IPN ack p50 / p99, 16 senders",
    "IPN ack p50 / p99, 64 senders",
    "IPN acks/s, 1 sender",
    "IPN acks/s, 16 senders",
    "IPN acks/s, 64 senders",
    "paid -> fulfilled p50 / p95, WordPress 35 ms",
    "paid -> fulfilled p50 / p95, WordPress 200 ms",
    "return -> page told fulfilled p50 / p95 / max, long poll + wake-up, WordPress 35 ms",
    "return -> page told fulfilled p50 / p95 / max, polling today (worker 0.5 s, page 1.5 s)",
    "checkouts/s, 8 concurrent",
    "sweeps.run_all, 150 intents",
    "sweeps.run_all, 300 intents",
    "peak RSS, gunicorn sidecar ",
    "peak RSS, gunicorn sidecar workers",
    "peak RSS, sidecar worker",
]
COMMAND = ["bench", "--quick", "--sweep-sizes", "150,300"]


def processes_using(path: Path) -> list[str]:
    """Return the command lines of live processes whose arguments or cwd mention ``path``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if str(path) in cmdline or cwd.startswith(str(path)):
            found.append(cmdline)
    return found


def test_quick_bench_prints_every_row_and_cleans_up() -> None:
    require_component(
        mariadb.available(),
        "MariaDB server binaries not installed (apt-get install mariadb-server)",
    )
    # A short temp dir: MariaDB's socket path must stay under 108 characters.
    scratch = Path(tempfile.mkdtemp(prefix="bench-smoke-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIDECAR_", "WP_"))}
    try:
        done = subprocess.run(
            [sys.executable, "-c", "from sidecar.cli.main import main; main()", *COMMAND],
            capture_output=True,
            text=True,
            cwd=scratch,
            env={**env, "TMPDIR": str(scratch)},
            timeout=280,
            check=False,
        )
        leftovers = list(scratch.iterdir())
        running = processes_using(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout
    assert f"command  sidecar {' '.join(COMMAND)}" in table
    assert "machine  " in table and "date     " in table
    lines = table.splitlines()
    for label in ROWS:
        row = next((line for line in lines if line.startswith(label)), None)
        assert row is not None, f"missing row {label!r} in:\n{table}"
        assert any(unit in row for unit in (" ms", "/s", " MB")), row
    verdicts = [line.split()[-1] for line in lines if "<=" in line or ">=" in line]
    assert verdicts and set(verdicts) <= {"ok", "MISS"}, table
    assert "[bench" in done.stderr  # progress lines while it runs
    assert leftovers == [], leftovers
    assert running == [], running
