"""The WordPress login form's address for a buyer whose one-time login link is spent or too old."""

from __future__ import annotations

from urllib.parse import urlencode

# The bridge plugin fills the form's username field from this parameter (core reads only POST) and
# sends a browser already logged in as that user straight on to redirect_to.
EMAIL_PARAM = "user_login"


def login_page_url(base_url: str, email: str, redirect_to: str) -> str:
    """Return wp-login.php with the e-mail prefilled and the thank-you page as the next stop."""
    query = urlencode({EMAIL_PARAM: email, "redirect_to": redirect_to})
    return f"{base_url.rstrip('/')}/wp-login.php?{query}"
