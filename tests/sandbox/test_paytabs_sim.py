"""The PayTabs simulator, driven through the real PayTabsClient over loopback HTTP."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from sidecar.paytabs import (
    Customer,
    PageCreated,
    PageRequest,
    PayTabsAuthError,
    PayTabsClient,
    PayTabsDuplicateRequest,
    PayTabsInvalidRequest,
    PayTabsServerError,
    Transaction,
    create_page_or_recover,
    verify_ipn,
    verify_return,
)
from sidecar.sandbox import paytabs_pages
from sidecar.sandbox.paytabs_sim import PayTabsSimulator

SERVER_KEY = "SZJN9TEST1-EXAMPLEKEY-NOTREALKEY"
PROFILE_ID = 100001


class Served:
    """A WSGI app served on a loopback port by werkzeug, in a thread."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # A short poll interval keeps shutdown() (and so each test's teardown) fast.
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


class Receiver:
    """Stands in for the sidecar's IPN endpoint: records requests, answers scripted statuses."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        self._served = Served(self._app)
        self.url = self._served.url + "/paytabs/ipn"

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        with self._lock:
            self.requests.append(
                {"headers": dict(request.headers), "body": request.get_data(), "path": request.path}
            )
            status = self.statuses.pop(0) if self.statuses else 200
        return Response("ok", status)(environ, start_response)

    def bodies(self) -> list[bytes]:
        """Return the raw bodies received so far."""
        with self._lock:
            return [r["body"] for r in self.requests]

    def stop(self) -> None:
        """Stop serving."""
        self._served.stop()


class Clock:
    """A settable clock for the simulator (duplicate window, page expiry)."""

    def __init__(self, now: float = 1_767_261_600.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    """The simulator's clock."""
    return Clock()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A loopback IPN receiver."""
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def sim(clock: Clock) -> Iterator[PayTabsSimulator]:
    """A simulator delivering IPNs only when the test asks (deliver_pending_notifications)."""
    simulator = PayTabsSimulator(
        server_key=SERVER_KEY,
        profile_id=PROFILE_ID,
        base_url="http://placeholder",
        clock=clock,
        deliver_in_background=False,
    )
    simulator.configure(ipn_delay_seconds=0.3, ipn_retry_delays=(0.02, 0.02, 0.02, 0.02, 0.02))
    yield simulator
    simulator.close()


@pytest.fixture
def sim_url(sim: PayTabsSimulator) -> Iterator[str]:
    """Serve ``sim`` on loopback and point its base_url (redirect URLs) there."""
    served = Served(sim.app)
    sim.base_url = served.url
    yield served.url
    served.stop()


@pytest.fixture
def client(sim_url: str) -> Iterator[PayTabsClient]:
    """The real PayTabs client, pointed at the simulator."""
    paytabs = PayTabsClient(sim_url, PROFILE_ID, SERVER_KEY, timeout=(2, 5))
    yield paytabs
    paytabs.close()


RETURN_URL = "https://pay.example.org/paytabs/return"
APPROVE, DECLINE, HOLD, PENDING = (
    "4111111111111111",
    "4000000000000002",
    "4000000000000119",
    "4000000000000259",
)
CUSTOMER = Customer(
    name="Jane Doe",
    email="jane.doe+test@example.com",
    phone="+966500000000",
    street1="King Fahd Rd",
    city="Riyadh",
    country="SA",
)


def _page(receiver: Receiver | None = None, **changes: Any) -> PageRequest:
    request = PageRequest(
        cart_id="ORDER #1001",
        description="Group therapy: Tuesday evenings",
        amount=Decimal("150.00"),
        currency="SAR",
        customer=CUSTOMER,
        return_url=RETURN_URL,
        callback_url=receiver.url if receiver else "",
        paypage_ttl_minutes=20,
    )
    return replace(request, **changes)


# A minimal valid create body, for requests that bypass the client (wire-level checks).
SALE_BODY: dict[str, Any] = {
    "profile_id": PROFILE_ID,
    "tran_type": "sale",
    "tran_class": "ecom",
    "cart_id": "c1",
    "cart_description": "d",
    "cart_currency": "SAR",
    "cart_amount": 10,
}


def _post_api(sim: PayTabsSimulator, path: str, body: dict[str, Any]) -> Any:
    headers = {"authorization": SERVER_KEY}
    return sim.app.test_client().post(path, data=json.dumps(body), headers=headers)


class _Form(HTMLParser):
    """Collects the action and hidden inputs of the auto-submitting return form."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = found.get("action", "")
        if tag == "input" and found.get("type") == "hidden":
            self.fields[found["name"]] = found["value"]


