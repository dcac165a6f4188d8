"""The receipt on the real WordPress: payment stored with the booking, the shortcode, the e-mail, and
the login and lost-password forms prefilled for a paid buyer who is not logged in."""

from __future__ import annotations

import html
import re
import time
from typing import Any

import pytest
import requests

from tests.realwp.grants import grant, intent_buyer
from tests.realwp.helpers import TIMEOUT, WPSite
from tests.realwp.test_emails_and_options import mails_to
from wp_bridge.client import WordPressClient
from wp_bridge.login_page import password_url, prefill_token, sign_in_url
from wp_bridge.models import PaymentDetails
from wp_bridge.tokens import sign_token

pytestmark = pytest.mark.realwp

BOOKINGS = "/therapy-sidecar/v1/bookings"


def payment(ref: str, **overrides: str) -> dict[str, str]:
    fields = {
        "amount": "150.00",
        "currency": "SAR",
        "tran_ref": f"TST{ref[-10:].upper()}",
        "paid_at": "2026-12-06T09:15:00+00:00",
        "calendar_url": f"http://127.0.0.1:9/therapy/calendar/{ref}.ics?sig=abc_-123",
    }
    return {**fields, **overrides}


def booked_buyer(wp: WPSite, group: str = "") -> dict[str, Any]:
    """A buyer created by an intent, booked into the group with the payment stored."""
    buyer = intent_buyer(wp)
    paid = payment(buyer["ref"])
    body = {"intent_ref": buyer["ref"], "group_id": wp.group_id(group), "user_id": buyer["id"]}
    response = wp.rest("POST", BOOKINGS, json={**body, **paid})
    assert response.status_code == 201, response.text
    return {**buyer, **paid}


def logged_in(wp: WPSite, buyer: dict[str, Any]) -> requests.Session:
    session = requests.Session()
    token = grant(wp, buyer["id"], ref=buyer["ref"])
    response = session.get(
        wp.url("/therapy-sidecar/v1/login", {"grant": token}),
        timeout=TIMEOUT,
        allow_redirects=False,
    )
    assert response.status_code == 302
    return session


def thank_you(wp: WPSite, session: requests.Session, **params: str) -> str:
    response = session.get(f"{wp.base_url}/thank-you/", params=params, timeout=TIMEOUT)
    assert response.status_code == 200
    return html.unescape(response.text)


def test_booking_route_stores_the_payment_and_answers_it(wp: WPSite) -> None:
    buyer = booked_buyer(wp)
    rows = wp.query(
        f"SELECT amount, currency, tran_ref, paid_at, calendar_url FROM "
        f"{wp.prefix}therapy_sidecar_bookings WHERE intent_ref = %s",
        (buyer["ref"],),
    )
    amount, currency, tran_ref, paid_at, calendar = rows[0]
    assert (amount, currency, tran_ref) == ("150.00", "SAR", buyer["tran_ref"])
    assert str(paid_at) == "2026-12-06 09:15:00" and calendar == buyer["calendar_url"]
    client = WordPressClient(wp.base_url, wp.user, wp.app_password)
    found = client.find_booking(buyer["ref"])
    assert found is not None
    assert found.payment == PaymentDetails(
        "150.00", "SAR", buyer["tran_ref"], buyer["paid_at"], buyer["calendar_url"]
    )
    again = client.book_session(
        intent_ref=buyer["ref"], group_id=wp.group_id(), user_id=buyer["id"]
    )
    assert not again.created and again.payment == found.payment  # a repeat keeps what is stored


