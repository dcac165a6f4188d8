"""Cross-check PayTabs, the sidecar's intents and WordPress, and name every discrepancy.

The checks are pure functions over data the caller gathered (``Snapshot``), so the CLI and an
invariant checker share them; ``gather`` is the one function here that does I/O. Kinds:

- ``paid_not_fulfilled``: PayTabs approved a sale (``A``) for the intent but the money is neither
  delivered nor returned: the intent is still awaiting confirmation (payment_failed/expired
  included), or paid/fulfilling/refunding, for longer than the grace period (in-flight work is
  not a discrepancy), or it is in needs_attention (always: an operator must act). A second
  approved sale on the same cart that is not refunded counts too.
- ``booked_without_payment``: a WordPress booking (any group, any age) whose intent ref has no
  intent, or whose intent's cart has no approved sale. For an intent outside the audited window
  PayTabs is not asked: its own state must claim a payment. Legacy bookings are skipped only by
  an explicit prefix.
- ``membership_without_booking``: a member of a BuddyPress group with no booking in any therapy
  group that uses it, except the group admins the caller names (the client cannot tell admins
  apart).
- ``over_capacity``: more bookings than the group's capacity.
- ``duplicate_booking``: one WordPress user with more than one booking in one therapy group.
- ``unbalanced_cart``: PayTabs' transactions for the cart of a fulfilled or refunded intent do not
  balance (``sidecar.payments.ledger``): a refund at PayTabs of a fulfilled intent's sale, a second sale
  kept, another amount, or a refunded intent whose money was not all given back.
- ``double_refund``: more than one approved refund of one sale tran_ref.
- ``state_mismatch``: fulfilled without booking, membership or user; refunded with the booking
  still in WordPress; an intent in a paid state whose cart has no approved sale.
- ``unverified``: PayTabs could not be asked about the intent, so nothing about it was checked.

Details carry refs, tran_refs, ids, states and ages, never emails, names or notification bodies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sidecar.core.container import Services
from sidecar.domain.states import AWAITING_CONFIRMATION, MONEY_TAKEN, State
from sidecar.ops.audit_groups import Discrepancy, check_groups
from sidecar.payments import ledger
from sidecar.paytabs import PayTabsError, PayTabsInvalidRequest, Transaction
from sidecar.store import repository as repo
from sidecar.store.repository import Intent
from wp_bridge.errors import GroupNotFound
from wp_bridge.models import Booking, GroupInfo

__all__ = ["Discrepancy", "Rules", "Snapshot", "check_groups", "find_discrepancies", "gather"]
IN_FLIGHT = frozenset({State.PAID, State.FULFILLING, State.REFUNDING})
CLAIMS_PAYMENT = MONEY_TAKEN | {State.NEEDS_ATTENTION}


@dataclass(frozen=True)
class Snapshot:
    """What the three parties say: intents, PayTabs by cart id, bookings and members by BP group."""

    # ``intents`` are checked in full; ``other_intents`` (outside the window, named by bookings)
    # only back their bookings. A cart missing from ``transactions`` was not asked about.

    intents: Sequence[Intent]
    transactions: Mapping[str, Sequence[Transaction]]
    bookings: Sequence[Booking]
    members: Mapping[int, Sequence[int]]
    groups: Sequence[GroupInfo]
    unverified: Mapping[str, str] = field(default_factory=dict)
    other_intents: Sequence[Intent] = ()


@dataclass(frozen=True)
class Rules:
    """How strict to be: the grace period for in-flight intents, the admins, legacy prefixes."""

    now: float
    grace_seconds: float = 600.0
    admin_user_ids: frozenset[int] = frozenset()
    ignore_ref_prefixes: tuple[str, ...] = ()


def find_discrepancies(snapshot: Snapshot, rules: Rules) -> list[Discrepancy]:
    """Return every discrepancy in the snapshot, sorted by kind and ref."""
    bookings = {b.intent_ref: b for b in snapshot.bookings}
    found: list[Discrepancy] = []
    for intent in snapshot.intents:
        if intent.ref in snapshot.unverified:
            why = snapshot.unverified[intent.ref]
            found.append(_d("unverified", intent, f"PayTabs could not be asked: {why}"))
            continue
        txns = snapshot.transactions.get(intent.ref, ())
        found += check_payment(intent, txns, rules)
        found += check_delivery(intent, bookings.get(intent.ref), snapshot.members)
        found += check_balance(intent, txns, rules)
    found += check_refunds(snapshot.transactions)
    found += check_bookings(snapshot, rules)
    found += check_groups(snapshot.groups, snapshot.bookings, snapshot.members, rules)
    return sorted(found, key=lambda d: (d.kind, d.ref or "", d.detail))


approved_sales = ledger.approved_sales


def approved_refunds(txns: Iterable[Transaction], sale_tran_ref: str) -> list[Transaction]:
    """Return the approved refunds of one sale."""
    return [
        t for t in txns if t.is_refund and t.is_approved and t.previous_tran_ref == sale_tran_ref
    ]


def check_payment(intent: Intent, txns: Sequence[Transaction], rules: Rules) -> list[Discrepancy]:
    """Compare the intent's state with PayTabs' approved sales for its cart."""
    sales = approved_sales(txns, intent.ref)
    if not sales:
        if intent.state in CLAIMS_PAYMENT:
            return [
                _d("state_mismatch", intent, f"{intent.state} but PayTabs has no approved sale")
            ]
        return []
    found = [
        _d("paid_not_fulfilled", intent, f"second approved sale {s.tran_ref} is not refunded")
        for s in sales
        if s.tran_ref != _main_sale(intent, sales).tran_ref
        and not approved_refunds(txns, s.tran_ref)
        and intent.state not in (State.FULFILLED, State.REFUNDED)  # check_balance says it
    ]
    age = rules.now - intent.updated_at
    settled = age >= rules.grace_seconds
    if intent.state == State.NEEDS_ATTENTION:
        reason = intent.state_reason or "no reason recorded"
        found.append(
            _d("paid_not_fulfilled", intent, f"needs_attention ({reason}): redrive or refund")
        )
    elif settled and (intent.state in AWAITING_CONFIRMATION or intent.state in IN_FLIGHT):
        sale = _main_sale(intent, sales).tran_ref
        detail = f"PayTabs approved {sale} but the intent is {intent.state} for {int(age)}s"
        found.append(_d("paid_not_fulfilled", intent, detail))
    return found


def check_delivery(
    intent: Intent,
    booking: Booking | None,
    members: Mapping[int, Sequence[int]],
) -> list[Discrepancy]:
    """Check that a fulfilled intent has everything in WordPress and a refunded one nothing left."""
    problems: list[str] = []
    if intent.state == State.FULFILLED:
        if intent.wp_user_id is None:
            problems.append("fulfilled without a WordPress user")
        elif intent.wp_user_id not in members.get(intent.bp_group_id, ()):
            problems.append(f"fulfilled but user {intent.wp_user_id} is not a group member")
        if booking is None:
            problems.append("fulfilled but WordPress has no booking")
    elif intent.state == State.REFUNDED and booking is not None:
        problems.append(f"refunded but WordPress still has booking {booking.id}")
    return [_d("state_mismatch", intent, p) for p in problems]


def check_balance(intent: Intent, txns: Sequence[Transaction], rules: Rules) -> list[Discrepancy]:
    """Check PayTabs' ledger for a fulfilled or refunded intent (promise 7), past the grace period.

    Failed and expired intents holding money are ``paid_not_fulfilled`` already.
    """
    if intent.state not in (State.FULFILLED, State.REFUNDED) or not approved_sales(
        txns, intent.ref
    ):
        return []  # no approved sale at all: check_payment names it
    if rules.now - intent.updated_at < rules.grace_seconds:
        return []  # a second sale's refund may still be on its way
    return [_d("unbalanced_cart", intent, p) for p in ledger.balance_problems(intent, txns)]


def check_refunds(transactions: Mapping[str, Sequence[Transaction]]) -> list[Discrepancy]:
    """Report every sale refunded (approved) for more than it took, or twice when it is unlisted.

    Refunds in parts (an operator finishing what the dashboard began) are one refund in total.
    """
    found = []
    for cart_id, txns in sorted(transactions.items()):
        sales = {t.tran_ref: t for t in txns if t.is_sale}
        by_sale: dict[str, list[Transaction]] = defaultdict(list)
        for t in txns:
            if t.is_refund and t.is_approved and t.previous_tran_ref:
                by_sale[t.previous_tran_ref].append(t)
        for sale, refunds in sorted(by_sale.items()):
            total = sum((r.amount for r in refunds), Decimal(0))
            taken = sales[sale].amount if sale in sales else None
            if (taken is not None and total > taken) or (taken is None and len(refunds) > 1):
                names = ", ".join(r.tran_ref for r in refunds)
                detail = f"sale {sale} refunded {len(refunds)} times: {names}"
                found.append(Discrepancy("double_refund", cart_id, None, detail))
    return found


def check_bookings(snapshot: Snapshot, rules: Rules) -> list[Discrepancy]:
    """Report bookings whose intent does not exist or was never paid."""
    intents = {i.ref: i for i in (*snapshot.other_intents, *snapshot.intents)}
    found = []
    for b in snapshot.bookings:
        if b.intent_ref.startswith(rules.ignore_ref_prefixes or ("\0",)):
            continue
        intent = intents.get(b.intent_ref)
        if intent is None:
            detail = f"booking {b.id} (user {b.user_id}) has no intent"
        elif intent.ref in snapshot.unverified:
            continue
        elif not _paid(intent, snapshot.transactions):
            detail = f"booking {b.id} (user {b.user_id}): no approved sale, intent {intent.state}"
        else:
            continue
        found.append(Discrepancy("booked_without_payment", b.intent_ref, b.group_id, detail))
    return found


def _paid(intent: Intent, transactions: Mapping[str, Sequence[Transaction]]) -> bool:
    if intent.ref in transactions:
        return bool(approved_sales(transactions[intent.ref], intent.ref))
    return intent.state in CLAIMS_PAYMENT  # not asked: trust the intent's own record


def _main_sale(intent: Intent, sales: Sequence[Transaction]) -> Transaction:
    return next((s for s in sales if s.tran_ref == intent.tran_ref), sales[-1])


def _d(kind: str, intent: Intent, detail: str) -> Discrepancy:
    return Discrepancy(kind, intent.ref, intent.group_id, detail)


# --- gathering (I/O) ---------------------------------------------------------------------------


def gather(services: Services, since: float | None, *, limit: int = 100_000) -> Snapshot:
    """Read the intents created since ``since`` with their PayTabs carts, and all of WordPress."""
    with services.db.transaction() as tx:
        intents = repo.list_intents(tx, since=since, limit=limit)
    bookings = list(services.wordpress.list_bookings(None))
    refs = {i.ref for i in intents}
    with services.db.transaction() as tx:
        named = (
            repo.find_intent_by_ref(tx, b.intent_ref) for b in bookings if b.intent_ref not in refs
        )
        others = [i for i in named if i is not None]
    group_ids = {i.group_id for i in intents} | {b.group_id for b in bookings}
    groups, members = _groups(services, group_ids)
    transactions, unverified = _carts(services, [i for i in intents if i.tran_ref])
    return Snapshot(intents, transactions, bookings, members, groups, unverified, others)


def _carts(
    services: Services, intents: Sequence[Intent]
) -> tuple[dict[str, list[Transaction]], dict[str, str]]:
    transactions: dict[str, list[Transaction]] = {}
    unverified: dict[str, str] = {}
    client = services.paytabs() if intents else None
    for intent in intents:
        if client is None:
            raise AssertionError("no PayTabs client for the intents")
        try:
            transactions[intent.ref] = client.query_cart(intent.ref)
        except PayTabsInvalidRequest:
            transactions[intent.ref] = []  # PayTabs answers "not found" for a cart never paid
        except PayTabsError as exc:
            unverified[intent.ref] = type(exc).__name__
    return transactions, unverified


def _groups(
    services: Services, group_ids: Iterable[int]
) -> tuple[list[GroupInfo], dict[int, list[int]]]:
    wp = services.wordpress
    groups, members = [], {}
    for group_id in sorted(group_ids):
        try:
            group = wp.get_group(group_id)
        except GroupNotFound:
            continue  # a deleted group: its bookings are still checked, its capacity cannot be
        groups.append(group)
        members[group.bp_group_id] = list(wp.list_group_members(group.bp_group_id))
    return groups, members
