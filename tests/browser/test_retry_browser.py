"""A declined card, then "Try again" on the status page: a fresh PayTabs page for the same
registration, paid, and the buyer is registered (one intent, one kept sale)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sidecar.payments import retry as retry_module
from sidecar.payments.seats import hhmm
from sidecar.sandbox import paytabs_book
from sidecar.sandbox.demo import DEMO_TIMEZONE, DemoStack
from tests.browser.flows import DECLINE, Buyer, only_intent, sales, wait_for_state

pytestmark = pytest.mark.browser
EMAIL = "amal.retry@example.com"
SIZES = [{"viewport": {"width": 390, "height": 844}}, {"viewport": {"width": 1280, "height": 800}}]


@pytest.mark.parametrize("context", SIZES, indirect=True, ids=["390px", "1280px"])
def test_browser_declined_then_try_again_pays_and_registers(
    demo: DemoStack, buyer: Buyer, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PayTabs' two-minute rule for a second page of one cart, shortened so the test need not wait.
    monkeypatch.setattr(paytabs_book, "DUPLICATE_WINDOW_SECONDS", 2.0)
    monkeypatch.setattr(retry_module, "PAYTABS_DUPLICATE_WINDOW_SECONDS", 3.0)
    group = demo.groups[0]
    buyer.register(group, EMAIL)
    buyer.pay(DECLINE)
    buyer.wait_for_status_page()
    first = wait_for_state(demo, "payment_failed")
    button = buyer.page.locator(".therapy-sidecar-status__retry button")
    button.wait_for(state="visible")
    assert button.inner_text() == "Try again"
    # In the site's timezone (the demo's site says Riyadh), with no "(UTC)" to convert from.
    riyadh = hhmm(first.hold_expires_at, ZoneInfo(DEMO_TIMEZONE))
    held = buyer.text(".therapy-sidecar-status__retry p")
    assert held == f"Your place is held for you until {riyadh}."
    buyer.page.wait_for_function(
        "!document.querySelector('.therapy-sidecar-status__retry button').disabled"
    )
    button.click()
    buyer.page.wait_for_url(f"{demo.paytabs_url}/payment/page/**")
    assert only_intent(demo).state.value == "awaiting_payment"
    buyer.pay()
    buyer.wait_for_thank_you()

    done = only_intent(demo)
    assert (done.ref, done.state.value) == (first.ref, "fulfilled")
    assert done.tran_ref != first.tran_ref
    assert [(s["cart_id"], s["status"]) for s in sales(demo)] == [
        (first.ref, "D"),
        (first.ref, "A"),
    ]