def _return_form(html: str) -> _Form:
    parser = _Form()
    parser.feed(html)
    return parser


def _ipn_payloads(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(body) for body in receiver.bodies()]


def test_create_page_answers_redirect_to_hosted_page(client: PayTabsClient, sim_url: str) -> None:
    created = client.create_payment_page(_page())
    assert created.tran_ref.startswith("TST") and len(created.tran_ref) == 16
    assert created.redirect_url.startswith(sim_url + "/payment/page/")
    assert created.raw["cart_amount"] == "150.00"
    assert created.raw["tran_total"] == "0" and created.raw["return"] == RETURN_URL
    page = requests.get(created.redirect_url, timeout=5)
    assert page.status_code == 200
    for needle in ('name="card_number"', 'id="pay"', 'id="cancel"', "150.00 SAR"):
        assert needle in page.text
    for card in ("4111 1111 1111 1111", "4000 0000 0000 0002", "4000 0000 0000 0119"):
        assert card in page.text
    assert "Group therapy: Tuesday evenings" in page.text


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"card_number": "4111 1111 1111 1111", "action": "pay"}, "A"),
        ({"card_number": "4000-0000-0000-0002", "action": "pay"}, "D"),
        ({"card_number": HOLD, "action": "pay"}, "H"),
        ({"card_number": PENDING, "action": "pay"}, "P"),
        ({"action": "cancel"}, "C"),
    ],
    ids=["approve", "decline", "hold", "pending", "cancel"],
)
def test_page_submit_posts_signed_return_and_ipn(
    client: PayTabsClient,
    sim: PayTabsSimulator,
    receiver: Receiver,
    form: dict[str, str],
    status: str,
) -> None:
    created = client.create_payment_page(_page(receiver))
    answer = requests.post(created.redirect_url, data=form, timeout=5)
    assert answer.status_code == 200
    parsed = _return_form(answer.text)
    assert parsed.action == RETURN_URL
    assert "document.forms[0].submit()" in answer.text and "<noscript>" in answer.text
    fields = parsed.fields
    assert " ".join(fields) == (
        "acquirerMessage acquirerRRN cartId customerEmail respCode"
        " respMessage respStatus signature token tranRef"
    )
    assert (fields["respStatus"], fields["tranRef"]) == (status, created.tran_ref)
    assert fields["cartId"] == "ORDER #1001"
    assert verify_return(fields, SERVER_KEY)
    assert sim.deliver_pending_notifications() == 1
    request = receiver.requests[0]
    assert verify_ipn(request["body"], request["headers"]["Signature"], SERVER_KEY)
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["User-Agent"] == "Go-http-client/1.1"
    payload = json.loads(request["body"])
    assert payload["payment_result"]["response_status"] == status
    assert payload["ipn_trace"].startswith("IPNS")
    txn = client.query_transaction(created.tran_ref)
    assert txn.status == status and txn.is_sale and txn.amount == Decimal("150.00")


def test_page_submit_twice_shows_page_no_longer_valid(client: PayTabsClient) -> None:
    created = client.create_payment_page(_page())
    requests.post(created.redirect_url, data={"card_number": APPROVE}, timeout=5)
    again = requests.post(created.redirect_url, data={"card_number": APPROVE}, timeout=5)
    assert again.status_code == 410
    assert "This payment page is no longer valid" in again.text
    assert "no longer valid" in requests.get(created.redirect_url, timeout=5).text


