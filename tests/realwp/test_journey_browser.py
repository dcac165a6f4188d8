"""The whole journey on the real WordPress in Chromium, in Arabic on a phone and in English on a
desktop: the plugin's form, the sidecar, the PayTabs simulator's page, the plugin's status page, the
login link, and the thank-you page with the receipt.

The test site's plugin posts to ``{WP_BASE_URL}/sidecar`` (its default THERAPY_SIDECAR_URL, as on a
site where nginx serves the sidecar under /sidecar); here the browser's requests to that prefix are
handed to the test's sidecar (the same origin, so its cookies reach the status page, as behind
nginx). A thread runs the sidecar's jobs, as the worker does.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sidecar.domain.states import State
from sidecar.store import repository as repo
from tests.realwp.helpers import WPSite
from tests.realwp.test_plugin_arabic import set_site_language
from tests.support.stack import Stack

pytestmark = [pytest.mark.realwp, pytest.mark.browser]
TIMEOUT_MS = 30_000
ARABIC = re.compile("[\u0600-\u06ff]")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PERSON = {
    "first_name": "Amal",
    "last_name": "Haddad",
    "phone": "+966 50 000 0000",
    "street1": "King Fahd Road 12",
    "city": "Riyadh",
}


@pytest.fixture
def live_stack(tmp_path: Path, wp: WPSite) -> Iterator[Stack]:
    """Sidecar + simulator against the real WordPress, its jobs run by a thread (the worker)."""
    stack = Stack(tmp_path, f"sqlite:///{tmp_path / 'sidecar.sqlite3'}", real_wp=wp.env)
    stack.sim.configure(ipn_delay_seconds=0.2)
    stop = threading.Event()

    def work() -> None:
        while not stop.wait(0.1):
            stack.deliver_ipns()
            stack.drain()

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        yield stack
    finally:
        stop.set()
        worker.join(10)
        stack.close()


def hand_sidecar_requests_to(context: Any, wp: WPSite, stack: Stack) -> None:
    """Serve the site's /sidecar/ prefix from the test's sidecar (what nginx does on a site)."""
    prefix = f"{wp.base_url}/sidecar"

    def forward(route: Any) -> None:
        url = stack.server.url + route.request.url[len(prefix) :]
        route.fulfill(response=route.fetch(url=url, max_redirects=0))

    context.route(f"{prefix}/**", forward)


@pytest.mark.parametrize(
    ("lang", "size"), [("ar", PHONE), ("en", DESKTOP)], ids=["ar-390px", "en-1280px"]
)
def test_real_wp_journey_form_pay_status_login_receipt(
    chromium: Any, wp: WPSite, live_stack: Stack, lang: str, size: dict[str, Any]
) -> None:
    set_site_language(wp, lang if lang != "en" else None)
    context = chromium.new_context(**size)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        hand_sidecar_requests_to(context, wp, live_stack)
        page = context.new_page()
        email = f"journey.{lang}.{secrets.token_hex(4)}@example.com"
        page.goto(f"{wp.base_url}/therapy-registration/?group_id={wp.group_id()}")
        wrapper = page.locator(".therapy-sidecar").first
        if lang == "ar":
            assert wrapper.get_attribute("dir") == "rtl"
        assert page.locator("input[name=locale]").get_attribute("value", timeout=5000) in (
            ("ar",) if lang == "ar" else ("en_US", "en")
        )
        assert_fits_the_screen(page)
        for name, value in {**PERSON, "email": email}.items():
            page.fill(f"input[name={name}]", value)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_stack.sim_server.url}/payment/page/**")
        page.fill("input[name=card_number]", "4111 1111 1111 1111")
        page.click("#pay")
        page.wait_for_url(f"{wp.base_url}/thank-you/**")

        intent = intent_of(live_stack, email)
        wp.created_user_ids.append(intent.wp_user_id)
        assert intent.state == State.FULFILLED and intent.locale == lang
        sale = [s for s in live_stack.sim.ledger() if s["tran_type"] == "Sale"][-1]
        assert sale["paypage_lang"] == lang
        receipt = page.locator(".therapy-sidecar-receipt").first.inner_text()
        assert intent.tran_ref and intent.tran_ref in receipt
        assert str(intent.amount_minor // 100) in receipt
        # The receipt's own words are in the buyer's language (the group's name is the site's).
        assert bool(ARABIC.search(receipt.replace(intent.group_name, ""))) == (lang == "ar")
        if lang == "ar":
            assert page.locator(".therapy-sidecar-receipt").first.get_attribute("dir") == "rtl"
        assert any(c["name"].startswith("wordpress_logged_in_") for c in context.cookies())
        assert_fits_the_screen(page)
    finally:
        context.close()
        set_site_language(wp, None)


def intent_of(stack: Stack, email: str) -> Any:
    """Return the one intent made for ``email``."""
    with stack.services.db.transaction() as tx:
        found = [i for i in repo.list_intents(tx) if i.email == email]
    assert len(found) == 1, [i.ref for i in found]
    return found[0]


def assert_fits_the_screen(page: Any) -> None:
    """Nothing on the page is wider than the screen (no sideways scrolling on a phone)."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page is {overflow}px wider than the screen"
