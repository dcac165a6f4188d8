"""What the registration status page learns about an intent, and the one-time login grant.

One grant per intent: the first poll of the paying browser within LOGIN_WINDOW_SECONDS of fulfilment
mints it and stores its jti; later polls hand out the same grant until it expires and never mint a
second. WordPress consumes the jti once, so an intent logs a browser in at most once. Afterwards the
status page follows ``login_page_url`` (the login form with the buyer's e-mail) or the thank-you page.
"""

from __future__ import annotations

import secrets
from typing import Any

from sidecar.core.container import Services
from sidecar.core.errors import IntentNotFound
from sidecar.core.i18n import translate
from sidecar.core.secretbox import matches_any
from sidecar.domain.messages import AWAITING_PAYMENT_HELD_UNTIL, REGISTERED_LOG_IN
from sidecar.domain.states import ENDED, State, buyer_message, can_retry
from sidecar.payments.retry import retry_possible_at
from sidecar.payments.seats import hhmm, iso_utc
from sidecar.store import repository as repo
from sidecar.store.repository import Intent
from sidecar.store.repository.intents import payment_reported
from wp_bridge.login_page import password_url, prefill_token, sign_in_url
from wp_bridge.tokens import sign_token

# The bridge refuses grants valid for more than 600 s ahead; the window ends the grant's life.
LOGIN_WINDOW_SECONDS = 600


def buyer_status(services: Services, ref: str, browser_secret: str | None) -> dict[str, Any]:
    """Return the state, a message, and (to the paying browser only) the login link and page."""
    with services.db.transaction() as tx:
        intent = repo.find_intent_by_ref(tx, ref)
        if intent is None:
            raise IntentNotFound("no registration has this reference")
        answer: dict[str, Any] = {
            "ref": intent.ref,
            "state": intent.state.value,
            "message": translate(buyer_message(intent.state, intent.state_reason), intent.locale),
            "locale": intent.locale,
            "done": intent.state in ENDED,
            "registration_url": intent.registration_url,
        }
        answer.update(_retry_fields(services, tx, intent, browser_secret))
        if intent.state == State.AWAITING_PAYMENT:
            # Until when the place is held for the PayTabs page (HH:MM in the site's timezone);
            # once PayTabs has reported the payment, only the wait for its confirmation is said.
            answer["hold_expires_at"] = iso_utc(intent.hold_expires_at)
            if not payment_reported(tx, intent.id):
                answer["message"] = translate(
                    AWAITING_PAYMENT_HELD_UNTIL,
                    intent.locale,
                    time=hhmm(intent.hold_expires_at, services.site_time.zone()),
                )
        if intent.state == State.FULFILLED:
            answer["redirect_url"] = intent.thank_you_url
            answer["registered"] = True
            paying = matches_any(browser_secret, intent.browser_secret_hash)
            if paying:
                answer.update(_paying_browser_links(services, tx, intent))
            answer.update(_sign_in_links(services, intent, prefilled=paying))
            if "login_url" not in answer and "login_page_url" not in answer:
                # Another device, or a browser without its cookie: said registered, with two ways in.
                answer["message"] = translate(REGISTERED_LOG_IN, intent.locale)
    return answer


def _retry_fields(
    services: Services, tx: Any, intent: Intent, browser_secret: str | None
) -> dict[str, Any]:
    """Say "Try again" to the paying browser of a declined intent.

    ``can_retry`` while its seat is kept (``held_until``, and ``retry_after``: not before; ISO
    UTC; ``held_until_text``: HH:MM in the site's timezone, what the buyer reads), else ``can_restart`` (the form, refilled); both POST ``retry_url``. Any other browser,
    or state, gets ``can_retry`` false and nothing else.
    """
    paying = intent.state == State.PAYMENT_FAILED and matches_any(
        browser_secret, intent.browser_secret_hash
    )
    now = services.clock()
    retry = paying and can_retry(intent.state, intent.seat_kept, intent.hold_expires_at, now)
    fields: dict[str, Any] = {
        "can_retry": retry,
        "held_until": iso_utc(intent.hold_expires_at) if retry else None,
    }
    fields["held_until_text"] = (
        hhmm(intent.hold_expires_at, services.site_time.zone()) if retry else None
    )
    if retry:  # PayTabs takes no second page for a cart within two minutes: the button waits
        fields["retry_after"] = iso_utc(retry_possible_at(tx, intent))
    if paying:
        fields["can_restart"] = not retry
        fields["retry_url"] = f"{services.settings.public_url}/therapy/retry/{intent.ref}"
    return fields


def _sign_in_links(services: Services, intent: Intent, *, prefilled: bool) -> dict[str, str]:
    """The login form and the set-password form; for the paying browser, its e-mail prefilled.

    Only the browser holding the intent's cookie gets the prefill token: anyone else who knows
    the ref (it is in the status page's address) must not learn whose registration it is.
    """
    if intent.wp_user_id is None:
        return {}
    base_url = services.settings.wp_base_url
    token = None
    if prefilled:
        secret = services.settings.shared_secret.reveal()
        token = prefill_token(intent.wp_user_id, secret, services.clock())
    back = f"{intent.thank_you_url}{'&' if '?' in intent.thank_you_url else '?'}intent={intent.ref}"
    return {
        "sign_in_url": sign_in_url(base_url, token, back),
        "password_url": password_url(base_url, token),
    }


def _paying_browser_links(services: Services, tx: Any, intent: Intent) -> dict[str, str]:
    """The login form with the buyer's e-mail and, while the intent's one grant lives, the grant."""
    links: dict[str, str] = {}
    if intent.wp_user_id is None or not intent.email:
        return links
    base_url = services.settings.wp_base_url
    # The e-mail is filled in from a signed token: the address itself goes in no URL.
    token = prefill_token(
        intent.wp_user_id, services.settings.shared_secret.reveal(), services.clock()
    )
    links["login_page_url"] = sign_in_url(base_url, token, intent.thank_you_url)
    grant = _the_grant(services, tx, intent)
    if grant is not None:
        token = sign_token(grant, services.settings.shared_secret.reveal())
        links["login_url"] = str(services.wordpress.login_url(token))
    return links


def _the_grant(services: Services, tx: Any, intent: Intent) -> dict[str, Any] | None:
    """Return the intent's one live grant, minting it on first ask within the window; else None."""
    if not intent.user_created or intent.wp_user_id is None or intent.fulfilled_at is None:
        return None
    now = services.clock()
    if intent.login_jti is None:
        if now >= intent.fulfilled_at + LOGIN_WINDOW_SECONDS:
            return None
        intent = _mint_once(tx, intent, now)
    if intent.login_jti is None or intent.login_exp is None or now >= intent.login_exp:
        return None
    return {
        "typ": "login",
        "uid": intent.wp_user_id,
        "ref": intent.ref,
        "jti": intent.login_jti,
        "exp": int(intent.login_exp),
    }


def _mint_once(tx: Any, intent: Intent, now: float) -> Intent:
    """Store a jti under the row lock unless a concurrent poll already did; return the fresh row."""
    locked = repo.find_intent_by_ref(tx, intent.ref, lock=True)
    if locked is None or locked.login_jti is not None or locked.fulfilled_at is None:
        return locked or intent
    exp = float(int(locked.fulfilled_at + LOGIN_WINDOW_SECONDS))
    repo.update_intent(tx, locked.id, now, login_jti=secrets.token_hex(16), login_exp=exp)
    return repo.find_intent_by_ref(tx, intent.ref) or locked
