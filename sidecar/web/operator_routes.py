"""``/operator/v1``: the operator API the WordPress payments panel reads and acts through.

JSON in and out (docs/contracts.md, Operator API). Every request is checked before any handler
runs (``sidecar/ops/operator_auth.py``: a signed, single-use token for this very request); the
blueprint is rate-limited per client address (SIDECAR_RATELIMIT_OPERATOR, ``web/security.py``).
Refusals are ``{error: {code, message}}``: 401 for the token, 404 for an unknown ref, 409 for an
action the registration's state does not allow, 422 for bad input, 503 when PayTabs or WordPress
cannot be reached; never a 500 for an operator's mistake.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from sidecar.core.errors import SidecarError
from sidecar.domain.money import from_minor
from sidecar.domain.states import State
from sidecar.ops import actions
from sidecar.ops.cancel import BadAmount, cancel_and_refund
from sidecar.ops.operator_auth import OperatorAuthFailed, authenticate
from sidecar.ops.reasons import list_reason
from sidecar.ops.registrations import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    find_registration,
    find_registrations,
    needing_attention,
)
from sidecar.paytabs import PayTabsError
from sidecar.store.repository import Intent
from sidecar.web.context import services
from sidecar.web.responses import error_json
from wp_bridge.errors import WPBridgeError

bp = Blueprint("operator", __name__, url_prefix="/operator/v1")
log = logging.getLogger(__name__)
REASON_MAX = 200
STATES = {s.value for s in State}


class BadInput(Exception):
    """The request's parameters or body are not what the contract says (422)."""


@bp.before_request
def _authenticate() -> Response | None:
    """Refuse any request without a valid token for it; remember who acts."""
    try:
        g.operator_actor = authenticate(
            services(),
            authorization=request.headers.get("Authorization"),
            method=request.method,
            path=request.path,
            body=request.get_data(cache=True),
        )
    except OperatorAuthFailed as exc:
        log.warning("operator API refused %s %s: %s", request.method, request.path, exc.code)
        response = error_json(401, exc.code, str(exc))
        response.headers["WWW-Authenticate"] = "TherapySidecar"
        return response
    return None


@bp.get("/registrations")
def list_registrations() -> Response:
    """Search by e-mail, name, ref or tran_ref (``q``), by ``state``; newest first."""
    state = request.args.get("state") or None
    if state is not None and state not in STATES:
        raise BadInput(f"state must be one of {', '.join(sorted(STATES))}")
    limit = _limit(request.args.get("limit"))
    found = find_registrations(services(), text=request.args.get("q"), state=state, limit=limit)
    return jsonify({"registrations": [registration(i) for i in found]})


@bp.get("/attention")
def attention() -> Response:
    """The registrations in needs_attention (the dashboard widget)."""
    return jsonify({"registrations": [registration(i) for i in needing_attention(services())]})


@bp.get("/registrations/<ref>")
def show(ref: str) -> Response:
    """One registration and its timeline (as ``sidecar intents show --json``)."""
    intent = find_registration(services(), ref)
    found = actions.history(services(), ref)
    if intent is None or found is None:
        return _unknown(ref)
    return jsonify({"registration": registration(intent), "timeline": found["timeline"]})


@bp.post("/registrations/<ref>/redrive")
def redrive(ref: str) -> Response:
    """Send a stuck registration back to its worker."""
    _json_body()
    outcome = actions.redrive(services(), ref, source=g.operator_actor)
    _log_action("redrive", ref)
    return jsonify({"outcome": outcome.as_dict()})


@bp.post("/registrations/<ref>/cancel")
def cancel(ref: str) -> Response:
    """Cancel a fulfilled registration and refund it (all, or ``amount``)."""
    body = _json_body()
    amount, reason = body.get("amount"), body.get("reason")
    if amount is not None and not isinstance(amount, str):
        raise BadInput('amount must be a string like "50.00", or null for all that is left')
    if not isinstance(reason, str) or not reason.strip():
        raise BadInput("reason is required")
    if len(reason) > REASON_MAX:
        raise BadInput(f"reason must be at most {REASON_MAX} characters")
    outcome = cancel_and_refund(
        services(), ref, amount=amount, reason=reason.strip(), actor=g.operator_actor
    )
    _log_action("cancel", ref)
    return jsonify({"outcome": outcome.as_dict()})


# --- refusals --------------------------------------------------------------------------------


@bp.errorhandler(BadInput)
def _bad_input(exc: BadInput) -> Response:
    return error_json(422, "invalid_request", str(exc))


@bp.errorhandler(BadAmount)
def _bad_amount(exc: BadAmount) -> Response:
    return error_json(422, "invalid_amount", str(exc))


@bp.errorhandler(actions.OperatorRefused)
def _refused(exc: actions.OperatorRefused) -> Response:
    if str(exc).startswith("no intent with ref "):
        return error_json(404, "not_found", str(exc))
    return error_json(409, "refused", str(exc))


@bp.errorhandler(SidecarError)
def _sidecar_error(exc: SidecarError) -> Response:
    return error_json(exc.http_status, exc.code, str(exc) or exc.code.replace("_", " "))


@bp.errorhandler(WPBridgeError)
def _wordpress_error(exc: WPBridgeError) -> Response:
    return error_json(503, "wordpress_unavailable", f"WordPress: {exc}")


@bp.errorhandler(PayTabsError)
def _paytabs_error(exc: PayTabsError) -> Response:
    return error_json(503, "paytabs_unavailable", f"PayTabs: {exc}")


# --- shapes ----------------------------------------------------------------------------------


def registration(intent: Intent) -> dict[str, Any]:
    """Return the panel's view of one intent (no password, tokens, address or phone)."""
    name = " ".join(p for p in (intent.first_name, intent.last_name) if p) or None
    return {
        "ref": intent.ref,
        "state": intent.state.value,
        "reason": list_reason(intent),
        "group": intent.group_name,
        "group_id": intent.group_id,
        "amount": str(from_minor(intent.amount_minor, intent.currency)),
        "currency": intent.currency,
        "email": intent.email,
        "name": name,
        "tran_ref": intent.tran_ref,
        "created_at": iso(intent.created_at),
        "updated_at": iso(intent.updated_at),
        "hold_expires_at": iso(intent.hold_expires_at),
    }


def iso(epoch: float | None) -> str | None:
    """Return epoch seconds as ISO 8601 UTC ("2025-01-31T09:15:00Z"), or None."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _limit(given: str | None) -> int:
    if given is None or given == "":
        return DEFAULT_LIMIT
    if not given.isdigit() or not 1 <= int(given) <= MAX_LIMIT:
        raise BadInput(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(given)


def _json_body() -> dict[str, Any]:
    """Return the request's JSON object (an empty body counts as {})."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object")
    return body


def _unknown(ref: str) -> Response:
    return error_json(404, "not_found", f"no intent with ref {ref}")


def _log_action(action: str, ref: str) -> None:
    log.info("operator API: %s of %s by %s", action, ref, g.operator_actor)
