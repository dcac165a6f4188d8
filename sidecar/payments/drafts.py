"""The form draft: what the buyer typed, kept in a short-lived encrypted cookie, never in a URL.

When the sidecar sends the buyer back to the WordPress form (a refused field, a full group, a
payment that did not go through), the form should come back as the buyer left it. The fields
travel in the ``tps_draft`` cookie, encrypted and authenticated with AES-256-GCM under a key only
the sidecar and the bridge plugin can derive from the shared secret, so neither the browser's
history nor a server log ever holds them. The password is never put in a draft.

Wire format (the plugin's draft.php reads the same)::

    "v1." + b64url(nonce[12] || ciphertext || tag[16])
    key  = HMAC-SHA256(key=shared secret, msg=DRAFT_KEY_LABEL)
    aad  = DRAFT_AAD
    plaintext = {"v":1,"exp":unix seconds,"group_id":int,"page":form URL,"fields":{name: text}}
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DRAFT_COOKIE = "tps_draft"
DRAFT_SECONDS = 900
DRAFT_VERSION = 1
DRAFT_KEY_LABEL = b"therapy-sidecar form draft v1"
DRAFT_AAD = b"tps_draft v1"
_PREFIX = "v1."
# The form's own maxlength for each field it prefills (the password is never one of them).
DRAFT_FIELDS: dict[str, int] = {
    "first_name": 100,
    "last_name": 100,
    "email": 100,
    "phone": 32,
    "street1": 200,
    "city": 100,
    "country": 2,
}
MAX_PAGE = 500
# Browsers keep cookies up to 4096 bytes; the bounded fields stay well below.
MAX_DRAFT_CHARS = 3000


@dataclass(frozen=True)
class Draft:
    """The form as the buyer left it: its fields, its group, the page it was on."""

    group_id: int
    page: str
    fields: dict[str, str]

    def __repr__(self) -> str:
        return f"Draft(group_id={self.group_id}, fields={sorted(self.fields)})"


def draft_from_form(form: Mapping[str, str], page: str) -> Draft | None:
    """Return the draft of a posted form (bounded fields, no password); None without a group."""
    raw_group = str(form.get("group_id", "")).strip()
    if not (raw_group.isascii() and raw_group.isdigit()) or not 0 < int(raw_group) < 10**12:
        return None
    return make_draft(int(raw_group), page, form)


def make_draft(group_id: int, page: str, values: Mapping[str, Any]) -> Draft:
    """Return a draft of ``values`` for ``group_id``: only the known fields, each cut to its size."""
    fields = {}
    for name, limit in DRAFT_FIELDS.items():
        value = values.get(name)
        if isinstance(value, str) and value.strip():
            fields[name] = value.strip()[:limit]
    return Draft(group_id=group_id, page=page[:MAX_PAGE], fields=fields)


def draft_key(secret: str) -> bytes:
    """Return the draft's AES-256 key: its own label, so it opens nothing else keyed by the secret."""
    return hmac.new(secret.encode("utf-8"), DRAFT_KEY_LABEL, hashlib.sha256).digest()


def seal_draft(draft: Draft, secret: str, now: float) -> str:
    """Return the cookie value carrying ``draft`` until ``now`` + DRAFT_SECONDS."""
    plaintext = json.dumps(
        {
            "v": DRAFT_VERSION,
            "exp": int(now) + DRAFT_SECONDS,
            "group_id": draft.group_id,
            "page": draft.page,
            "fields": draft.fields,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    nonce = os.urandom(12)
    sealed = AESGCM(draft_key(secret)).encrypt(nonce, plaintext, DRAFT_AAD)
    return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")


def open_draft(value: str | None, secrets: list[str], now: float) -> Draft | None:
    """Return the draft in a cookie value; None when absent, damaged, foreign or expired."""
    if not value or len(value) > MAX_DRAFT_CHARS or not value.startswith(_PREFIX):
        return None
    try:
        blob = base64.urlsafe_b64decode(value[len(_PREFIX) :] + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(blob) < 12 + 16:
        return None
    for secret in secrets:
        try:
            plaintext = AESGCM(draft_key(secret)).decrypt(blob[:12], blob[12:], DRAFT_AAD)
        except InvalidTag:
            continue
        return _parse(plaintext, now)
    return None


def _parse(plaintext: bytes, now: float) -> Draft | None:
    """Return the draft of a decrypted payload, if it is this version's and still current."""
    try:
        data = json.loads(plaintext)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("v") != DRAFT_VERSION:
        return None
    exp, group_id, fields = data.get("exp"), data.get("group_id"), data.get("fields")
    if not isinstance(exp, int) or exp <= now or not isinstance(group_id, int):
        return None
    if not isinstance(fields, dict):
        return None
    return make_draft(group_id, str(data.get("page") or ""), fields)
