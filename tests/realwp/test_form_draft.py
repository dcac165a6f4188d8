"""The real plugin opens the draft the sidecar sealed: the form comes back filled, the refused field
marked and focused, the password empty; a draft for another group, expired, tampered or sealed
with another secret is ignored (the form is simply empty)."""

from __future__ import annotations

import html
import re
import time
from urllib.parse import urlencode

import pytest
import requests

from sidecar.payments.drafts import DRAFT_COOKIE, DRAFT_SECONDS, make_draft, seal_draft
from tests.realwp.helpers import TIMEOUT, WPSite

pytestmark = pytest.mark.realwp

TYPED = {
    "first_name": "Zainab",
    "last_name": "Al-Qasimi & <Co>",
    "email": "zainab.draft@example.com",
    "phone": "12",
    "street1": "شارع العليا 14",
    "city": "Jeddah",
    "country": "AE",
}


def form_page(wp: WPSite, cookie: str | None, query: dict[str, str]) -> str:
    session = requests.Session()
    if cookie is not None:
        session.cookies.set(DRAFT_COOKIE, cookie, domain="", path="/")
    response = session.get(
        f"{wp.base_url}/therapy-registration/", params=query, timeout=TIMEOUT, allow_redirects=False
    )
    assert response.status_code == 200
    return response.text


def input_tag(markup: str, name: str) -> str:
    match = re.search(rf'<input type="[a-z]+" id="[^"]*" name="{name}"[^>]*>', markup)
    assert match, f"no input {name}"
    return match.group(0)


def value_of(markup: str, name: str) -> str:
    match = re.search(r'value="([^"]*)"', input_tag(markup, name))
    assert match
    return html.unescape(match.group(1))


def sealed(wp: WPSite, group_id: int, *, secret: str | None = None, now: float = 0) -> str:
    draft = make_draft(group_id, f"{wp.base_url}/therapy-registration/", TYPED)
    return seal_draft(draft, secret or wp.secret, now or time.time())


def test_realwp_form_opens_the_sidecars_draft(wp: WPSite) -> None:
    markup = form_page(wp, sealed(wp, wp.group_id()), {"error": "invalid_phone", "field": "phone"})
    for name in ("first_name", "last_name", "email", "phone", "street1", "city"):
        assert value_of(markup, name) == TYPED[name], name
    assert re.search(r'<option value="AE" selected', markup)
    assert not re.search(r'<option value="SA" selected', markup)
    phone = input_tag(markup, "phone")
    assert 'aria-invalid="true"' in phone and "autofocus" in phone
    assert "autofocus" not in input_tag(markup, "email")
    assert value_of(markup, "password") == ""
    assert "therapy-sidecar-notice" in markup


@pytest.mark.parametrize("case", ["other group", "expired", "tampered", "other secret"])
def test_realwp_form_ignores_a_draft_it_cannot_trust(wp: WPSite, case: str) -> None:
    cookie = {
        "other group": lambda: sealed(wp, wp.group_id() + 100000),
        "expired": lambda: sealed(wp, wp.group_id(), now=time.time() - DRAFT_SECONDS - 5),
        "tampered": lambda: (
            (v := sealed(wp, wp.group_id()))[:-3] + ("AAA" if v[-3:] != "AAA" else "BBB")
        ),
        "other secret": lambda: sealed(wp, wp.group_id(), secret="x" * 48),
    }[case]()
    markup = form_page(wp, cookie, {})
    for name in ("first_name", "phone", "street1", "city"):
        assert value_of(markup, name) == "", (case, name)
    assert re.search(r'<option value="SA" selected', markup)


def test_realwp_form_keeps_a_logged_in_buyers_email(wp: WPSite) -> None:
    from tests.realwp.test_known_email import log_in

    user = wp.create_user()
    form = f"{wp.base_url}/therapy-registration/"
    with requests.Session() as session:
        login_url = f"{wp.base_url}/wp-login.php?{urlencode({'redirect_to': form})}"
        log_in(wp, session, login_url, user)
        session.cookies.set(DRAFT_COOKIE, sealed(wp, wp.group_id()), domain="", path="/")
        response = session.get(form, timeout=TIMEOUT, allow_redirects=False)
    assert response.status_code == 200
    markup = response.text
    assert value_of(markup, "email") == user["email"]  # the account's, not the draft's
    assert "readonly" in input_tag(markup, "email")
    assert value_of(markup, "phone") == TYPED["phone"]
    assert value_of(markup, "first_name") == TYPED["first_name"]
    assert 'name="password"' not in markup