def test_booking_route_fills_in_the_payment_of_a_booking_made_without(wp: WPSite) -> None:
    buyer = intent_buyer(wp)
    body = {"intent_ref": buyer["ref"], "group_id": wp.group_id(), "user_id": buyer["id"]}
    assert wp.rest("POST", BOOKINGS, json=body).status_code == 201
    repeat = wp.rest("POST", BOOKINGS, json={**body, **payment(buyer["ref"])})
    assert repeat.status_code == 200
    assert repeat.json()["tran_ref"] == payment(buyer["ref"])["tran_ref"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("currency", "sar"),
        ("amount", "1e3"),
        ("tran_ref", "TST 1; DROP"),
        ("paid_at", "yesterday"),
        ("calendar_url", "not a url"),
    ],
)
def test_booking_route_refuses_bad_payment_fields(wp: WPSite, field: str, value: str) -> None:
    buyer = intent_buyer(wp)
    body = {"intent_ref": buyer["ref"], "group_id": wp.group_id(), "user_id": buyer["id"]}
    response = wp.rest("POST", BOOKINGS, json={**body, **payment(buyer["ref"], **{field: value})})
    assert response.status_code == 400
    assert response.json()["code"] == "rest_invalid_param"
    assert field in response.json()["data"]["params"]


def test_group_schedule_reaches_the_client(wp: WPSite) -> None:
    client = WordPressClient(wp.base_url, wp.user, wp.app_password)
    schedule = client.get_group(wp.group_id()).schedule
    assert schedule is not None
    assert schedule.starts_at.isoformat() == "2027-03-14T18:30:00+03:00"
    assert (schedule.timezone, schedule.duration_minutes) == ("Asia/Riyadh", 90)
    assert client.get_group(wp.group_id("small")).schedule is None


def test_receipt_shortcode_shows_the_buyer_their_receipt(wp: WPSite) -> None:
    buyer = booked_buyer(wp)
    with logged_in(wp, buyer) as session:
        for params in ({}, {"intent": buyer["ref"]}):
            page = thank_you(wp, session, **params)
            assert 'class="therapy-sidecar-receipt"' in page
            assert "Group: Anxiety Support Circle" in page
            assert "Amount paid: 150.00 SAR" in page
            assert f"PayTabs reference: {buyer['tran_ref']}" in page
            assert re.search(r"Date of payment: [^<]*2026", page)
            assert "Session: " in page and "Olaya Centre" in page
            assert f'href="{buyer["calendar_url"]}"' in page
            assert "Add to calendar" in page


def test_receipt_shortcode_without_a_schedule_has_no_calendar_link(
    wp: WPSite, empty_small_group: int
) -> None:
    buyer = booked_buyer(wp, "small")
    with logged_in(wp, buyer) as session:
        page = thank_you(wp, session, intent=buyer["ref"])
    assert f"PayTabs reference: {buyer['tran_ref']}" in page
    assert "Add to calendar" not in page and buyer["calendar_url"] not in page
    assert "Session: " not in page


def test_receipt_shortcode_shows_nothing_to_another_user(wp: WPSite) -> None:
    buyer = booked_buyer(wp)
    other = intent_buyer(wp)
    with logged_in(wp, other) as session:
        for params in ({}, {"intent": buyer["ref"]}):
            page = thank_you(wp, session, **params)
            assert "therapy-sidecar-receipt" not in page
            assert buyer["tran_ref"] not in page and "Amount paid" not in page


def test_receipt_shortcode_logged_out_says_registered_and_nothing_personal(wp: WPSite) -> None:
    buyer = booked_buyer(wp)
    with requests.Session() as session:
        page = thank_you(wp, session, intent=buyer["ref"])
        assert "You are registered. Log in to see your receipt and your group." in page
        assert 'class="therapy-sidecar-login" href="' in page
        assert "action=lostpassword" in page
        for personal in (buyer["tran_ref"], buyer["email"], "Amount paid", "Anxiety Support"):
            assert personal not in page
        assert "therapy-sidecar-receipt" not in thank_you(wp, session)
        unknown = thank_you(wp, session, intent="rwp-nobody-booked-this")
        assert "You are registered" not in unknown


def test_booking_confirmed_mail_carries_the_receipt_and_calendar_link(wp: WPSite) -> None:
    buyer = booked_buyer(wp)
    data = {"group_name": "Anxiety Support Circle", **payment(buyer["ref"])}
    body = {"template": "booking_confirmed", "intent_ref": buyer["ref"], "user_id": buyer["id"]}
    sent = wp.rest("POST", "/therapy-sidecar/v1/emails", json={**body, "data": data})
    assert sent.status_code == 202, sent.text
    (_subject, message), *_ = mails_to(wp, buyer["email"])
    assert "Amount paid: 150.00 SAR" in message
    assert f"PayTabs reference: {buyer['tran_ref']}" in message
    assert "Date of payment: " in message and "Session: " in message
    assert f"Add to calendar: {buyer['calendar_url']}" in message


