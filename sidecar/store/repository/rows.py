"""The rows the store hands out (Intent, Job) and the helpers every query module shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from sidecar.domain.states import SEAT_HOLDING, State


@dataclass(frozen=True)
class SeatHolder:
    """An intent that counts against its group's capacity, with what the seat rules need."""

    id: int
    ref: str
    state: State
    wp_user_id: int | None
    email: str
    hold_expires_at: float


@dataclass(frozen=True)
class Intent:
    """One registration attempt: the buyer, the group, the payment and the fulfilment steps."""

    id: int
    ref: str
    state: State
    state_reason: str | None
    group_id: int
    bp_group_id: int
    group_name: str
    amount_minor: int
    currency: str
    email: str | None
    first_name: str | None
    last_name: str | None
    phone: str | None
    street1: str | None
    city: str | None
    country: str | None
    client_ip: str | None
    password_enc: str | None
    wp_user_id: int | None
    buyer_logged_in: bool
    user_created: bool
    booking_id: int | None
    member_joined: bool
    confirmation_sent: bool
    tran_ref: str | None
    redirect_url: str | None
    idempotency_key: str | None
    browser_secret_hash: str
    login_jti: str | None
    login_exp: float | None
    registration_url: str
    status_url: str
    thank_you_url: str
    hold_expires_at: float
    refund_tran_ref: str | None
    refund_status: str | None
    refund_requested_at: float | None
    cancel_refund_minor: int | None  # an operator's cancellation: what to refund (sql/0005)
    locale: str  # the buyer's language, "en" or "ar" (sql/0007)
    paid_at: float | None
    fulfilled_at: float | None
    last_queried_at: float | None
    unfulfilled_alerted: bool
    seat_kept: bool  # a declined payment's seat, kept until the hold ends for "Try again" (0008)
    purged_at: float | None
    created_at: float
    updated_at: float

    def __repr__(self) -> str:
        # Personal data and secrets stay out of logs and tracebacks.
        return f"Intent(id={self.id}, ref={self.ref!r}, state={self.state.value})"

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Intent:
        """Build an Intent from a database row."""
        values = {f.name: row[f.name] for f in fields(cls)}
        values["state"] = State(values["state"])
        for flag in ("buyer_logged_in", "user_created", "member_joined", "confirmation_sent"):
            values[flag] = bool(values[flag])
        values["unfulfilled_alerted"] = bool(values["unfulfilled_alerted"])
        values["seat_kept"] = bool(values["seat_kept"])
        return cls(**values)


@dataclass(frozen=True)
class Job:
    """A unit of durable work for one intent (confirm, fulfil, refund)."""

    id: int
    intent_id: int
    kind: str
    state: str
    attempts: int
    run_after: float
    lease_until: float | None
    lease_token: str | None
    last_error: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        """Build a Job from a database row."""
        return cls(**{f.name: row[f.name] for f in fields(cls)})


INTENT_COLUMNS = [f.name for f in fields(Intent) if f.name != "id"]
SEAT_STATES = tuple(s.value for s in SEAT_HOLDING)
# needs_attention holds its seat while the money is kept for a place (waiting to be fulfilled);
# an intent parked because its refund failed is leaving the group and does not.
SEAT_RELEASED_REASONS = ("refund_failed",)
# A declined payment keeps its seat while ``seat_kept`` (until its hold ends: "Try again").
SEAT_CLAUSE = (
    f"(state IN ({', '.join('?' for s in SEAT_STATES if s != State.NEEDS_ATTENTION.value)})"
    f" OR (state = ? AND (state_reason IS NULL OR state_reason NOT IN"
    f" ({', '.join('?' for _ in SEAT_RELEASED_REASONS)})))"
    " OR (state = ? AND seat_kept = 1))"
)
SEAT_PARAMS: tuple[str, ...] = (
    *(s for s in SEAT_STATES if s != State.NEEDS_ATTENTION.value),
    State.NEEDS_ATTENTION.value,
    *SEAT_RELEASED_REASONS,
    State.PAYMENT_FAILED.value,
)


def placeholders(values: Sequence[Any]) -> str:
    """Return ``?, ?, ...`` for a list of values."""
    return ", ".join("?" for _ in values)


def db_value(value: Any) -> Any:
    """Convert a Python value to what the drivers store (enums as text, booleans as 0/1)."""
    if isinstance(value, State):
        return value.value
    if isinstance(value, bool):
        return int(value)
    return value
