"""WordPressClient against recorded WordPress 6.1 and BuddyPress 14 (v1) / 15 (v2) answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

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
    WPConnectionError,
    WPServerError,
)
from wp_bridge.models import Booking

BASE = "http://wp.test"
APP_PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678"
BRIDGE = "/therapy-sidecar/v1"


def url(route: str, **params: Any) -> str:
    """Build the URL the client must call (query order does not matter to responses)."""
    query = "".join(f"&{key}={value}" for key, value in params.items())
    return f"{BASE}/?rest_route={route}{query}"


def wp_user(user_id: int = 12, email: str = "amira@example.test", **overrides: Any) -> dict:
    """Build a /wp/v2/users object as WordPress sends it with context=edit."""
    user = {
        "id": user_id,
        "username": email.split("@")[0],
        "name": "Amira K",
        "first_name": "Amira",
        "last_name": "K",
        "email": email,
        "url": "",
        "description": "",
        "link": f"{BASE}/author/amira/",
        "locale": "en_US",
        "nickname": "amira",
        "slug": "amira",
        "roles": ["subscriber"],
        "registered_date": "2026-11-21T10:00:00+00:00",
        "capabilities": {"read": True, "level_0": True, "subscriber": True},
        "extra_capabilities": {"subscriber": True},
        "avatar_urls": {"24": "http://0.gravatar.com/avatar/x?s=24"},
        "meta": {"therapy_sidecar_intent": "TP-1"},
        "_links": {"self": [{"href": f"{BASE}/?rest_route=/wp/v2/users/{user_id}"}]},
    }
    user.update(overrides)
    return user


def bp_member(user_id: int = 12, group_id: int = 7, **overrides: Any) -> dict:
    """Build a BuddyPress v1 group member object."""
    member = {
        "id": user_id,
        "name": "Amira K",
        "user_login": "amira",
        "link": f"{BASE}/members/amira/",
        "member_types": [],
        "group": group_id,
        "is_mod": False,
        "is_admin": False,
        "is_banned": False,
        "is_confirmed": True,
        "date_modified": "2026-11-21T10:00:00",
        "date_modified_gmt": "2026-11-21T10:00:00",
    }
    member.update(overrides)
    return member


def group_json(**overrides: Any) -> dict:
    group = {
        "id": 3,
        "name": "Grief and Loss Group",
        "price": "150.00",
        "currency": "SAR",
        "capacity": 8,
        "seats_taken": 7,
        "open": True,
        "bp_group_id": 7,
        "registration_url": f"{BASE}/therapy-registration/?group=3",
        "status_url": f"{BASE}/therapy-registration-status/",
        "thank_you_url": f"{BASE}/thank-you/",
    }
    group.update(overrides)
    return group


def sent_json(index: int = 0) -> Any:
    """Return the JSON body of a recorded request."""
    body = responses.calls[index].request.body
    assert body is not None
    return json.loads(body)


def new_user(client: WordPressClient, **overrides: Any) -> Any:
    fields = {
        "username": "amira",
        "email": "amira@example.test",
        "password": "correct horse battery",
        "first_name": "Amira",
        "last_name": "K",
        "intent_ref": "TP-1",
    }
    fields.update(overrides)
    return client.create_user(**fields)


@pytest.fixture
def client() -> WordPressClient:
    # Single attempt: the retry loop has its own tests (test_retry.py).
    return WordPressClient(BASE, "sidecar", APP_PASSWORD, max_attempts=1, sleep=lambda s: None)


class TestRequests:
    @responses.activate
    def test_client_sends_basic_auth_timeout_and_rest_route(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        seen: dict[str, Any] = {}
        session = requests.Session()
        original = session.request

        def spy(method: str, url: str, **kwargs: Any) -> requests.Response:
            seen.update(kwargs, url=url)
            return original(method, url, **kwargs)

        monkeypatch.setattr(session, "request", spy)
        client = WordPressClient(BASE + "/", "sidecar", APP_PASSWORD, session=session)
        responses.get(url("/wp/v2/users/me", context="edit"), json=wp_user(1))
        client.ping()
        assert seen["timeout"] == (3.05, 10)
        assert seen["url"] == f"{BASE}/?rest_route=/wp/v2/users/me&context=edit"
        header = responses.calls[0].request.headers["Authorization"]
        assert header == requests.auth._basic_auth_str("sidecar", APP_PASSWORD)

    def test_client_repr_and_errors_hide_the_app_password(self) -> None:
        client = WordPressClient(BASE, "sidecar", APP_PASSWORD)
        assert repr(client) == "WordPressClient(base_url='http://wp.test', user='sidecar')"
        assert APP_PASSWORD not in str(client) and APP_PASSWORD not in repr(client)

    @responses.activate
    def test_error_body_echoing_the_password_is_redacted(self, client: WordPressClient) -> None:
        echo = {"code": "rest_forbidden", "message": f"bad {APP_PASSWORD}", "data": {"status": 403}}
        responses.get(url("/wp/v2/users/me", context="edit"), status=403, json=echo)
        with pytest.raises(WPAuthError) as info:
            client.ping()
        for text in (str(info.value), repr(info.value), info.value.body, info.value.message):
            assert APP_PASSWORD not in text
            assert APP_PASSWORD.replace(" ", "") not in text

    @responses.activate
    def test_connection_error_hides_the_app_password(self, client: WordPressClient) -> None:
        responses.get(
            url("/wp/v2/users/me", context="edit"),
            body=requests.exceptions.ConnectionError(f"refused for {APP_PASSWORD}"),
        )
        with pytest.raises(WPBridgeError) as info:
            client.ping()
        assert APP_PASSWORD not in str(info.value) and APP_PASSWORD not in repr(info.value)

    @responses.activate
    def test_connection_error_is_one_line_naming_the_host_and_why(
        self, client: WordPressClient
    ) -> None:
        target = url("/wp/v2/users/me", context="edit")
        refused = requests.exceptions.ConnectionError(
            "HTTPConnectionPool(host='wp.test', port=443): Max retries exceeded with url: ... "
            "(Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f>: "
            "Failed to establish a new connection: [Errno 111] Connection refused'))",
            request=requests.Request("GET", target).prepare(),
        )
        responses.get(target, body=refused)
        with pytest.raises(WPConnectionError) as info:
            client.ping()
        assert str(info.value) == (
            "cannot reach WordPress at wp.test: connection refused (is it running, and is the"
            " port right?)"
        )

    @responses.activate
    def test_redirect_is_an_error_not_followed(self, client: WordPressClient) -> None:
        responses.get(
            url("/wp/v2/users/me", context="edit"),
            status=301,
            headers={"Location": "https://wp.test/?rest_route=/wp/v2/users/me"},
        )
        with pytest.raises(WPBridgeError, match=r"redirected to https://wp\.test"):
            client.ping()

    @responses.activate
    def test_html_instead_of_json_is_an_error(self, client: WordPressClient) -> None:
        responses.get(url(f"{BRIDGE}/groups/3"), body="<html>Home page</html>", status=200)
        with pytest.raises(WPBridgeError) as info:
            client.get_group(3)
        assert info.value.code == "invalid_json"


class TestUsers:
    @responses.activate
    def test_ping_returns_the_authenticated_user(self, client: WordPressClient) -> None:
        responses.get(
            url("/wp/v2/users/me", context="edit"), json=wp_user(1, "admin@example.test", meta=[])
        )
        assert client.ping().id == 1

    @responses.activate
    def test_ping_with_wrong_app_password_is_auth_error(self, client: WordPressClient) -> None:
        body = {
            "code": "rest_not_logged_in",
            "message": "You are not currently logged in.",
            "data": {"status": 401},
        }
        responses.get(url("/wp/v2/users/me", context="edit"), status=401, json=body)
        with pytest.raises(WPAuthError) as info:
            client.ping()
        assert info.value.code == "rest_not_logged_in" and not info.value.is_transient

    @responses.activate
    def test_create_user_posts_fields_and_intent_meta(self, client: WordPressClient) -> None:
        responses.post(
            url("/wp/v2/users"),
            status=201,
            json=wp_user(),
            headers={"Location": f"{BASE}/?rest_route=/wp/v2/users/12"},
        )
        user = new_user(client)
        assert (user.id, user.email, user.username, user.intent_ref) == (
            12,
            "amira@example.test",
            "amira",
            "TP-1",
        )
        sent = sent_json()
        assert sent == {
            "username": "amira",
            "email": "amira@example.test",
            "password": "correct horse battery",
            "first_name": "Amira",
            "last_name": "K",
            "name": "Amira K",
            "meta": {"therapy_sidecar_intent": "TP-1"},
        }

    @pytest.mark.parametrize(
        ("code", "message", "field"),
        [
            ("existing_user_login", "Sorry, that username already exists!", "login"),
            ("existing_user_email", "Sorry, that email address is already used!", "email"),
        ],
    )
    @responses.activate
    def test_create_user_duplicate_500_is_user_already_exists(
        self, client: WordPressClient, code: str, message: str, field: str
    ) -> None:
        responses.post(
            url("/wp/v2/users"), status=500, json={"code": code, "message": message, "data": None}
        )
        with pytest.raises(UserAlreadyExists) as info:
            new_user(client)
        assert info.value.field == field
        assert info.value.http_status == 500
        assert not info.value.is_transient and not info.value.is_permanent
        assert "correct horse battery" not in repr(info.value)

    @responses.activate
    def test_create_user_invalid_email_is_bad_request(self, client: WordPressClient) -> None:
        body = {
            "code": "rest_invalid_param",
            "message": "Invalid parameter(s): email",
            "data": {
                "status": 400,
                "params": {"email": "Invalid email address."},
                "details": {
                    "email": {
                        "code": "rest_invalid_email",
                        "message": "Invalid email address.",
                        "data": None,
                    }
                },
            },
        }
        responses.post(url("/wp/v2/users"), status=400, json=body)
        with pytest.raises(WPBadRequest) as info:
            new_user(client, email="not-an-email")
        assert info.value.invalid_params == ["email"]

    @responses.activate
    def test_create_user_without_rights_is_auth_error(self, client: WordPressClient) -> None:
        body = {
            "code": "rest_cannot_create_user",
            "message": "Sorry, you are not allowed to create new users.",
            "data": {"status": 401},
        }
        responses.post(url("/wp/v2/users"), status=401, json=body)
        with pytest.raises(WPAuthError, match="not allowed to create new users"):
            new_user(client)

    @responses.activate
    def test_find_user_by_email_filters_substring_matches(self, client: WordPressClient) -> None:
        search = url("/wp/v2/users", search="bob@x.com", context="edit", per_page=100, page=1)
        responses.get(
            search,
            json=[wp_user(5, "jimbob@x.com")],
            headers={"X-WP-Total": "1", "X-WP-TotalPages": "1"},
        )
        assert client.find_user_by_email("bob@x.com") is None

    @responses.activate
    def test_find_user_by_email_is_case_insensitive(self, client: WordPressClient) -> None:
        search = url("/wp/v2/users", search="bob@x.com", context="edit", per_page=100, page=1)
        responses.get(
            search,
            json=[wp_user(5, "jimbob@x.com"), wp_user(6, "Bob@X.com")],
            headers={"X-WP-Total": "2", "X-WP-TotalPages": "1"},
        )
        user = client.find_user_by_email("  BOB@x.com ")
        assert user is not None and user.id == 6 and user.intent_ref == "TP-1"

    @responses.activate
    def test_find_user_by_email_follows_pages(self, client: WordPressClient) -> None:
        params = {"search": "bob@x.com", "context": "edit", "per_page": 100}
        others = [wp_user(100 + n, f"user{n}bob@x.com") for n in range(100)]
        headers = {"X-WP-Total": "101", "X-WP-TotalPages": "2"}
        responses.get(url("/wp/v2/users", **params, page=1), json=others, headers=headers)
        responses.get(
            url("/wp/v2/users", **params, page=2), json=[wp_user(7, "bob@x.com")], headers=headers
        )
        user = client.find_user_by_email("bob@x.com")
        assert user is not None and user.id == 7
        assert len(responses.calls) == 2

    @responses.activate
    def test_find_user_by_email_handles_empty_meta(self, client: WordPressClient) -> None:
        search = url("/wp/v2/users", search="bob@x.com", context="edit", per_page=100, page=1)
        responses.get(
            search,
            json=[wp_user(6, "bob@x.com", meta=[])],
            headers={"X-WP-Total": "1", "X-WP-TotalPages": "1"},
        )
        user = client.find_user_by_email("bob@x.com")
        assert user is not None and user.intent_ref is None

    def test_find_user_by_blank_email_makes_no_call(self, client: WordPressClient) -> None:
        with responses.RequestsMock():
            assert client.find_user_by_email("  ") is None

    @responses.activate
    def test_get_user_unknown_is_none(self, client: WordPressClient) -> None:
        body = {
            "code": "rest_user_invalid_id",
            "message": "Invalid user ID.",
            "data": {"status": 404},
        }
        responses.get(url("/wp/v2/users/99", context="edit"), status=404, json=body)
        assert client.get_user(99) is None

    @responses.activate
    def test_get_user_returns_user(self, client: WordPressClient) -> None:
        responses.get(url("/wp/v2/users/12", context="edit"), json=wp_user())
        user = client.get_user(12)
        assert user is not None and user.email == "amira@example.test"


class TestBridge:
    @responses.activate
    def test_get_group_parses_price_as_decimal(self, client: WordPressClient) -> None:
        responses.get(url(f"{BRIDGE}/groups/3"), json=group_json())
        group = client.get_group(3)
        assert group.price == Decimal("150.00") and group.currency == "SAR"
        assert (group.capacity, group.seats_taken, group.seats_left) == (8, 7, 1)
        assert group.bp_group_id == 7 and group.open

    @responses.activate
    def test_get_group_unknown_is_group_not_found(self, client: WordPressClient) -> None:
        body = {
            "code": "therapy_group_not_found",
            "message": "No such group.",
            "data": {"status": 404},
        }
        responses.get(url(f"{BRIDGE}/groups/9"), status=404, json=body)
        with pytest.raises(GroupNotFound) as info:
            client.get_group(9)
        assert info.value.is_permanent

    @responses.activate
    def test_get_group_with_missing_field_is_invalid_response(
        self, client: WordPressClient
    ) -> None:
        broken = group_json()
        del broken["price"]
        responses.get(url(f"{BRIDGE}/groups/3"), json=broken)
        with pytest.raises(WPBridgeError) as info:
            client.get_group(3)
        assert info.value.code == "invalid_response"

    @pytest.mark.parametrize(("status", "created"), [(201, True), (200, False)])
    @responses.activate
    def test_book_session_returns_booking(
        self, client: WordPressClient, status: int, created: bool
    ) -> None:
        answer = {"id": 4, "intent_ref": "TP-1", "group_id": 3, "user_id": 12, "created": created}
        responses.post(url(f"{BRIDGE}/bookings"), status=status, json=answer)
        booking = client.book_session(intent_ref="TP-1", group_id=3, user_id=12)
        assert booking == Booking(4, "TP-1", 3, 12, created)
        assert sent_json() == {
            "intent_ref": "TP-1",
            "group_id": 3,
            "user_id": 12,
        }

    @pytest.mark.parametrize(
        ("status", "code", "error"),
        [
            (409, "therapy_group_full", GroupFull),
            (409, "therapy_group_closed", GroupClosed),
            (404, "therapy_group_not_found", GroupNotFound),
            (404, "therapy_user_not_found", UserNotFound),
        ],
    )
    @responses.activate
    def test_book_session_domain_errors(
        self, client: WordPressClient, status: int, code: str, error: type[Exception]
    ) -> None:
        body = {"code": code, "message": "No.", "data": {"status": status}}
        responses.post(url(f"{BRIDGE}/bookings"), status=status, json=body)
        with pytest.raises(error):
            client.book_session(intent_ref="TP-1", group_id=3, user_id=12)

    @responses.activate
    def test_find_booking_by_intent(self, client: WordPressClient) -> None:
        answer = [{"id": 4, "intent_ref": "TP-1", "group_id": 3, "user_id": 12, "created": True}]
        responses.get(url(f"{BRIDGE}/bookings", intent_ref="TP-1"), json=answer)
        responses.get(url(f"{BRIDGE}/bookings", intent_ref="TP-2"), json=[])
        assert client.find_booking("TP-1") == Booking(4, "TP-1", 3, 12, True)
        assert client.find_booking("TP-2") is None

    @responses.activate
    def test_list_bookings_all_or_by_group(self, client: WordPressClient) -> None:
        row = {"id": 4, "intent_ref": "TP-1", "group_id": 3, "user_id": 12, "created": True}
        responses.get(url(f"{BRIDGE}/bookings"), json=[row, {**row, "id": 5, "group_id": 6}])
        responses.get(url(f"{BRIDGE}/bookings", group_id=3), json=[row])
        assert [b.id for b in client.list_bookings()] == [4, 5]
        assert [b.id for b in client.list_bookings(3)] == [4]

    @pytest.mark.parametrize(("status", "sent"), [(202, True), (200, False)])
    @responses.activate
    def test_send_email(self, client: WordPressClient, status: int, sent: bool) -> None:
        responses.post(url(f"{BRIDGE}/emails"), status=status, json={"sent": sent})
        assert (
            client.send_email(
                template="booking_confirmed", intent_ref="TP-1", user_id=12, data={"group": "Grief"}
            )
            is sent
        )
        assert sent_json() == {
            "template": "booking_confirmed",
            "intent_ref": "TP-1",
            "user_id": 12,
            "data": {"group": "Grief"},
        }

    @responses.activate
    def test_send_email_carries_the_buyers_locale(self, client: WordPressClient) -> None:
        responses.post(url(f"{BRIDGE}/emails"), status=202, json={"sent": True})
        assert client.send_email(template="refunded", intent_ref="TP-1", to="a@b.c", locale="ar")
        assert sent_json() == {
            "template": "refunded",
            "intent_ref": "TP-1",
            "to": "a@b.c",
            "locale": "ar",
        }

    def test_login_url_is_built_without_http(self, client: WordPressClient) -> None:
        with responses.RequestsMock():
            link = client.login_url("eyJ0.abc-_")
        assert link == f"{BASE}/?rest_route=/therapy-sidecar/v1/login&grant=eyJ0.abc-_"
        assert parse_qs(urlsplit(client.login_url("a+b/c=")).query)["grant"] == ["a+b/c="]


def rest_index(buddypress: str | None = "v1", *, bridge: bool = True) -> dict[str, Any]:
    """Build a REST index (GET /?rest_route=/) as WordPress lists it, routes trimmed of args."""
    namespaces = ["oembed/1.0", "wp/v2"]
    routes: dict[str, Any] = {"/": {"namespace": ""}, "/wp/v2/users": {"namespace": "wp/v2"}}
    if bridge:
        namespaces.append("therapy-sidecar/v1")
        for path in ("/groups/(?P<id>\\d+)", "/bookings", "/emails", "/login"):
            routes[f"{BRIDGE}{path}"] = {"namespace": "therapy-sidecar/v1"}
    if buddypress:
        ns = f"buddypress/{buddypress}"
        namespaces.append(ns)
        for path in ("/groups", "/groups/(?P<id>[\\d]+)", "/groups/(?P<group_id>[\\d]+)/members"):
            routes[f"/{ns}{path}"] = {"namespace": ns, "methods": ["GET", "POST"]}
    return {"name": "Site", "namespaces": namespaces, "routes": routes}


class TestRestIndex:
    @responses.activate
    def test_rest_index_lists_namespaces_and_routes_and_is_cached(self) -> None:
        now = [1000.0]
        client = WordPressClient(BASE, "sidecar", APP_PASSWORD, clock=lambda: now[0])
        responses.get(url("/"), json=rest_index("v2"))
        index = client.rest_index()
        assert "therapy-sidecar/v1" in index.namespaces and index.buddypress_version == "v2"
        assert index.missing() == []
        now[0] += 59
        client.rest_index()
        assert len(responses.calls) == 1
        now[0] += 2
        client.rest_index()
        client.rest_index(max_age=0)
        assert len(responses.calls) == 3

    @pytest.mark.parametrize(
        ("index", "words"),
        [
            (rest_index(bridge=False), "therapy-sidecar/v1 is missing"),
            (rest_index(None), "BuddyPress's REST API (buddypress/v1 or buddypress/v2) is missing"),
            (
                {"namespaces": ["wp/v2", "therapy-sidecar/v1", "buddypress/v2"], "routes": {}},
                "does not serve /therapy-sidecar/v1/groups/(?P<, /therapy-sidecar/v1/bookings",
            ),
            (
                {
                    **rest_index(None),
                    "namespaces": [*rest_index(None)["namespaces"], "buddypress/v1"],
                },
                "Groups component active",
            ),
        ],
    )
    @responses.activate
    def test_rest_index_names_what_fulfilment_misses(
        self, client: WordPressClient, index: dict[str, Any], words: str
    ) -> None:
        responses.get(url("/"), json=index)
        assert any(words in problem for problem in client.rest_index().missing())

    @responses.activate
    def test_rest_index_prefers_v1_when_both_are_served(self, client: WordPressClient) -> None:
        both = rest_index("v1")
        v2 = rest_index("v2")
        both["routes"].update(v2["routes"])
        responses.get(url("/"), json=both)
        assert client.rest_index().buddypress_version == "v1"

    @responses.activate
    def test_rest_index_of_another_shape_is_invalid_response(self, client: WordPressClient) -> None:
        responses.get(url("/"), json=["not", "an", "index"])
        with pytest.raises(WPBridgeError) as info:
            client.rest_index()
        assert info.value.code == "invalid_response"


@pytest.fixture(params=["v1", "v2"])
def bp(request: pytest.FixtureRequest) -> Iterator[str]:
    """Serve an index naming one BuddyPress REST version; yield that version's members route."""
    responses.start()
    try:
        responses.get(url("/"), json=rest_index(request.param))
        yield f"/buddypress/{request.param}/groups/7/members"
    finally:
        responses.stop()
        responses.reset()


