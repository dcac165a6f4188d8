"""The WordPress login form's address for a buyer whose one-time login link is spent or too old."""

from __future__ import annotations

from urllib.parse import urlencode

from wp_bridge.tokens import sign_token

# The bridge plugin fills the form's username field from this parameter (core reads only POST) and
# sends a browser already logged in as that user straight on to redirect_to.
EMAIL_PARAM = "user_login"


def login_page_url(base_url: str, email: str, redirect_to: str) -> str:
    """Return wp-login.php with the e-mail prefilled and the thank-you page as the next stop."""
    query = urlencode({EMAIL_PARAM: email, "redirect_to": redirect_to})
    return f"{base_url.rstrip('/')}/wp-login.php?{query}"


# The bridge plugin reads this parameter as a signed token naming the user, and fills in that
# user's e-mail: the address itself is in no URL (server logs, Referer, history).
PREFILL_PARAM = "therapy_prefill"
PREFILL_TTL_SECONDS = 60 * 60


def prefill_token(uid: int, secret: str, now: float) -> str:
    """Return the signed token that fills ``uid``'s e-mail into the login and password forms."""
    return sign_token({"typ": "prefill", "uid": uid, "exp": int(now) + PREFILL_TTL_SECONDS}, secret)


def sign_in_url(base_url: str, token: str, redirect_to: str) -> str:
    """Return wp-login.php with the token's e-mail prefilled and ``redirect_to`` as the next stop."""
    query = urlencode({PREFILL_PARAM: token, "redirect_to": redirect_to})
    return f"{base_url.rstrip('/')}/wp-login.php?{query}"


def password_url(base_url: str, token: str) -> str:
    """Return WordPress's lost-password form (set a password) with the token's e-mail prefilled."""
    query = urlencode({"action": "lostpassword", PREFILL_PARAM: token})
    return f"{base_url.rstrip('/')}/wp-login.php?{query}"
