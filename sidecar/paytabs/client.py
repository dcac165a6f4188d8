"""HTTP client for the PayTabs PT2 hosted-payment-page API (create, query, refund).

Every call is ``POST {base}/payment/request`` or ``POST {base}/payment/query`` with a JSON
body, the bare server key in the ``authorization`` header, ``profile_id`` as a JSON integer,
and a timeout. Failures are translated into :mod:`sidecar.paytabs.errors` in one place.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import requests

from .errors import (
    PayTabsAuthError,
    PayTabsDuplicateRequest,
    PayTabsError,
    PayTabsInvalidRequest,
    PayTabsProtocolError,
    PayTabsServerError,
    PayTabsTransportError,
)
from .regions import currency_exponent

__all__ = [
    "Customer",
    "PageCreated",
    "PageRequest",
    "PayTabsClient",
    "Transaction",
    "create_page_or_recover",
    "format_amount",
]

Timeout = float | tuple[float, float]
_DESCRIPTION_MAX = 128
_PENDING = frozenset({"H", "P"})


@dataclass(frozen=True)
class Customer:
    """Billing details sent as ``customer_details`` (country is ISO alpha-2)."""

    name: str
    email: str
    phone: str
    street1: str
    city: str
    country: str
    state: str = ""
    zip: str = ""
    ip: str = ""


@dataclass(frozen=True)
class PageRequest:
    """What the sidecar asks for when it creates a hosted payment page."""

    cart_id: str
    description: str
    amount: Decimal
    currency: str
    customer: Customer
    return_url: str
    callback_url: str
    paypage_ttl_minutes: int
    lang: str = "en"


@dataclass(frozen=True)
class PageCreated:
    """A created page: store ``tran_ref`` before sending the browser to ``redirect_url``."""

    tran_ref: str
    redirect_url: str
    raw: dict[str, Any]


@dataclass(frozen=True)
class Transaction:
    """One transaction as PayTabs reports it in a query, follow-up answer or IPN."""

    tran_ref: str
    cart_id: str
    tran_type: str
    status: str
    response_code: str
    response_message: str
    amount: Decimal
    currency: str
    previous_tran_ref: str | None
    raw: dict[str, Any]

    @property
    def is_approved(self) -> bool:
        """True only for ``A``: the one status that means the money moved."""
        return self.status == "A"

    @property
    def is_pending(self) -> bool:
        """True for ``H`` (fraud hold) and ``P`` (pending): not final yet."""
        return self.status in _PENDING

    @property
    def is_failed(self) -> bool:
        """True for every other status (V, E, D, X, C, or anything unknown)."""
        return not self.is_approved and not self.is_pending

    @property
    def is_sale(self) -> bool:
        """True for a ``Sale`` (PayTabs capitalises enumerations; compare case-insensitively)."""
        return self.tran_type.lower() == "sale"

    @property
    def is_refund(self) -> bool:
        """True for a ``Refund`` follow-up."""
        return self.tran_type.lower() == "refund"

    @classmethod
    def from_payload(cls, payload: Any) -> Transaction:
        """Parse a transaction object; raise PayTabsProtocolError if it is not one."""
        if not isinstance(payload, dict) or not isinstance(payload.get("tran_ref"), str):
            raise PayTabsProtocolError("answer is not a transaction object")
        result = payload.get("payment_result")
        result = result if isinstance(result, dict) else {}
        total = _decimal_or_none(payload.get("tran_total"))
        amount = total if total else _decimal_or_none(payload.get("cart_amount"))
        if amount is None:
            raise PayTabsProtocolError("transaction without a usable amount")
        previous = payload.get("previous_tran_ref")
        return cls(
            tran_ref=payload["tran_ref"],
            cart_id=str(payload.get("cart_id") or ""),
            tran_type=str(payload.get("tran_type") or ""),
            status=str(result.get("response_status") or ""),
            response_code=str(result.get("response_code") or ""),
            response_message=str(result.get("response_message") or ""),
            amount=amount,
            currency=str(payload.get("tran_currency") or payload.get("cart_currency") or ""),
            previous_tran_ref=str(previous) if previous else None,
            raw=payload,
        )


def _decimal_or_none(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def format_amount(amount: Decimal, currency: str) -> str:
    """Format an amount with the currency's decimals; refuse to round money silently."""
    exponent = currency_exponent(currency)
    quantized = amount.quantize(Decimal(1).scaleb(-exponent))
    if quantized != amount or amount <= 0:
        raise ValueError(f"amount {amount} is not a positive {currency} amount")
    return f"{quantized:.{exponent}f}"


