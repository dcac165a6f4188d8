"""Impatient buyers: the registration form sent twice, Pay double-clicked or pressed in two tabs.

Whatever the browser sends twice, the simulator holds one sale, the store one intent and
WordPress one user, one booking and one membership.
"""

from __future__ import annotations

from typing import Any

import pytest

from sidecar.sandbox.demo import DemoStack
from tests.browser.flows import (
    APPROVE,
    Buyer,
    bookings_for,
    members_of,
    only_intent,
    sales,
    users_except_admin,
    wait_for_state,
)

pytestmark = pytest.mark.browser
EMAIL = "amal@example.com"
CLICK_AGAIN_SOON = """() => {
  const form = document.querySelector('form.therapy-sidecar-form');
  let again = true;
  form.addEventListener('submit', () => {
    if (again) { again = false; setTimeout(() => form.querySelector('button').click(), 300); }
  });
}"""


def _assert_one_of_everything(demo: DemoStack) -> None:
    intent = only_intent(demo)
    assert intent.state.value == "fulfilled"
    assert [(s["cart_id"], s["status"]) for s in sales(demo)] == [(intent.ref, "A")]
    users = users_except_admin(demo)
    assert [u.email for u in users] == [EMAIL]
    assert [b.user_id for b in bookings_for(demo, intent.ref)] == [users[0].id]
    assert members_of(demo, demo.groups[0]) == [users[0].id]


def test_browser_double_submit_of_the_form_makes_one_intent_and_one_sale(
    demo: DemoStack, buyer: Buyer
) -> None:
    # The first submission waits a second on PayTabs: the buyer clicks again meanwhile.
    demo.sim.configure(timeout_next_requests=1, timeout_seconds=1.0)
    checkout = f"{demo.sidecar_url}/therapy/checkout"
    posts: list[str] = []
    buyer.page.on("request", lambda r: r.url == checkout and posts.append(r.method))
    buyer.open_form(demo.groups[0])
    buyer.fill_form(EMAIL)
    # The person clicks again 0.3 s later, while the first answer is still on its way (a
    # Playwright click would wait for the pending navigation first; a person does not).
    buyer.page.evaluate(CLICK_AGAIN_SOON)
    buyer.page.click("button[type=submit]")
    buyer.page.wait_for_url(f"{demo.paytabs_url}/payment/page/**")

    assert posts == ["POST", "POST"]  # the browser dropped the first answer, not the server
    intent = only_intent(demo)
    assert buyer.page.url == intent.redirect_url  # the same PayTabs page for both
    assert len(sales(demo)) == 1
    buyer.pay()
    buyer.wait_for_thank_you()  # the second answer's status cookie still logs in
    assert buyer.text(".who") == f"Logged in as {EMAIL}"
    _assert_one_of_everything(demo)


def test_browser_double_click_on_pay_charges_once_and_books_once(
    demo: DemoStack, buyer: Buyer
) -> None:
    buyer.register(demo.groups[0], EMAIL)
    page_url = buyer.page.url
    posts: list[str] = []
    buyer.page.on(
        "request", lambda r: r.url == page_url and r.method == "POST" and posts.append(r.url)
    )
    buyer.page.fill("input[name=card_number]", APPROVE)
    buyer.page.dblclick("#pay")
    # Chromium usually folds the two clicks into one submission and the buyer lands on the
    # thank-you page; when the first was already sent, the simulator answers the second with
    # its "no longer valid" page, and the buyer must come back to the status page.
    landed = buyer.page.wait_for_selector(".who, #invalid")
    assert landed is not None
    if landed.get_attribute("id") == "invalid":
        assert posts == [page_url, page_url]
        intent = wait_for_state(demo, "fulfilled")
        buyer.page.goto(f"{demo.wordpress_url}/therapy-registration-status/?intent={intent.ref}")
        buyer.wait_for_thank_you()
    else:
        assert posts == [page_url]
    assert buyer.text(".who") == f"Logged in as {EMAIL}"
    _assert_one_of_everything(demo)


def test_browser_pay_again_from_a_second_tab_charges_once_and_books_once(
    demo: DemoStack, context: Any, buyer: Buyer
) -> None:
    buyer.register(demo.groups[0], EMAIL)
    second = Buyer(context.new_page(), demo)  # the same PayTabs page, open twice
    second.page.goto(buyer.page.url)
    buyer.pay()
    buyer.wait_for_thank_you()
    second.pay()
    second.page.wait_for_selector("#invalid")  # the simulator refuses a finished page

    assert second.text("#invalid") == "This payment page is no longer valid"
    assert buyer.text(".who") == f"Logged in as {EMAIL}"
    _assert_one_of_everything(demo)
