"""wp_bridge.client.WordPressClient against the real WordPress, bridge plugin and BuddyPress stand-in."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.realwp.helpers import TIMEOUT, WPSite
from wp_bridge import errors
from wp_bridge.client import WordPressClient
from wp_bridge.tokens import issue_login_grant

pytestmark = pytest.mark.realwp


@pytest.fixture
def client(wp: WPSite) -> Iterator[WordPressClient]:
    with requests.Session() as session:
        yield WordPressClient(
            wp.base_url, wp.user, wp.app_password, session=session, sleep=lambda _: None
        )


def make_user(wp: WPSite, client: WordPressClient, **overrides: Any) -> Any:
    token = uuid.uuid4().hex[:12]
    fields = {
        "username": f"rwpc_{token}",
        "email": f"rwpc.{token}@example.test",
        "password": f"pw-{token}",
        "first_name": "Client",
        "last_name": "Tester",
        "intent_ref": f"rwp-{token}",
    }
    fields.update(overrides)
    user = client.create_user(**fields)
    wp.created_user_ids.append(user.id)
    return user


def test_ping_proves_the_credentials(wp: WPSite, client: WordPressClient) -> None:
    me = client.ping()
    assert me.username == wp.user
    with requests.Session() as session:
        wrong = WordPressClient(
            wp.base_url,
            wp.user,
            "abcd abcd abcd abcd abcd abcd",
            session=session,
            sleep=lambda _: None,
        )
        with pytest.raises(errors.WPAuthError) as info:
            wrong.ping()
    assert info.value.http_status == 401
    assert "abcd" not in str(info.value)


def test_create_and_find_users(wp: WPSite, client: WordPressClient) -> None:
    token = uuid.uuid4().hex[:10]
    user = make_user(wp, client, email=f"Ann.{token}@Example.test", intent_ref=f"rwp-{token}")
    assert user.intent_ref == f"rwp-{token}"
    neighbour = make_user(wp, client, email=f"joann.{token}@example.test")

    found = client.find_user_by_email(f"ann.{token}@example.test")
    assert found is not None
    assert found.id == user.id
    assert found.intent_ref == f"rwp-{token}"
    assert client.find_user_by_email(f"nobody.{token}@example.test") is None
    assert client.find_user_by_email(neighbour.email).id == neighbour.id  # type: ignore[union-attr]

    with pytest.raises(errors.UserAlreadyExists) as info:
        make_user(wp, client, email=user.email)
    assert info.value.field == "email"
    with pytest.raises(errors.UserAlreadyExists) as info:
        make_user(wp, client, username=user.username)
    assert info.value.field == "login"


def test_groups(wp: WPSite, client: WordPressClient) -> None:
    group = client.get_group(wp.group_id())
    assert group.price == Decimal("150.00")
    assert group.currency == "SAR"
    assert group.bp_group_id == wp.bp_group_id()
    assert group.thank_you_url == f"{wp.base_url}/thank-you/"
    assert client.get_group(wp.group_id("closed")).open is False
    with pytest.raises(errors.GroupNotFound):
        client.get_group(987654)


def test_bookings(
    wp: WPSite, client: WordPressClient, empty_small_group: int, new_ref: Callable[[], str]
) -> None:
    first_user, second_user = make_user(wp, client), make_user(wp, client)
    ref = new_ref()
    booking = client.book_session(intent_ref=ref, group_id=empty_small_group, user_id=first_user.id)
    assert booking.created is True
    again = client.book_session(intent_ref=ref, group_id=empty_small_group, user_id=first_user.id)
    assert (again.created, again.id) == (False, booking.id)

    found = client.find_booking(ref)
    assert found is not None
    assert (found.id, found.group_id, found.user_id) == (
        booking.id,
        empty_small_group,
        first_user.id,
    )
    assert client.find_booking(new_ref()) is None
    assert [b.intent_ref for b in client.list_bookings(empty_small_group)] == [ref]
    assert ref in {b.intent_ref for b in client.list_bookings()}

    with pytest.raises(errors.GroupFull) as full:
        client.book_session(
            intent_ref=new_ref(), group_id=empty_small_group, user_id=second_user.id
        )
    assert full.value.is_permanent
    with pytest.raises(errors.GroupClosed):
        client.book_session(
            intent_ref=new_ref(), group_id=wp.group_id("closed"), user_id=second_user.id
        )
    with pytest.raises(errors.GroupNotFound):
        client.book_session(intent_ref=new_ref(), group_id=987654, user_id=second_user.id)
    with pytest.raises(errors.UserNotFound):
        client.book_session(intent_ref=new_ref(), group_id=wp.group_id(), user_id=2_000_000_000)


def test_buddypress_membership(wp: WPSite, client: WordPressClient) -> None:
    user = make_user(wp, client)
    bp_group = wp.bp_group_id()
    assert client.is_group_member(bp_group, user.id) is False
    client.join_group(bp_group, user.id)
    client.join_group(bp_group, user.id)  # idempotent, even within the same second
    assert client.is_group_member(bp_group, user.id) is True
    members = client.list_group_members(bp_group)
    assert int(wp.env["WP_ADMIN_USER_ID"]) in members  # admins included
    assert members.count(user.id) == 1
    with pytest.raises(errors.GroupNotFound):
        client.join_group(987654, user.id)
    with pytest.raises(errors.UserNotFound):
        client.join_group(bp_group, 2_000_000_000)


def test_send_email_is_idempotent(
    wp: WPSite, client: WordPressClient, new_ref: Callable[[], str]
) -> None:
    user = make_user(wp, client)
    ref = new_ref()
    assert client.send_email(template="new_user", intent_ref=ref, user_id=user.id) is True
    assert client.send_email(template="new_user", intent_ref=ref, user_id=user.id) is False
    assert (
        client.send_email(template="alert", intent_ref=ref, data={"message": "test alert"}) is True
    )


def test_login_url_logs_the_browser_in(
    wp: WPSite, client: WordPressClient, new_ref: Callable[[], str]
) -> None:
    ref = new_ref()
    user = make_user(wp, client, intent_ref=ref)  # a grant logs in only its own intent's user
    client.book_session(intent_ref=ref, group_id=wp.group_id(), user_id=user.id)
    url = client.login_url(
        issue_login_grant(uid=user.id, ref=ref, secret=wp.secret, now=time.time())
    )
    with requests.Session() as browser:
        response = browser.get(url, timeout=TIMEOUT, allow_redirects=False)
        assert response.status_code == 302
        assert response.headers["Location"] == f"{wp.base_url}/thank-you/"
        profile = browser.get(
            f"{wp.base_url}/wp-admin/profile.php", timeout=TIMEOUT, allow_redirects=False
        )
        assert profile.status_code == 200
        # Used again (Back, refresh) by the browser it logged in: on to the thank-you page, no error.
        again = browser.get(url, timeout=TIMEOUT, allow_redirects=False)
        assert (again.status_code, again.headers["Location"]) == (302, f"{wp.base_url}/thank-you/")
    assert url.split("&grant=")[0] == f"{wp.base_url}/?rest_route=/therapy-sidecar/v1/login"
