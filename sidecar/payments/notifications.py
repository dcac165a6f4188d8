"""PayTabs' return and IPN: verify, then parse, then record and queue a confirmation. Triggers only.

Neither handler calls PayTabs or WordPress; the worker's confirmation job queries PayTabs, which is
the only source of truth.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace

from sidecar.core.container import Services
from sidecar.core.throttled_log import Throttle
from sidecar.jobs.kinds import JobKind
from sidecar.jobs.outbox import crash_point, enqueue
from sidecar.paytabs.signatures import verify_ipn, verify_return
from sidecar.store import repository as repo
from sidecar.store.repository import Intent

log = logging.getLogger(__name__)
MAX_LOGGED_BODY = 32_000  # a genuine notification is kept whole (PayTabs' are a few kB)
# Anyone can post junk: of a body whose signature fails, keep a prefix to read and a digest and
# size of the whole, so a flood costs under a kilobyte a request and never fills the disk.
REJECTED_BODY_BYTES = 512
REJECTED_HEADERS_BYTES = 256
REJECTED_WARNING_SECONDS = 60.0  # at most one warning per channel (and process) this often
FAILURE_CODES = {
    "D": "payment_declined",
    "C": "payment_cancelled",
    "E": "payment_error",
    "X": "payment_expired",
    "V": "payment_declined",
}


class BadNotification(Exception):
    """The notification cannot be accepted (bad signature or body): answer 400."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.recorded: Recorded | None = None  # set once the notification is logged


@dataclass(frozen=True)
class Entry:
    """A notification as the log keeps it (digest and size only for a rejected one)."""

    channel: str
    cart_id: str | None
    tran_ref: str | None
    signature_ok: bool
    body: str
    headers: str
    body_sha256: str | None = None
    body_length: int | None = None


@dataclass(frozen=True)
class Recorded:
    """What was done with a notification."""

    outcome: str
    intent: Intent | None
    status: str | None = None
    channel: str = ""
    signature_ok: bool = False
    rejected: str | None = None  # the refusal's code, for the web layer's counters


def handle_ipn(
    services: Services, raw_body: bytes, signature: str | None, headers: Mapping[str, str]
) -> Recorded:
    """Verify the IPN's HMAC over the raw bytes, log it, and queue a confirmation for its intent."""
    server_key = services.credentials.get().server_key.reveal()
    valid = verify_ipn(raw_body, signature, server_key)
    header_text = json.dumps({k: headers.get(k, "") for k in ("Content-Type", "User-Agent")})
    cart_id = tran_ref = None
    problem: BadNotification | None = None
    if not valid:
        problem = BadNotification("invalid_signature", "missing or invalid Signature header")
        entry = rejected_entry("ipn", None, None, raw_body, raw_body, header_text)
    else:
        try:
            cart_id, tran_ref = parse_ipn(raw_body)
        except BadNotification as exc:
            problem = exc
        body_text = raw_body[:MAX_LOGGED_BODY].decode("utf-8", errors="replace")
        entry = Entry("ipn", cart_id, tran_ref, True, body_text, header_text)
    return _record(services, entry, problem)


