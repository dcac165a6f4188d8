"""Who may call the operator API: a short-lived, single-use token signed with the shared secret.

The WordPress payments panel sends ``Authorization: TherapySidecar <token>``; the token is the
bridge's signed format (``wp_bridge.tokens``) with the payload (docs/contracts.md, Operator API)::

    {"typ": "operator", "exp": ..., "jti": ..., "actor": "wp:<user_login>",
     "method": "GET|POST", "path": "/operator/v1/...", "body_sha256": "<hex>"}

``authenticate`` accepts it only for this very request (method, path, body), unexpired and at most
``MAX_TTL_SECONDS`` ahead, and only once: its jti is stored until it expires. Neither the token
nor a secret ever reaches an error message or a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from sidecar.core.container import Services
from sidecar.core.errors import DuplicateRow
from sidecar.store import repository as repo
from wp_bridge.tokens import InvalidToken, verify_token

SCHEME = "TherapySidecar"
TYP = "operator"
MAX_TTL_SECONDS = 120
CLOCK_SKEW_SECONDS = 10  # the site's clock may run a little ahead of the sidecar's
JTI = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
ACTOR = re.compile(r"^wp:[^\x00-\x1f\x7f]{1,60}$")
METHODS = ("GET", "POST")


class OperatorAuthFailed(Exception):
    """The request's token cannot be trusted; ``code`` and the message say why (never the token)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def authenticate(
    services: Services, *, authorization: str | None, method: str, path: str, body: bytes
) -> str:
    """Return the actor ("wp:<login>") of a valid, unused token for this request; else raise."""
    token = _token_of(authorization)
    payload = _verified(services, token)
    now = services.clock()
    exp = payload["exp"]
    if exp > now + MAX_TTL_SECONDS + CLOCK_SKEW_SECONDS:
        raise OperatorAuthFailed("token_too_long", f"token lives more than {MAX_TTL_SECONDS} s")
    jti, actor = payload.get("jti"), payload.get("actor")
    if not isinstance(jti, str) or not JTI.match(jti):
        raise OperatorAuthFailed("bad_token", "token jti must be 16-64 of A-Z a-z 0-9 _ -")
    if not isinstance(actor, str) or not ACTOR.match(actor):
        raise OperatorAuthFailed("bad_token", 'token actor must be "wp:<user_login>"')
    _same("method", payload.get("method"), method)
    _same("path", payload.get("path"), path)
    _same("body_sha256", payload.get("body_sha256"), hashlib.sha256(body).hexdigest())
    try:
        with services.db.transaction() as tx:
            repo.record_operator_jti(tx, jti=jti, actor=actor, expires_at=float(exp), now=now)
    except DuplicateRow:
        raise OperatorAuthFailed("token_replayed", "token was used already") from None
    return actor


def _token_of(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme != SCHEME or not token.strip():
        raise OperatorAuthFailed(
            "unauthenticated", f"an Authorization: {SCHEME} <token> header is required"
        )
    return token.strip()


def _verified(services: Services, token: str) -> dict[str, Any]:
    """Verify with the shared secret, then with the one also accepted during a rotation."""
    settings = services.settings
    last: InvalidToken | None = None
    for secret in (s for s in (settings.shared_secret, settings.shared_secret_also_accepted) if s):
        try:
            return verify_token(token, secret.reveal(), typ=TYP, now=services.clock())
        except InvalidToken as exc:
            last = exc
            if exc.reason != "bad signature":
                break  # signed with this secret: the other one cannot make it valid
    reason = last.reason if last is not None else "no secret"
    code = "token_expired" if reason == "expired" else "bad_token"
    raise OperatorAuthFailed(code, f"token refused: {reason}")


def _same(name: str, signed: object, actual: str) -> None:
    """Refuse a token made for another request (constant-time compare)."""
    if not isinstance(signed, str) or not hmac.compare_digest(
        signed.encode("utf-8"), actual.encode("utf-8")
    ):
        raise OperatorAuthFailed("token_mismatch", f"token was made for another {name}")
