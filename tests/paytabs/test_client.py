"""PayTabsClient against canned PayTabs answers (the `responses` library)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses

from sidecar.paytabs import (
    Customer,
    PageCreated,
    PageRequest,
    PayTabsAuthError,
    PayTabsClient,
    PayTabsDuplicateRequest,
    PayTabsError,
    PayTabsInvalidRequest,
    PayTabsProtocolError,
    PayTabsServerError,
    PayTabsTransportError,
    Transaction,
    create_page_or_recover,
    format_amount,
)

BASE = "https://secure.paytabs.sa"
KEY = "SZJN9TEST1-EXAMPLEKEY-NOTREALKEY"
PROFILE = 100001
REQUEST_URL = BASE + "/payment/request"
QUERY_URL = BASE + "/payment/query"

CUSTOMER = Customer(
    name="Jane Doe",
    email="jane.doe+test@example.com",
    phone="+966500000000",
    street1="King Fahd Rd",
    city="Riyadh",
    country="SA",
    state="01",
    ip="203.0.113.10",
)
PAGE = PageRequest(
    cart_id="ORDER-1001",
    description="Group therapy: Tuesday evenings",
    amount=Decimal("150.00"),
    currency="SAR",
    customer=CUSTOMER,
    return_url="https://pay.example.org/paytabs/return",
    callback_url="https://pay.example.org/paytabs/ipn",
    paypage_ttl_minutes=30,
)
CREATED: dict[str, Any] = {
    "tran_ref": "TST2412345678901",
    "tran_type": "Sale",
    "cart_id": "ORDER-1001",
    "cart_description": "Group therapy: Tuesday evenings",
    "cart_currency": "SAR",
    "cart_amount": "150.00",
    "tran_currency": "",
    "tran_total": "0",
    "callback": "https://pay.example.org/paytabs/ipn",
    "return": "https://pay.example.org/paytabs/return",
    "redirect_url": BASE + "/payment/page/599D8B3C82E8B5C1E4B4F3A5B8C1D2E3",
    "serviceId": 2,
    "profileId": PROFILE,
    "merchantId": 100000,
    "trace": "PMNT0402.6784A5A1.000157B3",
}


def _txn(tran_ref: str = "TST2412345678901", status: str = "A", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tran_ref": tran_ref,
        "merchant_id": 100000,
        "profile_id": PROFILE,
        "cart_id": "ORDER-1001",
        "cart_description": "Group therapy: Tuesday evenings",
        "cart_currency": "SAR",
        "cart_amount": "150.00",
        "tran_currency": "SAR",
        "tran_total": "150.00",
        "tran_type": "Sale",
        "tran_class": "ECom",
        "payment_result": {
            "response_status": status,
            "response_code": "G12345",
            "response_message": "Authorised",
            "transaction_time": "2026-01-01T10:00:00Z",
        },
    }
    body.update(extra)
    return body


def _error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "trace": "PMNT0401.67AB1234.0001A2B3"}


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def client() -> Iterator[PayTabsClient]:
    paytabs = PayTabsClient(BASE, PROFILE, KEY)
    yield paytabs
    paytabs.close()


def _sent(call: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(call.request.body)
    return body


def _raw(call: Any) -> bytes:
    body = call.request.body
    assert isinstance(body, bytes)
    return body


def _assert_key_hidden(error: BaseException) -> None:
    assert KEY not in str(error)
    assert KEY not in repr(error)


def test_create_payment_page_sends_documented_body(
    mocked: responses.RequestsMock, client: PayTabsClient
) -> None:
    mocked.post(REQUEST_URL, json=CREATED)
    created = client.create_payment_page(PAGE)
    assert created == PageCreated(
        tran_ref="TST2412345678901", redirect_url=CREATED["redirect_url"], raw=CREATED
    )
    request = mocked.calls[0].request
    assert request.headers["authorization"] == KEY
    assert request.headers["content-type"] == "application/json"
    assert getattr(request, "req_kwargs", {})["timeout"] == (3.05, 20)
    assert b'"cart_amount": 150.00' in _raw(mocked.calls[0])
    body = _sent(mocked.calls[0])
    assert body["profile_id"] == PROFILE
    assert (body["tran_type"], body["tran_class"]) == ("sale", "ecom")
    assert body["cart_id"] == "ORDER-1001"
    assert body["cart_currency"] == "SAR"
    assert body["hide_shipping"] is True
    assert body["return"] == PAGE.return_url
    assert body["callback"] == PAGE.callback_url
    assert (body["paypage_ttl"], body["paypage_lang"]) == (30, "en")
    assert body["customer_details"]["email"] == "jane.doe+test@example.com"
    assert body["customer_details"]["country"] == "SA"


def test_create_payment_page_truncates_description_and_formats_currency(
    mocked: responses.RequestsMock, client: PayTabsClient
) -> None:
    mocked.post(REQUEST_URL, json=CREATED)
    page = replace(PAGE, description="x" * 200, currency="KWD")
    client.create_payment_page(page)
    assert len(_sent(mocked.calls[0])["cart_description"]) == 128
    assert b'"cart_amount": 150.000' in _raw(mocked.calls[0])


def test_create_payment_page_omits_empty_urls(
    mocked: responses.RequestsMock, client: PayTabsClient
) -> None:
    mocked.post(REQUEST_URL, json=CREATED)
    client.create_payment_page(replace(PAGE, callback_url="", return_url=""))
    body = _sent(mocked.calls[0])
    assert "callback" not in body and "return" not in body


@pytest.mark.parametrize(
    "answer",
    [
        {k: v for k, v in CREATED.items() if k != "redirect_url"},
        {**CREATED, "redirect_url": ""},
        {k: v for k, v in CREATED.items() if k != "tran_ref"},
        [CREATED],
    ],
    ids=["no-redirect", "empty-redirect", "no-tran-ref", "array"],
)
def test_create_payment_page_rejects_unexpected_shape(
    mocked: responses.RequestsMock, client: PayTabsClient, answer: Any
) -> None:
    mocked.post(REQUEST_URL, json=answer)
    with pytest.raises(PayTabsProtocolError):
        client.create_payment_page(PAGE)


def test_create_payment_page_rejects_non_json_success(
    mocked: responses.RequestsMock, client: PayTabsClient
) -> None:
    mocked.post(REQUEST_URL, body="<html>ok</html>", status=200)
    with pytest.raises(PayTabsProtocolError):
        client.create_payment_page(PAGE)


@pytest.mark.parametrize(
    ("status", "body", "kind", "code"),
    [
        (
            401,
            _error(1, "Authentication failed. Check authentication header."),
            PayTabsAuthError,
            1,
        ),
        (400, _error(206, "Invalid currency code"), PayTabsInvalidRequest, 206),
        (409, _error(4, "Duplicate Request"), PayTabsDuplicateRequest, 4),
        (400, _error(1, "Authentication failed"), PayTabsAuthError, 1),
        (401, {"code": "2", "message": "No merchant information found"}, PayTabsAuthError, 2),
        (200, _error(206, "Invalid currency code"), PayTabsInvalidRequest, 206),
        (500, _error(99, "Internal"), PayTabsInvalidRequest, 99),
    ],
    ids=["auth", "currency", "duplicate", "code1-400", "401-other", "200-error", "500-shaped"],
)
def test_create_payment_page_maps_error_shape(
    mocked: responses.RequestsMock,
    client: PayTabsClient,
    status: int,
    body: dict[str, Any],
    kind: type[PayTabsError],
    code: int,
) -> None:
    mocked.post(REQUEST_URL, json=body, status=status)
    with pytest.raises(kind) as caught:
        client.create_payment_page(PAGE)
    assert type(caught.value) is kind
    assert caught.value.code == code
    assert caught.value.http_status == status
    assert caught.value.message == body["message"]
    assert caught.value.trace == body.get("trace")
    _assert_key_hidden(caught.value)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (502, PayTabsServerError),
        (500, PayTabsServerError),
        (401, PayTabsAuthError),
        (404, PayTabsInvalidRequest),
        (302, PayTabsProtocolError),
    ],
)
def test_query_transaction_maps_status_without_error_shape(
    mocked: responses.RequestsMock, client: PayTabsClient, status: int, kind: type[PayTabsError]
) -> None:
    mocked.post(QUERY_URL, body="<html>Bad Gateway</html>", status=status)
    with pytest.raises(kind) as caught:
        client.query_transaction("TST2412345678901")
    assert caught.value.http_status == status
    assert caught.value.code is None


def test_error_mapping_redacts_an_echoed_key(
    mocked: responses.RequestsMock, client: PayTabsClient
) -> None:
    mocked.post(REQUEST_URL, json=_error(1, f"bad key {KEY}"), status=401)
    with pytest.raises(PayTabsAuthError) as caught:
        client.create_payment_page(PAGE)
    _assert_key_hidden(caught.value)
    assert "[redacted]" in caught.value.message


@pytest.mark.parametrize(
    ("exception", "timed_out"),
    [
        (requests.exceptions.ReadTimeout("read timed out"), True),
        (requests.exceptions.ConnectTimeout("connect timed out"), True),
        (requests.exceptions.ConnectionError("connection refused"), False),
        (requests.exceptions.SSLError("bad certificate"), False),
    ],
    ids=["read-timeout", "connect-timeout", "refused", "tls"],
)
def test_query_transaction_translates_transport_failures(
    mocked: responses.RequestsMock,
    client: PayTabsClient,
    exception: Exception,
    timed_out: bool,
) -> None:
    mocked.post(QUERY_URL, body=exception)
    with pytest.raises(PayTabsTransportError) as caught:
        client.query_transaction("TST2412345678901")
    assert caught.value.timed_out is timed_out
    assert caught.value.__cause__ is exception
    _assert_key_hidden(caught.value)


def test_query_transaction_parses_transaction(
    mocked: responses.RequestsMock, client: PayTabsClient
) -> None:
    answer = _txn()
    mocked.post(QUERY_URL, json=answer)
    txn = client.query_transaction("TST2412345678901")
    assert _sent(mocked.calls[0]) == {"profile_id": PROFILE, "tran_ref": "TST2412345678901"}
    assert txn == Transaction(
        tran_ref="TST2412345678901",
        cart_id="ORDER-1001",
        tran_type="Sale",
        status="A",
        response_code="G12345",
        response_message="Authorised",
        amount=Decimal("150.00"),
        currency="SAR",
        previous_tran_ref=None,
        raw=answer,
    )
    assert txn.is_approved and txn.is_sale and not txn.is_refund


def test_query_transaction_rejects_unknown_reference(
    mocked: responses.RequestsMock, client: PayTabsClient
) -> None:
    mocked.post(QUERY_URL, json=_error(113, "Transaction not found"), status=400)
    with pytest.raises(PayTabsInvalidRequest):
        client.query_transaction("TST0000000000000")


@pytest.mark.parametrize(
    "answer",
    [{"cart_id": "x"}, {"tran_ref": "TST1", "tran_total": "", "cart_amount": "abc"}, "text"],
)
def test_query_transaction_rejects_non_transaction(
    mocked: responses.RequestsMock, client: PayTabsClient, answer: Any
) -> None:
    mocked.post(QUERY_URL, json=answer)
    with pytest.raises(PayTabsProtocolError):
        client.query_transaction("TST1")


def test_query_cart_parses_array(mocked: responses.RequestsMock, client: PayTabsClient) -> None:
    mocked.post(QUERY_URL, json=[_txn("TST1", "D"), _txn("TST2", "A")])
    txns = client.query_cart("ORDER-1001")
    assert _sent(mocked.calls[0]) == {"profile_id": PROFILE, "cart_id": "ORDER-1001"}
    assert [(t.tran_ref, t.status) for t in txns] == [("TST1", "D"), ("TST2", "A")]


@pytest.mark.parametrize(("answer", "count"), [(_txn(), 1), ([], 0)], ids=["object", "empty"])
def test_query_cart_tolerates_object_and_empty(
    mocked: responses.RequestsMock, client: PayTabsClient, answer: Any, count: int
) -> None:
    mocked.post(QUERY_URL, json=answer)
    assert len(client.query_cart("ORDER-1001")) == count


@pytest.mark.parametrize("status", ["A", "P"])
def test_refund_sends_follow_up_and_parses_answer(
    mocked: responses.RequestsMock, client: PayTabsClient, status: str
) -> None:
    answer = _txn("TST2412345678902", status, tran_type="Refund", tran_total="50.00")
    answer["previous_tran_ref"] = "TST2412345678901"
    mocked.post(REQUEST_URL, json=answer)
    txn = client.refund(
        tran_ref="TST2412345678901",
        cart_id="ORDER-1001",
        amount=Decimal("50"),
        currency="SAR",
        reason="Cancelled booking",
    )
    body = _sent(mocked.calls[0])
    assert body == {
        "profile_id": PROFILE,
        "tran_type": "refund",
        "tran_class": "ecom",
        "tran_ref": "TST2412345678901",
        "cart_id": "ORDER-1001",
        "cart_currency": "SAR",
        "cart_amount": 50.0,
        "cart_description": "Cancelled booking",
    }
    assert b'"cart_amount": 50.00' in _raw(mocked.calls[0])
    assert txn.is_refund and txn.previous_tran_ref == "TST2412345678901"
    assert txn.amount == Decimal("50.00")
    assert txn.is_approved is (status == "A")
    assert txn.is_pending is (status == "P")


def test_refund_passes_callback_when_given(
    mocked: responses.RequestsMock, client: PayTabsClient
) -> None:
    mocked.post(REQUEST_URL, json=_txn("TST2", "A", tran_type="Refund"))
    client.refund(
        tran_ref="TST1",
        cart_id="c",
        amount=Decimal("1.00"),
        currency="SAR",
        reason="r",
        callback_url="https://pay.example.org/paytabs/ipn",
    )
    assert _sent(mocked.calls[0])["callback"] == "https://pay.example.org/paytabs/ipn"


@pytest.mark.parametrize(
    ("status", "approved", "pending", "failed"),
    [
        ("A", True, False, False),
        ("H", False, True, False),
        ("P", False, True, False),
        *[(s, False, False, True) for s in ("V", "E", "D", "X", "C", "")],
    ],
)
def test_transaction_status_helpers(
    status: str, approved: bool, pending: bool, failed: bool
) -> None:
    txn = Transaction.from_payload(_txn(status=status))
    assert (txn.is_approved, txn.is_pending, txn.is_failed) == (approved, pending, failed)


@pytest.mark.parametrize("tran_type", ["Sale", "SALE", "sale"])
def test_transaction_tran_type_is_case_insensitive(tran_type: str) -> None:
    assert Transaction.from_payload(_txn(tran_type=tran_type)).is_sale


@pytest.mark.parametrize("total", ["0", "", None, "0.00"])
def test_transaction_amount_falls_back_to_cart_amount(total: str | None) -> None:
    txn = Transaction.from_payload(_txn(tran_total=total, tran_currency="", cart_amount="99.50"))
    assert (txn.amount, txn.currency) == (Decimal("99.50"), "SAR")


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [("150", "SAR", "150.00"), ("1.5", "KWD", "1.500"), ("1000", "JPY", "1000")],
)
def test_format_amount_uses_currency_decimals(amount: str, currency: str, text: str) -> None:
    assert format_amount(Decimal(amount), currency) == text


@pytest.mark.parametrize(("amount", "currency"), [("1.005", "SAR"), ("0", "SAR"), ("-1", "USD")])
def test_format_amount_refuses_to_round(amount: str, currency: str) -> None:
    with pytest.raises(ValueError):
        format_amount(Decimal(amount), currency)


def test_client_repr_hides_server_key() -> None:
    paytabs = PayTabsClient(BASE + "/", PROFILE, KEY + "\n")
    assert repr(paytabs) == f"PayTabsClient(base_url={BASE!r}, profile_id={PROFILE})"
    assert KEY not in repr(paytabs)
    paytabs.close()


@pytest.mark.parametrize("key", ["", "  ", "SZJN9 TEST1", "SZJN9\nTEST1"])
def test_client_rejects_malformed_key_without_echoing_it(key: str) -> None:
    with pytest.raises(ValueError) as caught:
        PayTabsClient(BASE, PROFILE, key)
    assert key.strip() not in str(caught.value) or not key.strip()


def test_create_page_or_recover_returns_existing_sale_after_timeout(
    mocked: responses.RequestsMock, client: PayTabsClient
) -> None:
    mocked.post(REQUEST_URL, body=requests.exceptions.ReadTimeout("lost answer"))
    older = _txn("TST0", "D", cart_amount="99.00", tran_total="99.00")
    mocked.post(QUERY_URL, json=[older, _txn("TST1", "P", tran_total="0", tran_currency="")])
    result = create_page_or_recover(client, PAGE)
    assert isinstance(result, Transaction) and result.tran_ref == "TST1"
    assert [call.request.url for call in mocked.calls] == [REQUEST_URL, QUERY_URL]
    assert _sent(mocked.calls[1]) == {"profile_id": PROFILE, "cart_id": "ORDER-1001"}


def test_create_page_or_recover_creates_again_when_cart_is_empty(
    mocked: responses.RequestsMock, client: PayTabsClient
) -> None:
    mocked.post(REQUEST_URL, body=requests.exceptions.ReadTimeout("lost answer"))
    mocked.post(QUERY_URL, json=[])
    mocked.post(REQUEST_URL, json=CREATED)
    result = create_page_or_recover(client, PAGE)
    assert isinstance(result, PageCreated)
    assert [call.request.url for call in mocked.calls] == [REQUEST_URL, QUERY_URL, REQUEST_URL]


def test_create_page_or_recover_ignores_other_amounts_and_refunds(
    mocked: responses.RequestsMock, client: PayTabsClient
) -> None:
    mocked.post(REQUEST_URL, body=requests.exceptions.ConnectTimeout("no connect"))
    other = _txn("TST1", "A", cart_amount="99.00", tran_total="99.00")
    refund = _txn("TST2", "A", tran_type="Refund")
    mocked.post(QUERY_URL, json=[other, refund])
    mocked.post(REQUEST_URL, json=CREATED)
    assert isinstance(create_page_or_recover(client, PAGE), PageCreated)


def test_create_page_or_recover_raises_duplicate_after_timeout(
    mocked: responses.RequestsMock, client: PayTabsClient
) -> None:
    mocked.post(REQUEST_URL, body=requests.exceptions.ReadTimeout("lost answer"))
    mocked.post(QUERY_URL, json=[])
    mocked.post(REQUEST_URL, json=_error(4, "Duplicate Request"), status=409)
    with pytest.raises(PayTabsDuplicateRequest):
        create_page_or_recover(client, PAGE)
    assert len(mocked.calls) == 3


def test_create_page_or_recover_gives_up_after_attempts(
    mocked: responses.RequestsMock, client: PayTabsClient
) -> None:
    mocked.post(REQUEST_URL, body=requests.exceptions.ReadTimeout("lost answer"))
    mocked.post(QUERY_URL, json=[])
    mocked.post(REQUEST_URL, body=requests.exceptions.ReadTimeout("lost again"))
    with pytest.raises(PayTabsTransportError) as caught:
        create_page_or_recover(client, PAGE)
    assert caught.value.timed_out
    assert len(mocked.calls) == 3


def test_create_page_or_recover_does_not_retry_refusals(
    mocked: responses.RequestsMock, client: PayTabsClient
) -> None:
    mocked.post(REQUEST_URL, json=_error(206, "Invalid currency code"), status=400)
    with pytest.raises(PayTabsInvalidRequest):
        create_page_or_recover(client, PAGE)
    assert len(mocked.calls) == 1


def test_create_page_or_recover_treats_cart_not_found_as_empty(
    mocked: responses.RequestsMock, client: PayTabsClient
) -> None:
    mocked.post(REQUEST_URL, body=requests.exceptions.ReadTimeout("lost answer"))
    mocked.post(QUERY_URL, json=_error(7, "Transaction not found"), status=400)
    mocked.post(REQUEST_URL, json=CREATED)
    assert isinstance(create_page_or_recover(client, PAGE), PageCreated)
    assert [call.request.url for call in mocked.calls] == [REQUEST_URL, QUERY_URL, REQUEST_URL]


def test_create_page_or_recover_propagates_auth_error_from_cart_query(
    mocked: responses.RequestsMock, client: PayTabsClient
) -> None:
    mocked.post(REQUEST_URL, body=requests.exceptions.ReadTimeout("lost answer"))
    mocked.post(QUERY_URL, json=_error(1, "Authentication failed"), status=401)
    with pytest.raises(PayTabsAuthError):
        create_page_or_recover(client, PAGE)