def test_page_submit_unknown_card_keeps_page_open(client: PayTabsClient) -> None:
    created = client.create_payment_page(_page())
    answer = requests.post(created.redirect_url, data={"card_number": "5555"}, timeout=5)
    assert answer.status_code == 400 and 'id="error"' in answer.text
    assert requests.get(created.redirect_url, timeout=5).status_code == 200


def test_page_view_unknown_token_is_invalid(sim_url: str) -> None:
    answer = requests.get(sim_url + "/payment/page/deadbeef", timeout=5)
    assert answer.status_code == 404 and "no longer valid" in answer.text


def test_return_mode_drop_leaves_buyer_on_close_window_page(
    client: PayTabsClient, sim: PayTabsSimulator
) -> None:
    sim.configure(return_mode="drop")
    created = client.create_payment_page(_page())
    answer = requests.post(created.redirect_url, data={"card_number": APPROVE}, timeout=5)
    assert "You may close this window" in answer.text and RETURN_URL not in answer.text
    assert client.query_transaction(created.tran_ref).is_approved


def test_query_hides_open_page_until_buyer_acts(
    client: PayTabsClient, sim: PayTabsSimulator
) -> None:
    created = client.create_payment_page(_page())
    with pytest.raises(PayTabsInvalidRequest):
        client.query_transaction(created.tran_ref)
    with pytest.raises(PayTabsInvalidRequest):
        client.query_cart("ORDER #1001")
    assert sim.ledger()[0]["open"] is True
    sim.pay(created.tran_ref)
    assert client.query_transaction(created.tran_ref).is_approved


def test_query_cart_lists_sale_and_refund(client: PayTabsClient, sim: PayTabsSimulator) -> None:
    created = client.create_payment_page(_page())
    sim.pay(created.redirect_url.rsplit("/", 1)[1])
    refund = client.refund(
        tran_ref=created.tran_ref,
        cart_id="ORDER #1001",
        amount=Decimal("40.00"),
        currency="SAR",
        reason="Changed group",
    )
    txns = client.query_cart("ORDER #1001")
    assert [(t.tran_ref, t.tran_type, t.status) for t in txns] == [
        (created.tran_ref, "Sale", "A"),
        (refund.tran_ref, "Refund", "A"),
    ]
    assert txns[1].amount == Decimal("40.00")
    assert txns[0].raw["payment_info"]["payment_description"] == "4111 11## #### 1111"


def test_pay_helper_returns_signed_fields_and_rejects_reuse(
    client: PayTabsClient, sim: PayTabsSimulator
) -> None:
    created = client.create_payment_page(_page())
    fields = sim.pay(created.tran_ref, card=DECLINE)
    assert fields["respStatus"] == "D" and verify_return(fields, SERVER_KEY)
    with pytest.raises(ValueError, match="no longer valid"):
        sim.pay(created.tran_ref)
    with pytest.raises(ValueError, match="test card"):
        sim.pay("TST0000000000000", card="1234")


def test_duplicate_rule_rejects_same_cart_amount_currency_within_window(
    client: PayTabsClient, clock: Clock
) -> None:
    client.create_payment_page(_page())
    with pytest.raises(PayTabsDuplicateRequest) as caught:
        client.create_payment_page(_page())
    assert (caught.value.code, caught.value.http_status) == (4, 409)
    assert caught.value.message == "Duplicate Request" and caught.value.trace
    assert isinstance(client.create_payment_page(_page(amount=Decimal("151"))), PageCreated)
    clock.advance(119)
    with pytest.raises(PayTabsDuplicateRequest):
        client.create_payment_page(_page())
    clock.advance(2)
    assert isinstance(client.create_payment_page(_page()), PageCreated)


@pytest.mark.parametrize(
    ("key", "profile"),
    [(SERVER_KEY + "X", PROFILE_ID), (SERVER_KEY, PROFILE_ID + 1)],
    ids=["wrong-key", "wrong-profile"],
)
def test_create_page_rejects_bad_credentials(sim_url: str, key: str, profile: int) -> None:
    paytabs = PayTabsClient(sim_url, profile, key)
    with pytest.raises(PayTabsAuthError) as caught:
        paytabs.create_payment_page(_page())
    paytabs.close()
    assert (caught.value.code, caught.value.http_status) == (1, 401)
    assert key not in str(caught.value) and key not in repr(caught.value)


