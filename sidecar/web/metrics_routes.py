"""``GET /metrics``: the app's Prometheus registry in the text exposition format."""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST

from sidecar.ops.metrics import metrics_for
from sidecar.web.context import services

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    """Answer the current metrics (counts and ages only: no personal data, no secrets)."""
    body = metrics_for(services()).render()
    return Response(
        body, status=200, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}
    )
