"""The sandbox WordPress speaks WordPress's REST dialect, the bridge routes and the login link."""

from __future__ import annotations

import base64
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from sidecar.sandbox.wordpress import (
    AUTH_COOKIE,
    create_wordpress_app,
    main,
    make_wordpress_server,
    seed_demo_groups,
)
from wp_bridge.client import WordPressClient
from wp_bridge.fake import FakeWordPress
from wp_bridge.tokens import issue_form_token, issue_login_grant, sign_token, verify_token

APP_PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678"
SECRET = "sandbox-test-shared-secret-0123456789"
SIDECAR = "http://sidecar.test"
NOW = 1_800_000_000.0
USERS = "/?rest_route=/wp/v2/users"
BRIDGE = "/?rest_route=/therapy-sidecar/v1"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeWordPress:
    return FakeWordPress(clock=clock)


@pytest.fixture
def browser(fake: FakeWordPress) -> FlaskClient:
    app = create_wordpress_app(
        fake, app_user="admin", app_password=APP_PASSWORD, shared_secret=SECRET, sidecar_url=SIDECAR
    )
    return app.test_client()


def basic(password: str = APP_PASSWORD, user: str = "admin") -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def new_user(browser: FlaskClient, **overrides: Any) -> Any:
    body = {"username": "amira", "email": "amira@example.test", "password": "pw 1"}
    body.update(overrides)
    return browser.post(USERS, json=body, headers=basic())


class TestAuth:
    @pytest.mark.parametrize(
        ("method", "path", "code"),
        [
            ("GET", "/?rest_route=/wp/v2/users/me&context=edit", "rest_not_logged_in"),
            ("POST", USERS, "rest_cannot_create_user"),
            ("GET", f"{USERS}&context=edit&search=a", "rest_forbidden_context"),
            (
                "POST",
                "/?rest_route=/buddypress/v1/groups/2/members",
                "bp_rest_authorization_required",
            ),
            ("GET", f"{BRIDGE}/groups/1", "rest_forbidden"),
        ],
    )
    @pytest.mark.parametrize("headers", [{}, basic("wrong")], ids=["anonymous", "wrong-password"])
    def test_rest_routes_refuse_without_valid_app_password(
        self, browser: FlaskClient, method: str, path: str, code: str, headers: dict[str, str]
    ) -> None:
        body = {"username": "a", "email": "a@example.test", "password": "p", "user_id": 1}
        response = browser.open(path, method=method, json=body, headers=headers)
        assert response.status_code == 401
        assert response.json is not None
        assert response.json["code"] == code
        assert response.json["data"] == {"status": 401}

    def test_app_password_spaces_are_optional(self, browser: FlaskClient) -> None:
        response = browser.get(
            "/?rest_route=/wp/v2/users/me&context=edit",
            headers=basic(APP_PASSWORD.replace(" ", "")),
        )
        assert response.status_code == 200
        assert response.json is not None and response.json["username"] == "admin"

    def test_index_php_serves_rest_too(self, browser: FlaskClient) -> None:
        response = browser.get("/index.php?rest_route=/wp/v2/users/me", headers=basic())
        assert response.status_code == 200

    def test_unknown_route_is_rest_no_route(self, browser: FlaskClient) -> None:
        response = browser.get("/?rest_route=/wp/v2/posts", headers=basic())
        assert response.status_code == 404
        assert response.json is not None and response.json["code"] == "rest_no_route"


