"""A known e-mail on the real site: the form offers "Log in" and "Forgot your password?", both
coming back to the form with the same group; after logging in the buyer is on the form, logged in,
with that group, and the form's token names them. The e-mail typed is in no URL."""

from __future__ import annotations

import html
import re
import time
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.realwp.helpers import TIMEOUT, WPSite
from wp_bridge.tokens import verify_token

pytestmark = pytest.mark.realwp

KNOWN_EMAIL = {"error": "account_exists", "field": "email"}


@pytest.fixture
def any_group_page(wp: WPSite) -> Iterator[str]:
    """A published page with [therapy_sidecar_form] and no group="": the group comes from
    ?group_id=. Its URL."""
    response = wp.rest(
        "POST",
        "/wp/v2/pages",
        json={
            "title": f"Register {uuid.uuid4().hex[:8]}",
            "content": "[therapy_sidecar_form]",
            "status": "publish",
        },
    )
    assert response.status_code == 201, response.text
    page = response.json()
    yield str(page["link"])
    wp.rest("DELETE", f"/wp/v2/pages/{page['id']}", params={"force": "true"})


def get(url: str, params: dict[str, str], session: requests.Session) -> str:
    response = session.get(url, params=params, timeout=TIMEOUT, allow_redirects=False)
    assert response.status_code == 200, (url, response.status_code)
    return response.text


def link(markup: str, css_class: str) -> str:
    match = re.search(rf'<a class="{css_class}" href="([^"]*)">([^<]*)</a>', markup)
    assert match, f"no {css_class} link"
    return html.unescape(match.group(1))


def redirect_to(url: str) -> str:
    values = parse_qs(urlsplit(url).query).get("redirect_to")
    assert values, url
    return values[0]


def hidden(markup: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', markup)
    assert match, f"no hidden {name}"
    return html.unescape(match.group(1))


def log_in(wp: WPSite, session: requests.Session, login_url: str, user: dict[str, str]) -> str:
    """Log in through the form at login_url as a browser does; return where WordPress sends it."""
    session.get(login_url, timeout=TIMEOUT)  # WordPress's test cookie
    response = session.post(
        f"{wp.base_url}/wp-login.php",
        data={
            "log": user["username"],
            "pwd": user["password"],
            "wp-submit": "Log In",
            "redirect_to": redirect_to(login_url),
            "testcookie": "1",
        },
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 302, response.text[:500]
    return str(response.headers["Location"])


def test_known_email_offers_login_and_password_reset(wp: WPSite) -> None:
    form = f"{wp.base_url}/therapy-registration/"
    with requests.Session() as session:
        markup = get(form, {**KNOWN_EMAIL, "email": "typed@example.test"}, session)
    assert "An account with this e-mail address already exists" in markup
    login = link(markup, "therapy-sidecar-login")
    lost = link(markup, "therapy-sidecar-lostpassword")
    assert login.startswith(f"{wp.base_url}/wp-login.php?")
    assert redirect_to(login) == form  # the page's group="" chooses the group
    assert parse_qs(urlsplit(lost).query)["action"] == ["lostpassword"]
    assert redirect_to(lost) == form
    assert ">Log in</a>" in markup and ">Forgot your password?</a>" in markup
    assert "typed@example.test" not in login + lost
    assert "%40" not in login + lost and "@" not in login + lost


def test_known_email_links_keep_the_group_of_the_query(wp: WPSite, any_group_page: str) -> None:
    group = str(wp.group_id())
    with requests.Session() as session:
        markup = get(any_group_page, {"group_id": group, **KNOWN_EMAIL}, session)
    assert hidden(markup, "group_id") == group
    for css_class in ("therapy-sidecar-login", "therapy-sidecar-lostpassword"):
        back = urlsplit(redirect_to(link(markup, css_class)))
        assert f"{back.scheme}://{back.netloc}{back.path}" == any_group_page.split("?")[0]
        assert parse_qs(back.query) == {"group_id": [group]}


def test_login_from_the_known_email_message_returns_to_the_form(
    wp: WPSite, any_group_page: str
) -> None:
    user = wp.create_user()
    group = str(wp.group_id())
    with requests.Session() as session:
        markup = get(any_group_page, {"group_id": group, **KNOWN_EMAIL}, session)
        landing = log_in(wp, session, link(markup, "therapy-sidecar-login"), user)
        assert urlsplit(landing).path == urlsplit(any_group_page).path
        assert parse_qs(urlsplit(landing).query) == {"group_id": [group]}
        after = session.get(landing, timeout=TIMEOUT, allow_redirects=False)
    assert after.status_code == 200
    assert hidden(after.text, "group_id") == group
    token = verify_token(hidden(after.text, "form_token"), wp.secret, typ="form", now=time.time())
    assert token["uid"] == user["id"]
    assert token["email"] == user["email"]
    assert "therapy-sidecar-login" not in after.text  # no error, no links: a form to fill in