def test_create_page_rejects_unlisted_currency(client: PayTabsClient) -> None:
    with pytest.raises(PayTabsInvalidRequest) as caught:
        client.create_payment_page(_page(currency="CHF"))
    assert (caught.value.code, caught.value.http_status) == (206, 400)


@pytest.mark.parametrize(
    "changes",
    [
        {"cart_id": ""},
        {"cart_id": "x" * 65},
        {"cart_description": ""},
        {"cart_amount": 0},
        {"cart_amount": "1.234"},
        {"cart_amount": True},
        {"paypage_ttl": 0},
        {"tran_class": "moto"},
        {"tran_type": "auth"},
        {"return": "https://x/" + "a" * 250},
    ],
)
def test_create_page_rejects_invalid_fields(sim: PayTabsSimulator, changes: dict[str, Any]) -> None:
    answer = _post_api(sim, "/payment/request", {**SALE_BODY, **changes})
    assert answer.status_code == 400
    assert set(answer.get_json()) == {"code", "message", "trace"}


def test_create_page_rejects_invalid_json(sim: PayTabsSimulator) -> None:
    answer = sim.app.test_client().post(
        "/payment/request", data=b"{not json", headers={"authorization": SERVER_KEY}
    )
    assert answer.status_code == 400 and answer.get_json()["code"] == 5


def _paid(client: PayTabsClient, sim: PayTabsSimulator, receiver: Receiver) -> PageCreated:
    created = client.create_payment_page(_page(receiver))
    sim.pay(created.tran_ref)
    return created


def _refund(client: PayTabsClient, created: PageCreated, amount: str, **kw: Any) -> Transaction:
    return client.refund(
        tran_ref=created.tran_ref,
        cart_id="ORDER #1001",
        amount=Decimal(amount),
        currency="SAR",
        reason="Cancelled booking",
        **kw,
    )


def test_refund_approve_records_refund_and_notifies(
    client: PayTabsClient, sim: PayTabsSimulator, receiver: Receiver
) -> None:
    created = _paid(client, sim, receiver)
    refund = _refund(client, created, "150.00", callback_url=receiver.url)
    assert refund.is_refund and refund.is_approved
    assert refund.previous_tran_ref == created.tran_ref
    sale = next(e for e in sim.ledger() if e["tran_type"] == "Sale")
    assert sale["refunded"] == "150.00"
    sim.deliver_pending_notifications()
    kinds = [
        (p["tran_type"], p["payment_result"]["response_status"]) for p in _ipn_payloads(receiver)
    ]
    assert kinds == [("Sale", "A"), ("Refund", "A")]


def test_refund_pending_then_query_shows_approved(
    client: PayTabsClient, sim: PayTabsSimulator, receiver: Receiver
) -> None:
    sim.configure(refund_mode="pending")
    created = _paid(client, sim, receiver)
    refund = _refund(client, created, "50.00", callback_url=receiver.url)
    assert refund.is_pending and refund.status == "P"
    assert client.query_transaction(refund.tran_ref).is_approved
    sim.deliver_pending_notifications()
    statuses = [p["payment_result"]["response_status"] for p in _ipn_payloads(receiver)]
    assert statuses == ["A", "P", "A"]


def test_refund_decline_does_not_consume_refundable_amount(
    client: PayTabsClient, sim: PayTabsSimulator, receiver: Receiver, clock: Clock
) -> None:
    sim.configure(refund_mode="decline")
    created = _paid(client, sim, receiver)
    declined = _refund(client, created, "150.00")
    assert declined.is_failed and declined.status == "D"
    assert sim.ledger()[0]["refunded"] == "0.00"
    sim.configure(refund_mode="approve")
    clock.advance(121)  # past the duplicate window for the identical refund request
    assert _refund(client, created, "150.00").is_approved
    assert sim.ledger()[0]["refunded"] == "150.00"


