"""The WordPress side in a browser: a logged-in member, a full group, a known e-mail, no JavaScript."""

from __future__ import annotations

from typing import Any

import pytest

from sidecar.sandbox.demo import DemoStack
from sidecar.sandbox.wordpress import DEMO_MEMBER_EMAIL, ensure_demo_member
from tests.browser.flows import (
    Buyer,
    bookings_for,
    http_checkout,
    intents,
    members_of,
    only_intent,
    users_except_admin,
)

pytestmark = pytest.mark.browser
NOTICE = ".therapy-sidecar-notice--error"


def test_browser_logged_in_member_pays_without_a_new_account(demo: DemoStack, buyer: Buyer) -> None:
    group = demo.groups[2]
    buyer.open_form(group)
    buyer.page.click("text=Log in as a demo member")
    buyer.page.wait_for_selector(f"text=Logged in as {DEMO_MEMBER_EMAIL}")
    [member] = users_except_admin(demo)
    email = buyer.page.locator("input[name=email]")
    assert email.input_value() == DEMO_MEMBER_EMAIL and email.get_attribute("readonly") == ""
    assert buyer.page.locator("input[name=password]").count() == 0
    assert buyer.page.locator("select[name=group_id]").input_value() == str(group.id)
    buyer.fill_form(None)
    buyer.submit()
    buyer.pay()
    buyer.wait_for_thank_you()

    assert buyer.text(".who") == f"Logged in as {DEMO_MEMBER_EMAIL}"
    assert buyer.text(".mine") == group.name
    assert [u.id for u in users_except_admin(demo)] == [member.id]  # nobody new
    intent = only_intent(demo)
    assert (intent.state.value, intent.wp_user_id, intent.user_created) == (
        "fulfilled",
        member.id,
        False,
    )
    assert [(b.group_id, b.user_id) for b in bookings_for(demo, intent.ref)] == [
        (group.id, member.id)
    ]
    assert members_of(demo, group) == [member.id]


def test_browser_group_full_says_sorry_and_shows_the_groups(demo: DemoStack, buyer: Buyer) -> None:
    nearly_full = demo.groups[1]
    buyer.open_form(nearly_full)
    assert f"1 of {nearly_full.capacity} seats left" in buyer.text(
        f"li[data-group='{nearly_full.id}']"
    )
    buyer.fill_form("amal@example.com")
    taken = http_checkout(demo, nearly_full, "quicker@example.com")  # holds the last seat
    assert taken.status_code == 303
    buyer.page.click("button[type=submit]")
    buyer.page.wait_for_selector(NOTICE)

    assert buyer.text(NOTICE) == "Sorry, this group is full."
    assert "error=group_full" in buyer.page.url
    assert [i.email for i in intents(demo)] == ["quicker@example.com"]
    assert users_except_admin(demo) == []
    other = demo.groups[0]
    buyer.page.click(f"li[data-group='{other.id}'] a")  # the way back: another group's form
    buyer.page.wait_for_url(f"**/therapy-registration/?group={other.id}")
    assert buyer.page.locator(NOTICE).count() == 0


def test_browser_known_email_is_asked_to_log_in_first(demo: DemoStack, buyer: Buyer) -> None:
    ensure_demo_member(demo.fake)
    buyer.open_form(demo.groups[0])
    buyer.fill_form(DEMO_MEMBER_EMAIL)
    buyer.page.click("button[type=submit]")
    buyer.page.wait_for_selector(NOTICE)

    assert buyer.text(NOTICE) == (
        "An account with this e-mail address already exists. "
        "Please log in first, then register for the group."
    )
    assert intents(demo) == []
    buyer.page.click("text=Log in as a demo member")
    buyer.page.wait_for_selector(f"text=Logged in as {DEMO_MEMBER_EMAIL}")
    assert buyer.page.locator("input[name=email]").input_value() == DEMO_MEMBER_EMAIL


@pytest.mark.parametrize("context", [{"java_script_enabled": False}], indirect=True)
def test_browser_status_page_without_javascript_reaches_thank_you_logged_in(
    demo: DemoStack, context: Any, buyer: Buyer
) -> None:
    buyer.register(demo.groups[0], "amal@example.com")
    demo.sim.configure(fail_next_requests=2)  # the worker's first queries fail: confirmation waits
    buyer.pay()
    buyer.page.click("#continue")  # the simulator's return form, without its auto-submit
    buyer.wait_for_status_page()
    message = ".therapy-sidecar-status__message"
    assert buyer.text(message) == "We are waiting for PayTabs to confirm your payment…"

    # <noscript> refresh to the sidecar's status page, which refreshes itself until it is done
    # and then sends the paying browser through its login link.
    buyer.wait_for_thank_you()
    intent = only_intent(demo)
    assert f"{demo.sidecar_url}/therapy/status/{intent.ref}" in buyer.visited
    assert buyer.text(".who") == "Logged in as amal@example.com"
    assert buyer.text(".mine") == demo.groups[0].name