class _Amount:
    """A JSON number written exactly as given (json cannot print Decimal("150.00") as-is)."""

    def __init__(self, literal: str) -> None:
        self.literal = literal


def _json_bytes(body: Mapping[str, Any]) -> bytes:
    # Amounts are encoded as unguessable placeholder strings, then swapped for their literal.
    nonce = secrets.token_hex(8)
    literals: list[str] = []

    def default(obj: Any) -> Any:
        if isinstance(obj, _Amount):
            literals.append(obj.literal)
            return f"{nonce}:{len(literals) - 1}"
        raise TypeError(f"cannot encode {type(obj).__name__}")

    text = json.dumps(body, default=default)
    for index, literal in enumerate(literals):
        text = text.replace(json.dumps(f"{nonce}:{index}"), literal)
    return text.encode("utf-8")


class PayTabsClient:
    """Talks to one PayTabs profile on one region host."""

    def __init__(
        self,
        base_url: str,
        profile_id: int,
        server_key: str,
        *,
        timeout: Timeout = (3.05, 20),
        session: requests.Session | None = None,
    ) -> None:
        # A pasted key often carries a trailing newline; anything else odd is refused
        # without echoing the key, because requests would print it in its own error.
        key = server_key.strip()
        if not key or not key.isprintable() or any(ch.isspace() for ch in key):
            raise ValueError("server_key is empty or contains whitespace/control characters")
        self.base_url = base_url.rstrip("/")
        self.profile_id = int(profile_id)
        self._server_key = key
        self._timeout = timeout
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"PayTabsClient(base_url={self.base_url!r}, profile_id={self.profile_id!r})"

    def close(self) -> None:
        """Close the underlying HTTP session."""
        self._session.close()

    def create_payment_page(self, req: PageRequest) -> PageCreated:
        """Create a hosted payment page for a sale; success needs tran_ref and redirect_url."""
        body: dict[str, Any] = {
            "tran_type": "sale",
            "tran_class": "ecom",
            "cart_id": req.cart_id,
            "cart_description": req.description[:_DESCRIPTION_MAX],
            "cart_currency": req.currency,
            "cart_amount": _Amount(format_amount(req.amount, req.currency)),
            "customer_details": asdict(req.customer),
            "hide_shipping": True,
            "return": req.return_url,
            "callback": req.callback_url,
            "paypage_ttl": int(req.paypage_ttl_minutes),
            "paypage_lang": req.lang,
        }
        # An empty URL is "no URL": PayTabs validates any URL it is given.
        body = {k: v for k, v in body.items() if not (k in ("return", "callback") and not v)}
        payload = self._post("/payment/request", body)
        tran_ref = payload.get("tran_ref") if isinstance(payload, dict) else None
        redirect_url = payload.get("redirect_url") if isinstance(payload, dict) else None
        if not isinstance(tran_ref, str) or not tran_ref or not isinstance(redirect_url, str):
            raise PayTabsProtocolError("create answer lacks tran_ref or redirect_url")
        if not redirect_url:
            raise PayTabsProtocolError("create answer has an empty redirect_url")
        return PageCreated(tran_ref=tran_ref, redirect_url=redirect_url, raw=payload)

    def query_transaction(self, tran_ref: str) -> Transaction:
        """Read one transaction by its tran_ref."""
        return Transaction.from_payload(self._post("/payment/query", {"tran_ref": tran_ref}))

    def query_cart(self, cart_id: str) -> list[Transaction]:
        """Read every transaction PayTabs holds for a cart_id (an array; one object tolerated)."""
        payload = self._post("/payment/query", {"cart_id": cart_id})
        items = payload if isinstance(payload, list) else [payload]
        return [Transaction.from_payload(item) for item in items]

    def refund(
        self,
        *,
        tran_ref: str,
        cart_id: str,
        amount: Decimal,
        currency: str,
        reason: str,
        callback_url: str = "",
    ) -> Transaction:
        """Refund (part of) an approved sale; the answer is the new Refund transaction."""
        body: dict[str, Any] = {
            "tran_type": "refund",
            "tran_class": "ecom",
            "tran_ref": tran_ref,
            "cart_id": cart_id,
            "cart_currency": currency,
            "cart_amount": _Amount(format_amount(amount, currency)),
            "cart_description": reason[:_DESCRIPTION_MAX],
        }
        if callback_url:
            body["callback"] = callback_url
        return Transaction.from_payload(self._post("/payment/request", body))

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        data = _json_bytes({"profile_id": self.profile_id, **body})
        headers = {"authorization": self._server_key, "content-type": "application/json"}
        try:
            response = self._session.post(
                self.base_url + path,
                data=data,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.Timeout as e:
            raise PayTabsTransportError(f"PayTabs {path} timed out", timed_out=True) from e
        except requests.RequestException as e:
            # Connection refused/reset, TLS failures: the request did not get an answer.
            raise PayTabsTransportError(
                f"PayTabs {path} unreachable: {type(e).__name__}", timed_out=False
            ) from e
        return _payload_or_raise(response, self._server_key)


def _payload_or_raise(response: requests.Response, server_key: str) -> Any:
    """Map an HTTP answer to its JSON payload or the matching PayTabsError (the one place)."""
    status = response.status_code
    try:
        payload: Any = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict) and "code" in payload:
        raise _error_from_shape(payload, status, server_key)
    if status >= 500:
        raise PayTabsServerError("PayTabs server error", http_status=status)
    if status == 401:
        raise PayTabsAuthError("PayTabs authentication failed", http_status=status)
    if status >= 400:
        raise PayTabsInvalidRequest("PayTabs rejected the request", http_status=status)
    if not 200 <= status < 300 or payload is None:
        raise PayTabsProtocolError("unexpected PayTabs answer", http_status=status)
    return payload


