"""``GET /therapy/status/<ref>``: polled by the WordPress registration status page.

Scripts get JSON. A browser that navigates here (the status page's no-JavaScript fallback) gets a
small page that refreshes itself and, once the registration is complete, is sent on: the paying
browser through its one login link while it lives, else to the WordPress login form with its e-mail
(the bridge sends a browser already logged in on to the thank-you page); any other browser to the
thank-you page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from sidecar.core.errors import IntentNotFound
from sidecar.domain import messages
from sidecar.payments.buyer_status import buyer_status
from sidecar.web.checkout_routes import browser_cookie_name
from sidecar.web.context import services
from sidecar.web.responses import message_page

bp = Blueprint("status", __name__)


@bp.get("/therapy/status/<ref>")
def status(ref: str) -> BaseResponse:
    """Return the intent's state and message; the login link only to the paying browser."""
    if len(ref) > 40 or not ref.replace("_", "").replace("-", "").isalnum():
        raise IntentNotFound(messages.STATUS_TEXTS["notFound"])
    answer = buyer_status(services(), ref, request.cookies.get(browser_cookie_name(ref)))
    response = status_page(answer) if is_navigation() else jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    return response


def is_navigation() -> bool:
    """Tell whether a person's browser navigated here (rather than a script fetching JSON)."""
    if request.headers.get("Sec-Fetch-Mode") == "navigate":
        return True
    accept = request.accept_mimetypes
    return accept.best == "text/html" and accept["text/html"] > accept["application/json"]


def status_page(answer: dict[str, Any]) -> BaseResponse:
    """Render the no-JavaScript status page, or move the browser on when the registration is done."""
    target = answer.get("login_url") or answer.get("login_page_url") or answer.get("redirect_url")
    if target:
        return redirect(target, code=303)
    if answer["done"]:
        return message_page(
            200, messages.STATUS_DONE_TITLE, answer["message"], answer["registration_url"]
        )
    page = message_page(200, messages.STATUS_PLACEHOLDER, answer["message"])
    body = page.get_data(as_text=True).replace(
        "<meta charset=utf-8>", '<meta charset=utf-8><meta http-equiv="refresh" content="3">', 1
    )
    page.set_data(body)
    return page
