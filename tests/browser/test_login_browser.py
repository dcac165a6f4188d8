"""After paying, Back and refresh never show an error; a logged-out buyer meets the login form."""

from __future__ import annotations

import pytest

from sidecar.sandbox.demo import DemoStack
from tests.browser.flows import Buyer

pytestmark = pytest.mark.browser
EMAIL = "amal@example.com"
REFUSED = ("refused", "already used", "not valid", "expired")


def paid_and_logged_in(demo: DemoStack, buyer: Buyer) -> None:
    buyer.register(demo.groups[0], EMAIL)
    buyer.pay()
    buyer.wait_for_thank_you()
    assert buyer.text(".who") == f"Logged in as {EMAIL}"


def assert_no_error(buyer: Buyer) -> None:
    text = buyer.page.content().lower()
    assert not any(word in text for word in REFUSED), text[:500]


def test_browser_back_and_refresh_after_paying_stay_on_the_thank_you_page(
    demo: DemoStack, buyer: Buyer
) -> None:
    paid_and_logged_in(demo, buyer)
    polls = []
    buyer.page.on("request", lambda r: polls.append(r.url) if "/therapy/status/" in r.url else None)
    buyer.page.go_back()  # the status page (maybe from the browser's cache) polls once more
    buyer.wait_for_thank_you()
    assert polls
    buyer.page.reload()
    buyer.wait_for_thank_you()
    assert buyer.text(".who") == f"Logged in as {EMAIL}"
    assert_no_error(buyer)


def test_browser_back_after_logging_out_offers_the_login_form_with_the_email(
    demo: DemoStack, buyer: Buyer
) -> None:
    paid_and_logged_in(demo, buyer)
    buyer.page.goto(f"{demo.wordpress_url}/demo-logout/")
    buyer.page.go_back()  # the thank-you page, logged out now
    buyer.page.go_back()  # the status page
    buyer.page.wait_for_url(f"{demo.wordpress_url}/wp-login.php?**")
    assert buyer.page.input_value("#user_login") == EMAIL
    assert_no_error(buyer)
    buyer.page.reload()
    assert buyer.page.input_value("#user_login") == EMAIL
