"""What a buyer does, in a browser (``Buyer``) or over plain HTTP, against the demo stack."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import requests

from sidecar.sandbox.demo import DemoStack
from sidecar.store import repository as repo
from sidecar.store.repository import Intent
from wp_bridge.models import GroupInfo

TIMEOUT_MS = 20_000  # shared machines: generous, but every wait ends as soon as it can
APPROVE = "4111 1111 1111 1111"
DECLINE = "4000 0000 0000 0002"
PERSON = {
    "first_name": "Amal",
    "last_name": "Haddad",
    "phone": "+966 50 000 0000",
    "street1": "King Fahd Road 12",
    "city": "Riyadh",
}


class Buyer:
    """A person in a browser page: fills the WordPress form, pays on the simulator page."""

    def __init__(self, page: Any, demo: DemoStack) -> None:
        self.page = page
        self.demo = demo
        self.visited: list[str] = []  # every page the browser asked for, redirects included
        page.on("request", self._requested)

    def _requested(self, request: Any) -> None:
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self.visited.append(request.url)

    def open_form(self, group: GroupInfo) -> None:
        """Open the registration page with ``group`` chosen."""
        self.page.goto(f"{self.demo.wordpress_url}/therapy-registration/?group={group.id}")

    def fill_form(self, email: str | None) -> None:
        """Fill in the person's fields (``email`` None leaves the prefilled one)."""
        for name, value in PERSON.items():
            self.page.fill(f"input[name={name}]", value)
        if email is not None:
            self.page.fill("input[name=email]", email)

    def submit(self) -> None:
        """Press "Continue to payment" and wait for the PayTabs page."""
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{self.demo.paytabs_url}/payment/page/**")

    def register(self, group: GroupInfo, email: str | None) -> None:
        """Open the form, fill it in and reach the PayTabs page."""
        self.open_form(group)
        self.fill_form(email)
        self.submit()

    def pay(self, card: str = APPROVE) -> None:
        """Type a test card and press Pay once."""
        self.page.fill("input[name=card_number]", card)
        self.page.click("#pay")

    def wait_for_status_page(self) -> None:
        """Wait until the browser is back on the WordPress status page."""
        self.page.wait_for_url(f"{self.demo.wordpress_url}/therapy-registration-status/**")

    def wait_for_thank_you(self) -> None:
        """Wait until the status page has taken the buyer to the thank-you page."""
        self.page.wait_for_url(f"{self.demo.wordpress_url}/thank-you/")

    def text(self, selector: str) -> str:
        """Return the visible text of the first element matching ``selector``."""
        return str(self.page.locator(selector).first.inner_text()).strip()


def wait_until(check: Callable[[], Any], timeout: float = TIMEOUT_MS / 1000) -> Any:
    """Return the first truthy value of ``check()``, polling; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {check}")
        time.sleep(0.05)


def intents(demo: DemoStack) -> list[Intent]:
    """Return every intent in the demo's store, newest first."""
    with demo.services.db.transaction() as tx:
        return repo.list_intents(tx)


def only_intent(demo: DemoStack) -> Intent:
    """Return the one intent of the test, asserting there is exactly one."""
    found = intents(demo)
    assert len(found) == 1, [i.ref for i in found]
    return found[0]


def wait_for_state(demo: DemoStack, state: str) -> Intent:
    """Wait until the test's one intent reaches ``state``."""
    return wait_until(lambda: (i := only_intent(demo)).state.value == state and i)


def notification_channels(demo: DemoStack, intent: Intent) -> list[str]:
    """Return the channels (return, ipn, ...) of the notifications logged for ``intent``."""
    with demo.services.db.transaction() as tx:
        return [row["channel"] for row in repo.list_notifications(tx, intent.id)]


def sales(demo: DemoStack) -> list[dict[str, Any]]:
    """Return the sale transactions in the simulator's ledger."""
    return [t for t in demo.sim.ledger() if t["tran_type"] == "Sale"]


def users_except_admin(demo: DemoStack) -> list[Any]:
    """Return every WordPress user but the administrator the app password belongs to."""
    return [u for u in demo.fake.search_users("") if u.id != demo.fake.admin.id]


def bookings_for(demo: DemoStack, ref: str) -> list[Any]:
    """Return the WordPress bookings made for intent ``ref``."""
    return demo.fake.find_bookings(intent_ref=ref)


def members_of(demo: DemoStack, group: GroupInfo) -> list[int]:
    """Return the user ids in the group's BuddyPress group (admins left out, as BP lists them)."""
    return [m.user_id for m in demo.fake.group_members(group.bp_group_id)]


def http_checkout(demo: DemoStack, group: GroupInfo, email: str) -> requests.Response:
    """Check out without a browser: read the form's tokens from the page, POST to the sidecar."""
    with requests.Session() as session:
        page = session.get(
            f"{demo.wordpress_url}/therapy-registration/?group={group.id}", timeout=10
        )
        fields = {name: hidden_value(page.text, name) for name in ("form_token", "idempotency_key")}
        form = {**PERSON, **fields, "group_id": str(group.id), "email": email, "country": "SA"}
        return session.post(
            f"{demo.sidecar_url}/therapy/checkout", data=form, allow_redirects=False, timeout=30
        )


def hidden_value(html: str, name: str) -> str:
    """Return the value of the form input ``name`` in the sandbox page's markup."""
    found = re.search(rf"name='{name}' value='([^']+)'", html)
    assert found is not None, f"no {name} in the page"
    return found.group(1)