class TestUsers:
    def test_create_user_answers_201_with_location_and_meta(self, browser: FlaskClient) -> None:
        response = new_user(browser, first_name="Amira", meta={"therapy_sidecar_intent": "TP-1"})
        assert response.status_code == 201
        body = response.json
        assert body is not None
        assert response.headers["Location"].endswith(f"/?rest_route=/wp/v2/users/{body['id']}")
        assert body["roles"] == ["subscriber"]
        assert body["meta"] == {"therapy_sidecar_intent": "TP-1"}
        assert "password" not in body

    @pytest.mark.parametrize(
        ("overrides", "code"),
        [
            ({"email": "other@example.test"}, "existing_user_login"),
            ({"username": "other", "email": "AMIRA@example.test"}, "existing_user_email"),
            ({}, "existing_user_login"),
        ],
    )
    def test_duplicates_answer_500_with_null_data(
        self, browser: FlaskClient, overrides: dict[str, str], code: str
    ) -> None:
        new_user(browser)
        response = new_user(browser, **overrides)
        assert response.status_code == 500
        assert response.json is not None
        assert response.json["code"] == code and response.json["data"] is None

    def test_invalid_email_is_rest_invalid_param(self, browser: FlaskClient) -> None:
        response = new_user(browser, email="nope")
        assert response.status_code == 400
        body = response.json
        assert body is not None and body["code"] == "rest_invalid_param"
        assert body["data"]["params"] == {"email": "Invalid email address."}
        assert body["data"]["details"]["email"]["code"] == "rest_invalid_email"

    def test_missing_fields_come_before_auth(self, browser: FlaskClient) -> None:
        response = browser.post(USERS, json={"username": "x"})
        assert response.status_code == 400
        assert response.json is not None
        assert response.json["code"] == "rest_missing_callback_param"
        assert response.json["data"]["params"] == ["email", "password"]

    def test_search_is_a_substring_match_with_paging_headers(
        self, browser: FlaskClient, fake: FakeWordPress
    ) -> None:
        fake.add_user(username="jim", email="jimbob@x.test")
        fake.add_user(username="bob", email="bob@x.test")
        response = browser.get(
            f"{USERS}&search=bob@x.test&context=edit&per_page=1", headers=basic()
        )
        assert response.status_code == 200
        assert response.headers["X-WP-Total"] == "2"
        assert response.headers["X-WP-TotalPages"] == "2"
        assert [u["email"] for u in response.json or []] == ["jimbob@x.test"]
        beyond = browser.get(f"{USERS}&search=bob@x.test&per_page=1&page=3", headers=basic())
        assert beyond.status_code == 400

    def test_per_page_over_100_is_invalid(self, browser: FlaskClient) -> None:
        response = browser.get(f"{USERS}&per_page=101", headers=basic())
        assert response.status_code == 400
        assert response.json is not None and response.json["code"] == "rest_invalid_param"

    def test_unknown_user_id_is_404(self, browser: FlaskClient) -> None:
        response = browser.get("/?rest_route=/wp/v2/users/999&context=edit", headers=basic())
        assert response.status_code == 404
        assert response.json is not None and response.json["code"] == "rest_user_invalid_id"


class TestBuddyPress:
    @pytest.fixture
    def setup(self, fake: FakeWordPress) -> tuple[int, int]:
        group = fake.add_group(name="Grief", price="150.00", capacity=3)
        user = fake.add_user(username="amira", email="amira@example.test")
        return group.bp_group_id, user.id

    def _members(self, bp_group_id: int, query: str = "") -> str:
        return f"/?rest_route=/buddypress/v1/groups/{bp_group_id}/members{query}"

    def test_add_member_answers_200_array(
        self, browser: FlaskClient, setup: tuple[int, int]
    ) -> None:
        bp_group_id, user_id = setup
        response = browser.post(
            self._members(bp_group_id), json={"user_id": user_id}, headers=basic()
        )
        assert response.status_code == 200
        body = response.json
        assert isinstance(body, list) and len(body) == 1
        assert body[0]["id"] == user_id and body[0]["is_confirmed"] is True

    def test_same_second_readd_without_context_view_fails(
        self, browser: FlaskClient, setup: tuple[int, int], clock: Clock
    ) -> None:
        bp_group_id, user_id = setup
        path = self._members(bp_group_id)
        browser.post(path, json={"user_id": user_id}, headers=basic())
        again = browser.post(path, json={"user_id": user_id}, headers=basic())
        assert again.status_code == 500
        assert again.json is not None
        assert again.json["code"] == "bp_rest_group_member_failed_to_join"
        clock.now += 1
        assert browser.post(path, json={"user_id": user_id}, headers=basic()).status_code == 200

    def test_context_view_readd_is_idempotent(
        self, browser: FlaskClient, setup: tuple[int, int]
    ) -> None:
        bp_group_id, user_id = setup
        path = self._members(bp_group_id, "&context=view")
        for _ in range(3):
            response = browser.post(path, json={"user_id": user_id}, headers=basic())
            assert response.status_code == 200

    def test_context_edit_readd_demotes_a_group_admin(
        self, browser: FlaskClient, setup: tuple[int, int], fake: FakeWordPress, clock: Clock
    ) -> None:
        bp_group_id, _ = setup
        clock.now += 1
        browser.post(self._members(bp_group_id), json={"user_id": fake.admin.id}, headers=basic())
        member = fake.member(bp_group_id, fake.admin.id)
        assert member is not None and not member.is_admin

    @pytest.mark.parametrize(
        ("group_offset", "user_id", "code"),
        [(1000, None, "bp_rest_group_invalid_id"), (0, 999, "bp_rest_group_member_invalid_id")],
    )
    def test_unknown_group_or_member_is_404(
        self,
        browser: FlaskClient,
        setup: tuple[int, int],
        group_offset: int,
        user_id: int | None,
        code: str,
    ) -> None:
        bp_group_id, known_user = setup
        response = browser.post(
            self._members(bp_group_id + group_offset),
            json={"user_id": user_id or known_user},
            headers=basic(),
        )
        assert response.status_code == 404
        assert response.json is not None and response.json["code"] == code

    def test_list_hides_admins_unless_asked(
        self, browser: FlaskClient, setup: tuple[int, int], fake: FakeWordPress
    ) -> None:
        bp_group_id, user_id = setup
        fake.join_group(bp_group_id, user_id)
        default = browser.get(self._members(bp_group_id), headers=basic())
        assert [m["id"] for m in default.json or []] == [user_id]
        everyone = browser.get(self._members(bp_group_id, "&exclude_admins=false"), headers=basic())
        assert sorted(m["id"] for m in everyone.json or []) == sorted([user_id, fake.admin.id])
        assert everyone.headers["X-WP-Total"] == "2"


