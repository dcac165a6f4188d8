"""PayTabs is the ledger: what a cart's transactions say was taken, given back and is still owed.

Pure functions over the transactions PayTabs lists for one cart (a query by ``cart_id`` returns
sales and refunds). Confirmation, refunds, the audit, reconcile and the invariant checker all ask
here, so "balanced" means one thing everywhere (DESIGN §3, promise 7):

- a fulfilled intent: exactly one approved sale, its own, of its amount and currency, and no refund;
- a refunded, failed or expired intent: every approved sale of the cart refunded in full, except
  an operator's partial cancellation: its own sale refunded by exactly ``cancel_refund_minor``;
- any other state is in flight (or with an operator) and is not judged here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sidecar.core.container import Services
from sidecar.domain.money import from_minor, same_amount
from sidecar.domain.states import State
from sidecar.jobs.kinds import JobKind
from sidecar.jobs.outbox import enqueue
from sidecar.paytabs import PayTabsError, PayTabsInvalidRequest, Transaction
from sidecar.store import repository as repo
from sidecar.store.repository import Intent

NETS_TO_ZERO = frozenset({State.REFUNDED, State.PAYMENT_FAILED, State.EXPIRED})
# States whose ``tran_ref`` is the sale PayTabs approved for the intent.
HOLDS_A_SALE = frozenset(
    {
        State.PAID,
        State.FULFILLING,
        State.FULFILLED,
        State.REFUNDING,
        State.REFUNDED,
        State.NEEDS_ATTENTION,
    }
)


def mismatch(intent: Intent, sale: Transaction) -> str | None:
    """Say why a PayTabs transaction cannot be this intent's payment, or None if it is."""
    if sale.cart_id != intent.ref:
        return "cart_id differs"
    if not sale.is_sale:
        return f"tran_type is {sale.tran_type!r}, not Sale"
    if sale.currency.upper() != intent.currency:
        return f"currency {sale.currency!r} differs"
    if not same_amount(intent.amount_minor, intent.currency, sale.amount):
        return f"amount {sale.amount} differs"
    return None


def approved_sales(txns: Iterable[Transaction], cart_id: str) -> list[Transaction]:
    """Return the cart's approved sales."""
    return [t for t in txns if t.is_sale and t.is_approved and t.cart_id == cart_id]


def refunds_of(
    txns: Iterable[Transaction], sale: Transaction, *, pending: bool = False
) -> list[Transaction]:
    """Return the approved (and, with ``pending``, the pending) refunds of one sale."""
    return [
        t
        for t in txns
        if t.is_refund
        and t.previous_tran_ref == sale.tran_ref
        and (t.is_approved or (pending and t.is_pending))
    ]


def refunded(txns: Iterable[Transaction], sale: Transaction) -> Decimal:
    """Return how much of a sale PayTabs has refunded (approved refunds only)."""
    return sum((t.amount for t in refunds_of(txns, sale)), Decimal(0))


def left_to_refund(txns: Iterable[Transaction], sale: Transaction) -> Decimal:
    """Return what is left to refund of a sale; a pending refund counts as on its way."""
    return sale.amount - sum((t.amount for t in refunds_of(txns, sale, pending=True)), Decimal(0))


def pick_sale(intent: Intent, txns: Sequence[Transaction]) -> Transaction | None:
    """Return the sale that answers for the intent: an approved one with money left first.

    Among approved sales: one not refunded in full, then one of the intent's amount, then the
    intent's own page. Without an approved sale: the intent's own page, else the newest sale.
    """
    sales = [t for t in txns if t.is_sale and t.cart_id == intent.ref]
    if not sales:
        return None
    approved = [s for s in sales if s.is_approved]
    if approved:
        return max(
            approved,
            key=lambda s: (
                left_to_refund(txns, s) > 0,
                mismatch(intent, s) is None,
                s.tran_ref == intent.tran_ref,
            ),
        )
    own = [s for s in sales if s.tran_ref == intent.tran_ref]
    return own[0] if own else sales[-1]


