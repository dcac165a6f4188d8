"""The bridge plugin's REST routes (therapy-sidecar/v1) on the real WordPress."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.realwp.helpers import TIMEOUT, WPSite

pytestmark = pytest.mark.realwp

GROUP_KEYS = {
    "id",
    "name",
    "price",
    "currency",
    "capacity",
    "seats_taken",
    "open",
    "bp_group_id",
    "registration_url",
    "status_url",
    "thank_you_url",
    "schedule",
}


def book(wp: WPSite, ref: str, group_id: int, user_id: int) -> requests.Response:
    return wp.rest(
        "POST",
        "/therapy-sidecar/v1/bookings",
        json={"intent_ref": ref, "group_id": group_id, "user_id": user_id},
    )


def booking_rows(wp: WPSite, ref: str) -> int:
    rows = wp.query(
        f"SELECT COUNT(*) FROM {wp.prefix}therapy_sidecar_bookings WHERE intent_ref = %s", (ref,)
    )
    return int(rows[0][0])


# --- groups -------------------------------------------------------------------------------------


def test_group_info_has_the_contract_shape(wp: WPSite) -> None:
    response = wp.rest("GET", f"/therapy-sidecar/v1/groups/{wp.group_id()}")
    assert response.status_code == 200, response.text
    group = response.json()
    assert set(group) == GROUP_KEYS
    assert group["id"] == wp.group_id()
    assert group["price"] == "150.00"
    assert group["currency"] == "SAR"
    assert group["capacity"] == 25
    assert isinstance(group["seats_taken"], int)
    assert group["open"] is True
    assert group["bp_group_id"] == wp.bp_group_id()
    assert group["registration_url"] == f"{wp.base_url}/therapy-registration/"
    assert group["status_url"] == f"{wp.base_url}/therapy-registration-status/"
    assert group["thank_you_url"] == f"{wp.base_url}/thank-you/"
    assert group["schedule"] == {
        "starts_at": "2027-03-14T18:30:00+03:00",
        "timezone": "Asia/Riyadh",
        "duration_minutes": 90,
        "location": "Olaya Centre, Room 2; Riyadh",
    }


def test_small_and_closed_groups(wp: WPSite) -> None:
    small = wp.rest("GET", f"/therapy-sidecar/v1/groups/{wp.group_id('small')}").json()
    assert small["capacity"] == 1
    assert small["registration_url"] == f"{wp.base_url}/therapy-registration-small/"
    assert small["schedule"] is None
    closed = wp.rest("GET", f"/therapy-sidecar/v1/groups/{wp.group_id('closed')}").json()
    assert closed["open"] is False
    assert closed["price"] == "99.50"


def test_unknown_group_is_404(wp: WPSite) -> None:
    response = wp.rest("GET", "/therapy-sidecar/v1/groups/987654")
    assert response.status_code == 404
    assert response.json() == {
        "code": "therapy_group_not_found",
        "message": "No such therapy group.",
        "data": {"status": 404},
    }


def test_routes_need_an_administrator(wp: WPSite, buyer: dict[str, Any]) -> None:
    route = f"/therapy-sidecar/v1/groups/{wp.group_id()}"
    anonymous = wp.rest("GET", route, auth=None)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "rest_forbidden")
    # A subscriber with a valid application password is authenticated but lacks manage_options.
    created = wp.rest(
        "POST", f"/wp/v2/users/{buyer['id']}/application-passwords", json={"name": "rwp-test"}
    )
    assert created.status_code == 201, created.text
    subscriber = (buyer["username"], created.json()["password"])
    for method, path, body in (
        ("GET", route, None),
        (
            "POST",
            "/therapy-sidecar/v1/bookings",
            {"intent_ref": "rwp-x", "group_id": wp.group_id(), "user_id": buyer["id"]},
        ),
        ("GET", "/therapy-sidecar/v1/bookings", None),
        ("POST", "/therapy-sidecar/v1/emails", {"template": "alert", "intent_ref": "rwp-x"}),
    ):
        response = wp.rest(method, path, json=body, auth=subscriber)
        assert (response.status_code, response.json()["code"]) == (403, "rest_forbidden"), path


# --- bookings -----------------------------------------------------------------------------------


def test_booking_is_idempotent_by_intent_ref(
    wp: WPSite, buyer: dict[str, Any], new_ref: Callable[[], str]
) -> None:
    ref = new_ref()
    group_id = wp.group_id()
    before = wp.rest("GET", f"/therapy-sidecar/v1/groups/{group_id}").json()["seats_taken"]

    first = book(wp, ref, group_id, buyer["id"])
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["created"] is True
    assert (body["intent_ref"], body["group_id"], body["user_id"]) == (ref, group_id, buyer["id"])
    assert isinstance(body["id"], int)

    second = book(wp, ref, group_id, buyer["id"])
    assert second.status_code == 200
    assert second.json()["created"] is False
    assert second.json()["id"] == body["id"]

    assert booking_rows(wp, ref) == 1
    after = wp.rest("GET", f"/therapy-sidecar/v1/groups/{group_id}").json()["seats_taken"]
    assert after == before + 1

    listed = wp.rest("GET", "/therapy-sidecar/v1/bookings", params={"intent_ref": ref})
    assert listed.status_code == 200
    assert [(b["id"], b["intent_ref"], b["group_id"], b["user_id"]) for b in listed.json()] == [
        (body["id"], ref, group_id, buyer["id"])
    ]
    by_group = wp.rest("GET", "/therapy-sidecar/v1/bookings", params={"group_id": group_id}).json()
    assert ref in {b["intent_ref"] for b in by_group}
    unknown = wp.rest("GET", "/therapy-sidecar/v1/bookings", params={"intent_ref": new_ref()})
    assert unknown.status_code == 200
    assert unknown.json() == []


def test_full_group_is_409_but_an_existing_booking_stays_200(
    wp: WPSite, empty_small_group: int, new_ref: Callable[[], str]
) -> None:
    first_buyer, second_buyer = wp.create_user(), wp.create_user()
    ref = new_ref()
    assert book(wp, ref, empty_small_group, first_buyer["id"]).status_code == 201

    full = book(wp, new_ref(), empty_small_group, second_buyer["id"])
    assert full.status_code == 409
    assert full.json()["code"] == "therapy_group_full"
    assert full.json()["data"]["status"] == 409

    # The intent that holds the seat is still answered (idempotency comes before capacity).
    again = book(wp, ref, empty_small_group, first_buyer["id"])
    assert (again.status_code, again.json()["created"]) == (200, False)
    rows = wp.query(
        f"SELECT COUNT(*) FROM {wp.prefix}therapy_sidecar_bookings WHERE group_id = %s",
        (empty_small_group,),
    )
    assert rows[0][0] == 1


def test_second_booking_of_a_member_in_a_group_is_409(
    wp: WPSite, buyer: dict[str, Any], new_ref: Callable[[], str]
) -> None:
    """One place per person: another intent of the same user in the same group is refused."""
    group_id = wp.group_id()
    assert book(wp, new_ref(), group_id, buyer["id"]).status_code == 201
    second = book(wp, new_ref(), group_id, buyer["id"])
    assert (second.status_code, second.json()["code"]) == (409, "therapy_already_booked")
    rows = wp.query(
        f"SELECT COUNT(*) FROM {wp.prefix}therapy_sidecar_bookings WHERE group_id = %s"
        " AND user_id = %s",
        (group_id, buyer["id"]),
    )
    assert rows[0][0] == 1


def test_concurrent_bookings_never_overfill_a_group(
    wp: WPSite, empty_small_group: int, new_ref: Callable[[], str]
) -> None:
    buyers = [wp.create_user() for _ in range(6)]

    def attempt(user: dict[str, Any]) -> int:
        with requests.Session() as session:
            response = session.post(
                wp.url("/therapy-sidecar/v1/bookings"),
                json={
                    "intent_ref": new_ref(),
                    "group_id": empty_small_group,
                    "user_id": user["id"],
                },
                auth=wp.auth,
                timeout=TIMEOUT,
            )
            return response.status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(attempt, buyers))
    assert statuses == [201, 409, 409, 409, 409, 409]
    rows = wp.query(
        f"SELECT COUNT(*) FROM {wp.prefix}therapy_sidecar_bookings WHERE group_id = %s",
        (empty_small_group,),
    )
    assert rows[0][0] == 1


def test_closed_group_is_409(wp: WPSite, buyer: dict[str, Any], new_ref: Callable[[], str]) -> None:
    response = book(wp, new_ref(), wp.group_id("closed"), buyer["id"])
    assert response.status_code == 409
    assert response.json()["code"] == "therapy_group_closed"


def test_unknown_group_or_user_is_404(
    wp: WPSite, buyer: dict[str, Any], new_ref: Callable[[], str]
) -> None:
    no_group = book(wp, new_ref(), 987654, buyer["id"])
    assert (no_group.status_code, no_group.json()["code"]) == (404, "therapy_group_not_found")
    ref = new_ref()
    no_user = book(wp, ref, wp.group_id(), 2_000_000_000)
    assert (no_user.status_code, no_user.json()["code"]) == (404, "therapy_user_not_found")
    assert booking_rows(wp, ref) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"group_id": 101, "user_id": 1},
        {"intent_ref": "has space", "group_id": 101, "user_id": 1},
        {"intent_ref": "x" * 101, "group_id": 101, "user_id": 1},
        {"intent_ref": "rwp-ok", "group_id": 0, "user_id": 1},
        {"intent_ref": "rwp-ok", "group_id": "abc", "user_id": 1},
    ],
)
def test_bad_booking_input_is_400(wp: WPSite, body: dict[str, Any]) -> None:
    response = wp.rest("POST", "/therapy-sidecar/v1/bookings", json=body)
    assert response.status_code == 400
    assert response.json()["code"] in {"rest_missing_callback_param", "rest_invalid_param"}


def test_plugin_tables_exist_with_their_unique_keys(wp: WPSite) -> None:
    def unique_columns(table: str) -> set[tuple[str, str]]:
        rows = wp.query(f"SHOW INDEX FROM {wp.prefix}{table} WHERE Non_unique = 0")
        return {(row[2], row[4]) for row in rows}

    assert ("intent_ref", "intent_ref") in unique_columns("therapy_sidecar_bookings")
    assert ("PRIMARY", "jti") in unique_columns("therapy_sidecar_login_grants")
    emails = unique_columns("therapy_sidecar_emails")
    assert {("template_intent", "template"), ("template_intent", "intent_ref")} <= emails
    version = wp.query(
        f"SELECT option_value FROM {wp.prefix}options WHERE option_name = 'therapy_sidecar_schema_version'"
    )
    assert version == [("2",)]  # 2: the bookings' payment columns (the receipt)
