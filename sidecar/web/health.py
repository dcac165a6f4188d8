"""Operator endpoints: liveness and readiness (what is wrong, in words)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from sidecar.errors import SidecarError
from sidecar.web.context import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Answer 200 while the process serves requests."""
    return jsonify({"status": "alive"})


@bp.get("/readyz")
def readyz() -> Response:
    """Check the database, the PayTabs credentials and WordPress; 503 naming what is wrong."""
    svc = services()
    checks: dict[str, str] = {}
    try:
        with svc.db.transaction() as tx:
            tx.scalar("SELECT 1")
        checks["database"] = "ok"
    except SidecarError as exc:
        checks["database"] = f"unavailable: {exc}"
    try:
        creds = svc.credentials.get()
        checks["paytabs_credentials"] = f"ok (profile {creds.profile_id}, region {creds.region or 'custom URL'})"
    except SidecarError as exc:
        checks["paytabs_credentials"] = f"unavailable: {exc}"
    try:
        svc.wordpress.ping()
        checks["wordpress"] = "ok"
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure by its type, never raises
        checks["wordpress"] = f"unreachable: {type(exc).__name__}"
    ready = all(v.startswith("ok") for v in checks.values())
    response = jsonify({"ready": ready, "checks": checks})
    response.status_code = 200 if ready else 503
    return response
