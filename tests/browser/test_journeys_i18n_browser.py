"""The buyer's main journeys in English and in Arabic, on a phone (390 px) and on a desktop.

Each page is checked the way a buyer would notice it: the language and the writing direction of
the page, the sentences in that language, nothing wider than the screen, and the PayTabs page
opened in the buyer's language.
"""

from __future__ import annotations

import calendar
from typing import Any
from urllib.parse import unquote

import pytest

from sidecar.core.i18n import direction, translate
from sidecar.domain import messages
from sidecar.sandbox.demo import DemoStack
from tests.browser.flows import DECLINE, PERSON, Buyer, sales, wait_for_state

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
MATRIX = [
    pytest.param("en", PHONE, id="en-390px"),
    pytest.param("ar", PHONE, id="ar-390px"),
    pytest.param("en", DESKTOP, id="en-1280px"),
    pytest.param("ar", DESKTOP, id="ar-1280px"),
]


def assert_page_reads_in(page: Any, lang: str) -> None:
    """The page says its language and direction, and nothing is wider than the screen."""
    html = page.locator("html")
    assert html.get_attribute("lang") == lang
    assert (html.get_attribute("dir") or "ltr") == direction(lang)
    assert page.evaluate("getComputedStyle(document.body).direction") == direction(lang)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page is {overflow}px wider than the screen"


def open_form_in(buyer: Buyer, lang: str) -> None:
    """Open the registration form of the demo's first group in ``lang``."""
    group = buyer.demo.groups[0]
    buyer.page.goto(
        f"{buyer.demo.wordpress_url}/therapy-registration/?group={group.id}&lang={lang}"
    )


@pytest.mark.parametrize(("lang", "context"), MATRIX, indirect=["context"])
def test_browser_journey_pay_and_land_registered_in_the_buyers_language(
    demo: DemoStack, buyer: Buyer, lang: str, context: Any
) -> None:
    open_form_in(buyer, lang)
    assert_page_reads_in(buyer.page, lang)
    phone_label = buyer.text("label[for$=phone], label:has(+ input[name=phone])")
    assert phone_label == translate(messages.FIELD_LABELS["phone"], lang)

    buyer.fill_form(f"journey.{lang}@example.com")
    buyer.submit()
    buyer.pay()
    buyer.wait_for_thank_you()
    assert_page_reads_in(buyer.page, lang)
    intent = wait_for_state(demo, "fulfilled")
    assert intent.locale == lang
    assert [sale["paypage_lang"] for sale in sales(demo)] == [lang]
    receipt = buyer.text(".therapy-sidecar-receipt")
    amount = translate(messages.RECEIPT_AMOUNT, lang, amount="150.00", currency="SAR")
    assert amount in receipt
    assert translate(messages.RECEIPT_REFERENCE, lang, tran_ref=intent.tran_ref) in receipt
    link = buyer.page.locator("a.therapy-sidecar-receipt__calendar")
    assert link.inner_text().strip() == translate(messages.RECEIPT_ADD_TO_CALENDAR, lang)
    # Dates name their month in the buyer's language.
    english_months = [name for name in calendar.month_name[1:] if name in receipt]
    assert bool(english_months) == (lang == "en"), english_months


@pytest.mark.parametrize(("lang", "context"), MATRIX, indirect=["context"])
def test_browser_journey_declined_card_is_told_in_the_buyers_language(
    demo: DemoStack, buyer: Buyer, lang: str, context: Any
) -> None:
    open_form_in(buyer, lang)
    buyer.fill_form(f"declined.{lang}@example.com")
    buyer.submit()
    buyer.pay(DECLINE)
    buyer.wait_for_status_page()
    said = translate(messages.PAYMENT_FAILED["payment_declined"], lang)
    buyer.page.wait_for_function(
        "text => document.querySelector('.therapy-sidecar-status__message').textContent === text",
        arg=said,
    )
    assert_page_reads_in(buyer.page, lang)
    assert buyer.page.locator(".therapy-sidecar-status__back a").first.is_visible()
    retry = buyer.page.locator(".therapy-sidecar-status__retry button")
    retry.wait_for(state="visible")
    assert retry.inner_text().strip() == translate(messages.RETRY_BUTTON, lang)
    # "Back to the registration page" too: the form comes back with what the buyer typed.
    buyer.page.click(".therapy-sidecar-status__back a")
    buyer.page.wait_for_url(f"{demo.wordpress_url}/therapy-registration/**")
    assert buyer.page.input_value("input[name=email]") == f"declined.{lang}@example.com"
    assert buyer.page.input_value("input[name=city]") == PERSON["city"]
    assert buyer.page.input_value("input[name=password]") == ""