def test_refund_duplicate_within_window_is_rejected(
    client: PayTabsClient, sim: PayTabsSimulator, receiver: Receiver
) -> None:
    created = _paid(client, sim, receiver)
    _refund(client, created, "10.00")
    with pytest.raises(PayTabsDuplicateRequest):
        _refund(client, created, "10.00")


@pytest.mark.parametrize(
    ("first", "second"),
    [("100.00", "50.01"), ("150.00", "0.01")],
    ids=["partial-then-too-much", "full-then-more"],
)
def test_refund_over_remaining_is_rejected(
    client: PayTabsClient, sim: PayTabsSimulator, receiver: Receiver, first: str, second: str
) -> None:
    created = _paid(client, sim, receiver)
    _refund(client, created, first)
    with pytest.raises(PayTabsInvalidRequest) as caught:
        _refund(client, created, second)
    assert caught.value.http_status == 400 and caught.value.code == 8


def test_refund_of_declined_or_unknown_sale_is_rejected(
    client: PayTabsClient, sim: PayTabsSimulator
) -> None:
    created = client.create_payment_page(_page())
    sim.pay(created.tran_ref, card=DECLINE)
    with pytest.raises(PayTabsInvalidRequest):
        _refund(client, created, "1.00")
    with pytest.raises(PayTabsInvalidRequest):
        _refund(client, PageCreated("TST0000000000000", "", {}), "1.00")


def test_page_expiry_shows_x_and_notifies(
    client: PayTabsClient, sim: PayTabsSimulator, receiver: Receiver, clock: Clock
) -> None:
    created = client.create_payment_page(_page(receiver, paypage_ttl_minutes=1))
    clock.advance(61)
    assert client.query_transaction(created.tran_ref).status == "X"
    page = requests.get(created.redirect_url, timeout=5)
    assert page.status_code == 410 and "no longer valid" in page.text
    sim.deliver_pending_notifications()
    assert [p["payment_result"]["response_status"] for p in _ipn_payloads(receiver)] == ["X"]


def test_ipn_drop_sends_nothing(
    client: PayTabsClient, sim: PayTabsSimulator, receiver: Receiver
) -> None:
    sim.configure(ipn="drop")
    _paid(client, sim, receiver)
    assert sim.deliver_pending_notifications() == 0
    assert receiver.requests == [] and sim.notifications_sent() == []


def test_ipn_duplicate_sends_identical_bytes_twice(
    client: PayTabsClient, sim: PayTabsSimulator, receiver: Receiver
) -> None:
    sim.configure(ipn="duplicate")
    _paid(client, sim, receiver)
    assert sim.deliver_pending_notifications() == 2
    first, second = receiver.requests
    assert first["body"] == second["body"]
    assert first["headers"]["Signature"] == second["headers"]["Signature"]


def test_ipn_reorder_holds_until_flush_then_newest_first(
    client: PayTabsClient, sim: PayTabsSimulator, receiver: Receiver
) -> None:
    sim.configure(ipn="reorder")
    created = _paid(client, sim, receiver)
    _refund(client, created, "10.00", callback_url=receiver.url)
    assert sim.deliver_pending_notifications() == 0
    assert sim.flush_notifications() == 2
    sim.deliver_pending_notifications()
    assert [p["tran_type"] for p in _ipn_payloads(receiver)] == ["Refund", "Sale"]


def test_ipn_reorder_releases_held_after_next_delivery(
    client: PayTabsClient, sim: PayTabsSimulator, receiver: Receiver
) -> None:
    sim.configure(ipn="reorder")
    created = _paid(client, sim, receiver)
    sim.configure(ipn="deliver")
    _refund(client, created, "10.00", callback_url=receiver.url)
    sim.deliver_pending_notifications()
    assert [p["tran_type"] for p in _ipn_payloads(receiver)] == ["Refund", "Sale"]


def test_ipn_retries_until_receiver_answers_200(
    client: PayTabsClient, sim: PayTabsSimulator, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503, 201]
    _paid(client, sim, receiver)
    assert sim.deliver_pending_notifications() == 4
    assert [n["status"] for n in sim.notifications_sent()] == [500, 503, 201, 200]
    assert [n["attempt"] for n in sim.notifications_sent()] == [1, 2, 3, 4]