class TestBridge:
    def test_group_has_the_contract_shape(self, browser: FlaskClient, fake: FakeWordPress) -> None:
        group = fake.add_group(name="Grief", price="150", capacity=2, seats_taken=1)
        response = browser.get(f"{BRIDGE}/groups/{group.id}", headers=basic())
        assert response.status_code == 200
        assert response.json == {
            "id": group.id,
            "name": "Grief",
            "price": "150.00",
            "currency": "SAR",
            "capacity": 2,
            "seats_taken": 1,
            "open": True,
            "bp_group_id": group.bp_group_id,
            "registration_url": f"http://localhost/therapy-registration/?group={group.id}",
            "status_url": "http://localhost/therapy-registration-status/",
            "thank_you_url": "http://localhost/thank-you/",
            "schedule": None,  # a group without a session time
        }

    def test_unknown_group_is_404(self, browser: FlaskClient) -> None:
        response = browser.get(f"{BRIDGE}/groups/999", headers=basic())
        assert response.status_code == 404
        assert response.json == {
            "code": "therapy_group_not_found",
            "message": "Unknown therapy group.",
            "data": {"status": 404},
        }

    def test_bookings_201_then_200_then_409_full(
        self, browser: FlaskClient, fake: FakeWordPress
    ) -> None:
        group = fake.add_group(name="Grief", price="150.00", capacity=1)
        user = fake.add_user(username="amira", email="amira@example.test")
        body = {"intent_ref": "TP-1", "group_id": group.id, "user_id": user.id}
        first = browser.post(f"{BRIDGE}/bookings", json=body, headers=basic())
        again = browser.post(f"{BRIDGE}/bookings", json=body, headers=basic())
        other = fake.add_user(username="basma", email="basma@example.test")
        full = browser.post(
            f"{BRIDGE}/bookings",
            json={**body, "intent_ref": "TP-2", "user_id": other.id},
            headers=basic(),
        )
        assert (first.status_code, again.status_code, full.status_code) == (201, 200, 409)
        assert first.json is not None and first.json["created"] is True
        assert again.json is not None and again.json["created"] is False
        assert full.json is not None and full.json["code"] == "therapy_group_full"
        listed = browser.get(f"{BRIDGE}/bookings&intent_ref=TP-1", headers=basic())
        assert [b["intent_ref"] for b in listed.json or []] == ["TP-1"]
        by_group = browser.get(f"{BRIDGE}/bookings&group_id={group.id}", headers=basic())
        assert len(by_group.json or []) == 1

    def test_booking_a_second_place_for_the_same_member_is_409(
        self, browser: FlaskClient, fake: FakeWordPress
    ) -> None:
        group = fake.add_group(name="Grief", price="150.00", capacity=5)
        user = fake.add_user(username="amira", email="amira@example.test")
        body = {"intent_ref": "TP-1", "group_id": group.id, "user_id": user.id}
        assert browser.post(f"{BRIDGE}/bookings", json=body, headers=basic()).status_code == 201
        second = browser.post(
            f"{BRIDGE}/bookings", json={**body, "intent_ref": "TP-2"}, headers=basic()
        )
        assert second.status_code == 409
        assert second.json is not None and second.json["code"] == "therapy_already_booked"

    def test_booking_a_closed_group_is_409(self, browser: FlaskClient, fake: FakeWordPress) -> None:
        group = fake.add_group(name="Grief", price="150.00", capacity=5, open=False)
        user = fake.add_user(username="amira", email="amira@example.test")
        body = {"intent_ref": "TP-1", "group_id": group.id, "user_id": user.id}
        response = browser.post(f"{BRIDGE}/bookings", json=body, headers=basic())
        assert response.status_code == 409
        assert response.json is not None and response.json["code"] == "therapy_group_closed"

    def test_emails_202_then_200(self, browser: FlaskClient, fake: FakeWordPress) -> None:
        user = fake.add_user(username="amira", email="amira@example.test")
        body = {"template": "booking_confirmed", "intent_ref": "TP-1", "user_id": user.id}
        first = browser.post(f"{BRIDGE}/emails", json=body, headers=basic())
        again = browser.post(f"{BRIDGE}/emails", json=body, headers=basic())
        assert (first.status_code, first.json) == (202, {"sent": True})
        assert (again.status_code, again.json) == (200, {"sent": False})
        assert fake.emails[0]["to"] == "amira@example.test"

    def test_down_answers_502_and_injected_failures_their_status(
        self, browser: FlaskClient, fake: FakeWordPress
    ) -> None:
        fake.fail_next(1, status=503)
        assert browser.get(f"{BRIDGE}/groups/1", headers=basic()).status_code == 503
        fake.down = True
        response = browser.get(f"{BRIDGE}/groups/1", headers=basic())
        assert response.status_code == 502 and response.mimetype == "text/html"


