"""Checkout's places: one per person per group, seats counted under the lock, replays harmless.

Each test acts as the outside world does: a second click arriving while the first is still being
handled, a booking landing between checkout's read of WordPress and its lock, a member paying
twice, a PayTabs that loses its answer after creating the page, a stranger re-posting a form.
Every test runs on SQLite and on MariaDB.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from sidecar.domain.states import State
from sidecar.domain.validation import validate_checkout
from sidecar.payments.checkout import start_checkout
from sidecar.paytabs import PayTabsClient, PayTabsTransportError, Transaction
from sidecar.store import repository as repo
from tests.support.stack import Stack

JSON = {"Accept": "application/json"}


def member(stack: Stack, email: str) -> Any:
    """A WordPress account that checks out logged in."""
    return stack.wp.add_user(username=email.split("@")[0], email=email)


def member_form(stack: Stack, user: Any, group_id: int | None = None) -> dict[str, str]:
    return stack.form(group_id, user_id=user.id, user_email=user.email)


def refusal(response: Any) -> str:
    assert response.status_code == 409, response.get_data(as_text=True)
    return str(response.get_json()["error"]["code"])


# --- a double click on the last seat (item 4) ---------------------------------------------------


def test_checkout_double_submit_at_the_last_seat_gets_the_same_page(stack: Stack) -> None:
    """Regression: the second click was refused "group full" by the first click's own seat."""
    form = stack.form(stack.small_group.id)
    first: list[Any] = []
    started = threading.Event()
    list_bookings = stack.wordpress.list_bookings

    def first_click() -> None:
        try:
            first.append(start_checkout(stack.services, validate_checkout(form), client_ip="::1"))
        finally:
            stack.services.db.close()

    def first_click_lands_meanwhile(group_id: int) -> Any:
        # This (second) submission has looked for a replay and found none; the first one now
        # completes before this one takes the group lock.
        if not started.is_set():
            started.set()
            thread = threading.Thread(target=first_click)
            thread.start()
            thread.join(30)
        return list_bookings(group_id)

    stack.wordpress.list_bookings = first_click_lands_meanwhile  # type: ignore[method-assign]
    second = stack.checkout(form)
    assert second.status_code == 303, second.get_data(as_text=True)
    assert second.headers["Location"] == first[0].redirect_url
    assert stack.count("intents") == 1
    assert len(stack.sim.ledger()) == 1


# --- seats counted under the lock, from the store (item 5) --------------------------------------


def test_checkout_booking_landing_before_the_lock_still_counts(stack: Stack) -> None:
    """Regression: a fulfilment booking between checkout's WordPress read and its lock oversold."""
    paid = stack.paid_intent(group_id=stack.small_group.id)
    get_group = stack.wordpress.get_group

    def fulfilment_books_meanwhile(group_id: int) -> Any:
        info = get_group(group_id)  # seats_taken 0: the paid intent is not booked yet
        stack.drain()  # ...and now it is
        return info

    stack.wordpress.get_group = fulfilment_books_meanwhile  # type: ignore[method-assign]
    response = stack.checkout(stack.form(stack.small_group.id), headers=JSON)
    assert refusal(response) == "group_full"
    assert stack.intent(paid.ref).state == State.FULFILLED
    assert stack.count("intents") == 1
    assert len(stack.sim.ledger()) == 1  # no second hosted page for a seat that was not ours


def test_checkout_a_booking_wordpress_made_without_us_takes_a_seat(stack: Stack) -> None:
    user = member(stack, "staff.booked@example.com")
    stack.wp.book_session(intent_ref="staff-1", group_id=stack.small_group.id, user_id=user.id)
    response = stack.checkout(stack.form(stack.small_group.id), headers=JSON)
    assert refusal(response) == "group_full"


def park(stack: Stack, intent_id: int, reason: str) -> None:
    with stack.services.db.transaction() as tx:
        repo.update_intent(
            tx, intent_id, stack.clock(), state=State.NEEDS_ATTENTION, state_reason=reason
        )


def test_checkout_needs_attention_waiting_for_its_place_keeps_the_seat(stack: Stack) -> None:
    parked = stack.paid_intent(group_id=stack.small_group.id)
    park(stack, parked.id, "fulfilment_retries_exhausted")
    response = stack.checkout(stack.form(stack.small_group.id), headers=JSON)
    assert refusal(response) == "group_full"


def test_checkout_needs_attention_after_a_failed_refund_frees_the_seat(stack: Stack) -> None:
    parked = stack.paid_intent(group_id=stack.small_group.id)
    park(stack, parked.id, "refund_failed")
    response = stack.checkout(stack.form(stack.small_group.id), headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)


# --- one place per person per group (item 3) ----------------------------------------------------


def test_checkout_member_already_registered_is_refused_before_payment(stack: Stack) -> None:
    """Regression: a logged-in member paid twice for the same group (two charges, two seats)."""
    user = member(stack, "twice@example.com")
    first = stack.paid_intent(user_id=user.id, user_email=user.email)
    stack.drain()
    assert stack.intent(first.ref).state == State.FULFILLED
    response = stack.checkout(member_form(stack, user), headers=JSON)
    assert refusal(response) == "already_registered"
    assert stack.count("intents") == 1
    assert len(stack.sim.ledger()) == 1


def test_checkout_member_with_a_registration_in_progress_is_refused(stack: Stack) -> None:
    user = member(stack, "two.tabs@example.com")
    stack.start(user_id=user.id, user_email=user.email)
    response = stack.checkout(member_form(stack, user), headers=JSON)
    assert refusal(response) == "registration_in_progress"
    assert "minutes" in response.get_json()["error"]["message"]
    assert stack.count("intents") == 1


