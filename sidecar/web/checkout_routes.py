"""``POST /therapy/checkout``: the form arrives, the browser leaves for PayTabs."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from sidecar.core.errors import CheckoutRejected, IntentNotFound
from sidecar.domain import messages
from sidecar.domain.validation import validate_checkout
from sidecar.payments.buyer_status import LOGIN_WINDOW_SECONDS
from sidecar.payments.checkout import start_checkout
from sidecar.payments.drafts import (
    DRAFT_COOKIE,
    DRAFT_SECONDS,
    Draft,
    draft_from_form,
    make_draft,
    seal_draft,
)
from sidecar.payments.retry import RetryRefused, retry_payment
from sidecar.store.repository import Intent
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
        # The status poll and "Try again" (POST /therapy/retry/<ref>) both read it.
        path=request.script_root + "/therapy/",
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
    if draft is not None:
        set_draft_cookie(response, draft)
    return response


def set_draft_cookie(response: BaseResponse, draft: Draft) -> None:
    """Seal ``draft`` into the short-lived, HttpOnly, same-site draft cookie."""
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


@bp.post("/therapy/retry/<ref>")
def retry(ref: str) -> BaseResponse:
    """Answer "Try again" on the status page with a fresh PayTabs page for the same intent (303).

    Only the paying browser (its ``tps_<ref>`` cookie) may; only a POST from the site's or the
    sidecar's own pages (the cookie is SameSite=Lax as well). After the hold the browser goes to
    the form, refilled from the intent (the draft cookie), with the reason.
    """
    if len(ref) > 40 or not ref.replace("_", "").replace("-", "").isalnum():
        raise IntentNotFound(messages.STATUS_TEXTS["notFound"])
    refuse_cross_site()
    outcome = retry_payment(services(), ref, request.cookies.get(browser_cookie_name(ref)))
    target = outcome.redirect_url
    if outcome.to_form:
        refused = CheckoutRejected("retry_hold_ended", messages.FORM_ERRORS["retry_hold_ended"])
        if wants_json():
            return error_json(409, refused.code, refused.message)
        response = back_to_form(outcome.intent.registration_url, refused)
        set_draft_cookie(response, intent_draft(outcome.intent))
        return response
    if wants_json():
        return jsonify({"redirect_url": target, "ref": outcome.intent.ref})
    return redirect(target, code=303)


def intent_draft(intent: Intent) -> Draft:
    """Return the form as the intent's buyer filled it in (never the password), as a draft."""
    values = {name: getattr(intent, name) for name in ("first_name", "last_name", "phone")}
    values |= {"email": intent.email, "street1": intent.street1, "city": intent.city}
    values |= {"country": intent.country}
    return make_draft(intent.group_id, intent.registration_url, values)


def refuse_cross_site() -> None:
    """Refuse a POST another site's page made (Origin, else Sec-Fetch-Site), before any work."""
    settings = services().settings
    ours = {_origin(settings.wp_base_url), _origin(settings.public_url)}
    origin = request.headers.get("Origin")
    fetch_site = request.headers.get("Sec-Fetch-Site", "")
    if (origin is not None and origin not in ours) or fetch_site == "cross-site":
        raise RetryRefused("cross_site_request", messages.ERROR_PAGES["cross_site_request"][1], 403)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
