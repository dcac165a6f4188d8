"""Seats you can see: places taken, held by buyers paying now, left, and when a hold ends.

The pure count first, then the checkout's group_full refusal on SQLite and MariaDB: with a time
when a buyer is paying for the last place right now, the plain sentence when nobody is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sidecar.domain.messages import FORM_ERRORS, GROUP_FULL_HELD
from sidecar.domain.states import State
from sidecar.payments import sweeps
from sidecar.payments.seats import count_seats, hhmm, iso_utc
from sidecar.store.repository import SeatHolder
from wp_bridge.models import Booking

JSON = {"Accept": "application/json"}
NOW = datetime(2026, 12, 6, 3, 0, 0, tzinfo=UTC).timestamp()
RIYADH = ZoneInfo("Asia/Riyadh")


def holder(ref: str, state: State, hold_expires_at: float = NOW + 1800) -> SeatHolder:
    return SeatHolder(
        id=len(ref),
        ref=ref,
        state=state,
        wp_user_id=None,
        email=f"{ref}@example.com",
        hold_expires_at=hold_expires_at,
    )


def booking(intent_ref: str) -> Booking:
    return Booking(id=1, intent_ref=intent_ref, group_id=7, user_id=2, created=True)


def test_count_splits_taken_and_held_now_and_names_the_first_hold_to_end() -> None:
    holders = [
        holder("paid1", State.FULFILLED),
        holder("hold1", State.AWAITING_PAYMENT, NOW + 900),
        holder("hold2", State.AWAITING_PAYMENT, NOW + 300),
    ]
    bookings = [booking("paid1"), booking("staff")]  # ours, and one the staff made
    count = count_seats(holders, bookings, 8, NOW)
    assert (count.capacity, count.taken, count.held_now, count.left) == (8, 2, 2, 4)
    assert count.next_release_at == NOW + 300


def test_count_without_holds_has_no_release_time_and_never_goes_below_zero() -> None:
    count = count_seats([holder("paid1", State.PAID)], [booking("staff")] * 3, 2, NOW)
    assert (count.taken, count.held_now, count.left, count.next_release_at) == (4, 0, 0, None)


def test_a_hold_past_its_end_not_yet_swept_frees_up_now_not_in_the_past() -> None:
    count = count_seats([holder("late", State.AWAITING_PAYMENT, NOW - 60)], [], 1, NOW)
    assert count.held_now == 1 and count.left == 0 and count.next_release_at == NOW


def test_times_are_iso_in_utc_and_hhmm_in_the_sites_zone() -> None:
    assert iso_utc(NOW + 61.5) == "2026-12-06T03:01:01Z"
    assert hhmm(NOW + 61, UTC) == "03:01"
    assert hhmm(NOW + 61, UTC, round_up=True) == "03:02"
    assert hhmm(NOW + 60, UTC, round_up=True) == "03:01"
    assert hhmm(NOW + 61, RIYADH, round_up=True) == "06:02"
    assert hhmm(NOW + 61, ZoneInfo("Asia/Kolkata")) == "08:31"


def group_full(stack: Any) -> dict[str, Any]:
    response = stack.checkout(stack.form(stack.small_group.id), headers=JSON)
    assert response.status_code == 409, response.get_data(as_text=True)
    error: dict[str, Any] = response.get_json()["error"]
    assert error["code"] == "group_full"
    return error


def test_full_group_held_by_a_buyer_paying_now_says_when_to_try_again(stack: Any) -> None:
    stack.set_site_options(timezone_string="Asia/Riyadh")
    intent = stack.start(group_id=str(stack.small_group.id))
    when = hhmm(intent.hold_expires_at, RIYADH, round_up=True)
    assert when != hhmm(intent.hold_expires_at, UTC, round_up=True)
    assert group_full(stack)["message"] == GROUP_FULL_HELD.format(time=when)
    assert f"free up at {when}; please" in group_full(stack)["message"]


def test_full_group_without_holds_says_only_that_it_is_full(stack: Any) -> None:
    intent = stack.paid_intent(group_id=str(stack.small_group.id))
    stack.drain()
    assert stack.intent(intent.ref).state == State.FULFILLED
    assert group_full(stack)["message"] == FORM_ERRORS["group_full"]


def test_an_expired_hold_no_longer_fills_the_group(stack: Any) -> None:
    intent = stack.start(group_id=str(stack.small_group.id))
    stack.clock.advance(stack.services.settings.hold_minutes * 60 + 1)
    sweeps.sweep_expired_holds(stack.services)
    stack.drain()
    assert stack.intent(intent.ref).state == State.EXPIRED
    stack.start(group_id=str(stack.small_group.id))  # the place is free again
