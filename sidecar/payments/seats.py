"""Seats and places, counted under the group lock from what the store knows.

A group's seats in use are the intents of ours that hold one (live holds, paid, fulfilled, and
needs_attention ones still waiting for their place) plus the bookings WordPress has that none of
those intents made (a booking made by the site's staff, or by an intent that has since ended).
Reading WordPress's ``seats_taken`` before taking the lock would race with a fulfilment booking
in between; the store's rows are read under the lock, so that race is gone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sidecar.core.errors import CheckoutRejected
from sidecar.domain.messages import FORM_ERRORS, REGISTRATION_IN_PROGRESS_MINUTES
from sidecar.domain.states import is_payable
from sidecar.store import repository as repo
from sidecar.store.db import Tx
from sidecar.store.repository import SeatHolder
from wp_bridge.models import Booking


def seats_in_use(holders: Sequence[SeatHolder], bookings: Sequence[Booking]) -> int:
    """Return the seats taken: our seat-holding intents plus WordPress bookings none of them made."""
    ours = {holder.ref for holder in holders}
    return len(holders) + sum(1 for booking in bookings if booking.intent_ref not in ours)


def refuse_booked_member(user_id: int, bookings: Sequence[Booking]) -> None:
    """Refuse a logged-in member who already has a booking in the group (one place per person)."""
    if user_id and any(booking.user_id == user_id for booking in bookings):
        raise _already_registered()


def refuse_second_place(
    holders: Sequence[SeatHolder], user_id: int, email: str, now: float
) -> None:
    """Refuse a buyer who already holds a place, or a registration in progress, in the group."""
    email = email.lower()
    for holder in holders:
        same_user = bool(user_id) and holder.wp_user_id == user_id
        if not same_user and not (email and holder.email == email):
            continue
        if not is_payable(holder.state):
            raise _already_registered()
        minutes = max(1, math.ceil((holder.hold_expires_at - now) / 60))
        raise CheckoutRejected(
            "registration_in_progress",
            REGISTRATION_IN_PROGRESS_MINUTES.format(minutes=minutes),
            "group_id",
            409,
        )


def hold_seat_or_refuse(
    tx: Tx,
    group_id: int,
    capacity: int,
    bookings: Sequence[Booking],
    buyer: tuple[int, str],
    now: float,
) -> None:
    """Under the group's lock: refuse a second place for the buyer, or a full group."""
    repo.lock_group(tx, group_id)
    holders = repo.list_seat_holders(tx, group_id)
    tx.race_window()
    refuse_second_place(holders, buyer[0], buyer[1], now)
    if seats_in_use(holders, bookings) >= capacity:
        raise CheckoutRejected("group_full", FORM_ERRORS["group_full"], "group_id", 409)


def _already_registered() -> CheckoutRejected:
    return CheckoutRejected(
        "already_registered",
        FORM_ERRORS["already_registered"],
        "group_id",
        409,
    )
