"""Helpers for the tests against a real WordPress set up by .ci/wordpress-setup.sh.

The setup script writes its results (URL, application password, database URL, group ids...) as
KEY=VALUE lines to the file named by THERAPY_WP_ENV (default /tmp/therapy-wp.env). Without that file
the tests skip with "real WordPress not set up: run .ci/wordpress-setup.sh"; with CI=true they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import pymysql
import pytest
import requests

DEFAULT_ENV_FILE = "/tmp/therapy-wp.env"
NOT_SET_UP = "real WordPress not set up: run .ci/wordpress-setup.sh"
IN_CI = os.environ.get("CI", "") == "true"
REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 15
# Every intent ref a test makes starts with this, so that the tests can clean up after themselves.
REF_PREFIX = "rwp-"


def require(condition: bool, reason: str) -> None:
    """Skip with a visible reason, or fail when CI=true (CI must provide the real thing)."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the CI job must run .ci/wordpress-setup.sh first)")
    pytest.skip(reason)


def read_env_file(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines (optionally 'single' or "double" quoted); ignore comments."""
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1].replace("'\\''", "'")
        values[key.strip()] = value
    return values


@dataclass
class WPSite:
    """The real WordPress under test, as .ci/wordpress-setup.sh described it."""

    env: dict[str, str]
    session: requests.Session = field(default_factory=requests.Session)
    created_user_ids: list[int] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.env["WP_BASE_URL"].rstrip("/")

    @property
    def user(self) -> str:
        return self.env["WP_API_USER"]

    @property
    def app_password(self) -> str:
        return self.env["WP_API_APP_PASSWORD"]

    @property
    def auth(self) -> tuple[str, str]:
        return (self.user, self.app_password)

    @property
    def sidecar_url(self) -> str:
        """The sidecar's public base URL the plugin uses (its THERAPY_SIDECAR_URL)."""
        return self.env.get("SIDECAR_URL") or f"{self.base_url}/sidecar"

    @property
    def secret(self) -> str:
        return self.env["SIDECAR_SHARED_SECRET"]

    @property
    def prefix(self) -> str:
        return self.env.get("WP_TABLE_PREFIX", "wp_")

    def group_id(self, which: str = "") -> int:
        key = f"THERAPY_{which.upper()}_GROUP_ID" if which else "THERAPY_GROUP_ID"
        return int(self.env[key])

    def bp_group_id(self, which: str = "") -> int:
        key = f"THERAPY_{which.upper()}_BP_GROUP_ID" if which else "THERAPY_BP_GROUP_ID"
        return int(self.env[key])

    def url(self, route: str, params: dict[str, Any] | None = None) -> str:
        """A REST URL in the ?rest_route= form (works with and without pretty permalinks)."""
        url = f"{self.base_url}/?rest_route={route}"
        return f"{url}&{urlencode(params, doseq=True)}" if params else url

    def rest(
        self,
        method: str,
        route: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        auth: Any = "admin",
        session: requests.Session | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One REST call; auth="admin" uses the application password, None sends none."""
        return (session or self.session).request(
            method,
            self.url(route, params),
            json=json,
            auth=self.auth if auth == "admin" else auth,
            timeout=TIMEOUT,
            allow_redirects=False,
            **kwargs,
        )

    def db(self) -> pymysql.connections.Connection:
        """A new autocommit connection to the WordPress database (close it)."""
        parts = urlsplit(self.env["WP_DATABASE_URL"])
        return pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            database=parts.path.lstrip("/"),
            charset="utf8mb4",
            autocommit=True,
        )

    def query(self, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
        conn = self.db()
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, args)
                return list(cursor.fetchall())
        finally:
            conn.close()

    def create_user(self, **overrides: Any) -> dict[str, Any]:
        """Create a subscriber through core POST /wp/v2/users; it is deleted after the session."""
        token = uuid.uuid4().hex[:12]
        body = {
            "username": f"rwp_{token}",
            "email": f"rwp.{token}@example.test",
            "password": f"pw-{token}-Secret",
            "first_name": "Test",
            "last_name": f"Buyer {token[:4]}",
        }
        body.update(overrides)
        response = self.rest("POST", "/wp/v2/users", json=body)
        assert response.status_code == 201, response.text
        data = response.json()
        self.created_user_ids.append(int(data["id"]))
        return {**body, "id": int(data["id"]), "json": data}


def php_binary() -> str:
    """The php CLI; skip (fail in CI) when it is missing."""
    found = shutil.which("php")
    require(found is not None, "php CLI not installed (apt-get install php8.2-cli)")
    assert found is not None
    return found


def run_php(code: str, *, timeout: int = 30) -> subprocess.CompletedProcess[str]:
    """Run PHP code given on stdin with the php CLI."""
    return subprocess.run(
        [php_binary(), "-d", "display_errors=stderr", "--"],
        input=code,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
