"""The test-only BuddyPress v1 stand-in answers like BuddyPress 14 with the BP REST API v1 does."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.realwp.helpers import WPSite

pytestmark = pytest.mark.realwp


def members_route(group_id: int) -> str:
    return f"/buddypress/v1/groups/{group_id}/members"


def add(wp: WPSite, group_id: int, user_id: int, *, context: str | None = None, **body: Any) -> Any:
    params = {"context": context} if context else None
    return wp.rest(
        "POST", members_route(group_id), params=params, json={"user_id": user_id, **body}
    )


def member_ids(wp: WPSite, group_id: int, **params: Any) -> list[int]:
    response = wp.rest("GET", members_route(group_id), params={"per_page": 100, **params})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()]


def start_of_a_second() -> None:
    """Wait until a fresh wall-clock second has just begun (for same-second checks)."""
    fraction = time.time() % 1
    if fraction > 0.2:
        time.sleep(1 - fraction + 0.01)


def test_join_with_context_view_is_an_idempotent_200_array(
    wp: WPSite, buyer: dict[str, Any]
) -> None:
    group = wp.bp_group_id()
    first = add(wp, group, buyer["id"], context="view")
    assert first.status_code == 200, first.text  # 200, not 201
    body = first.json()
    assert isinstance(body, list)
    assert len(body) == 1
    member = body[0]
    assert member["id"] == buyer["id"]
    assert member["user_login"] == buyer["username"]
    assert (member["is_confirmed"], member["is_admin"], member["is_mod"], member["is_banned"]) == (
        True,
        False,
        False,
        False,
    )
    assert "subscriber" in member["roles"]  # the answer is rendered in the edit context

    for _ in range(2):  # immediately again, same second included
        again = add(wp, group, buyer["id"], context="view")
        assert again.status_code == 200
        assert again.json()[0]["id"] == buyer["id"]
    assert member_ids(wp, group).count(buyer["id"]) == 1


def test_default_context_readd_in_the_same_second_is_500(wp: WPSite, buyer: dict[str, Any]) -> None:
    group = wp.bp_group_id()
    start_of_a_second()
    first = add(wp, group, buyer["id"])
    assert first.status_code == 200
    assert isinstance(first.json(), list)
    same_second = add(wp, group, buyer["id"])
    assert same_second.status_code == 500
    assert same_second.json()["code"] == "bp_rest_group_member_failed_to_join"
    assert same_second.json()["message"] == "Could not add member to the group."

    time.sleep(1.05)
    later = add(wp, group, buyer["id"])
    assert later.status_code == 200
    assert later.json()[0]["date_modified"] > first.json()[0]["date_modified"]


def test_default_context_readd_demotes_a_group_admin(wp: WPSite, buyer: dict[str, Any]) -> None:
    group = wp.bp_group_id()
    promoted = add(wp, group, buyer["id"], role="admin")
    assert promoted.json()[0]["is_admin"] is True
    time.sleep(1.05)
    readded = add(wp, group, buyer["id"])
    assert readded.status_code == 200
    assert readded.json()[0]["is_admin"] is False


def test_member_list_hides_admins_by_default_and_counts_in_headers(
    wp: WPSite, buyer: dict[str, Any]
) -> None:
    group = wp.bp_group_id()
    admin_id = int(wp.env["WP_ADMIN_USER_ID"])  # the group's creator, hence its admin
    assert add(wp, group, buyer["id"], context="view").status_code == 200

    default = wp.rest("GET", members_route(group), params={"per_page": 100})
    ids = [item["id"] for item in default.json()]
    assert buyer["id"] in ids
    assert admin_id not in ids
    assert int(default.headers["X-WP-Total"]) == len(ids)
    assert default.headers["X-WP-TotalPages"] == "1"

    everyone = member_ids(wp, group, exclude_admins="false")
    assert {buyer["id"], admin_id} <= set(everyone)

    one_per_page = wp.rest(
        "GET", members_route(group), params={"exclude_admins": "false", "per_page": 1}
    )
    total = int(one_per_page.headers["X-WP-Total"])
    assert total == len(everyone)
    assert int(one_per_page.headers["X-WP-TotalPages"]) == total
    assert len(one_per_page.json()) == 1


def test_errors(wp: WPSite, buyer: dict[str, Any]) -> None:
    group = wp.bp_group_id()
    unknown_group = add(wp, 987654, buyer["id"], context="view")
    assert (unknown_group.status_code, unknown_group.json()["code"]) == (
        404,
        "bp_rest_group_invalid_id",
    )
    unknown_user = add(wp, group, 2_000_000_000, context="view")
    assert (unknown_user.status_code, unknown_user.json()["code"]) == (
        404,
        "bp_rest_group_member_invalid_id",
    )
    anonymous = wp.rest(
        "POST",
        members_route(group),
        params={"context": "view"},
        json={"user_id": buyer["id"]},
        auth=None,
    )
    assert (anonymous.status_code, anonymous.json()["code"]) == (
        401,
        "bp_rest_authorization_required",
    )
    listing = wp.rest("GET", members_route(987654))
    assert (listing.status_code, listing.json()["code"]) == (404, "bp_rest_group_invalid_id")


def test_private_group_members_are_not_public(wp: WPSite, buyer: dict[str, Any]) -> None:
    private = wp.bp_group_id("small")
    anonymous = wp.rest("GET", members_route(private), auth=None)
    assert (anonymous.status_code, anonymous.json()["code"]) == (
        401,
        "bp_rest_authorization_required",
    )
    assert add(wp, private, buyer["id"], context="view").status_code == 200
    assert buyer["id"] in member_ids(wp, private)


def test_group_read_is_a_one_element_array(wp: WPSite) -> None:
    response = wp.rest(
        "GET", f"/buddypress/v1/groups/{wp.bp_group_id()}", params={"context": "edit"}
    )
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert len(body) == 1
    assert body[0]["id"] == wp.bp_group_id()
    assert body[0]["status"] == "public"
    assert body[0]["total_member_count"] >= 1