def test_checkout_new_buyer_with_a_live_registration_is_refused(stack: Stack) -> None:
    stack.start(email="two.tabs.new@example.com")
    response = stack.checkout(stack.form(email="Two.Tabs.New@example.com"), headers=JSON)
    assert refusal(response) == "registration_in_progress"


def test_checkout_member_may_register_for_another_group(stack: Stack) -> None:
    user = member(stack, "both.groups@example.com")
    stack.start(user_id=user.id, user_email=user.email)
    stack.start(group_id=stack.small_group.id, user_id=user.id, user_email=user.email)
    assert stack.count("intents") == 2


def test_checkout_buyer_may_try_again_after_a_decline(stack: Stack) -> None:
    declined = stack.start(email="retry@example.com")
    stack.pay(declined, card="4000000000000002")
    stack.deliver_ipns()
    stack.drain()
    assert stack.intent(declined.ref).state == State.PAYMENT_FAILED
    stack.start(email="retry@example.com")


def test_checkout_member_booked_by_the_site_is_refused(stack: Stack) -> None:
    user = member(stack, "booked.by.staff@example.com")
    stack.wp.book_session(intent_ref="staff-2", group_id=stack.group.id, user_id=user.id)
    response = stack.checkout(member_form(stack, user), headers=JSON)
    assert refusal(response) == "already_registered"
    assert stack.count("intents") == 0


def test_fulfilment_second_booking_for_the_member_is_refunded(stack: Stack) -> None:
    """The bridge refuses a second booking of a user in a group; fulfilment refunds the payment."""
    user = member(stack, "raced@example.com")
    intent = stack.paid_intent(user_id=user.id, user_email=user.email)
    # Between checkout and fulfilment the member got a place some other way.
    stack.wp.book_session(intent_ref="staff-3", group_id=stack.group.id, user_id=user.id)
    stack.drain()
    after = stack.intent(intent.ref)
    assert after.state == State.REFUNDED
    assert after.state_reason == "already_registered"
    assert after.booking_id is None
    refunds = [t for t in stack.sim.ledger() if t["tran_type"].lower() == "refund"]
    assert len(refunds) == 1


# --- a re-posted form never binds a new browser to a paid intent (item 6) ----------------------


def test_checkout_replayed_form_after_fulfilment_gets_no_browser_secret(stack: Stack) -> None:
    """Regression: re-posting the hidden fields after fulfilment handed out a login."""
    form = stack.form()
    assert stack.checkout(form).status_code == 303
    intent = stack.intent_by_key(form["idempotency_key"])
    stack.pay(intent)
    stack.deliver_ipns()
    stack.drain()
    assert stack.intent(intent.ref).state == State.FULFILLED
    stranger = stack.app.test_client()
    response = stranger.post("/therapy/checkout", data=form)
    assert response.status_code == 303
    assert "intent=" + intent.ref in response.headers["Location"]
    assert "Set-Cookie" not in response.headers
    status = stranger.get(f"/therapy/status/{intent.ref}", headers=JSON).get_json()
    assert "login_url" not in status


def test_checkout_replayed_form_while_payable_goes_to_the_same_page(stack: Stack) -> None:
    form = stack.form()
    first = stack.checkout(form)
    again = stack.app.test_client().post("/therapy/checkout", data=form)
    assert again.headers["Location"] == first.headers["Location"]
    assert "Set-Cookie" in again.headers  # a double click may have lost the first cookie


# --- PayTabs made the page but the answer was lost (item 8) -------------------------------------


class LostCreateAnswer:
    """PayTabs creates the page, the answer never arrives, and a cart query lists it as pending."""

    def __init__(self, real: PayTabsClient) -> None:
        self.real = real
        self.created: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def create_payment_page(self, req: Any) -> Any:
        self.created.append(self.real.create_payment_page(req))
        raise PayTabsTransportError("read timed out", timed_out=True)

    def query_cart(self, cart_id: str) -> list[Transaction]:
        page = self.created[-1]
        return [
            Transaction(
                tran_ref=page.tran_ref,
                cart_id=cart_id,
                tran_type="Sale",
                status="P",
                response_code="",
                response_message="Pending",
                amount=Decimal("150.00"),
                currency="SAR",
                previous_tran_ref=None,
                raw={},
            )
        ]


def test_checkout_lost_page_answer_releases_the_seat_and_says_nothing_was_charged(
    stack: Stack,
) -> None:
    """Regression: the buyer landed on a status page with nothing to pay and a held seat."""
    real = stack.services.paytabs()
    stack.services.paytabs_factory = lambda _creds: LostCreateAnswer(real)  # type: ignore[assignment,return-value]
    form = stack.form()
    response = stack.checkout(form, headers=JSON)
    assert response.status_code == 503
    assert "Nothing was charged" in response.get_json()["error"]["message"]
    with stack.services.db.transaction() as tx:
        (row,) = tx.all("SELECT ref FROM intents")
    lost = stack.intent(row["ref"])
    assert lost.state == State.PAYMENT_FAILED
    assert lost.state_reason == "paytabs_page_lost"
    # PayTabs answers again: the same form starts afresh and gets a page it can pay.
    stack.services.paytabs_factory = None
    again = stack.checkout(form)
    assert again.status_code == 303
    assert again.headers["Location"].startswith(stack.sim_server.url + "/payment/page/")
    assert stack.count("intents", "state = 'awaiting_payment'") == 1