@pytest.mark.parametrize(("lang", "context"), MATRIX, indirect=["context"])
def test_browser_journey_refused_phone_is_told_and_kept_in_the_buyers_language(
    demo: DemoStack, buyer: Buyer, lang: str, context: Any
) -> None:
    open_form_in(buyer, lang)
    buyer.fill_form(f"refused.{lang}@example.com")
    buyer.page.fill("input[name=phone]", "12")
    buyer.page.evaluate("document.querySelector('form.therapy-sidecar-form').noValidate = true")
    buyer.page.click("button[type=submit]")
    buyer.page.wait_for_url("**error=invalid_phone**")
    assert_page_reads_in(buyer.page, lang)
    notice = buyer.text(".therapy-sidecar-notice")
    assert notice == messages.form_error("invalid_phone", "phone", lang)
    assert buyer.page.input_value("input[name=phone]") == "12"


@pytest.mark.parametrize(("lang", "context"), MATRIX, indirect=["context"])
def test_browser_journey_paid_buyer_on_another_device_in_the_buyers_language(
    demo: DemoStack, buyer: Buyer, lang: str, context: Any
) -> None:
    email = f"device.{lang}@example.com"
    open_form_in(buyer, lang)
    buyer.fill_form(email)
    buyer.submit()
    buyer.pay()
    buyer.wait_for_thank_you()
    intent = wait_for_state(demo, "fulfilled")
    context.clear_cookies()  # another device: no session, no sidecar cookie, no language cookie
    status = f"{demo.wordpress_url}/therapy-registration-status/?intent={intent.ref}&lang={lang}"
    buyer.page.goto(status)
    buyer.page.locator(".therapy-sidecar-status__signin a.therapy-sidecar-login").wait_for()
    assert_page_reads_in(buyer.page, lang)
    said = buyer.text(".therapy-sidecar-status__message")
    assert said == translate(messages.REGISTERED_LOG_IN, lang)
    buyer.page.click(".therapy-sidecar-status__signin a.therapy-sidecar-login")
    buyer.page.wait_for_url(f"{demo.wordpress_url}/wp-login.php?**")
    # Whoever knows the status page's address must not learn whose registration it is: the
    # login form on another device is empty, and the buyer's e-mail is nowhere on the way.
    assert buyer.page.input_value("#user_login") == ""
    assert email not in unquote(buyer.page.url)


@pytest.mark.parametrize(("lang", "context"), MATRIX, indirect=["context"])
def test_browser_journey_known_email_is_offered_the_login_in_the_buyers_language(
    demo: DemoStack, buyer: Buyer, lang: str, context: Any
) -> None:
    member = demo.fake.add_user(username="huda", email="huda@example.com", password="pw 123456")
    open_form_in(buyer, lang)
    buyer.fill_form(member.email)
    buyer.page.click("button[type=submit]")
    buyer.page.wait_for_url("**error=**")
    assert_page_reads_in(buyer.page, lang)
    login = buyer.page.locator("a.therapy-sidecar-login").first
    assert login.inner_text().strip() == translate(messages.KNOWN_EMAIL_LOG_IN, lang)
    assert buyer.page.input_value("input[name=email]") == member.email  # the form remembers
    assert member.email not in unquote(buyer.page.url)