def extra_sales(intent: Intent, txns: Sequence[Transaction]) -> list[Transaction]:
    """Return approved sales of the intent's cart, other than its own, with money not given back."""
    return [
        s
        for s in approved_sales(txns, intent.ref)
        if s.tran_ref != intent.tran_ref and left_to_refund(txns, s) > 0
    ]


def balance_problems(intent: Intent, txns: Sequence[Transaction]) -> list[str]:
    """Say how the cart fails to balance against an ended intent (empty: balanced or in flight)."""
    sales = approved_sales(txns, intent.ref)
    problems = []
    if intent.state == State.FULFILLED:
        own = next((s for s in sales if s.tran_ref == intent.tran_ref), None)
        if own is None:
            problems.append(f"fulfilled but PayTabs has no approved sale {intent.tran_ref}")
        elif mismatch(intent, own):
            problems.append(f"fulfilled on sale {own.tran_ref} whose {mismatch(intent, own)}")
        elif refunded(txns, own):
            problems.append(
                f"fulfilled but PayTabs refunded {refunded(txns, own)} {own.currency} of its "
                f"sale {own.tran_ref}"
            )
        sales = [s for s in sales if s is not own]
    elif intent.state not in NETS_TO_ZERO:
        return []
    for sale in sales:
        kept = sale.amount - refunded(txns, sale) - _kept_by_cancellation(intent, sale)
        if kept:
            what = "keeps" if kept > 0 else "was refunded more than it took:"
            problems.append(
                f"{intent.state} but sale {sale.tran_ref} {what} {abs(kept)} {sale.currency}"
            )
    return problems


def _kept_by_cancellation(intent: Intent, sale: Transaction) -> Decimal:
    """Return what a partly refunded cancellation keeps of its own sale (else nothing)."""
    if intent.cancel_refund_minor is None or sale.tran_ref != intent.tran_ref:
        return Decimal(0)
    if intent.state != State.REFUNDED:
        return Decimal(0)
    return sale.amount - from_minor(intent.cancel_refund_minor, intent.currency)


# --- reading carts (I/O) -----------------------------------------------------------------------


def cart_transactions(services: Services, intent: Intent) -> list[Transaction]:
    """Return every transaction PayTabs lists for the intent's cart (none yet: empty)."""
    try:
        return services.paytabs().query_cart(intent.ref)
    except PayTabsInvalidRequest:
        # PayTabs does not list a page nobody has acted on yet: nothing to confirm (the
        # pending sweep asks again later, the hold sweep before releasing the seat).
        return []


def check_carts(services: Services, since: float | None, limit: int = 500) -> list[CartReport]:
    """Read the cart of each intent holding a sale since ``since``; queue refunds of extra sales.

    Returns the carts with something to say: a second sale whose refund is now queued, a cart
    that does not balance against its ended intent, or a cart PayTabs could not be asked about.
    """
    states = [s.value for s in HOLDS_A_SALE]
    with services.db.transaction() as tx:
        intents = repo.list_intents_in_states(tx, states, since=since, limit=limit)
    reports = []
    for intent in intents:
        try:
            txns = cart_transactions(services, intent)
        except PayTabsError as exc:
            reports.append(
                CartReport(intent, [f"PayTabs could not be asked: {type(exc).__name__}"])
            )
            continue
        notes = []
        extras = extra_sales(intent, txns)
        if extras:
            with services.db.transaction() as tx:
                enqueue(services, tx, intent.id, JobKind.REFUND)
            notes.append(f"refund queued for second sale {', '.join(s.tran_ref for s in extras)}")
        notes += [p for p in balance_problems(intent, txns) if not extras or "keeps" not in p]
        if notes:
            reports.append(CartReport(intent, notes))
    return reports


@dataclass(frozen=True)
class CartReport:
    """What reading one intent's cart found."""

    intent: Intent
    notes: list[str]
