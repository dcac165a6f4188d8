"""PayTabs' return and IPN: verify, then parse, then record and queue a confirmation. Triggers only.

Neither handler calls PayTabs or WordPress; the worker's confirmation job queries PayTabs, which is
the only source of truth.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sidecar import metrics
from sidecar import repository as repo
from sidecar.jobs import crash_point
from sidecar.paytabs.signatures import verify_ipn, verify_return
from sidecar.repository import Intent
from sidecar.services import Services

log = logging.getLogger(__name__)
MAX_LOGGED_BODY = 32_000
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


@dataclass(frozen=True)
class Recorded:
    """What was done with a notification."""

    outcome: str
    intent: Intent | None
    status: str | None = None


def handle_ipn(
    services: Services, raw_body: bytes, signature: str | None, headers: Mapping[str, str]
) -> Recorded:
    """Verify the IPN's HMAC over the raw bytes, log it, and queue a confirmation for its intent."""
    server_key = services.credentials.get().server_key.reveal()
    valid = verify_ipn(raw_body, signature, server_key)
    body_text = raw_body[:MAX_LOGGED_BODY].decode("utf-8", errors="replace")
    header_text = json.dumps({k: headers.get(k, "") for k in ("Content-Type", "User-Agent")})
    cart_id = tran_ref = None
    problem: BadNotification | None = None
    if not valid:
        problem = BadNotification("invalid_signature", "missing or invalid Signature header")
    else:
        try:
            cart_id, tran_ref = parse_ipn(raw_body)
        except BadNotification as exc:
            problem = exc
    return _record(services, "ipn", cart_id, tran_ref, valid, body_text, header_text, problem)


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
    recorded = _record(
        services, "return", cart_id, tran_ref, valid, body_text, "{}", problem, raise_bad=False
    )
    status = str(fields.get("respStatus") or "")[:1] if valid else None
    return Recorded(recorded.outcome, recorded.intent, status)


def _record(
    services: Services,
    channel: str,
    cart_id: str | None,
    tran_ref: str | None,
    valid: bool,
    body: str,
    headers: str,
    problem: BadNotification | None,
    *,
    raise_bad: bool = True,
) -> Recorded:
    """Append the notification to the log and, when it is genuine and ours, queue a confirmation."""
    now = services.clock()
    with services.db.transaction() as tx:
        # Only the id and tran_ref: the IPN path is hot, and the row is wide.
        key = repo.find_intent_key_by_ref(tx, cart_id) if cart_id else None
        outcome = _outcome(problem, key, tran_ref)
        if outcome in ("queued", "other_transaction") and key is not None:
            repo.enqueue_job(tx, intent_id=key[0], kind="confirm", now=now)
        repo.insert_notification(
            tx,
            channel=channel,
            intent_id=key[0] if key else None,
            tran_ref=tran_ref,
            cart_id=cart_id,
            signature_ok=valid,
            outcome=outcome,
            body=body,
            headers=headers,
            now=now,
        )
        intent = repo.get_intent(tx, key[0]) if key and channel == "return" else None
    crash_point(services, "after_notification_logged")
    log.info("%s notification for %s: %s", channel, cart_id or "?", outcome)
    metrics.notification_recorded(services, channel, outcome, valid)
    if problem is not None and raise_bad:
        raise problem
    return Recorded(outcome, intent)


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
