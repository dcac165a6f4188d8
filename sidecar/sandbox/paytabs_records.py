"""Transaction records of the PayTabs simulator, request validation and their JSON form.

Error codes 1 (auth), 4 (duplicate) and 206 (currency) are PayTabs' own; the others below
are the simulator's, because PayTabs does not publish its full list.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sidecar.paytabs.regions import SUPPORTED_CURRENCIES, currency_exponent
from sidecar.paytabs.signatures import sign_return

ERR_AUTH = 1
ERR_DUPLICATE = 4
ERR_CURRENCY = 206
ERR_FIELD = 5  # simulator: a required field is missing or invalid
ERR_NOT_FOUND = 7  # simulator: unknown tran_ref / cart_id
ERR_FOLLOW_UP = 8  # simulator: refund not allowed (state, currency, amount)

_MAX_AMOUNT = Decimal("9999999999.99")

# Test card -> (status, response message, acquirer message). The codes are made up in the
# style of PayTabs test profiles (approvals "G" + five digits).
TEST_CARDS: dict[str, tuple[str, str, str]] = {
    "4111111111111111": ("A", "Authorised", "00:Approved"),
    "4000000000000002": ("D", "Do not honour", "05:Do not honour"),
    "4000000000000119": ("H", "Held for fraud review", "00:Approved"),
    "4000000000000259": ("P", "Pending", ""),
}
CANCELLED = ("C", "321", "Cancelled")
EXPIRED = ("X", "332", "Expired")


class SimError(Exception):
    """An answer in PayTabs' ``{code, message, trace}`` error shape."""

    def __init__(self, http_status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        """Return the JSON error body."""
        return {"code": self.code, "message": self.message, "trace": new_trace()}


def new_trace() -> str:
    """Return a trace id shaped like PayTabs' (``PMNT0402.6784A5A1.000157B3``)."""
    return f"PMNT{secrets.token_hex(2)}.{secrets.token_hex(4)}.{secrets.token_hex(4)}".upper()


def digits(count: int) -> str:
    """Return ``count`` random decimal digits."""
    return "".join(secrets.choice("0123456789") for _ in range(count))


def format_money(amount: Decimal, currency: str) -> str:
    """Format an amount as PayTabs echoes it: a string with the currency's decimals."""
    return f"{amount:.{currency_exponent(currency)}f}"


def iso_time(timestamp: float) -> str:
    """Return a UTC ISO-8601 time like ``2024-12-19T11:41:30Z``."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Record:
    """One simulated transaction: a sale (hosted page) or a refund."""

    tran_ref: str
    tran_type: str
    cart_id: str
    description: str
    currency: str
    amount: Decimal
    customer: dict[str, Any]
    return_url: str
    callback_url: str
    created_at: float
    expires_at: float | None = None
    token: str | None = None
    status: str = ""
    response_code: str = ""
    response_message: str = ""
    acquirer_message: str = ""
    rrn: str = ""
    card: str | None = None
    acted_at: float | None = None
    previous_tran_ref: str | None = None
    user_defined: dict[str, Any] | None = None
    settle_on_query: bool = False
    payment_info: dict[str, Any] = field(default_factory=dict)
    # What the card was really charged when it differs from the cart (a surcharge, a conversion).
    charged_amount: Decimal | None = None
    charged_currency: str | None = None
    # The hosted page's language the merchant asked for (``paypage_lang``: "en" or "ar").
    paypage_lang: str = "en"

    @property
    def taken_amount(self) -> Decimal:
        """The amount PayTabs processed (``tran_total``)."""
        return self.amount if self.charged_amount is None else self.charged_amount

    @property
    def taken_currency(self) -> str:
        """The currency PayTabs processed in (``tran_currency``)."""
        return self.charged_currency or self.currency

    @property
    def is_open(self) -> bool:
        """True while the hosted page waits for the buyer."""
        return self.tran_type == "Sale" and self.status == ""

    def finish(self, status: str, code: str, message: str, now: float, acquirer: str = "") -> None:
        """Record the final (or pending) result of the transaction."""
        self.status, self.response_code, self.response_message = status, code, message
        self.acquirer_message = acquirer
        self.acted_at = now
        if self.card and status in {"A", "D", "H"}:
            self.rrn = digits(12)

    def charged(self) -> bool:
        """True when a card was submitted, so tran_total carries the amount."""
        return self.card is not None or self.tran_type != "Sale"

    def to_json(self, profile_id: int, merchant_id: int) -> dict[str, Any]:
        """Return the §4 transaction object (query answer, follow-up answer, IPN body)."""
        body: dict[str, Any] = {"tran_ref": self.tran_ref}
        if self.previous_tran_ref:
            body["previous_tran_ref"] = self.previous_tran_ref
        body.update(
            merchant_id=merchant_id,
            profile_id=profile_id,
            cart_id=self.cart_id,
            cart_description=self.description,
            cart_currency=self.currency,
            cart_amount=format_money(self.amount, self.currency),
            tran_currency=self.taken_currency if self.charged() else "",
            tran_total=format_money(self.taken_amount, self.taken_currency)
            if self.charged()
            else "0",
            tran_type=self.tran_type,
            tran_class="ECom",
            customer_details=self.customer,
            payment_result={
                "response_status": self.status,
                "response_code": self.response_code,
                "response_message": self.response_message,
                "acquirer_ref": f"TRAN{self.rrn}" if self.rrn else "",
                "cvv_result": " ",
                "avs_result": " ",
                "transaction_time": iso_time(self.acted_at or self.created_at),
            },
        )
        if self.payment_info:
            body["payment_info"] = self.payment_info
        if self.user_defined:
            body["user_defined"] = self.user_defined
        return body

    def return_fields(self, server_key: str) -> dict[str, str]:
        """Return the signed form fields PayTabs posts to the return URL, alphabetically."""
        fields: dict[str, str] = {
            "acquirerMessage": self.acquirer_message,
            "acquirerRRN": self.rrn,
            "cartId": self.cart_id,
            "customerEmail": str(self.customer.get("email") or ""),
            "respCode": self.response_code,
            "respMessage": self.response_message,
            "respStatus": self.status,
            "token": "",
            "tranRef": self.tran_ref,
        }
        fields["signature"] = sign_return(fields, server_key)
        return dict(sorted(fields.items()))


def card_info(card: str) -> dict[str, Any]:
    """Return the ``payment_info`` block for a (test) Visa card number."""
    masked = f"{card[:4]} {card[4:6]}## #### {card[-4:]}"
    return {
        "payment_method": "Visa",
        "card_type": "Credit",
        "card_scheme": "Visa",
        "payment_description": masked,
        "expiryMonth": 12,
        "expiryYear": 2030,
    }


def text_field(body: dict[str, Any], name: str, low: int, high: int, *, required: bool) -> str:
    """Return a string field whose length is within [low, high]; optional ones may be ''."""
    value = body.get(name)
    if value in (None, "") and not required:
        return ""
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise SimError(400, ERR_FIELD, f"Invalid {name}")
    return value


def currency_field(body: dict[str, Any]) -> str:
    """Return the upper-cased cart_currency, or raise code 206."""
    value = body.get("cart_currency")
    if not isinstance(value, str) or value.upper() not in SUPPORTED_CURRENCIES:
        raise SimError(400, ERR_CURRENCY, "Invalid currency code")
    return value.upper()


def amount_field(body: dict[str, Any], currency: str) -> Decimal:
    """Return cart_amount (JSON number or numeric string) within PayTabs' limits."""
    value = body.get("cart_amount")
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str | float):
        raise SimError(400, ERR_FIELD, "Invalid cart_amount")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise SimError(400, ERR_FIELD, "Invalid cart_amount") from None
    exponent = Decimal(1).scaleb(-currency_exponent(currency))
    if not Decimal("0.01") <= amount <= _MAX_AMOUNT or amount.quantize(exponent) != amount:
        raise SimError(400, ERR_FIELD, "Invalid cart_amount")
    return amount.quantize(exponent)


def ttl_field(body: dict[str, Any]) -> int:
    """Return paypage_ttl in minutes (default 20, at least 1)."""
    value = body.get("paypage_ttl", 20)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SimError(400, ERR_FIELD, "Invalid paypage_ttl")
    return value