def single(route: str, item: dict[str, Any]) -> Any:
    """Shape a single item as the route's version sends it: v1 wraps it in a list, v2 does not."""
    return [item] if "/v1/" in route else item


def calls_to(route: str) -> list[Any]:
    """The recorded calls to one REST route (the index read is left out)."""
    return [c for c in responses.calls if f"rest_route={route}" in (c.request.url or "")]


class TestBuddyPress:
    def test_join_group_posts_with_context_view_in_the_site_version(
        self, client: WordPressClient, bp: str
    ) -> None:
        responses.post(url(bp, context="view"), json=single(bp, bp_member()))
        client.join_group(7, 12)
        (call,) = calls_to(bp)
        assert json.loads(call.request.body) == {"user_id": 12}

    def test_join_group_accepts_either_shape(self, client: WordPressClient, bp: str) -> None:
        # An upgrade between two index reads must not turn a good join into an error.
        other = [bp_member()] if "/v2/" in bp else bp_member()
        responses.post(url(bp, context="view"), json=other)
        client.join_group(7, 12)

    def test_join_group_speaks_v1_when_the_index_cannot_be_read(
        self, client: WordPressClient
    ) -> None:
        with responses.RequestsMock() as mock:
            mock.get(url("/"), status=500, json={"code": "internal_server_error"})
            route = "/buddypress/v1/groups/7/members"
            mock.post(url(route, context="view"), json=[bp_member()])
            client.join_group(7, 12)

    def test_join_group_same_second_failure_is_server_error(
        self, client: WordPressClient, bp: str
    ) -> None:
        body = {
            "code": "bp_rest_group_member_failed_to_join",
            "message": "Could not add member to the group.",
            "data": {"status": 500},
        }
        responses.post(url(bp, context="view"), status=500, json=body)
        with pytest.raises(WPServerError) as info:
            client.join_group(7, 12)
        assert info.value.is_transient

    @pytest.mark.parametrize(
        ("code", "error"),
        [
            ("bp_rest_group_invalid_id", GroupNotFound),
            ("bp_rest_group_member_invalid_id", UserNotFound),
        ],
    )
    def test_join_group_404s(
        self, client: WordPressClient, bp: str, code: str, error: type[Exception]
    ) -> None:
        body = {"code": code, "message": "Invalid.", "data": {"status": 404}}
        responses.post(url(bp, context="view"), status=404, json=body)
        with pytest.raises(error):
            client.join_group(7, 12)

    def test_list_group_members_reads_all_pages_with_admins(
        self, client: WordPressClient, bp: str
    ) -> None:
        params = {"exclude_admins": "false", "per_page": 100}
        headers = {"X-WP-Total": "101", "X-WP-TotalPages": "2"}
        first = [bp_member(1000 + n) for n in range(100)]
        responses.get(url(bp, **params, page=1), json=first, headers=headers)
        responses.get(
            url(bp, **params, page=2), json=[bp_member(1, is_admin=True)], headers=headers
        )
        members = client.list_group_members(7)
        assert len(members) == 101 and members[-1] == 1

    def test_is_group_member_stops_at_first_match(self, client: WordPressClient, bp: str) -> None:
        params = {"exclude_admins": "false", "per_page": 100}
        headers = {"X-WP-Total": "150", "X-WP-TotalPages": "2"}
        first = [bp_member(1000 + n) for n in range(100)]
        responses.get(url(bp, **params, page=1), json=first, headers=headers)
        assert client.is_group_member(7, 1005)
        assert len(calls_to(bp)) == 1

    def test_is_group_member_false_for_empty_group(self, client: WordPressClient, bp: str) -> None:
        params = {"exclude_admins": "false", "per_page": 100, "page": 1}
        responses.get(
            url(bp, **params),
            json=[],
            headers={"X-WP-Total": "0", "X-WP-TotalPages": "0"},
        )
        assert not client.is_group_member(7, 12)

    def test_list_group_members_unknown_group(self, client: WordPressClient, bp: str) -> None:
        params = {"exclude_admins": "false", "per_page": 100, "page": 1}
        body = {
            "code": "bp_rest_group_invalid_id",
            "message": "Invalid group ID.",
            "data": {"status": 404},
        }
        responses.get(url(bp, **params), status=404, json=body)
        with pytest.raises(GroupNotFound):
            client.list_group_members(7)

    def test_the_index_is_read_once_for_many_buddypress_calls(
        self, client: WordPressClient, bp: str
    ) -> None:
        responses.post(url(bp, context="view"), json=single(bp, bp_member()))
        for _ in range(3):
            client.join_group(7, 12)
        assert len(responses.calls) == 4
