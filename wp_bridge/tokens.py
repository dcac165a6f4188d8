"""Signed tokens shared by the sidecar and the bridge plugin (pure: no clock, no I/O).

Format (docs/contracts.md)::

    token = b64url(payload_json) + "." + b64url(HMAC_SHA256(secret, b64url(payload_json)))

b64url is URL-safe base64 without padding. The payload is a JSON object that always has
"typ" and "exp" (unix seconds). JSON is written compact and in insertion order, which is what
PHP's json_encode() produces for the same ASCII payload.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import Any

FORM_TTL_SECONDS = 2 * 60 * 60
LOGIN_TTL_SECONDS = 5 * 60


class InvalidToken(ValueError):
    """The token cannot be trusted; ``reason`` says why (never the token itself)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)


def _signature(body: str, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), body.encode("ascii"), hashlib.sha256).digest()
    return _b64encode(digest)


def sign_token(payload: dict[str, Any], secret: str) -> str:
    """Return ``payload`` signed with ``secret`` in the shared token format."""
    if not secret:
        raise ValueError("a signing secret is required")
    payload_json = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
    body = _b64encode(payload_json.encode("ascii"))
    return f"{body}.{_signature(body, secret)}"


def verify_token(token: str, secret: str, *, typ: str, now: float) -> dict[str, Any]:
    """Return the payload of a valid, unexpired token of type ``typ``; else raise InvalidToken."""
    if not secret:
        raise ValueError("a verification secret is required")
    if not isinstance(token, str) or not token.isascii():
        raise InvalidToken("malformed")
    body, _, signature = token.rpartition(".")
    if not body or not signature:
        raise InvalidToken("malformed")
    # Check the signature before parsing anything an attacker wrote.
    if not hmac.compare_digest(_signature(body, secret).encode(), signature.encode()):
        raise InvalidToken("bad signature")
    payload = _decode_payload(body)
    if payload.get("typ") != typ:
        raise InvalidToken("wrong typ")
    exp = payload.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise InvalidToken("malformed")
    if exp <= now:
        raise InvalidToken("expired")
    return payload


def _decode_payload(body: str) -> dict[str, Any]:
    """Decode the payload part; a payload that is not a JSON object is malformed."""
    try:
        payload = json.loads(_b64decode(body))
    except (binascii.Error, ValueError):
        raise InvalidToken("malformed") from None
    if not isinstance(payload, dict):
        raise InvalidToken("malformed")
    return payload


def issue_login_grant(
    *, uid: int, ref: str, secret: str, now: float, ttl: int = LOGIN_TTL_SECONDS
) -> str:
    """Return a single-use login grant for WordPress user ``uid`` (5 minutes by default)."""
    jti = secrets.token_hex(16)
    payload = {"typ": "login", "uid": uid, "ref": ref, "jti": jti, "exp": int(now) + ttl}
    return sign_token(payload, secret)


def issue_form_token(
    *, uid: int, email: str, secret: str, now: float, ttl: int = FORM_TTL_SECONDS
) -> str:
    """Return a checkout form token (uid 0 and email "" for an anonymous visitor)."""
    nonce = secrets.token_hex(8)
    payload = {"typ": "form", "uid": uid, "email": email, "exp": int(now) + ttl, "nonce": nonce}
    return sign_token(payload, secret)