def test_lost_password_form_prefills_the_email_from_the_address_or_a_token(wp: WPSite) -> None:
    buyer = intent_buyer(wp)
    token = prefill_token(buyer["id"], wp.secret, time.time())
    with requests.Session() as session:
        by_address = session.get(
            f"{wp.base_url}/wp-login.php",
            params={"action": "lostpassword", "user_login": buyer["email"]},
            timeout=TIMEOUT,
        )
        by_token = session.get(password_url(wp.base_url, token), timeout=TIMEOUT)
        login = session.get(sign_in_url(wp.base_url, token, f"{wp.base_url}/thank-you/"))
        expired = sign_token({"typ": "prefill", "uid": buyer["id"], "exp": 1}, wp.secret)
        refused = session.get(password_url(wp.base_url, expired), timeout=TIMEOUT)
        forged = session.get(
            password_url(
                wp.base_url,
                sign_token(
                    {"typ": "prefill", "uid": buyer["id"], "exp": int(time.time()) + 60}, "x" * 40
                ),
            ),
            timeout=TIMEOUT,
        )
    for page in (by_address, by_token, login):
        assert page.status_code == 200
        assert f'u.value="{buyer["email"]}"' in page.text
    assert 'id="lostpasswordform"' in by_token.text
    for page in (refused, forged):
        assert page.status_code == 200 and buyer["email"] not in page.text


def test_schema_upgrade_adds_the_payment_columns_to_an_old_bookings_table(wp: WPSite) -> None:
    table = f"{wp.prefix}therapy_sidecar_bookings"
    columns = ("amount", "currency", "tran_ref", "paid_at", "calendar_url")
    wp.query(f"ALTER TABLE {table} " + ", ".join(f"DROP COLUMN {c}" for c in columns))
    wp.query(
        f"UPDATE {wp.prefix}options SET option_value = '1' "
        "WHERE option_name = 'therapy_sidecar_schema_version'"
    )
    wp.query(f"DELETE FROM {wp.prefix}options WHERE option_name = 'alloptions'")
    # Any request runs init, where the plugin upgrades its tables (the option cache is per request).
    assert wp.rest("GET", f"/therapy-sidecar/v1/groups/{wp.group_id()}").status_code == 200
    present = {str(row[0]) for row in wp.query(f"SHOW COLUMNS FROM {table}")}
    assert set(columns) <= present
    version = wp.query(
        f"SELECT option_value FROM {wp.prefix}options "
        "WHERE option_name = 'therapy_sidecar_schema_version'"
    )
    assert version == [("2",)]
    assert booked_buyer(wp)["tran_ref"]  # and bookings with a payment work again


def test_prefilled_login_form_sends_the_logged_in_buyer_on(wp: WPSite) -> None:
    buyer = booked_buyer(wp)
    token = prefill_token(buyer["id"], wp.secret, time.time())
    back = f"{wp.base_url}/thank-you/?intent={buyer['ref']}"
    with logged_in(wp, buyer) as session:
        onward = session.get(
            sign_in_url(wp.base_url, token, back), timeout=TIMEOUT, allow_redirects=False
        )
    assert onward.status_code == 302 and onward.headers["Location"] == back


def test_booking_confirmed_mail_without_a_schedule_has_no_calendar_link(
    wp: WPSite, empty_small_group: int
) -> None:
    buyer = booked_buyer(wp, "small")
    data = {"group_name": "Grief Circle (one seat)", **payment(buyer["ref"])}
    body = {"template": "booking_confirmed", "intent_ref": buyer["ref"], "user_id": buyer["id"]}
    assert wp.rest("POST", "/therapy-sidecar/v1/emails", json={**body, "data": data}).ok
    (_subject, message), *_ = mails_to(wp, buyer["email"])
    assert f"PayTabs reference: {buyer['tran_ref']}" in message
    assert "Add to calendar" not in message and buyer["calendar_url"] not in message
    assert "Session: " not in message
