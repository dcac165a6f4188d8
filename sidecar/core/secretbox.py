"""Hashing and encryption of the few secrets the sidecar must keep for a while."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sidecar.core.config import Settings


def new_secret() -> str:
    """Return a fresh unguessable secret (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Return the hash stored instead of a browser or status secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def matches_any(secret: str | None, stored_hashes: str) -> bool:
    """Compare ``secret`` with the stored hashes (comma separated) in constant time."""
    if not secret:
        return False
    candidate = hash_secret(secret)
    found = False
    for stored in stored_hashes.split(","):
        found |= hmac.compare_digest(candidate, stored)
    return found


def fernet_for(settings: Settings) -> Fernet:
    """Return the cipher for form passwords (SIDECAR_ENCRYPTION_KEY, else derived from the shared secret)."""
    if settings.encryption_key is not None:
        return Fernet(settings.encryption_key.reveal().encode("ascii"))
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"therapy-sidecar form password"
    ).derive(settings.shared_secret.reveal().encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(settings: Settings, plaintext: str) -> str:
    """Encrypt a secret for storage until it is used once."""
    return fernet_for(settings).encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(settings: Settings, token: str) -> str | None:
    """Decrypt a stored secret; None if the key changed or the value is damaged."""
    try:
        return fernet_for(settings).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        return None
