"""``GET /therapy/status/<ref>``: polled by the WordPress registration status page."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from sidecar.status import buyer_status
from sidecar.web.checkout import browser_cookie_name
from sidecar.web.context import services

bp = Blueprint("status", __name__)


@bp.get("/therapy/status/<ref>")
def status(ref: str) -> Response:
    """Return the intent's state and message; the login link only to the paying browser."""
    if len(ref) > 40 or not ref.replace("_", "").replace("-", "").isalnum():
        response = jsonify(
            {"error": {"code": "intent_not_found", "message": "no such registration"}}
        )
        response.status_code = 404
        return response
    answer = buyer_status(services(), ref, request.cookies.get(browser_cookie_name(ref)))
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    return response
