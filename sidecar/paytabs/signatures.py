"""PayTabs signature algorithms: the browser return (form fields) and the IPN (raw body).

Pure functions without I/O. The algorithms and the worked vectors they reproduce are
described in the PayTabs integration notes (return: PHP ``http_build_query`` over the sorted,
non-empty fields; IPN: HMAC-SHA256 over the raw body bytes). Both produce lowercase hex.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote_plus

__all__ = [
    "php_urlencode",
    "return_canonical_string",
    "sign_ipn",
    "sign_return",
    "verify_ipn",
    "verify_return",
]


def php_urlencode(value: str) -> str:
    """Encode like PHP ``urlencode()``: keep ``A-Za-z0-9-_.``, space to ``+``, rest ``%XX``."""
    # quote_plus matches PHP except for "~", which Python treats as unreserved (RFC 3986).
    return quote_plus(value, safe="", encoding="utf-8").replace("~", "%7E")


def return_canonical_string(fields: Mapping[str, str | None], *, drop_zero: bool = False) -> str:
    """Build the string PayTabs signs for a return: sorted, non-empty, PHP-urlencoded pairs.

    ``drop_zero`` also drops ``"0"`` values, which is what the classic PHP core does with a
    bare ``array_filter()``; SDK v3 keeps them.
    """
    dropped = {None, "", "0"} if drop_zero else {None, ""}
    kept = {
        key: value for key, value in fields.items() if key != "signature" and value not in dropped
    }
    # PHP ksort on ASCII keys is a byte-wise sort; sorting the UTF-8 bytes matches it for all keys.
    keys = sorted(kept, key=lambda k: k.encode("utf-8"))
    return "&".join(f"{php_urlencode(key)}={php_urlencode(str(kept[key]))}" for key in keys)


def _hmac_hex(message: bytes, server_key: str) -> str:
    return hmac.new(server_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _equal(expected: str, given: str) -> bool:
    # compare_digest on str rejects non-ASCII with TypeError; bytes never raise.
    return hmac.compare_digest(
        expected.encode("ascii"), given.encode("utf-8", errors="surrogateescape")
    )


def sign_return(fields: Mapping[str, str | None], server_key: str) -> str:
    """Return the lowercase-hex signature PayTabs puts on a return POST (SDK v3 form)."""
    return _hmac_hex(return_canonical_string(fields).encode("utf-8"), server_key)


def verify_return(fields: Mapping[str, str | None], server_key: str) -> bool:
    """Check a return's ``signature`` field in constant time; missing or empty means invalid.

    The SDK v3 form (keep ``"0"``) is tried first; the classic form (drop ``"0"``) is tried
    too, but only when it yields a different canonical string, because PayTabs has not said
    which rule its server uses.
    """
    given = fields.get("signature")
    if not given:
        return False
    canonical = return_canonical_string(fields)
    if _equal(_hmac_hex(canonical.encode("utf-8"), server_key), given):
        return True
    classic = return_canonical_string(fields, drop_zero=True)
    if classic == canonical:
        return False
    return _equal(_hmac_hex(classic.encode("utf-8"), server_key), given)


def sign_ipn(raw_body: bytes, server_key: str) -> str:
    """Return the lowercase-hex ``Signature`` header PayTabs sends with an IPN body."""
    return _hmac_hex(raw_body, server_key)


def verify_ipn(raw_body: bytes, signature_header: str | None, server_key: str) -> bool:
    """Check an IPN ``Signature`` header against the raw body bytes, in constant time.

    The body is hashed exactly as received (never parsed, stripped or re-encoded) and the
    header is compared as given, so an uppercase-hex header does not match.
    """
    if not signature_header:
        return False
    return _equal(sign_ipn(raw_body, server_key), signature_header)