class TestLogin:
    def _grant(self, overrides: dict[str, Any]) -> str:
        payload = {"typ": "login", "uid": 1, "ref": "TP-1", "jti": "ab" * 16, "exp": NOW + 300}
        payload.update(overrides)
        return sign_token(payload, SECRET)

    def test_grant_logs_in_once_and_redirects_to_thank_you(
        self, browser: FlaskClient, fake: FakeWordPress
    ) -> None:
        user = fake.add_user(username="amira", email="amira@example.test", intent_ref="TP-1")
        grant = issue_login_grant(uid=user.id, ref="TP-1", secret=SECRET, now=NOW)
        path = f"{BRIDGE}/login&grant={grant}"
        response = browser.get(path)
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == "/thank-you/"
        cookie = browser.get_cookie(AUTH_COOKIE)
        assert cookie is not None and cookie.http_only
        page = browser.get("/thank-you/")
        assert "Logged in as amira@example.test" in page.get_data(as_text=True)
        reused = browser.get(path)  # Back or refresh: on to the thank-you page, no error
        assert reused.status_code == 302
        assert urlsplit(reused.headers["Location"]).path == "/thank-you/"

    @pytest.mark.parametrize(
        "overrides",
        [
            {"exp": NOW},
            {"exp": NOW + 3600},
            {"typ": "form"},
            {"jti": ""},
            {"uid": 999},
            {"uid": "1"},
        ],
        ids=["expired", "too-long-lived", "wrong-typ", "no-jti", "unknown-user", "uid-not-int"],
    )
    def test_bad_grants_are_refused(
        self, browser: FlaskClient, fake: FakeWordPress, overrides: dict[str, Any]
    ) -> None:
        grant = self._grant(overrides)
        response = browser.get(f"{BRIDGE}/login&grant={grant}")
        assert response.status_code == 403
        assert browser.get_cookie(AUTH_COOKIE) is None

    def test_grant_signed_with_another_secret_is_refused(
        self, browser: FlaskClient, fake: FakeWordPress
    ) -> None:
        grant = issue_login_grant(uid=fake.admin.id, ref="r", secret="x" * 40, now=NOW)
        assert browser.get(f"{BRIDGE}/login&grant={grant}").status_code == 403

    def test_thank_you_without_or_with_forged_cookie(self, browser: FlaskClient) -> None:
        assert "Not logged in" in browser.get("/thank-you/").get_data(as_text=True)
        browser.set_cookie(AUTH_COOKIE, sign_token({"typ": "sandbox_auth", "uid": 1}, "other"))
        assert "Not logged in" in browser.get("/thank-you/").get_data(as_text=True)


