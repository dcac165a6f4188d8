"""``GET /therapy/groups/<id>/seats`` and the status page's held-until sentence (item 3).

The endpoint counts as checkout does (our seat-holding intents plus WordPress's other bookings),
says how many places buyers are paying for right now and when the first of those holds ends, and
says nothing about who they are. Every test runs on SQLite and on MariaDB.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sidecar.domain.messages import AWAITING_PAYMENT_HELD_UNTIL, STATE_MESSAGES
from sidecar.domain.states import State
from sidecar.payments import sweeps
from sidecar.payments.seats import hhmm, iso_utc
from sidecar.web import seats_routes

JSON = {"Accept": "application/json"}
KEYS = {"group_id", "capacity", "taken", "held_now", "left", "next_release_at"}


def seats(stack: Any, group_id: int) -> dict[str, Any]:
    stack.clock.advance(seats_routes.CACHE_SECONDS + 1)  # past the short cache
    response = stack.client.get(f"/therapy/groups/{group_id}/seats")
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert set(body) == KEYS
    return body


def test_an_empty_group_has_all_its_places_left(stack: Any) -> None:
    assert seats(stack, stack.group.id) == {
        "group_id": stack.group.id,
        "capacity": 5,
        "taken": 0,
        "held_now": 0,
        "left": 5,
        "next_release_at": None,
    }


def test_a_live_hold_lowers_left_and_says_when_it_ends(stack: Any) -> None:
    intent = stack.start()
    body = seats(stack, stack.group.id)
    assert (body["taken"], body["held_now"], body["left"]) == (0, 1, 4)
    assert body["next_release_at"] == iso_utc(intent.hold_expires_at)
    assert intent.ref not in str(body) and "@" not in str(body)  # no personal data


def test_a_paid_place_is_taken_not_held(stack: Any) -> None:
    stack.paid_intent(group_id=str(stack.small_group.id))
    stack.drain()
    body = seats(stack, stack.small_group.id)
    assert (body["taken"], body["held_now"], body["left"]) == (1, 0, 0)
    assert body["next_release_at"] is None


def test_an_expired_or_failed_hold_gives_its_place_back(stack: Any) -> None:
    declined = stack.start()
    stack.post_return(stack.pay(declined, card="4000000000000002"))
    stack.drain()
    assert stack.intent(declined.ref).state == State.PAYMENT_FAILED
    expired = stack.start()
    # Until its hold ends a declined payment keeps its place, for "Try again".
    assert seats(stack, stack.group.id)["held_now"] == 2
    stack.clock.advance(stack.services.settings.hold_minutes * 60 + 1)
    sweeps.sweep_expired_holds(stack.services)
    sweeps.sweep_kept_seats(stack.services)
    stack.drain()
    assert stack.intent(expired.ref).state == State.EXPIRED
    body = seats(stack, stack.group.id)
    assert (body["taken"], body["held_now"], body["left"]) == (0, 0, 5)
    assert body["next_release_at"] is None


def test_answers_are_kept_briefly(stack: Any) -> None:
    before = seats(stack, stack.group.id)
    stack.start()
    cached = stack.client.get(f"/therapy/groups/{stack.group.id}/seats")
    assert cached.get_json() == before
    assert "max-age" in cached.headers["Cache-Control"]
    assert seats(stack, stack.group.id)["held_now"] == 1


def test_an_unknown_group_is_404(stack: Any) -> None:
    response = stack.client.get("/therapy/groups/999999/seats")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "group_not_found"


def test_the_status_says_until_when_the_place_is_held_in_the_sites_time(stack: Any) -> None:
    stack.set_site_options(timezone_string="Asia/Riyadh")
    intent = stack.start()
    answer = stack.client.get(f"/therapy/status/{intent.ref}", headers=JSON).get_json()
    assert answer["state"] == "awaiting_payment"
    assert answer["hold_expires_at"] == iso_utc(intent.hold_expires_at)
    until = hhmm(intent.hold_expires_at, ZoneInfo("Asia/Riyadh"))
    assert answer["message"] == AWAITING_PAYMENT_HELD_UNTIL.format(time=until)
    assert answer["message"].endswith(f"Your place is held for you until {until}.")
    page = stack.client.get(f"/therapy/status/{intent.ref}", headers={"Accept": "text/html"})
    assert f"held for you until {until}." in page.get_data(as_text=True)


def test_after_paying_the_status_only_says_it_waits_for_paytabs(stack: Any) -> None:
    intent = stack.start()
    stack.post_return(stack.pay(intent))  # the confirmation is queued, not yet run
    answer = stack.client.get(f"/therapy/status/{intent.ref}", headers=JSON).get_json()
    assert answer["state"] == "awaiting_payment"
    assert answer["message"] == STATE_MESSAGES["awaiting_payment"]
    assert answer["hold_expires_at"] == iso_utc(intent.hold_expires_at)
