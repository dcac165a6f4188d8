"""The fake client is a faithful stand-in: same public surface, same behaviour as the real one.

Every behavioural test runs twice (see the ``wp`` fixture): the real WordPressClient over HTTP
against the sandbox WordPress, and FakeWordPressClient calling FakeWordPress directly.
"""

from __future__ import annotations

import inspect
import threading
from decimal import Decimal
from typing import Any

import pytest

from wp_bridge.client import WordPressClient
from wp_bridge.errors import (
    GroupClosed,
    GroupFull,
    GroupNotFound,
    UserAlreadyExists,
    UserNotFound,
    WPAuthError,
    WPBadRequest,
    WPBridgeError,
)
from wp_bridge.fake import FakeWordPress, FakeWordPressClient


def public_surface(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def test_fake_client_has_exactly_the_real_public_methods() -> None:
    real, fake = public_surface(WordPressClient), public_surface(FakeWordPressClient)
    assert sorted(real) == sorted(fake)
    for name, signature in real.items():
        assert fake[name] == signature, name


def test_public_surface_covers_the_documented_methods() -> None:
    assert set(public_surface(WordPressClient)) == {
        "ping", "find_user_by_email", "get_user", "create_user", "get_group", "book_session",
        "find_booking", "list_bookings", "join_group", "is_group_member", "list_group_members",
        "send_email", "login_url", "rest_index", "cancel_booking", "leave_group",
    }  # fmt: skip


def add_user(wp: Any, email: str = "amira@example.test", **overrides: Any) -> Any:
    fields = {
        "username": email.split("@")[0],
        "email": email,
        "password": "correct horse battery",
        "first_name": "Amira",
        "last_name": "K",
        "intent_ref": "TP-1",
    }
    fields.update(overrides)
    return wp.client.create_user(**fields)


def test_ping_returns_the_admin(wp: Any) -> None:
    assert wp.client.ping() == wp.fake.admin


def test_create_then_find_and_get_user(wp: Any) -> None:
    created = add_user(wp, "Amira@Example.test")
    assert created.intent_ref == "TP-1" and created.username == "Amira"
    assert wp.client.find_user_by_email("amira@example.TEST") == created
    assert wp.client.get_user(created.id) == created
    assert wp.client.get_user(99_999) is None


def test_find_user_by_email_ignores_substring_matches(wp: Any) -> None:
    add_user(wp, "jimbob@x.test")
    assert wp.client.find_user_by_email("bob@x.test") is None


def test_find_user_by_email_pages_through_many_matches(wp: Any) -> None:
    for n in range(105):
        wp.fake.add_user(username=f"u{n}", email=f"u{n}.bob@x.test")
    target = wp.fake.add_user(username="bob", email="bob@x.test")
    assert wp.client.find_user_by_email("bob@x.test") == target


@pytest.mark.parametrize(
    ("username", "email", "field"),
    [("amira", "other@example.test", "login"), ("other", "AMIRA@example.test", "email")],
)
def test_duplicate_user_raises_user_already_exists(
    wp: Any, username: str, email: str, field: str
) -> None:
    add_user(wp)
    with pytest.raises(UserAlreadyExists) as info:
        add_user(wp, email, username=username)
    assert info.value.field == field


def test_invalid_email_is_bad_request(wp: Any) -> None:
    with pytest.raises(WPBadRequest) as info:
        add_user(wp, "not-an-email", username="x")
    assert info.value.invalid_params == ["email"]


def test_get_group_describes_seats_and_pages(wp: Any) -> None:
    group = wp.fake.add_group(name="Grief", price="150.00", capacity=2, seats_taken=1)
    info = wp.client.get_group(group.id)
    assert (info.price, info.currency, info.capacity, info.seats_taken) == (
        Decimal("150.00"),
        "SAR",
        2,
        1,
    )
    assert info.registration_url.endswith(f"/therapy-registration/?group={group.id}")
    assert info.status_url.endswith("/therapy-registration-status/")
    assert info.thank_you_url.endswith("/thank-you/")
    with pytest.raises(GroupNotFound):
        wp.client.get_group(99_999)


def test_book_session_is_idempotent_by_intent(wp: Any) -> None:
    group = wp.fake.add_group(name="Grief", price="150.00", capacity=3)
    user = add_user(wp)
    first = wp.client.book_session(intent_ref="TP-1", group_id=group.id, user_id=user.id)
    again = wp.client.book_session(intent_ref="TP-1", group_id=group.id, user_id=user.id)
    assert first.created and not again.created and first.id == again.id
    assert wp.client.get_group(group.id).seats_taken == 1
    assert wp.client.find_booking("TP-1") == first
    assert wp.client.find_booking("TP-404") is None
    assert wp.client.list_bookings(group.id) == [first]


def test_book_session_refusals(wp: Any) -> None:
    full = wp.fake.add_group(name="Full", price="150.00", capacity=1, seats_taken=1)
    closed = wp.fake.add_group(name="Closed", price="150.00", capacity=5, open=False)
    user = add_user(wp)
    with pytest.raises(GroupFull):
        wp.client.book_session(intent_ref="TP-1", group_id=full.id, user_id=user.id)
    with pytest.raises(GroupClosed):
        wp.client.book_session(intent_ref="TP-2", group_id=closed.id, user_id=user.id)
    with pytest.raises(GroupNotFound):
        wp.client.book_session(intent_ref="TP-3", group_id=99_999, user_id=user.id)
    with pytest.raises(UserNotFound):
        wp.client.book_session(intent_ref="TP-4", group_id=closed.id, user_id=99_999)
    assert wp.client.list_bookings(closed.id) == []


def test_list_bookings_without_group_returns_all(wp: Any) -> None:
    a = wp.fake.add_group(name="A", price="150.00", capacity=3, seats_taken=1)
    b = wp.fake.add_group(name="B", price="150.00", capacity=3, seats_taken=2)
    assert len(wp.client.list_bookings()) == 3
    assert {booking.group_id for booking in wp.client.list_bookings()} == {a.id, b.id}


def test_concurrent_bookings_never_exceed_capacity(wp: Any) -> None:
    group = wp.fake.add_group(name="Last seats", price="150.00", capacity=3)
    users = [wp.fake.add_user(username=f"u{n}", email=f"u{n}@x.test") for n in range(10)]
    outcomes: list[str] = []

    def book(n: int) -> None:
        # One client per thread: a requests.Session is not meant to be shared across threads.
        client = wp.new_client()
        try:
            client.book_session(intent_ref=f"TP-{n}", group_id=group.id, user_id=users[n].id)
            outcomes.append("booked")
        except GroupFull:
            outcomes.append("full")

    threads = [threading.Thread(target=book, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked"] * 3 + ["full"] * 7
    assert wp.client.get_group(group.id).seats_taken == 3


def test_join_group_is_idempotent_and_visible(wp: Any) -> None:
    group = wp.fake.add_group(name="Grief", price="150.00", capacity=3)
    user = add_user(wp)
    assert not wp.client.is_group_member(group.bp_group_id, user.id)
    wp.client.join_group(group.bp_group_id, user.id)
    wp.client.join_group(group.bp_group_id, user.id)
    assert wp.client.is_group_member(group.bp_group_id, user.id)
    # The admin who created the group is listed too (exclude_admins=false).
    assert sorted(wp.client.list_group_members(group.bp_group_id)) == [wp.fake.admin.id, user.id]


def test_join_group_keeps_group_admin_status(wp: Any) -> None:
    group = wp.fake.add_group(name="Grief", price="150.00", capacity=3)
    wp.client.join_group(group.bp_group_id, wp.fake.admin.id)
    assert wp.fake.member(group.bp_group_id, wp.fake.admin.id).is_admin


def test_join_group_unknown_group_or_user(wp: Any) -> None:
    group = wp.fake.add_group(name="Grief", price="150.00", capacity=3)
    user = add_user(wp)
    with pytest.raises(GroupNotFound):
        wp.client.join_group(99_999, user.id)
    with pytest.raises(UserNotFound):
        wp.client.join_group(group.bp_group_id, 99_999)
    with pytest.raises(GroupNotFound):
        wp.client.list_group_members(99_999)


def test_send_email_once_per_template_and_intent(wp: Any) -> None:
    user = add_user(wp)
    assert wp.client.send_email(template="new_user", intent_ref="TP-1", user_id=user.id)
    assert not wp.client.send_email(template="new_user", intent_ref="TP-1", user_id=user.id)
    assert wp.client.send_email(template="booking_confirmed", intent_ref="TP-1", user_id=user.id)
    assert wp.client.send_email(template="alert", intent_ref="TP-1", data={"why": "stuck"})
    assert [mail["to"] for mail in wp.fake.emails] == [
        "amira@example.test",
        "amira@example.test",
        wp.fake.admin.email,
    ]
    assert wp.fake.emails[-1]["data"] == {"why": "stuck"}


def test_send_email_unknown_template_is_bad_request(wp: Any) -> None:
    with pytest.raises(WPBadRequest):
        wp.client.send_email(template="spam", intent_ref="TP-1", to="a@example.test")


def test_login_url_carries_the_grant(wp: Any) -> None:
    link = wp.client.login_url("abc.def")
    assert link.endswith("/?rest_route=/therapy-sidecar/v1/login&grant=abc.def")
    assert link.startswith(wp.fake.site_url)


def test_transient_failures_are_retried(wp: Any) -> None:
    wp.fake.fail_next(2, status=503)
    assert wp.client.ping() == wp.fake.admin


def test_persistent_failure_surfaces_as_transient_error(wp: Any) -> None:
    wp.fake.fail_next(10, status=500)
    with pytest.raises(WPBridgeError) as info:
        wp.client.ping()
    assert info.value.is_transient


def test_down_wordpress_is_a_transient_error(wp: Any) -> None:
    wp.fake.down = True
    with pytest.raises(WPBridgeError) as info:
        wp.client.get_group(1)
    assert info.value.is_transient


def test_writes_are_logged_without_passwords(wp: Any) -> None:
    group = wp.fake.add_group(name="Grief", price="150.00", capacity=3)
    user = add_user(wp)
    wp.client.book_session(intent_ref="TP-1", group_id=group.id, user_id=user.id)
    assert [call.name for call in wp.fake.calls] == ["create_user", "book_session"]
    assert "correct horse battery" not in repr(wp.fake.calls)


def test_real_client_with_wrong_password_is_auth_error(sandbox_fake: FakeWordPress) -> None:
    client = WordPressClient(sandbox_fake.site_url, "admin", "wrong password")
    with pytest.raises(WPAuthError) as info:
        client.ping()
    assert info.value.code == "rest_not_logged_in"
    with pytest.raises(WPAuthError, match="create new users"):
        client.create_user(
            username="x",
            email="x@example.test",
            password="pw",
            first_name="",
            last_name="",
            intent_ref="TP-1",
        )


def test_fake_latency_is_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("wp_bridge.fake.wordpress.time.sleep", slept.append)
    fake = FakeWordPress()
    fake.latency_seconds = 0.25
    FakeWordPressClient(fake).ping()
    assert slept == [0.25]


def test_rest_index_names_the_bridge_and_the_buddypress_version(wp: Any) -> None:
    index = wp.client.rest_index()
    assert "therapy-sidecar/v1" in index.namespaces
    assert (index.buddypress_version, index.missing()) == ("v1", [])


def test_rest_index_says_what_is_missing(wp: Any) -> None:
    wp.fake.bridge_installed = False
    wp.fake.buddypress_version = None
    problems = wp.new_client().rest_index().missing()
    assert len(problems) == 2
    assert "therapy-sidecar/v1" in problems[0] and "BuddyPress" in problems[1]


def test_buddypress_v2_site_joins_and_lists_members(wp: Any) -> None:
    # BuddyPress 15 without the BP-REST plugin: only v2 routes, objects instead of one-item lists.
    wp.fake.buddypress_version = "v2"
    bp_group = wp.fake.add_group(name="Grief", price="150.00", capacity=3).bp_group_id
    user = add_user(wp)
    client = wp.new_client()
    assert client.rest_index().buddypress_version == "v2"
    client.join_group(bp_group, user.id)
    client.join_group(bp_group, user.id)
    assert sorted(client.list_group_members(bp_group)) == [wp.fake.admin.id, user.id]
    assert client.is_group_member(bp_group, user.id)
