"""What the registration status page learns about an intent, and the one-time login grant."""

from __future__ import annotations

import secrets
from typing import Any

from sidecar import repository as repo
from sidecar.errors import IntentNotFound
from sidecar.repository import Intent
from sidecar.secretbox import matches_any
from sidecar.services import Services
from sidecar.states import State, buyer_message
from wp_bridge.tokens import sign_token

GRANT_SECONDS = 300
LOGIN_WINDOW_SECONDS = 24 * 3600
ENDED = frozenset({State.FULFILLED, State.PAYMENT_FAILED, State.EXPIRED, State.REFUNDED})


def buyer_status(services: Services, ref: str, browser_secret: str | None) -> dict[str, Any]:
    """Return the state, a message, and (to the paying browser only) the login link."""
    with services.db.transaction() as tx:
        intent = repo.find_intent_by_ref(tx, ref)
        if intent is None:
            raise IntentNotFound("no registration has this reference")
        answer: dict[str, Any] = {
            "ref": intent.ref,
            "state": intent.state.value,
            "message": buyer_message(intent.state),
            "done": intent.state in ENDED,
            "registration_url": intent.registration_url,
        }
        if intent.state == State.FULFILLED:
            answer["redirect_url"] = intent.thank_you_url
            if _may_log_in(services, intent, browser_secret):
                answer["login_url"] = _login_url(services, tx, intent)
    return answer


def _may_log_in(services: Services, intent: Intent, browser_secret: str | None) -> bool:
    """Only an account this intent created, only the browser that paid, only for a day."""
    if not intent.user_created or intent.wp_user_id is None:
        return False
    if intent.fulfilled_at is None or services.clock() - intent.fulfilled_at > LOGIN_WINDOW_SECONDS:
        return False
    return matches_any(browser_secret, intent.browser_secret_hash)


def _login_url(services: Services, tx: Any, intent: Intent) -> str:
    """Reuse the current grant while it lives (polling gets one link), else mint the next one."""
    now = services.clock()
    jti, exp = intent.login_jti, intent.login_exp
    if jti is None or exp is None or exp - now < 30:
        jti, exp = secrets.token_hex(16), float(int(now) + GRANT_SECONDS)
        repo.update_intent(tx, intent.id, now, login_jti=jti, login_exp=exp)
    payload = {
        "typ": "login",
        "uid": intent.wp_user_id,
        "ref": intent.ref,
        "jti": jti,
        "exp": int(exp),
    }
    token = sign_token(payload, services.settings.shared_secret.reveal())
    return str(services.wordpress.login_url(token))
