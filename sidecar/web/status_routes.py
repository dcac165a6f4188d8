"""``GET /therapy/status/<ref>``: polled by the WordPress registration status page.

Scripts get JSON. A browser that navigates here (the status page's no-JavaScript fallback) gets a
small page that refreshes itself and, once the registration is complete, is sent on: the paying
browser through its one login link while it lives, else to the WordPress login form with its e-mail
(the bridge sends a browser already logged in on to the thank-you page); any other browser to the
thank-you page.

Long poll: ``?wait=<seconds>&since=<state>`` holds a script's request while the intent is still in
``since`` (up to ``wait`` s, at most MAX_WAIT_SECONDS, well below nginx's and gunicorn's timeouts),
looking at the store every CHECK_SECONDS, then answers as usual. Each web process holds at most
``status_wait_slots`` requests at once (they occupy gunicorn threads); beyond that it answers at
once with ``waited: false`` and the page falls back to ordinary polling. Only the final answer goes
through ``buyer_status``, so the login link is minted exactly as for an ordinary poll.
"""

from __future__ import annotations

import html
import re
import threading
import time
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from sidecar.core.container import Services
from sidecar.core.errors import DatabaseBusy, IntentNotFound, SidecarError
from sidecar.core.i18n import translate
from sidecar.domain import messages
from sidecar.domain.states import State
from sidecar.payments.buyer_status import buyer_status
from sidecar.store import repository as repo
from sidecar.web.checkout_routes import browser_cookie_name, intent_draft, set_draft_cookie
from sidecar.web.context import services
from sidecar.web.responses import message_page

bp = Blueprint("status", __name__)
MAX_WAIT_SECONDS = 25.0
CHECK_SECONDS = 0.025
_WAIT_FORMAT = re.compile(r"\d{1,2}(\.\d{1,3})?")
_STATES = frozenset(state.value for state in State)
_slots_lock = threading.Lock()


class BadStatusQuery(SidecarError):
    """A long poll's ``wait`` or ``since`` cannot be read (400, with its own code)."""

    http_status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@bp.get("/therapy/status/<ref>")
def status(ref: str) -> BaseResponse:
    """Return the intent's state and message; the login link only to the paying browser."""
    if len(ref) > 40 or not ref.replace("_", "").replace("-", "").isalnum():
        raise IntentNotFound(messages.STATUS_TEXTS["notFound"])
    wait, since = long_poll_query()
    navigation = is_navigation()
    waited = False
    if wait > 0 and since is not None and not navigation:
        waited = wait_for_change(services(), ref, since, wait)
    answer = buyer_status(services(), ref, request.cookies.get(browser_cookie_name(ref)))
    # waited: the request was held (a slot was free), so an unchanged state means "ask again now".
    response = status_page(answer) if navigation else jsonify({**answer, "waited": waited})
    response.headers["Cache-Control"] = "no-store"
    if "can_restart" in answer:
        # The paying browser of a declined payment: whichever way it goes back to the form
        # ("Back to the registration page" too), the form comes back filled in.
        keep_the_details(response, ref)
    return response


def keep_the_details(response: BaseResponse, ref: str) -> None:
    """Set the draft cookie to the intent's details (never the password)."""
    with services().db.transaction() as tx:
        intent = repo.find_intent_by_ref(tx, ref)
    if intent is not None:
        set_draft_cookie(response, intent_draft(intent))


def long_poll_query() -> tuple[float, str | None]:
    """Return the query's ``wait`` (0 when absent) and ``since``; refuse what cannot be read."""
    raw_wait, since = request.args.get("wait"), request.args.get("since")
    wait = 0.0
    if raw_wait is not None:
        if not _WAIT_FORMAT.fullmatch(raw_wait) or float(raw_wait) > MAX_WAIT_SECONDS:
            raise BadStatusQuery(
                "bad_wait", f"wait must be a number of seconds from 0 to {MAX_WAIT_SECONDS:g}"
            )
        wait = float(raw_wait)
    if since is not None and since not in _STATES:
        raise BadStatusQuery("bad_since", "since must be a registration state")
    return wait, since


def wait_for_change(services: Services, ref: str, since: str, wait: float) -> bool:
    """Hold until the intent leaves ``since`` or ``wait`` s pass; False when no slot was free."""
    slots = _wait_slots(services.settings.status_wait_slots)
    if not slots.acquire(blocking=False):
        return False
    try:
        deadline = time.monotonic() + wait
        while _current_state(services, ref, since) == since:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(CHECK_SECONDS, left))
        return True
    finally:
        slots.release()


def _wait_slots(size: int) -> threading.BoundedSemaphore:
    """This process's semaphore of waiting requests (one per app)."""
    with _slots_lock:
        slots = current_app.extensions.get("status_wait_slots")
        if slots is None:
            slots = current_app.extensions["status_wait_slots"] = threading.BoundedSemaphore(size)
        return slots


def _current_state(services: Services, ref: str, since: str) -> str | None:
    """Return the intent's state (None if unknown); a busy store counts as no change yet."""
    try:
        with services.db.transaction() as tx:
            intent = repo.find_intent_by_ref(tx, ref)
    except DatabaseBusy:
        return since
    return None if intent is None else intent.state.value


def is_navigation() -> bool:
    """Tell whether a person's browser navigated here (rather than a script fetching JSON)."""
    if request.headers.get("Sec-Fetch-Mode") == "navigate":
        return True
    accept = request.accept_mimetypes
    return accept.best == "text/html" and accept["text/html"] > accept["application/json"]


def status_page(answer: dict[str, Any]) -> BaseResponse:
    """Render the no-JavaScript status page, or move the browser on when the registration is done."""
    # A paid buyer's browser without its login link goes to the login form with the e-mail filled
    # in (the bridge sends a browser logged in as that buyer straight on to the thank-you page).
    ways = ("login_url", "login_page_url", "sign_in_url", "redirect_url")
    target = next((answer[way] for way in ways if answer.get(way)), None)
    if target:
        return redirect(target, code=303)
    if answer["done"]:
        done = message_page(
            200,
            messages.STATUS_DONE_TITLE,
            answer["message"],
            answer["registration_url"],
            lang=answer["locale"],
        )
        if answer.get("retry_url"):  # a declined payment, to its paying browser: "Try again"
            body = done.get_data(as_text=True).replace("</main>", retry_form(answer) + "</main>", 1)
            done.set_data(body)
        return done
    page = message_page(200, messages.STATUS_PLACEHOLDER, answer["message"], lang=answer["locale"])
    body = page.get_data(as_text=True).replace(
        "<meta charset=utf-8>", '<meta charset=utf-8><meta http-equiv="refresh" content="3">', 1
    )
    page.set_data(body)
    return page


def retry_form(answer: dict[str, Any]) -> str:
    """Return the "Try again" (or, after the hold, "Fill in the form again") button's form."""
    locale = answer["locale"]
    label = messages.RETRY_BUTTON if answer.get("can_retry") else messages.RESTART_BUTTON
    held = answer.get("held_until_text") if answer.get("can_retry") else None
    # Until when the place is kept, in the site's timezone (as the plugin's status page says it).
    until = translate(messages.RETRY_HELD_UNTIL, locale, time=held) if held else ""
    return (
        f'<form class="tps-back" method="post" action="{html.escape(answer["retry_url"])}">'
        + (f"<p>{html.escape(until)}</p>" if until else "")
        + f'<button type="submit">{html.escape(translate(label, locale))}</button></form>'
    )