def parse_ipn(raw_body: bytes) -> tuple[str, str]:
    """Return (cart_id, tran_ref) from an IPN body, or raise BadNotification."""
    try:
        payload = json.loads(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadNotification("malformed_body", "the body is not JSON") from None
    if not isinstance(payload, dict):
        raise BadNotification("malformed_body", "the body is not a JSON object")
    cart_id, tran_ref = payload.get("cart_id"), payload.get("tran_ref")
    if not isinstance(cart_id, str) or not isinstance(tran_ref, str) or not cart_id or not tran_ref:
        raise BadNotification("malformed_body", "cart_id and tran_ref must be strings")
    if len(cart_id) > 64 or len(tran_ref) > 64:
        raise BadNotification("malformed_body", "cart_id or tran_ref is too long")
    return cart_id, tran_ref


def handle_return(services: Services, fields: Mapping[str, str]) -> Recorded:
    """Verify the browser return's signature, log it, and queue a confirmation for its intent."""
    server_key = services.credentials.get().server_key.reveal()
    valid = verify_return(fields, server_key)
    cart_id = str(fields.get("cartId") or "")[:64] or None
    tran_ref = str(fields.get("tranRef") or "")[:64] or None
    body_text = json.dumps({k: str(v)[:500] for k, v in list(fields.items())[:40]})
    problem = (
        None
        if valid and cart_id and tran_ref
        else BadNotification("invalid_signature", "missing or invalid signature")
    )
    if valid:
        entry = Entry("return", cart_id, tran_ref, True, body_text, "{}")
    else:
        # The digest covers every field, whole, in the order the browser sent them.
        whole = json.dumps({k: str(v) for k, v in fields.items()}).encode()
        entry = rejected_entry("return", cart_id, tran_ref, whole, body_text.encode(), "{}")
    recorded = _record(services, entry, problem, raise_bad=False)
    status = str(fields.get("respStatus") or "")[:1] if valid else None
    return replace(recorded, status=status)


def rejected_entry(
    channel: str,
    cart_id: str | None,
    tran_ref: str | None,
    whole: bytes,
    shown: bytes,
    headers: str,
) -> Entry:
    """Return the entry of a notification whose signature failed: prefixes, digest and size."""
    return Entry(
        channel,
        cart_id,
        tran_ref,
        False,
        utf8_prefix(
            shown[:REJECTED_BODY_BYTES].decode("utf-8", errors="replace"), REJECTED_BODY_BYTES
        ),
        utf8_prefix(headers, REJECTED_HEADERS_BYTES),
        hashlib.sha256(whole).hexdigest(),
        len(whole),
    )


def utf8_prefix(text: str, limit: int) -> str:
    """Return the longest start of ``text`` whose UTF-8 encoding fits in ``limit`` bytes."""
    encoded = text[:limit].encode("utf-8", errors="replace")[:limit]
    return encoded.decode("utf-8", errors="ignore")  # drops a character cut in half


def _record(
    services: Services,
    entry: Entry,
    problem: BadNotification | None,
    *,
    raise_bad: bool = True,
) -> Recorded:
    """Append the notification to the log and, when it is genuine and ours, queue a confirmation."""
    now = services.clock()
    with services.db.transaction() as tx:
        # Only the id and tran_ref: the IPN path is hot, and the row is wide.
        key = repo.find_intent_key_by_ref(tx, entry.cart_id) if entry.cart_id else None
        outcome = _outcome(problem, key, entry.tran_ref)
        if outcome in ("queued", "other_transaction") and key is not None:
            enqueue(services, tx, key[0], JobKind.CONFIRM)  # and wake the worker after commit
        repo.insert_notification(
            tx,
            channel=entry.channel,
            intent_id=key[0] if key else None,
            tran_ref=entry.tran_ref,
            cart_id=entry.cart_id,
            signature_ok=entry.signature_ok,
            outcome=outcome,
            body=entry.body,
            headers=entry.headers,
            body_sha256=entry.body_sha256,
            body_length=entry.body_length,
            now=now,
        )
        intent = repo.get_intent(tx, key[0]) if key and entry.channel == "return" else None
    crash_point(services, "after_notification_logged")
    _log_outcome(services, entry, outcome, problem)
    recorded = Recorded(
        outcome,
        intent,
        channel=entry.channel,
        signature_ok=entry.signature_ok,
        rejected=problem.code if problem is not None else None,
    )
    if problem is not None and raise_bad:
        problem.recorded = recorded
        raise problem
    return recorded


def _log_outcome(
    services: Services, entry: Entry, outcome: str, problem: BadNotification | None
) -> None:
    """Log and count the notification: a rejected one warns, at most once per channel a minute."""
    rejected = problem.code if problem is not None else None
    if rejected is None:
        log.info("%s notification for %s: %s", entry.channel, entry.cart_id or "?", outcome)
        return
    # Per request only at DEBUG: at INFO a flood would fill the journal instead of the store.
    log.debug("%s notification rejected: %s", entry.channel, rejected)
    held_back = _throttle(services).admit(entry.channel, services.clock())
    if held_back is not None:
        log.warning(
            "%s notification rejected (%s); %d more rejected on this channel since the last"
            " warning (count: sidecar_notifications_rejected_total)",
            entry.channel,
            rejected,
            held_back,
        )


def _throttle(services: Services) -> Throttle:
    found = services.extras.get("notification_warnings")
    if found is None:
        found = services.extras.setdefault(
            "notification_warnings", Throttle(REJECTED_WARNING_SECONDS)
        )
    if not isinstance(found, Throttle):
        raise AssertionError("extras['notification_warnings'] is not a Throttle")
    return found


def _outcome(
    problem: BadNotification | None, key: tuple[int, str | None] | None, tran_ref: str | None
) -> str:
    """Decide what a notification is: refused, not ours, another transaction, or queued."""
    if problem is not None:
        return problem.code
    if key is None:
        return "unknown_cart"  # not ours (another site on the same profile): 200, no retry
    if key[1] and tran_ref != key[1]:
        return "other_transaction"  # a follow-up (refund) or another attempt: confirm anyway
    return "queued"
