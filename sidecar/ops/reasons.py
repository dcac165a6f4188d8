"""Why an intent is where it is, in words an operator reads (CLI, the WordPress panel)."""

from __future__ import annotations

from datetime import UTC, datetime

from sidecar.domain.states import State
from sidecar.store.repository import Intent

# PayTabs' response_status codes (docs/paytabs-api.md), in words.
PAYTABS_CODES = {
    "A": "approved",
    "H": "on hold for a fraud check",
    "P": "pending at PayTabs",
    "V": "voided",
    "E": "error at PayTabs",
    "D": "declined by the bank",
    "C": "cancelled by the buyer",
    "X": "expired at PayTabs",
}
REASONS = {
    "hold_expired": "the seat's hold expired unpaid",
    "group_full_after_payment": "the group was full when the payment arrived",
    "operator_refund": "refunded by an operator",
    "cancelled": "cancelled by an operator",
    "paytabs_amount_differs": "PayTabs' amount differs from the intent's",
    "paytabs_currency_differs": "PayTabs' currency differs from the intent's",
    "paytabs_cart_differs": "PayTabs' cart differs from the intent's",
}


def reason_words(reason: str | None) -> str:
    """Return a state reason in words, with PayTabs' code beside it ("declined by the bank (D)")."""
    if not reason:
        return "-"
    if reason in REASONS:
        return REASONS[reason]
    code = reason.removeprefix("paytabs_")
    if reason.startswith("paytabs_") and code in PAYTABS_CODES:
        return f"{PAYTABS_CODES[code]} ({code})"
    return reason.replace("_", " ")


def when(epoch: float | None) -> str:
    """Format epoch seconds as a UTC date and time (or "-")."""
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def list_reason(intent: Intent) -> str:
    """Return the list's reason column: in words; for a live hold, when it expires."""
    if intent.state == State.AWAITING_PAYMENT:
        held = f"seat held until {when(intent.hold_expires_at)}"
        return held if not intent.state_reason else f"{reason_words(intent.state_reason)}; {held}"
    return reason_words(intent.state_reason)