class TestPages:
    def test_registration_form_posts_to_sidecar_with_anonymous_form_token(
        self, browser: FlaskClient, fake: FakeWordPress
    ) -> None:
        group = fake.add_group(name="Grief & Loss", price="150.00", capacity=2, seats_taken=1)
        html = browser.get(f"/therapy-registration/?group={group.id}").get_data(as_text=True)
        assert f"action='{SIDECAR}/therapy/checkout'" in html
        assert "Grief &amp; Loss" in html and "1 of 2 seats left" in html
        token = html.split("name='form_token' value='")[1].split("'")[0]
        payload = verify_token(token, SECRET, typ="form", now=NOW)
        assert payload["uid"] == 0 and payload["email"] == ""
        assert payload["exp"] == int(NOW) + 7200

    def test_registration_form_token_names_the_logged_in_user(
        self, browser: FlaskClient, fake: FakeWordPress
    ) -> None:
        user = fake.add_user(username="amira", email="amira@example.test", intent_ref="TP-1")
        grant = issue_login_grant(uid=user.id, ref="TP-1", secret=SECRET, now=NOW)
        browser.get(f"{BRIDGE}/login&grant={grant}")
        html = browser.get("/therapy-registration/?group=1").get_data(as_text=True)
        token = html.split("name='form_token' value='")[1].split("'")[0]
        payload = verify_token(token, SECRET, typ="form", now=NOW)
        assert (payload["uid"], payload["email"]) == (user.id, "amira@example.test")

    def test_registration_form_shows_sidecar_error_escaped(self, browser: FlaskClient) -> None:
        html = browser.get("/therapy-registration/?error=<script>x</script>&field=email").get_data(
            as_text=True
        )
        assert "<script>x" not in html and "&lt;script&gt;x" in html

    def test_status_page_is_a_placeholder_naming_the_intent(self, browser: FlaskClient) -> None:
        html = browser.get("/therapy-registration-status/?intent=TP-<b>1").get_data(as_text=True)
        assert "You are being registered to your selected group…" in html
        assert "TP-&lt;b&gt;1" in html

    def test_home_page_lists_groups(self, browser: FlaskClient, fake: FakeWordPress) -> None:
        seed_demo_groups(fake)
        html = browser.get("/").get_data(as_text=True)
        assert html.count("/therapy-registration/?group=") == 3


def test_seed_demo_groups_has_a_nearly_full_group() -> None:
    groups = seed_demo_groups(FakeWordPress())
    assert len(groups) == 3
    assert all(g.currency == "SAR" and g.open for g in groups)
    assert [(g.capacity, g.seats_taken) for g in groups if g.seats_left == 1] == [(2, 1)]
    assert str(groups[0].price) == "150.00"


def test_form_token_issued_by_helper_verifies() -> None:
    token = issue_form_token(uid=3, email="a@example.test", secret=SECRET, now=NOW)
    assert verify_token(token, SECRET, typ="form", now=NOW)["uid"] == 3


def test_server_serves_the_real_client_over_http() -> None:
    server = make_wordpress_server(
        "127.0.0.1",
        0,
        app_user="admin",
        app_password=APP_PASSWORD,
        shared_secret=SECRET,
        sidecar_url=SIDECAR,
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        client = WordPressClient(base, "admin", APP_PASSWORD, sleep=lambda s: None)
        assert client.ping().username == "admin"
        assert client.get_group(client.list_bookings()[0].group_id).seats_left == 1
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_main_requires_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANDBOX_WP_APP_PASSWORD", raising=False)
    monkeypatch.delenv("SIDECAR_SHARED_SECRET", raising=False)
    with pytest.raises(SystemExit):
        main(["--port", "0"])
