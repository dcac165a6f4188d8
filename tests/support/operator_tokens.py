"""Sign operator API requests the way the WordPress payments panel does (docs/contracts.md)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from wp_bridge.tokens import sign_token


def operator_token(
    secret: str,
    *,
    method: str,
    path: str,
    body: bytes = b"",
    now: float,
    actor: str = "wp:admin",
    ttl: int = 120,
    jti: str | None = None,
    **override: Any,
) -> str:
    """Return a token for one request; ``override`` replaces payload fields (for refusal tests)."""
    payload: dict[str, Any] = {
        "typ": "operator",
        "exp": int(now) + ttl,
        "jti": jti or secrets.token_urlsafe(24),
        "actor": actor,
        "method": method,
        "path": path,
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    payload.update(override)
    return sign_token(payload, secret)


def operator_headers(secret: str, **kwargs: Any) -> dict[str, str]:
    """Return the headers of a signed operator request (``kwargs`` as for ``operator_token``)."""
    return {
        "Authorization": "TherapySidecar " + operator_token(secret, **kwargs),
        "Accept": "application/json",
        "Content-Type": "application/json",
    }
