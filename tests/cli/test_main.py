"""The `sidecar` group itself: help without settings, --env-file, and one-line failures."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sidecar.cli import ops as cli_ops
from sidecar.cli.main import cli

cli_ops.register(cli)
SECRET = "k" * 40


@pytest.fixture(autouse=True)
def no_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test in an empty folder with no sidecar settings in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("SIDECAR_", "WP_", "PAYTABS_")):
            monkeypatch.delenv(name)


def run(*args: str) -> Result:
    """Invoke `sidecar ARGS...` as the console script would (no app handed in)."""
    return CliRunner().invoke(cli, list(args))


def settings_file(path: Path, database_url: str) -> Path:
    """Write a complete settings file and return its path."""
    path.write_text(
        f"SIDECAR_DATABASE_URL={database_url}\nSIDECAR_PUBLIC_URL=http://127.0.0.1:8000\n"
        f"SIDECAR_SHARED_SECRET={SECRET}\nWP_BASE_URL=http://127.0.0.1:8002\nWP_API_USER=admin\n"
        "WP_API_APP_PASSWORD=abcd efgh\nWP_DATABASE_URL=sqlite:///wp.sqlite3\n",
        encoding="utf-8",
    )
    return path


def closed_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_help_works_without_settings_and_has_no_flask_options() -> None:
    result = run("--help")
    assert result.exit_code == 0, result.output
    assert "--env-file" in result.output and "SIDECAR_ENV_FILE" in result.output
    for absent in ("--app", "--debug", "limiter", "Error", "Invalid configuration"):
        assert absent not in result.output


def test_cli_missing_settings_is_one_message_with_exit_2_and_no_usage() -> None:
    result = run("intents", "list")
    assert result.exit_code == 2
    assert "SIDECAR_PUBLIC_URL is required but not set" in result.output
    assert "--env-file" in result.output
    assert "Usage:" not in result.output and "Try 'sidecar --help'" not in result.output
    assert "Traceback" not in result.output


def test_cli_env_file_option_points_the_cli_at_a_settings_file(tmp_path: Path) -> None:
    path = settings_file(tmp_path / "demo.env", f"sqlite:///{tmp_path / 'side.sqlite3'}")
    result = run("--env-file", str(path), "migrate")
    assert result.exit_code == 0, result.output
    assert "applied" in result.output


def test_cli_env_file_variable_points_the_cli_at_a_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = settings_file(tmp_path / "demo.env", f"sqlite:///{tmp_path / 'side.sqlite3'}")
    monkeypatch.setenv("SIDECAR_ENV_FILE", str(path))
    assert run("migrate").exit_code == 0
    assert run("intents", "list").output.strip().endswith("0 intent(s)")


def test_cli_migrate_with_the_database_down_names_the_host_without_traceback(
    tmp_path: Path,
) -> None:
    port = closed_port()
    path = settings_file(tmp_path / "down.env", f"mysql://u:pw@127.0.0.1:{port}/sidecar")
    result = run("--env-file", str(path), "migrate")
    assert result.exit_code == 1
    assert f"cannot connect to MySQL at 127.0.0.1:{port}" in result.output
    assert "Connection refused" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
