"""Operator endpoints: liveness and readiness (what is wrong, in words)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from sidecar.ops.health import readiness
from sidecar.web.context import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Answer 200 while the process serves requests."""
    return jsonify({"status": "alive"})


@bp.get("/readyz")
def readyz() -> Response:
    """Check the database, PayTabs credentials, WordPress, bridge and BuddyPress; 503 says what."""
    report = readiness(services())
    response = jsonify({"ready": report.ready, "checks": report.checks})
    response.status_code = 200 if report.ready else 503
    return response
