"""``GET /therapy/calendar/<ref>.ics?sig=SIG``: the session's calendar entry, linked from the receipt.

No cookie is needed (the link is in the e-mail too); the signature is. A wrong or missing signature,
an unknown or unfinished registration and a group without a schedule all get the same 404, so the
answer tells nothing about the reference.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from werkzeug.wrappers import Response as BaseResponse

from sidecar.core.errors import WordPressUnavailable
from sidecar.domain import messages
from sidecar.payments.receipt import calendar_for
from sidecar.web.context import services
from sidecar.web.responses import error_json
from wp_bridge import errors as wp_errors

log = logging.getLogger(__name__)
bp = Blueprint("calendar", __name__)

MAX_REF_LENGTH = 40


@bp.get("/therapy/calendar/<ref>.ics")
def calendar(ref: str) -> BaseResponse:
    """Return the .ics of a fulfilled registration's session, or 404."""
    signature = request.args.get("sig", "")
    if len(ref) > MAX_REF_LENGTH or not ref.replace("_", "").replace("-", "").isalnum():
        return _not_found()
    try:
        body = calendar_for(services(), ref, signature)
    except wp_errors.GroupNotFound:
        body = None
    except wp_errors.WPBridgeError as exc:
        log.warning("calendar entry unavailable: %s", type(exc).__name__)
        raise WordPressUnavailable(messages.GROUP_INFO_UNAVAILABLE) from exc
    if body is None:
        return _not_found()
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="session.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _not_found() -> BaseResponse:
    response = error_json(404, "calendar_not_found", messages.CALENDAR_NOT_FOUND)
    response.headers["Cache-Control"] = "no-store"
    return response
