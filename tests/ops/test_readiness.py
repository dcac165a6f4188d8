"""Readiness knows whether WordPress can fulfil: the bridge's routes and BuddyPress's groups routes.

`/readyz`, `sidecar check` and ``require_fulfilment_ready`` (called by checkout) read the same
verdicts from WordPress's REST index.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from sidecar.cli.main import cli
from sidecar.core.errors import FulfilmentUnavailable, WordPressUnavailable
from sidecar.payments.readiness import fulfilment_checks, require_fulfilment_ready
from tests.support.stack import Stack


@pytest.fixture
def lone(tmp_path: Path) -> Iterator[Stack]:
    """The payment stack on SQLite (readiness does not depend on the store's engine)."""
    s = Stack(tmp_path, f"sqlite:///{tmp_path / 'sidecar.sqlite3'}")
    yield s
    s.close()


def test_readiness_ready_site_names_the_bridge_and_the_buddypress_version(lone: Stack) -> None:
    response = lone.client.get("/readyz")
    assert response.status_code == 200
    checks = response.get_json()["checks"]
    assert checks["wordpress_bridge"] == "ok (therapy-sidecar/v1 routes)"
    assert checks["buddypress"] == "ok (groups routes, REST v1)"


def test_readiness_without_the_bridge_plugin_is_503_naming_it(lone: Stack) -> None:
    lone.wp.bridge_installed = False
    response = lone.client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["ready"] is False
    assert "therapy-sidecar/v1 is missing" in body["checks"]["wordpress_bridge"]
    assert body["checks"]["buddypress"].startswith("ok")


def test_readiness_without_buddypress_routes_is_503_naming_them(lone: Stack) -> None:
    lone.wp.buddypress_version = None
    response = lone.client.get("/readyz")
    assert response.status_code == 503
    verdict = response.get_json()["checks"]["buddypress"]
    assert "BuddyPress's REST API (buddypress/v1 or buddypress/v2) is missing" in verdict


def test_readiness_buddypress_15_with_rest_v2_only_is_ready(lone: Stack) -> None:
    lone.wp.buddypress_version = "v2"
    response = lone.client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["buddypress"] == "ok (groups routes, REST v2)"


def test_readiness_unreadable_index_is_not_ready(lone: Stack) -> None:
    lone.wp.down = True
    checks = fulfilment_checks(lone.services)
    assert all(v.startswith("unknown: WordPress's REST index") for v in checks.values())
    # WordPress not answering at all is the 503 checkout has always given for it.
    with pytest.raises(WordPressUnavailable):
        require_fulfilment_ready(lone.services)


def test_readiness_check_command_exits_1_naming_what_is_missing(lone: Stack) -> None:
    runner = lone.app.test_cli_runner()
    assert runner.invoke(cli, ["check"]).exit_code == 0
    lone.wp.bridge_installed = False
    result = runner.invoke(cli, ["check"])
    assert result.exit_code == 1
    assert "BAD wordpress_bridge: the bridge plugin's REST namespace" in result.output
    assert "ok  buddypress: ok (groups routes, REST v1)" in result.output


def test_require_fulfilment_ready_raises_503_saying_nothing_was_charged(
    lone: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    require_fulfilment_ready(lone.services)  # all there: no error
    lone.wp.buddypress_version = None
    with (
        caplog.at_level(logging.WARNING, logger="sidecar.payments.readiness"),
        pytest.raises(FulfilmentUnavailable) as info,
    ):
        require_fulfilment_ready(lone.services)
    assert info.value.http_status == 503 and info.value.code == "fulfilment_unavailable"
    assert "nothing was charged" in str(info.value)
    assert "BuddyPress" in caplog.text  # the operator learns why from the log
