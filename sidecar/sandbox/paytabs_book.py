"""The PayTabs simulator's book of transactions: create, refund, query, pay, expire.

Not thread-safe on its own: PayTabsSimulator holds its lock around every call. Every
created or altered transaction is handed to ``notify`` (which sends the IPN, if any).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from . import paytabs_records as rec
from .paytabs_records import TEST_CARDS, Record, SimError

DUPLICATE_WINDOW_SECONDS = 120.0
# The transaction fields echoed by a successful create (§3.2), before the page fields.
_CREATED_FIELDS = (
    "tran_ref",
    "tran_type",
    "cart_id",
    "cart_description",
    "cart_currency",
    "cart_amount",
    "tran_currency",
    "tran_total",
    "customer_details",
)
REFUND_RESULTS = {
    "approve": ("A", "Authorised"),
    "pending": ("P", "Pending"),
    "decline": ("D", "Declined"),
}


def _response_code(status: str) -> str:
    # Test-profile style: approvals "G" + five digits; the others are the simulator's.
    if status in ("A", "H"):
        return "G" + rec.digits(5)
    return "P" + rec.digits(5) if status == "P" else "05"


def _dict_field(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    return dict(value) if isinstance(value, dict) else {}


class Book:
    """Transactions of one simulated profile, keyed by tran_ref, in creation order."""

    def __init__(
        self,
        *,
        profile_id: int,
        merchant_id: int,
        server_key: str,
        clock: Callable[[], float],
        notify: Callable[[Record], None],
    ) -> None:
        self.profile_id = profile_id
        self.merchant_id = merchant_id
        self._server_key = server_key
        self._clock = clock
        self._notify = notify
        self._records: dict[str, Record] = {}
        self._tokens: dict[str, str] = {}
        self._recent: dict[tuple[str, str, Decimal, str], float] = {}

    def as_json(self, record: Record) -> dict[str, Any]:
        """Return a record as the §4 transaction object."""
        return record.to_json(self.profile_id, self.merchant_id)

    def create_sale(self, body: dict[str, Any], base_url: str) -> dict[str, Any]:
        """Validate a sale request, open a hosted page and return the §3.2 answer."""
        currency = rec.currency_field(body)
        record = Record(
            tran_ref=self._new_tran_ref(),
            tran_type="Sale",
            cart_id=rec.text_field(body, "cart_id", 1, 64, required=True),
            description=rec.text_field(body, "cart_description", 1, 128, required=True),
            currency=currency,
            amount=rec.amount_field(body, currency),
            customer=_dict_field(body, "customer_details"),
            return_url=rec.text_field(body, "return", 1, 255, required=False),
            callback_url=rec.text_field(body, "callback", 1, 255, required=False),
            created_at=self._clock(),
            token=secrets.token_hex(24),
            user_defined=_dict_field(body, "user_defined") or None,
            paypage_lang="ar" if body.get("paypage_lang") == "ar" else "en",
        )
        record.expires_at = record.created_at + 60 * rec.ttl_field(body)
        self._check_duplicate("sale", record)
        self._records[record.tran_ref] = record
        self._tokens[str(record.token)] = record.tran_ref
        full = self.as_json(record)
        return {
            **{key: full[key] for key in _CREATED_FIELDS},
            "callback": record.callback_url,
            "return": record.return_url or "none",
            "redirect_url": f"{base_url}/payment/page/{record.token}",
            "serviceId": 2,
            "profileId": self.profile_id,
            "merchantId": self.merchant_id,
            "trace": rec.new_trace(),
        }

    def refund(self, body: dict[str, Any], refund_mode: str) -> dict[str, Any]:
        """Validate a refund follow-up, record it with the switch's result, return it."""
        original = self._refundable_sale(body)
        currency = rec.currency_field(body)
        amount = rec.amount_field(body, currency)
        if currency != original.taken_currency:
            raise SimError(400, rec.ERR_FOLLOW_UP, "Currency does not match the transaction")
        if amount > self.refundable(original):
            raise SimError(400, rec.ERR_FOLLOW_UP, "Refund amount exceeds the refundable amount")
        refund = Record(
            tran_ref=self._new_tran_ref(),
            tran_type="Refund",
            cart_id=original.cart_id,
            description=rec.text_field(body, "cart_description", 1, 128, required=True),
            currency=currency,
            amount=amount,
            customer=original.customer,
            return_url="",
            callback_url=rec.text_field(body, "callback", 1, 255, required=False),
            created_at=self._clock(),
            previous_tran_ref=original.tran_ref,
            payment_info=original.payment_info,
        )
        self._check_duplicate("refund", refund)
        status, message = REFUND_RESULTS[refund_mode]
        refund.finish(status, _response_code(status), message, refund.created_at)
        refund.settle_on_query = status == "P"
        self._records[refund.tran_ref] = refund
        self._notify(refund)
        return self.as_json(refund)

    def query(self, body: dict[str, Any]) -> Any:
        """Answer a query: one object by tran_ref, an array by cart_id; open pages hidden."""
        tran_ref, cart_id = body.get("tran_ref"), body.get("cart_id")
        if tran_ref:
            found = [r for r in self._records.values() if r.tran_ref == tran_ref]
        elif cart_id:
            found = [r for r in self._records.values() if r.cart_id == cart_id]
        else:
            raise SimError(400, rec.ERR_FIELD, "tran_ref or cart_id is required")
        found = [r for r in found if not r.is_open]
        if not found:
            raise SimError(400, rec.ERR_NOT_FOUND, "Transaction not found")
        for record in found:
            self._settle(record)
        answers = [self.as_json(r) for r in found]
        return answers[0] if tran_ref else answers

    def complete(
        self, record: Record, card: str | None, charged: tuple[Decimal, str] | None = None
    ) -> dict[str, str]:
        """Pay an open page with a test card (or cancel it with None); return the return fields.

        ``charged`` (amount, currency) makes PayTabs take something else than the cart says.
        """
        now = self._clock()
        if card is None:
            record.finish(*rec.CANCELLED, now)
        else:
            status, message, acquirer = TEST_CARDS[card]
            record.card, record.payment_info = card, rec.card_info(card)
            if charged is not None:
                record.charged_amount, record.charged_currency = charged
            record.finish(status, _response_code(status), message, now, acquirer)
        self._notify(record)
        return record.return_fields(self._server_key)

    def open_second_page(self, tran_ref: str) -> Record:
        """Open another hosted page for the cart of ``tran_ref`` (no duplicate rule applies)."""
        first = self._records[tran_ref]
        record = Record(
            tran_ref=self._new_tran_ref(),
            tran_type="Sale",
            cart_id=first.cart_id,
            description=first.description,
            currency=first.currency,
            amount=first.amount,
            customer=first.customer,
            return_url=first.return_url,
            callback_url=first.callback_url,
            created_at=self._clock(),
            token=secrets.token_hex(24),
            user_defined=first.user_defined,
        )
        record.expires_at = record.created_at + (
            (first.expires_at or first.created_at) - first.created_at
        )
        self._records[record.tran_ref] = record
        self._tokens[str(record.token)] = record.tran_ref
        return record

    def dashboard_refund(self, tran_ref: str, amount: Decimal | None) -> Record:
        """Refund a sale as a merchant does in PayTabs' dashboard: approved, no IPN."""
        sale = self._records[tran_ref]
        if sale.tran_type != "Sale" or sale.status != "A":
            raise ValueError("only an approved sale can be refunded")
        left = self.refundable(sale)
        amount = left if amount is None else amount
        if not Decimal(0) < amount <= left:
            raise ValueError(f"cannot refund {amount}: {left} is left")
        refund = Record(
            tran_ref=self._new_tran_ref(),
            tran_type="Refund",
            cart_id=sale.cart_id,
            description="Refund from the dashboard",
            currency=sale.taken_currency,
            amount=amount,
            customer=sale.customer,
            return_url="",
            callback_url="",
            created_at=self._clock(),
            previous_tran_ref=sale.tran_ref,
            payment_info=sale.payment_info,
        )
        refund.finish("A", _response_code("A"), "Authorised", refund.created_at)
        self._records[refund.tran_ref] = refund
        return refund

    def sweep_expired(self) -> None:
        """Mark open pages whose paypage_ttl has passed as expired (X) and notify."""
        now = self._clock()
        for record in self._records.values():
            if record.is_open and record.expires_at is not None and record.expires_at <= now:
                record.finish(*rec.EXPIRED, now)
                self._notify(record)

    def by_token(self, token: str) -> Record | None:
        """Return the sale whose hosted page has this token."""
        tran_ref = self._tokens.get(token)
        return self._records.get(tran_ref) if tran_ref else None

    def tokens_snapshot(self) -> dict[str, str]:
        """Return a copy of the page token -> tran_ref map."""
        return dict(self._tokens)

    def open_record(self, tran_ref_or_token: str) -> Record:
        """Return the open page for a tran_ref or token, or raise ValueError."""
        self.sweep_expired()
        record = self._records.get(tran_ref_or_token) or self.by_token(tran_ref_or_token)
        if record is None or not record.is_open:
            raise ValueError("This payment page is no longer valid")
        return record

    def refundable(self, sale: Record) -> Decimal:
        """Return what is left to refund on a sale (approved and pending refunds count)."""
        refunds = [r for r in self._records.values() if r.previous_tran_ref == sale.tran_ref]
        taken = sum((r.amount for r in refunds if r.status in {"A", "P"}), Decimal(0))
        return sale.taken_amount - taken

    def entries(self) -> list[dict[str, Any]]:
        """Return the ledger: every transaction with status and amounts."""
        return [self._entry(record) for record in self._records.values()]

    def _refundable_sale(self, body: dict[str, Any]) -> Record:
        original = self._records.get(str(body.get("tran_ref", "")))
        if original is None or original.is_open:
            raise SimError(400, rec.ERR_NOT_FOUND, "Transaction not found")
        if original.tran_type != "Sale" or original.status != "A":
            raise SimError(400, rec.ERR_FOLLOW_UP, "Transaction cannot be refunded")
        if rec.text_field(body, "cart_id", 1, 64, required=True) != original.cart_id:
            raise SimError(400, rec.ERR_FOLLOW_UP, "cart_id does not match the transaction")
        return original

    def _settle(self, record: Record) -> None:
        # A pending refund is reported as pending once, then as done (with its own IPN).
        if record.settle_on_query and record.status == "P":
            record.settle_on_query = False
            record.finish("A", _response_code("A"), "Authorised", self._clock())
            self._notify(record)

    def _check_duplicate(self, kind: str, record: Record) -> None:
        now = self._clock()
        key = (kind, record.cart_id, record.amount, record.currency)
        last = self._recent.get(key)
        if last is not None and now - last < DUPLICATE_WINDOW_SECONDS:
            raise SimError(409, rec.ERR_DUPLICATE, "Duplicate Request")
        self._recent[key] = now

    def _new_tran_ref(self) -> str:
        while True:
            tran_ref = "TST" + rec.digits(13)
            if tran_ref not in self._records:
                return tran_ref

    def _entry(self, record: Record) -> dict[str, Any]:
        entry = {
            "tran_ref": record.tran_ref,
            "tran_type": record.tran_type,
            "cart_id": record.cart_id,
            "amount": rec.format_money(record.taken_amount, record.taken_currency),
            "currency": record.taken_currency,
            "status": record.status,
            "open": record.is_open,
            "response_code": record.response_code,
            "previous_tran_ref": record.previous_tran_ref,
            "callback": record.callback_url,
        }
        if record.tran_type == "Sale":
            refunded = record.taken_amount - self.refundable(record)
            entry["refunded"] = rec.format_money(refunded, record.taken_currency)
            entry["paypage_lang"] = record.paypage_lang
        return entry
