"""The WordPress login and set-password forms' addresses for a buyer whose login link is spent.

The buyer's e-mail is filled in from a signed token naming the user, never put in the URL.
"""

from __future__ import annotations

from urllib.parse import urlencode

from wp_bridge.tokens import sign_token

# The bridge plugin reads this parameter as a signed token naming the user, and fills in that
# user's e-mail: the address itself is in no URL (server logs, Referer, history).
PREFILL_PARAM = "therapy_prefill"
PREFILL_TTL_SECONDS = 60 * 60


def prefill_token(uid: int, secret: str, now: float) -> str:
    """Return the signed token that fills ``uid``'s e-mail into the login and password forms."""
    return sign_token({"typ": "prefill", "uid": uid, "exp": int(now) + PREFILL_TTL_SECONDS}, secret)


def sign_in_url(base_url: str, token: str | None, redirect_to: str) -> str:
    """Return wp-login.php (the token's e-mail prefilled, if any) with ``redirect_to`` next."""
    fields = {PREFILL_PARAM: token} if token else {}
    query = urlencode({**fields, "redirect_to": redirect_to})
    return f"{base_url.rstrip('/')}/wp-login.php?{query}"


def password_url(base_url: str, token: str | None) -> str:
    """Return WordPress's lost-password form (set a password), the token's e-mail prefilled if any."""
    fields = {PREFILL_PARAM: token} if token else {}
    query = urlencode({"action": "lostpassword", **fields})
    return f"{base_url.rstrip('/')}/wp-login.php?{query}"
