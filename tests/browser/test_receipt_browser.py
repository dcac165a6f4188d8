"""The receipt after paying in the demo, and the paid buyer on another device (no cookies)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from icalendar import Calendar

from sidecar.domain import messages
from sidecar.sandbox.demo import DemoStack
from tests.browser.flows import Buyer, only_intent

pytestmark = pytest.mark.browser
EMAIL = "rana@example.com"


def paid(demo: DemoStack, buyer: Buyer) -> None:
    buyer.register(demo.groups[0], EMAIL)
    buyer.pay()
    buyer.wait_for_thank_you()


def test_browser_thank_you_page_shows_the_receipt_and_a_working_calendar_link(
    demo: DemoStack, buyer: Buyer
) -> None:
    paid(demo, buyer)
    intent = only_intent(demo)
    group = demo.groups[0]
    receipt = buyer.text(".therapy-sidecar-receipt")
    assert f"Group: {group.name}" in receipt
    assert "Amount paid: 150.00 SAR" in receipt
    assert f"PayTabs reference: {intent.tran_ref}" in receipt
    assert intent.paid_at is not None
    day = datetime.fromtimestamp(intent.paid_at, ZoneInfo("UTC")).strftime("%d %B %Y")
    assert f"Date of payment: {day}" in receipt
    link = buyer.page.locator("a.therapy-sidecar-receipt__calendar")
    assert link.inner_text().strip() == "Add to calendar"
    href = link.get_attribute("href")
    assert href and href.startswith(f"{demo.sidecar_url}/therapy/calendar/{intent.ref}.ics?sig=")
    ics = requests.get(href, timeout=10)  # no cookies: the link from the e-mail works too
    assert ics.status_code == 200
    assert ics.headers["Content-Type"] == "text/calendar; charset=utf-8"
    event = Calendar.from_ical(ics.content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == group.name
    assert group.schedule is not None
    assert event.decoded("DTSTART") == group.schedule.starts_at
    assert event["DTSTART"].params["TZID"] == "Asia/Riyadh"
    mail = next(m for m in demo.fake.emails if m["template"] == "booking_confirmed")
    assert mail["data"]["calendar_url"] == href and mail["data"]["tran_ref"] == intent.tran_ref


def test_browser_paid_buyer_on_another_device_is_told_registered_and_offered_the_login(
    demo: DemoStack, buyer: Buyer
) -> None:
    paid(demo, buyer)
    intent = only_intent(demo)
    buyer.page.context.clear_cookies()  # another device: no WordPress session, no sidecar cookie
    buyer.page.goto(f"{demo.wordpress_url}/therapy-registration-status/?intent={intent.ref}")
    login = buyer.page.locator(".therapy-sidecar-status__signin a.therapy-sidecar-login")
    login.wait_for()
    assert buyer.text(".therapy-sidecar-status__message") == messages.REGISTERED_LOG_IN
    assert EMAIL not in buyer.page.content()
    password = buyer.page.locator(".therapy-sidecar-status__signin a.therapy-sidecar-lostpassword")
    password_href = password.get_attribute("href")
    assert password_href and EMAIL not in password_href
    login.click()
    buyer.page.wait_for_url(f"{demo.wordpress_url}/wp-login.php?**")
    # Another device proves nothing yet: whoever knows the address of the status page must not
    # learn whose registration it is, so the forms are empty (the paying browser gets them filled).
    assert buyer.page.input_value("#user_login") == ""
    assert "therapy_prefill=" not in buyer.page.url and "rana" not in buyer.page.url
    buyer.page.goto(password_href)
    assert buyer.page.input_value("#lostpasswordform #user_login") == ""
    # The thank-you page it comes back to says registered, and nothing personal.
    buyer.page.goto(f"{demo.wordpress_url}/thank-you/?intent={intent.ref}")
    assert messages.REGISTERED_LOG_IN in buyer.text(".therapy-sidecar-receipt--logged-out")
    assert intent.tran_ref and intent.tran_ref not in buyer.page.content()