def test_ipn_gives_up_after_five_retries(
    client: PayTabsClient, sim: PayTabsSimulator, receiver: Receiver
) -> None:
    receiver.statuses = [500] * 10
    _paid(client, sim, receiver)
    assert sim.deliver_pending_notifications() == 6
    assert len(receiver.requests) == 6


def test_ipn_delay_in_background(sim_url: str, clock: Clock, receiver: Receiver) -> None:
    background = PayTabsSimulator(
        server_key=SERVER_KEY, profile_id=PROFILE_ID, base_url=sim_url, clock=clock
    )
    try:
        background.configure(ipn="delay", ipn_delay_seconds=0.4)
        body = {**SALE_BODY, "callback": receiver.url}
        record = _post_api(background, "/payment/request", body).get_json()
        started = time.monotonic()
        background.pay(record["tran_ref"])
        time.sleep(0.15)
        assert receiver.requests == []
        assert background.wait_for_notifications(timeout=5)
        assert len(receiver.requests) == 1 and time.monotonic() - started >= 0.4
    finally:
        background.close()


def test_fail_next_requests_answers_500_then_recovers(
    client: PayTabsClient, sim: PayTabsSimulator
) -> None:
    sim.configure(fail_next_requests=1)
    with pytest.raises(PayTabsServerError) as caught:
        client.create_payment_page(_page())
    assert caught.value.http_status == 500
    assert isinstance(client.create_payment_page(_page()), PageCreated)


def test_timeout_then_recover_raises_duplicate_for_unpaid_page(
    sim_url: str, sim: PayTabsSimulator
) -> None:
    sim.configure(timeout_next_requests=1, timeout_seconds=0.6)
    paytabs = PayTabsClient(sim_url, PROFILE_ID, SERVER_KEY, timeout=(2, 0.3))
    try:
        with pytest.raises(PayTabsDuplicateRequest):
            create_page_or_recover(paytabs, _page())
    finally:
        paytabs.close()
    assert len(sim.ledger()) == 1
    time.sleep(0.4)  # let the sleeping request finish before the server stops


class _BuyerPaysMeanwhile(PayTabsClient):
    """A client whose cart lookup happens after the buyer paid the lost page."""

    sim: PayTabsSimulator

    def query_cart(self, cart_id: str) -> list[Transaction]:
        self.sim.pay(self.sim.ledger()[0]["tran_ref"])
        return super().query_cart(cart_id)


def test_timeout_then_recover_returns_transaction_already_paid(
    sim_url: str, sim: PayTabsSimulator
) -> None:
    sim.configure(timeout_next_requests=1, timeout_seconds=0.6)
    paytabs = _BuyerPaysMeanwhile(sim_url, PROFILE_ID, SERVER_KEY, timeout=(2, 0.3))
    paytabs.sim = sim
    try:
        outcome = create_page_or_recover(paytabs, _page())
    finally:
        paytabs.close()
    assert isinstance(outcome, Transaction) and outcome.is_approved
    assert [e["tran_type"] for e in sim.ledger()] == ["Sale"]
    time.sleep(0.4)  # let the sleeping request finish before the server stops


def test_sim_control_routes(sim: PayTabsSimulator, sim_url: str) -> None:
    answer = requests.post(sim_url + "/_sim/config", json={"ipn": "drop"}, timeout=5)
    assert answer.status_code == 200 and answer.json()["ipn"] == "drop"
    bad = requests.post(sim_url + "/_sim/config", json={"nonsense": 1}, timeout=5)
    assert bad.status_code == 400
    assert requests.get(sim_url + "/_sim/ledger", timeout=5).json() == []
    with pytest.raises(ValueError):
        sim.configure(ipn="sometimes")


def test_sim_repr_hides_key(sim: PayTabsSimulator) -> None:
    assert SERVER_KEY not in repr(sim)


