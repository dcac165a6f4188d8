"""``POST /therapy/checkout``: the form arrives, the browser leaves for PayTabs."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from sidecar.core.errors import CheckoutRejected
from sidecar.domain.validation import validate_checkout
from sidecar.payments.buyer_status import LOGIN_WINDOW_SECONDS
from sidecar.payments.checkout import start_checkout
from sidecar.payments.drafts import DRAFT_COOKIE, DRAFT_SECONDS, draft_from_form, seal_draft
from sidecar.web.context import services
from sidecar.web.responses import (
    back_to_form,
    error_json,
    refusal_message,
    request_locale,
    wants_json,
)

bp = Blueprint("checkout", __name__)
# Paid late in the hold, confirmed and fulfilled within this, the buyer still gets the whole login
# window; the cookie's only use is the login, so it lives no longer.
FULFILMENT_ALLOWANCE_SECONDS = 300


@bp.post("/therapy/checkout")
def checkout() -> BaseResponse:
    """Validate the form, hold a seat, store the intent and send the browser to PayTabs (303)."""
    svc = services()
    try:
        form = validate_checkout(request.form)
        result = start_checkout(
            svc, form, client_ip=request.remote_addr or "", locale=request_locale()
        )
    except CheckoutRejected as exc:
        if wants_json():
            message = refusal_message(exc, request_locale())
            return error_json(exc.http_status, exc.code, message, exc.field)
        return remember_form(back_to_form(form_url_for_errors(), exc))
    response: BaseResponse
    if wants_json():
        response = Response(
            f'{{"redirect_url": "{result.redirect_url}", "ref": "{result.intent.ref}"}}',
            status=200,
            mimetype="application/json",
        )
    else:
        response = redirect(result.redirect_url, code=303)
    forget_form(response)  # the form did its job: its draft must not refill it later
    if not result.browser_secret:
        return response  # a re-posted form of a paid or ended intent binds no browser
    response.set_cookie(
        browser_cookie_name(result.intent.ref),
        result.browser_secret,
        max_age=browser_cookie_seconds(svc.settings.hold_minutes),
        path=request.script_root + "/therapy/status/",
        secure=svc.settings.public_url.startswith("https://"),
        httponly=True,
        samesite="Lax",
    )
    return response


def browser_cookie_seconds(hold_minutes: int) -> int:
    """Return how long the paying browser's cookie lives: hold + fulfilment + login window."""
    return hold_minutes * 60 + FULFILMENT_ALLOWANCE_SECONDS + LOGIN_WINDOW_SECONDS


def browser_cookie_name(ref: str) -> str:
    """Return the cookie that binds the status page of ``ref`` to the paying browser."""
    return f"tps_{ref}"


def form_url_for_errors() -> str:
    """Where a rejected form goes back to: the page it came from, when that page is the site's.

    The bridge's form names itself in ``form_url`` (a cross-site Referer carries only the origin);
    only URLs under WP_BASE_URL are accepted, so this is no open redirect.
    """
    settings = services().settings
    for candidate in (request.form.get("form_url", ""), request.referrer or ""):
        if candidate.startswith(settings.wp_base_url + "/") and len(candidate) <= 2000:
            return candidate
    return current_app.config.get("FORM_URL") or f"{settings.wp_base_url}/therapy-registration/"


def remember_form(response: BaseResponse) -> BaseResponse:
    """Put what the buyer typed (never the password) in the encrypted draft cookie, for the form.

    The cookie is the sidecar host's; the bridge reads it because the sidecar is served on the
    site's host (cookies do not separate ports). Elsewhere the form simply comes back empty.
    """
    draft = draft_from_form(request.form, form_url_for_errors())
    if draft is None:
        return response
    settings = services().settings
    value = seal_draft(draft, settings.shared_secret.reveal(), services().clock())
    response.set_cookie(
        DRAFT_COOKIE,
        value,
        max_age=DRAFT_SECONDS,
        path="/",
        secure=settings.public_url.startswith("https://"),
        httponly=True,
        samesite="Lax",
    )
    return response


def forget_form(response: BaseResponse) -> None:
    """Clear the draft cookie (a checkout that reached PayTabs)."""
    if DRAFT_COOKIE in request.cookies:
        response.delete_cookie(
            DRAFT_COOKIE,
            path="/",
            secure=services().settings.public_url.startswith("https://"),
            httponly=True,
            samesite="Lax",
        )
