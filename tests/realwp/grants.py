"""Login grants for the real-WordPress tests: users stamped with an intent ref, grants naming it."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from tests.realwp.helpers import REF_PREFIX, WPSite
from wp_bridge.models import INTENT_META_KEY
from wp_bridge.tokens import sign_token


def intent_buyer(wp: WPSite, **overrides: Any) -> dict[str, Any]:
    """Create a subscriber as the sidecar does: stamped with a fresh intent ref (returned as "ref")."""
    ref = f"{REF_PREFIX}{uuid.uuid4().hex[:16]}"
    user = wp.create_user(meta={INTENT_META_KEY: ref}, **overrides)
    return {**user, "ref": ref}


def grant(wp: WPSite, uid: int, *, ref: str | None = None, ttl: int = 300, **extra: Any) -> str:
    """Sign a login grant for user ``uid`` (with ``ref`` when given) valid ``ttl`` seconds."""
    payload: dict[str, Any] = {"typ": "login", "uid": uid}
    if ref is not None:
        payload["ref"] = ref
    payload.update({"jti": secrets.token_hex(16), "exp": int(time.time()) + ttl})
    payload.update(extra)
    return sign_token(payload, wp.secret)