def _error_from_shape(payload: dict[str, Any], status: int, server_key: str) -> PayTabsError:
    try:
        code: int | None = int(payload["code"])
    except (TypeError, ValueError):
        code = None
    # Scrub the key in case an answer ever echoes the header back.
    message = str(payload.get("message") or "PayTabs error").replace(server_key, "[redacted]")
    trace = payload.get("trace")
    trace_text = str(trace).replace(server_key, "[redacted]") if trace else None
    kind: type[PayTabsError] = PayTabsInvalidRequest
    if code == 1 or status == 401:
        kind = PayTabsAuthError
    elif code == 4:
        kind = PayTabsDuplicateRequest
    return kind(message, code=code, http_status=status, trace=trace_text)


def create_page_or_recover(
    client: PayTabsClient, req: PageRequest, *, attempts: int = 2
) -> PageCreated | Transaction:
    """Create a page; after a lost answer, look the cart up before creating another.

    A timeout (or a dropped connection) leaves the outcome unknown: PayTabs may have created
    the transaction. So before each retry we query the cart. If PayTabs already reports a
    sale for this cart with the same amount and currency, that Transaction is returned and
    the caller must NOT create another page (it may already be paid or pending). Otherwise
    we create again, at most ``attempts`` creates in all. A page that was created but not
    yet acted on may not show up in a cart query; the retry then meets PayTabs' duplicate
    rule and PayTabsDuplicateRequest (code 4) propagates, which means "use a new cart_id or
    wait two minutes", never "try the same call again now".
    """
    for attempt in range(1, attempts + 1):
        try:
            return client.create_payment_page(req)
        except PayTabsTransportError:
            if attempt >= attempts:
                raise
            existing = _existing_sale(client, req)
            if existing is not None:
                return existing
    raise ValueError("attempts must be at least 1")


def _existing_sale(client: PayTabsClient, req: PageRequest) -> Transaction | None:
    try:
        transactions = client.query_cart(req.cart_id)
    except PayTabsInvalidRequest:
        # A cart without transactions may be answered with the "not found" error shape.
        return None
    currency = req.currency.upper()
    matches = [
        txn
        for txn in transactions
        if txn.is_sale and txn.amount == req.amount and txn.currency.upper() == currency
    ]
    # PayTabs lists a cart's transactions oldest first; the newest is the one just created.
    return matches[-1] if matches else None