def test_tran_ref_for_page_resolves_redirect_url(
    client: PayTabsClient, sim: PayTabsSimulator
) -> None:
    created = client.create_payment_page(_page())
    assert sim.tran_ref_for_page(created.redirect_url) == created.tran_ref
    assert sim.tran_ref_for_page("nope") is None


def test_three_decimal_currency_round_trips(client: PayTabsClient, sim: PayTabsSimulator) -> None:
    created = client.create_payment_page(_page(currency="KWD", amount=Decimal("12.345")))
    assert created.raw["cart_amount"] == "12.345"
    sim.pay(created.tran_ref)
    assert client.query_transaction(created.tran_ref).amount == Decimal("12.345")


PHONE_WIDTH_PX = 390
_WIDTH_DECLARATION = re.compile(
    r"(?<![-\w])(min-width|width)\s*:\s*([\d.]+)(px|rem|em)", re.IGNORECASE
)


def _phone_problems(page: str) -> list[str]:
    """Return what keeps ``page`` from fitting a 390 px phone screen (empty: it fits)."""
    problems = []
    if not re.search(r'<meta name="viewport" content="width=device-width, initial-scale=1">', page):
        problems.append("no viewport meta")
    css = " ".join(re.findall(r"<style>(.*?)</style>", page, re.DOTALL))
    css += " ".join(re.findall(r'style="([^"]*)"', page))
    css_rules = re.sub(r"@media[^{]*", "", css)  # a media query's condition is not a width
    for _prop, number, unit in _WIDTH_DECLARATION.findall(css_rules):
        pixels = float(number) * (1 if unit.lower() == "px" else 16)
        if pixels > PHONE_WIDTH_PX:
            problems.append(f"fixed width {number}{unit}")
    font = re.search(r"html\s*\{[^}]*font-size:\s*(\d+)px", css)
    if font is None or int(font[1]) < 16:
        problems.append("base font size under 16 px (phones zoom into the field)")
    if not re.search(r"input, button \{[^}]*width: 100%", css):
        problems.append("inputs and buttons not full width")
    return problems


def test_hosted_page_and_result_pages_fit_a_phone(client: PayTabsClient) -> None:
    created = client.create_payment_page(_page())
    form = requests.get(created.redirect_url, timeout=5)
    wrong_card = requests.post(created.redirect_url, data={"card_number": "5555"}, timeout=5)
    returned = requests.post(created.redirect_url, data={"card_number": APPROVE}, timeout=5)
    invalid = requests.get(created.redirect_url, timeout=5)
    pages = {
        "payment page": form.text,
        "wrong card": wrong_card.text,
        "return form": returned.text,
        "no longer valid": invalid.text,
        "close window": paytabs_pages.close_window_page("Payment approved"),
    }
    for name, page in pages.items():
        assert _phone_problems(page) == [], name
    assert 'inputmode="numeric"' in form.text  # the phone's number keypad for the card


def test_phone_check_catches_a_wide_fixed_width() -> None:
    page = paytabs_pages.payment_page(amount="1", currency="SAR", description="x")
    assert _phone_problems(page) == []
    wide = page.replace("<style>", "<style>form { width: 600px; }")
    assert _phone_problems(wide) == ["fixed width 600px"]
    assert _phone_problems(page.replace('name="viewport"', 'name="x"')) == ["no viewport meta"]


@pytest.mark.browser
def test_hosted_page_in_chromium_at_390_px(client: PayTabsClient, chromium: Any) -> None:
    created = client.create_payment_page(_page())
    context = chromium.new_context(viewport={"width": PHONE_WIDTH_PX, "height": 844})
    try:
        page = context.new_page()
        page.goto(created.redirect_url)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH_PX
        body = page.evaluate("document.body.clientWidth")
        for selector in ("#card_number", "#pay", "#cancel"):
            box = page.locator(selector).bounding_box()
            assert box is not None and box["x"] + box["width"] <= PHONE_WIDTH_PX, selector
            assert box["width"] >= body - 2 * 16 - 1, selector  # full width inside the padding
        size = page.evaluate("getComputedStyle(document.getElementById('card_number')).fontSize")
        assert float(size.removesuffix("px")) >= 16
    finally:
        context.close()
