"""Seats and places, counted under the group lock from what the store knows.

A group's seats in use are the intents of ours that hold one (live holds, paid, fulfilled, and
needs_attention ones still waiting for their place) plus the bookings WordPress has that none of
those intents made (a booking made by the site's staff, or by an intent that has since ended).
Reading WordPress's ``seats_taken`` before taking the lock would race with a fulfilment booking
in between; the store's rows are read under the lock, so that race is gone.

``count_seats`` is the same count, pure, split for the buyer: places taken for good, places held
right now by buyers on the PayTabs page (which free up when their hold ends), and places left. The
public seats endpoint runs it without the lock (a display, never a decision).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from sidecar.core.errors import CheckoutRejected
from sidecar.domain.messages import (
    FORM_ERRORS,
    GROUP_FULL_HELD,
    REGISTRATION_IN_PROGRESS_MINUTES,
)
from sidecar.domain.states import State, is_payable
from sidecar.store import repository as repo
from sidecar.store.db import Tx
from sidecar.store.repository import SeatHolder
from wp_bridge.models import Booking


def seats_in_use(holders: Sequence[SeatHolder], bookings: Sequence[Booking]) -> int:
    """Return the seats taken: our seat-holding intents plus WordPress bookings none of them made."""
    ours = {holder.ref for holder in holders}
    return len(holders) + sum(1 for booking in bookings if booking.intent_ref not in ours)


@dataclass(frozen=True)
class SeatCount:
    """A group's places: taken for good, held by buyers paying now, left; when a hold ends first."""

    capacity: int
    taken: int
    held_now: int
    left: int
    next_release_at: float | None


def count_seats(
    holders: Sequence[SeatHolder], bookings: Sequence[Booking], capacity: int, now: float
) -> SeatCount:
    """Split the seats in use into taken and held now (intents awaiting payment), and what is left.

    ``next_release_at`` is the earliest end of a live hold (never before ``now``: a hold past its
    end still counts until the sweep expires it), or None when nobody is paying right now.
    """
    in_use = seats_in_use(holders, bookings)
    ends = [holder.hold_expires_at for holder in holders if _held_for_payment(holder.state)]
    return SeatCount(
        capacity=capacity,
        taken=in_use - len(ends),
        held_now=len(ends),
        left=max(0, capacity - in_use),
        next_release_at=max(min(ends), now) if ends else None,
    )


def iso_utc(timestamp: float) -> str:
    """Return the time as ISO 8601 in UTC, to the second (``2026-12-06T03:27:54Z``)."""
    return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hhmm(timestamp: float, zone: tzinfo, *, round_up: bool = False) -> str:
    """Return the time as HH:MM in ``zone`` (the site's); ``round_up`` for "not before"."""
    seconds = math.ceil(timestamp / 60) * 60 if round_up else int(timestamp) // 60 * 60
    return datetime.fromtimestamp(seconds, zone).strftime("%H:%M")


def _held_for_payment(state: State) -> bool:
    """A place held until its hold ends: a buyer on the PayTabs page, or a declined payment whose
    seat is kept for "Try again" (payment_failed holders are only those: see SEAT_CLAUSE)."""
    return is_payable(state) or state == State.PAYMENT_FAILED


def _same_buyer(holder: SeatHolder, user_id: int, email: str) -> bool:
    same_user = bool(user_id) and holder.wp_user_id == user_id
    return same_user or bool(email and holder.email == email.lower())


def refuse_booked_member(user_id: int, bookings: Sequence[Booking]) -> None:
    """Refuse a logged-in member who already has a booking in the group (one place per person)."""
    if user_id and any(booking.user_id == user_id for booking in bookings):
        raise _already_registered()


def refuse_second_place(
    holders: Sequence[SeatHolder], user_id: int, email: str, now: float
) -> None:
    """Refuse a buyer who already holds a place, or a registration in progress, in the group."""
    for holder in holders:
        if not _same_buyer(holder, user_id, email) or holder.state == State.PAYMENT_FAILED:
            continue  # the buyer's own declined attempt: their new form takes its seat over
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
    zone: tzinfo,
) -> None:
    """Under the group's lock: refuse a second place for the buyer, or a full group (times in
    ``zone``, the site's)."""
    repo.lock_group(tx, group_id)
    holders = _release_own_declined(tx, repo.list_seat_holders(tx, group_id), buyer, now)
    tx.race_window()
    refuse_second_place(holders, buyer[0], buyer[1], now)
    if seats_in_use(holders, bookings) >= capacity:
        raise _group_full(count_seats(holders, bookings, capacity, now), zone)


def _release_own_declined(
    tx: Tx, holders: list[SeatHolder], buyer: tuple[int, str], now: float
) -> list[SeatHolder]:
    """A buyer who fills the form in again after a decline gives up that attempt's kept seat
    (the new intent holds one instead): release it and count without it."""
    kept = []
    for holder in holders:
        if holder.state == State.PAYMENT_FAILED and _same_buyer(holder, *buyer):
            repo.update_intent(tx, holder.id, now, seat_kept=False, password_enc=None)
        else:
            kept.append(holder)
    return kept


def _already_registered() -> CheckoutRejected:
    return CheckoutRejected(
        "already_registered",
        FORM_ERRORS["already_registered"],
        "group_id",
        409,
    )


def _group_full(count: SeatCount, zone: tzinfo) -> CheckoutRejected:
    """The full group's refusal: when buyers are paying now, when a place may free up."""
    if count.next_release_at is None:
        return CheckoutRejected("group_full", FORM_ERRORS["group_full"], "group_id", 409)
    return CheckoutRejected(
        "group_full",
        GROUP_FULL_HELD.format(time=hhmm(count.next_release_at, zone, round_up=True)),
        "group_id",
        409,
    )
