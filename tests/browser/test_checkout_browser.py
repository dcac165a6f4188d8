"""A buyer in headless Chromium pays, is declined, cancels, or closes the tab right after paying.

Each test asserts what the buyer sees and what the sidecar's store and WordPress hold afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest

from sidecar.sandbox.demo import DemoStack
from tests.browser.flows import (
    DECLINE,
    Buyer,
    bookings_for,
    members_of,
    notification_channels,
    only_intent,
    sales,
    users_except_admin,
    wait_for_state,
)

pytestmark = pytest.mark.browser
EMAIL = "amal@example.com"


def test_browser_happy_path_lands_logged_in_on_thank_you(demo: DemoStack, buyer: Buyer) -> None:
    group = demo.groups[0]
    buyer.register(group, EMAIL)
    assert buyer.text("#amount") == "150.00 SAR"
    buyer.pay()
    buyer.wait_for_thank_you()

    assert buyer.text(".who") == f"Logged in as {EMAIL}"
    assert buyer.text(".mine") == group.name
    status_page = f"{demo.wordpress_url}/therapy-registration-status/?intent="
    login_link = f"{demo.wordpress_url}/?rest_route=/therapy-sidecar/v1/login&grant="
    assert any(url.startswith(status_page) for url in buyer.visited)
    assert any(url.startswith(login_link) for url in buyer.visited)
    intent = only_intent(demo)
    assert (intent.state.value, intent.user_created) == ("fulfilled", True)
    users = users_except_admin(demo)
    assert [(u.email, u.intent_ref) for u in users] == [(EMAIL, intent.ref)]
    booked = bookings_for(demo, intent.ref)
    assert [(b.group_id, b.user_id) for b in booked] == [(group.id, users[0].id)]
    assert members_of(demo, group) == [users[0].id]
    assert [(s["cart_id"], s["status"]) for s in sales(demo)] == [(intent.ref, "A")]


def _assert_nothing_in_wordpress(demo: DemoStack, ref: str) -> None:
    assert users_except_admin(demo) == []
    assert bookings_for(demo, ref) == []
    assert all(members_of(demo, g) == [] for g in demo.groups)


def _assert_failure_with_way_back(demo: DemoStack, buyer: Buyer, sentence: str) -> None:
    buyer.wait_for_status_page()
    message = ".therapy-sidecar-status__message"
    assert buyer.text(message) == sentence  # at once, from the return's ?code=
    buyer.page.wait_for_selector("#tps-status[data-done='1']")  # polling saw the failure
    assert buyer.text(message) == sentence
    intent = wait_for_state(demo, "payment_failed")
    _assert_nothing_in_wordpress(demo, intent.ref)
    back = buyer.page.locator(".therapy-sidecar-status__back a")
    assert back.is_visible() and back.inner_text() == "Back to the registration page"
    back.click()
    buyer.page.wait_for_url(f"{demo.wordpress_url}/therapy-registration/")
    assert buyer.page.locator("form.therapy-sidecar-form").is_visible()


def test_browser_declined_card_says_declined_and_offers_a_way_back(
    demo: DemoStack, buyer: Buyer
) -> None:
    buyer.register(demo.groups[0], EMAIL)
    buyer.pay(DECLINE)
    sentence = "Your payment was declined and you have not been charged."
    _assert_failure_with_way_back(demo, buyer, sentence)
    assert any("code=payment_declined" in url for url in buyer.visited)
    assert [s["status"] for s in sales(demo)] == ["D"]


def test_browser_cancel_says_cancelled_and_offers_a_way_back(demo: DemoStack, buyer: Buyer) -> None:
    buyer.register(demo.groups[0], EMAIL)
    buyer.page.click("#cancel")
    sentence = "The payment was cancelled and you have not been charged."
    _assert_failure_with_way_back(demo, buyer, sentence)
    assert any("code=payment_cancelled" in url for url in buyer.visited)


def test_browser_tab_closed_after_paying_is_fulfilled_and_logs_in_later(
    demo: DemoStack, context: Any, buyer: Buyer
) -> None:
    demo.sim.configure(return_mode="drop")  # PayTabs never sends the browser back
    group = demo.groups[0]
    buyer.register(group, EMAIL)
    buyer.pay()
    assert buyer.page.locator("#close").inner_text() == "You may close this window."
    buyer.page.close()

    intent = wait_for_state(demo, "fulfilled")  # the IPN and the worker alone
    assert "return" not in notification_channels(demo, intent)
    assert "ipn" in notification_channels(demo, intent)
    later = Buyer(context.new_page(), demo)  # same browser, so the same status cookie
    later.page.goto(f"{demo.wordpress_url}/therapy-registration-status/?intent={intent.ref}")
    later.wait_for_thank_you()
    assert later.text(".who") == f"Logged in as {EMAIL}"
    assert len(bookings_for(demo, intent.ref)) == 1
    assert [u.email for u in users_except_admin(demo)] == [EMAIL]
