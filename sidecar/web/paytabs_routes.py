"""PayTabs' browser return and server-to-server IPN: verify, record, queue, answer at once."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from sidecar.domain import messages
from sidecar.ops.metrics import notification_recorded
from sidecar.payments.checkout import status_page_url
from sidecar.payments.notifications import (
    FAILURE_CODES,
    BadNotification,
    Recorded,
    handle_ipn,
    handle_return,
)
from sidecar.web.context import services
from sidecar.web.responses import error_json, message_page

bp = Blueprint("paytabs", __name__)


@bp.post("/paytabs/ipn")
def ipn() -> Response:
    """Answer 200 once recorded and queued (duplicates too), 400 for a bad signature or body."""
    raw = request.get_data(cache=False)
    try:
        recorded = handle_ipn(
            services(), raw, request.headers.get("Signature"), dict(request.headers)
        )
    except BadNotification as exc:
        if exc.recorded is not None:
            count(exc.recorded)
        return error_json(400, exc.code, exc.message)
    count(recorded)
    return jsonify({"received": True, "outcome": recorded.outcome})


@bp.route("/paytabs/return", methods=["GET", "POST"])
def paytabs_return() -> BaseResponse:
    """Send the buyer (303, cookies need a same-site GET) to the registration status page."""
    fields = request.form if request.method == "POST" else request.args
    recorded = handle_return(services(), {k: fields.get(k, "") for k in fields})
    count(recorded)
    if recorded.intent is None:
        return message_page(
            400, messages.RETURN_NOT_RECOGNISED_TITLE, messages.RETURN_NOT_RECOGNISED
        )
    code = FAILURE_CODES.get(recorded.status or "")
    return redirect(status_page_url(recorded.intent, code), code=303)


def count(recorded: Recorded) -> None:
    """Count a logged notification in this process's metrics (its channel, outcome, refusal)."""
    notification_recorded(
        services(), recorded.channel, recorded.outcome, recorded.signature_ok, recorded.rejected
    )
