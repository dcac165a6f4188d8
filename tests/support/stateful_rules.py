"""The state machine's rules for PayTabs' ledger surprises and for places (issue 10, item 11).

``LedgerRules`` is mixed into ``tests/system/test_stateful.py``'s machine. Its rules: PayTabs takes
another amount or currency than the cart's; a cart gets a second hosted page that is paid (or
declined); a sale is refunded in PayTabs' dashboard, in full or in part, with no IPN; a
logged-in WordPress member checks out (again and again, for either group) and the site books a
member itself; the same form is posted twice, one after the other or with the first still in
flight; PayTabs creates the page but its answer never arrives.

The machine keeps what the invariants need to know: ``refunded_after_confirmation`` holds the
intents whose own sale was refunded at PayTabs after the sidecar had confirmed it. Such an
intent may end fulfilled with a refund (the place was already the buyer's): the checker does not
count that against promises 2 and 7, and the machine asks ``sidecar audit`` to report it.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, multiple, rule

from sidecar.domain.money import from_minor
from sidecar.domain.states import AWAITING_CONFIRMATION, State
from sidecar.domain.validation import validate_checkout
from sidecar.payments.checkout import start_checkout
from sidecar.paytabs import PayTabsClient, PayTabsTransportError, Transaction
from sidecar.store import repository as repo
from tests.support.invariants import faults_lifted
from tests.support.stack import Stack

APPROVE, DECLINE = "4111111111111111", "4000000000000002"
PLACE_STATES = frozenset({State.PAID, State.FULFILLING, State.FULFILLED})
REFUSALS = ("group_full", "group_closed", "already_registered", "registration_in_progress")


class LostPageAnswer:
    """PayTabs creates the page, the answer never arrives, and a cart query lists it as pending."""

    def __init__(self, real: PayTabsClient) -> None:
        self.real = real
        self.created: list[tuple[Any, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def create_payment_page(self, req: Any) -> Any:
        self.created.append((req, self.real.create_payment_page(req)))
        raise PayTabsTransportError("read timed out (injected)", timed_out=True)

    def query_cart(self, cart_id: str) -> list[Transaction]:
        req, page = self.created[-1]
        assert req.cart_id == cart_id
        pending = Transaction(
            tran_ref=page.tran_ref,
            cart_id=cart_id,
            tran_type="Sale",
            status="P",
            response_code="",
            response_message="Pending",
            amount=req.amount,
            currency=req.currency,
            previous_tran_ref=None,
            raw={},
        )
        return [pending]


class LedgerRules:
    """Rules mixed into the payment machine (its ``stack``, ``shared`` and checkout helpers)."""

    intents = Bundle("intents")
    returns = Bundle("returns")
    second_pages = Bundle("second_pages")

    stack: Stack
    shared: Any
    member: Any
    member_fills: int
    refunded_after_confirmation: set[str]

    def _outage(self) -> bool:
        raise NotImplementedError

    def _page(self, ref: str) -> str:
        raise NotImplementedError

    # --- PayTabs' ledger -----------------------------------------------------------------

    @rule(target=returns, ref=intents, how=st.sampled_from(["more", "less", "currency"]))
    def pay_another_amount(self, ref: str, how: str) -> Any:
        """PayTabs approves the page but takes another amount or currency than the cart's."""
        intent = self.stack.intent(ref)
        amount = from_minor(intent.amount_minor, intent.currency)
        charge = {
            "more": (amount + Decimal("10.00"), intent.currency),
            "less": (amount - Decimal("1.00"), intent.currency),
            "currency": (amount, "USD" if intent.currency != "USD" else "EUR"),
        }[how]
        try:
            return self.stack.sim.pay(self._page(ref), APPROVE, charge=charge)
        except ValueError:
            return multiple()

    @rule(target=second_pages, ref=intents)
    def open_second_page(self, ref: str) -> Any:
        """PayTabs has a second payable page for the intent's cart (two sales can follow)."""
        tran_ref = self.stack.intent(ref).tran_ref
        if not tran_ref:
            return multiple()
        return self.stack.sim.open_second_page(tran_ref)

    @rule(target=returns, tran_ref=second_pages, approve=st.booleans())
    def pay_second_page(self, tran_ref: str, approve: bool) -> Any:
        """The buyer pays (or is declined on) the cart's second page."""
        try:
            return self.stack.sim.pay(tran_ref, APPROVE if approve else DECLINE)
        except ValueError:
            return multiple()

    @rule(ref=intents, which=st.integers(0, 2), partial=st.booleans(), later=st.booleans())
    def refund_at_paytabs(self, ref: str, which: int, partial: bool, later: bool) -> None:
        """Someone refunds one of the cart's sales in PayTabs' dashboard (no IPN is sent).

        ``later``: the sidecar first catches up (IPNs delivered, worker drained), so the refund
        often lands on a registration already fulfilled.
        """
        if later:
            self.stack.deliver_ipns()
            self.stack.drain()
        sales = [
            e
            for e in self.stack.sim.ledger()
            if e["cart_id"] == ref and e["tran_type"] == "Sale" and e["status"] == "A"
        ]
        if not sales:
            return
        sale = sales[which % len(sales)]
        left = Decimal(str(sale["amount"])) - Decimal(str(sale.get("refunded") or 0))
        amount = (left / 2).quantize(Decimal("0.01")) if partial else None
        intent = self.stack.intent(ref)
        try:
            self.stack.sim.dashboard_refund(sale["tran_ref"], amount)
        except ValueError:
            return  # nothing left to refund
        if intent.state not in AWAITING_CONFIRMATION and sale["tran_ref"] == intent.tran_ref:
            self.refunded_after_confirmation.add(ref)

    # --- a logged-in member -------------------------------------------------------------

    def _member_has_place(self, group_id: int) -> bool:
        member_id = self.member.id
        with faults_lifted(self.stack.wp):
            bookings = self.stack.wp.find_bookings(group_id=group_id)
        if any(b.user_id == member_id for b in bookings):
            return True
        with self.stack.services.db.transaction() as tx:
            mine = repo.list_intents(tx, limit=1000)
        return any(
            i.wp_user_id == member_id and i.group_id == group_id and i.state in PLACE_STATES
            for i in mine
        )

    @rule(target=intents, small=st.booleans())
    def member_checkout(self, small: bool) -> Any:
        """The logged-in member submits the form (again): one place per person per group."""
        s = self.stack
        group = s.small_group if small else s.group
        had_place = self._member_has_place(group.id)
        outage = self._outage()
        form = s.form(group.id, user_id=self.member.id, user_email=self.member.email)
        response = s.checkout(form)
        location = response.headers.get("Location", "")
        if response.status_code == 303 and location.startswith(s.sim_server.url + "/payment/"):
            assert not had_place, f"P8 paid_twice: the member got a page for group {group.id}"
            return s.intent_by_key(form["idempotency_key"]).ref
        if response.status_code == 503:
            assert outage, response.get_data(as_text=True)
        else:
            assert response.status_code == 303, response.status_code
            assert any(f"error={code}" in location for code in REFUSALS), location
        return multiple()

    @rule(small=st.booleans())
    def site_books_member(self, small: bool) -> None:
        """The site books the member itself (a staff booking, not through the sidecar)."""
        group = self.stack.small_group if small else self.stack.group
        self.member_fills += 1
        ref = f"fill-member-{self.member_fills}"
        try:
            self.stack.wp.book_session(intent_ref=ref, group_id=group.id, user_id=self.member.id)
        except Exception:  # full, closed, down or already booked: the site could not book
            return

    # --- double submits and lost answers ------------------------------------------------

    @rule(target=intents, small=st.booleans(), interleaved=st.booleans())
    def double_submit(self, small: bool, interleaved: bool) -> Any:
        """The buyer clicks twice: the same form twice, in turn or with the first in flight."""
        s = self.stack
        group = s.small_group if small else s.group
        form = s.form(group.id)
        outage = self._outage()
        if interleaved:
            first, second = self._interleaved(form)
        else:
            answer = s.checkout(form)
            first = answer.headers.get("Location", "") if answer.status_code == 303 else None
            second = s.checkout(form)
        page = s.sim_server.url + "/payment/"
        location = second.headers.get("Location", "")
        if first is not None and first.startswith(page):
            assert second.status_code == 303, second.get_data(as_text=True)
            assert location == first, f"double submit: {location} after {first}"
            return s.intent_by_key(form["idempotency_key"]).ref
        if second.status_code == 303 and location.startswith(page):
            assert interleaved or first is None, f"second page {location} after {first}"
            return s.intent_by_key(form["idempotency_key"]).ref
        if second.status_code == 503:
            assert outage or first is None, second.get_data(as_text=True)
        else:
            assert second.status_code == 303, second.status_code
        return multiple()

    def _interleaved(self, form: dict[str, str]) -> tuple[str | None, Any]:
        """Post the form; the first click completes while the second is past its replay check."""
        s = self.stack
        first: list[str] = []
        refused: list[BaseException] = []
        started = threading.Event()
        client = s.wordpress
        list_bookings = client.list_bookings

        def first_click() -> None:
            try:
                result = start_checkout(s.services, validate_checkout(form), client_ip="::1")
                first.append(result.redirect_url)
            except Exception as exc:  # refused or unavailable: the second click decides alone
                refused.append(exc)
            finally:
                s.services.db.close()

        def first_click_lands_meanwhile(group_id: int) -> Any:
            if not started.is_set():
                started.set()
                thread = threading.Thread(target=first_click, name="first-click")
                thread.start()
                thread.join(30)
            return list_bookings(group_id)

        client.list_bookings = first_click_lands_meanwhile
        try:
            second = s.checkout(form)
        finally:
            del client.list_bookings
        return (first[0] if first else None), second

    @rule(target=intents, small=st.booleans())
    def page_answer_lost(self, small: bool) -> Any:
        """PayTabs creates the page but its answer is lost: nothing to pay, the seat is freed."""
        s = self.stack
        group = s.small_group if small else s.group
        form = s.form(group.id)
        services = s.services
        factory = services.paytabs_factory
        lost = LostPageAnswer(self.shared._paytabs_client())
        services.paytabs_factory = lambda _creds: lost
        try:
            response = s.checkout(form)
        finally:
            services.paytabs_factory = factory
        if not lost.created:
            return multiple()  # refused (full, closed) or WordPress down before PayTabs
        assert response.status_code == 503, response.status_code
        intent = s.intent_by_tran_ref(lost.created[-1][1].tran_ref)  # the form's key is freed
        assert intent.state == State.PAYMENT_FAILED, intent.state
        assert intent.state_reason == "paytabs_page_lost", intent.state_reason
        return intent.ref  # a late payment of the lost page must still end well
