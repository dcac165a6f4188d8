"""Core WordPress behaviour the sidecar relies on, checked on the real Debian WordPress 6.1."""

from __future__ import annotations

import uuid

import pytest

from tests.realwp.helpers import WPSite

pytestmark = pytest.mark.realwp


def test_rest_index_offers_application_passwords_over_plain_http(wp: WPSite) -> None:
    # Only advertised when available: over http that needs WP_ENVIRONMENT_TYPE=local.
    response = wp.rest("GET", "/", auth=None)
    assert response.status_code == 200
    assert wp.base_url.startswith("http://")
    assert "application-passwords" in response.json()["authentication"]


def test_application_password_reads_the_admin_over_http(wp: WPSite) -> None:
    response = wp.rest("GET", "/wp/v2/users/me", params={"context": "edit"})
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["username"] == wp.user
    assert "administrator" in me["roles"]
    assert me["capabilities"].get("manage_options") is True


def test_a_wrong_application_password_runs_the_request_anonymously(wp: WPSite) -> None:
    # WordPress 6.1 checks Basic credentials lazily, after rest_authentication_errors has run, so
    # the "incorrect_password" error is never reported: the route answers as for an anonymous caller.
    bad = (wp.user, "abcd abcd abcd abcd abcd abcd")
    me = wp.rest("GET", "/wp/v2/users/me", auth=bad)
    assert (me.status_code, me.json()["code"]) == (401, "rest_not_logged_in")
    group = wp.rest("GET", f"/therapy-sidecar/v1/groups/{wp.group_id()}", auth=bad)
    assert (group.status_code, group.json()["code"]) == (401, "rest_forbidden")


def test_without_credentials_creating_a_user_is_401(wp: WPSite) -> None:
    body = {
        "username": "nobody_" + uuid.uuid4().hex[:8],
        "email": "x@example.test",
        "password": "x",
    }
    response = wp.rest("POST", "/wp/v2/users", json=body, auth=None)
    assert response.status_code == 401
    assert response.json()["code"] == "rest_cannot_create_user"


def test_create_user_is_201_subscriber_stamped_with_the_intent(wp: WPSite) -> None:
    ref = f"rwp-{uuid.uuid4().hex[:12]}"
    user = wp.create_user(meta={"therapy_sidecar_intent": ref})
    data = user["json"]
    assert data["roles"] == ["subscriber"]
    assert data["email"] == user["email"]
    assert data["meta"]["therapy_sidecar_intent"] == ref
    # ...and the meta reads back with context=edit.
    again = wp.rest("GET", f"/wp/v2/users/{user['id']}", params={"context": "edit"})
    assert again.status_code == 200
    assert again.json()["meta"]["therapy_sidecar_intent"] == ref


def test_duplicate_email_is_500_existing_user_email(wp: WPSite) -> None:
    first = wp.create_user()
    body = {
        "username": "rwp_other_" + uuid.uuid4().hex[:8],
        "email": first["email"].upper(),
        "password": "pw-123456",
    }
    response = wp.rest("POST", "/wp/v2/users", json=body)
    assert response.status_code == 500
    assert response.json()["code"] == "existing_user_email"


def test_duplicate_username_is_500_existing_user_login(wp: WPSite) -> None:
    first = wp.create_user()
    body = {
        "username": first["username"],
        "email": f"rwp.{uuid.uuid4().hex[:8]}@example.test",
        "password": "pw-123456",
    }
    response = wp.rest("POST", "/wp/v2/users", json=body)
    assert response.status_code == 500
    assert response.json()["code"] == "existing_user_login"


def test_email_search_is_a_substring_match(wp: WPSite) -> None:
    token = uuid.uuid4().hex[:10]
    exact = wp.create_user(email=f"bob.{token}@example.test")
    longer = wp.create_user(email=f"jimbob.{token}@example.test")
    response = wp.rest(
        "GET", "/wp/v2/users", params={"search": exact["email"], "context": "edit", "per_page": 100}
    )
    assert response.status_code == 200
    found = {item["id"] for item in response.json()}
    assert exact["id"] in found
    # "bob.<token>@..." is inside "jimbob.<token>@...": callers must filter for the exact address.
    assert longer["id"] in found
    assert int(response.headers["X-WP-Total"]) == len(found)
