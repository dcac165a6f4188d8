"""One invariant checker for the promises: PayTabs' ledger, the sidecar's store and WordPress agree.

``check_invariants(stack)`` gathers the three views from a test stack and returns every broken
promise as a line ``"P<n> <kind>: <detail>"`` (an empty list means all is well);
``assert_invariants(stack)`` fails with all of them. The checks themselves (``check_world``) are
pure over plain data, so a view gathered from the real WordPress client
(``wordpress_from_client``) or typed in by a test (``WordPressView(...)``) is checked the same way.

Promises (DESIGN §3) and what is checked:

1. Nothing in WordPress without an approved (``A``) sale for the intent's cart: users stamped with
   an intent ref, bookings by intent ref, BuddyPress members (each must be the user of a paid
   intent of that group, or have a booking the caller allow-lists), and the store's own record of
   WordPress work (user created, booking id, member joined).
2. Every approved sale ends fulfilled (user, booking and membership exist) or refunded (an
   approved refund of that sale). Always: a fulfilled intent has all three and no refund; a
   refunded one has an approved refund. With ``settled=True`` (after draining): every approved
   sale is settled, a refunded intent keeps no booking or membership, nothing is left in the
   queue, and needs_attention is a violation unless the caller expects it for that ref.
3. At most one user, one booking, one membership per intent; one approved refund per sale;
   one transition to ``paid`` and one job of each kind per intent.
4. No group has more bookings than its capacity.
5. Every transition that records a confirmed payment (to ``paid``, or to ``refunding`` because the
   seat was gone) matches an approved sale of the intent's cart in amount and currency, and no
   intent claims a payment PayTabs does not have: a forged or tampered notification moved nothing.

7. PayTabs is the ledger (``sidecar.payments.ledger``): with ``settled=True``, every cart balances against
   its ended intent: a fulfilled one has exactly its own approved sale, of its amount and
   currency, and no refund; a refunded, failed or expired one has every approved sale refunded.
8. One place per person per group: no WordPress user has two bookings in one therapy group
   when one of them is the sidecar's (two bookings both with an allow-listed foreign prefix are
   the site's own business; a site booking beside one of ours is a second place).

``refunded_after_confirmation`` names intents whose own sale was refunded at PayTabs (its
dashboard) after the sidecar had confirmed it: the place may already be the buyer's, so a
fulfilled intent with that refund is not a break of 2 or 7 (``sidecar audit`` reports it).

Promise 6 (secrets) is checked by the tests that look at logs and answers, not here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sidecar.domain.states import State
from sidecar.ops import audit
from sidecar.payments import ledger
from sidecar.payments.confirmation import mismatch
from sidecar.paytabs import Transaction
from sidecar.store.repository import Intent
from wp_bridge.errors import GroupNotFound
from wp_bridge.fake.wordpress import FakeWordPress
from wp_bridge.models import Booking, GroupInfo, WPUser

# Events whose transition says "PayTabs confirmed this intent's payment".
PAYMENT_EVENTS = frozenset({"payment_confirmed", "payment_confirmed_no_seat"})
# States in which the intent says PayTabs holds (or held) its money.
CLAIMS_PAYMENT = frozenset(
    {
        State.PAID,
        State.FULFILLING,
        State.FULFILLED,
        State.REFUNDING,
        State.REFUNDED,
        State.NEEDS_ATTENTION,
    }
)


@dataclass(frozen=True)
class StoreView:
    """The sidecar's store: every intent, transition row and job row."""

    intents: Sequence[Intent]
    transitions: Sequence[Mapping[str, Any]]
    jobs: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class WordPressView:
    """What WordPress holds: users, bookings, non-admin members by BuddyPress group, groups."""

    users: Sequence[WPUser]
    bookings: Sequence[Booking]
    members: Mapping[int, Sequence[int]]
    groups: Sequence[GroupInfo]


# --- gathering ---------------------------------------------------------------------------------


def check_invariants(
    stack: Any,
    *,
    settled: bool = False,
    foreign_ref_prefixes: tuple[str, ...] = (),
    expected_attention: Collection[str] = (),
    refunded_after_confirmation: Collection[str] = (),
) -> list[str]:
    """Return every broken promise in the stack's ledger, store and WordPress (empty: all good)."""
    store = store_from_db(stack.services)
    if stack.wp is not None:
        wordpress = wordpress_from_fake(stack.wp)
    else:
        groups = {i.group_id for i in store.intents}
        wordpress = wordpress_from_client(stack.wordpress, store.intents, groups)
    return check_world(
        stack.sim.ledger(),
        store,
        wordpress,
        settled=settled,
        foreign_ref_prefixes=foreign_ref_prefixes,
        expected_attention=expected_attention,
        refunded_after_confirmation=refunded_after_confirmation,
    )


def assert_invariants(stack: Any, **options: Any) -> None:
    """Fail with every broken promise (options as for ``check_invariants``)."""
    found = check_invariants(stack, **options)
    assert not found, "broken promises:\n  " + "\n  ".join(found)


def store_from_db(services: Any) -> StoreView:
    """Read every intent, transition and job from the sidecar's store."""
    with services.db.transaction() as tx:
        intents = [Intent.from_row(r) for r in tx.all("SELECT * FROM intents ORDER BY id")]
        transitions = tx.all("SELECT * FROM transitions ORDER BY id")
        jobs = tx.all("SELECT * FROM jobs ORDER BY id")
    return StoreView(intents, transitions, jobs)


@contextmanager
def faults_lifted(fake: FakeWordPress) -> Iterator[None]:
    """Read the fake without its outage, latency or queued failures (they stay for the sidecar)."""
    saved = (fake.down, fake.latency_seconds)
    fake.down, fake.latency_seconds = False, 0.0
    with fake._lock:
        failures, fake._failures = fake._failures, []
    try:
        yield
    finally:
        with fake._lock:
            fake._failures[:0] = failures
        fake.down, fake.latency_seconds = saved


def wordpress_from_fake(fake: FakeWordPress) -> WordPressView:
    """Read everything from the in-memory WordPress (even while it plays down)."""
    with faults_lifted(fake):
        users = fake.search_users("")  # an empty term matches every user, like WP_User_Query
        bookings = fake.find_bookings()
        groups = fake.groups()
        members = {
            g.bp_group_id: [m.user_id for m in fake.group_members(g.bp_group_id)] for g in groups
        }
    return WordPressView(users, bookings, members, groups)


def wordpress_from_client(
    client: Any,
    intents: Iterable[Intent],
    group_ids: Iterable[int],
    *,
    admin_user_ids: Collection[int] | None = None,
) -> WordPressView:
    """Read WordPress through the REST client (real ``WordPressClient`` or its fake).

    The REST API cannot list users by intent meta, so the users read are those the intents,
    bookings and memberships name: a stray user no record points at is not seen this way.
    """
    intents = list(intents)
    admins = set(admin_user_ids) if admin_user_ids is not None else {client.ping().id}
    bookings = list(client.list_bookings(None))
    groups: list[GroupInfo] = []
    for group_id in sorted(set(group_ids) | {b.group_id for b in bookings}):
        try:
            groups.append(client.get_group(group_id))
        except GroupNotFound:
            continue
    members = {
        g.bp_group_id: [u for u in client.list_group_members(g.bp_group_id) if u not in admins]
        for g in groups
    }
    users: dict[int, WPUser] = {}
    for intent in intents:
        found = client.find_user_by_email(intent.email) if intent.email else None
        if found is not None:
            users[found.id] = found
    named = {i.wp_user_id for i in intents if i.wp_user_id is not None}
    named |= {b.user_id for b in bookings} | {u for ids in members.values() for u in ids}
    for user_id in sorted(named - users.keys()):
        user = client.get_user(user_id)
        if user is not None:
            users[user.id] = user
    return WordPressView(list(users.values()), bookings, members, groups)


def ledger_transactions(entries: Iterable[Mapping[str, Any]]) -> list[Transaction]:
    """Turn the simulator's ledger into Transactions (open pages, not yet paid, are left out)."""
    return [
        Transaction(
            tran_ref=str(e["tran_ref"]),
            cart_id=str(e["cart_id"]),
            tran_type=str(e["tran_type"]),
            status=str(e["status"] or ""),
            response_code=str(e.get("response_code") or ""),
            response_message="",
            amount=Decimal(str(e["amount"])),
            currency=str(e["currency"]),
            previous_tran_ref=e.get("previous_tran_ref") or None,
            raw=dict(e),
        )
        for e in entries
        if not e.get("open")
    ]


# --- the checks (pure) -------------------------------------------------------------------------


def check_world(
    ledger: Iterable[Mapping[str, Any]],
    store: StoreView,
    wordpress: WordPressView,
    *,
    settled: bool = False,
    foreign_ref_prefixes: tuple[str, ...] = (),
    expected_attention: Collection[str] = (),
    refunded_after_confirmation: Collection[str] = (),
) -> list[str]:
    """Return every broken promise across PayTabs' ledger, the store and WordPress."""
    world = _World(ledger_transactions(ledger), store, wordpress, foreign_ref_prefixes)
    world.kept_place = set(refunded_after_confirmation)
    found = [
        *world.nothing_without_payment(),
        *world.delivered_or_refunded(settled, set(expected_attention)),
        *world.at_most_once(),
        *world.within_capacity(),
        *world.payments_match_paytabs(),
        *world.carts_balance(settled),
        *world.one_place_per_person(),
    ]
    return found


class _World:
    """The three views, indexed once."""

    def __init__(
        self,
        txns: list[Transaction],
        store: StoreView,
        wp: WordPressView,
        foreign_ref_prefixes: tuple[str, ...],
    ) -> None:
        self.store, self.wp = store, wp
        self.foreign = foreign_ref_prefixes
        self.kept_place: set[str] = set()  # fulfilled, then refunded at PayTabs: audit's to report
        self.by_cart: dict[str, list[Transaction]] = defaultdict(list)
        for t in txns:
            self.by_cart[t.cart_id].append(t)
        self.intents = {i.ref: i for i in store.intents}
        self.intents_by_id = {i.id: i for i in store.intents}
        self.users = {u.id: u for u in wp.users}
        self.bookings_by_ref: dict[str, list[Booking]] = defaultdict(list)
        for b in wp.bookings:
            self.bookings_by_ref[b.intent_ref].append(b)

    def sales(self, ref: str) -> list[Transaction]:
        return audit.approved_sales(self.by_cart.get(ref, ()), ref)

    def refunds(self, ref: str, sale: str) -> list[Transaction]:
        return audit.approved_refunds(self.by_cart.get(ref, ()), sale)

    def paid(self, ref: str) -> bool:
        return bool(self.sales(ref))

    def is_foreign(self, ref: str) -> bool:
        return bool(self.foreign) and ref.startswith(self.foreign)

    def members_of(self, bp_group_id: int) -> Sequence[int]:
        return self.wp.members.get(bp_group_id, ())

    # promise 1
    def nothing_without_payment(self) -> Iterator[str]:
        for user in self.wp.users:
            ref = user.intent_ref
            if ref and not self.is_foreign(ref) and not self.paid(ref):
                yield f"P1 user_without_payment: user {user.id} was created for {ref}, which PayTabs never approved"
        for booking in self.wp.bookings:
            ref = booking.intent_ref
            if self.is_foreign(ref) or self.paid(ref):
                continue
            known = "" if ref in self.intents else " (no such intent)"
            yield f"P1 booked_without_payment: booking {booking.id} in group {booking.group_id} for {ref}{known} has no approved sale"
        for intent in self.store.intents:
            did = [
                name
                for name, done in (
                    ("created the user", intent.user_created),
                    (f"booked {intent.booking_id}", intent.booking_id is not None),
                    ("joined the group", intent.member_joined),
                )
                if done
            ]
            if did and not self.paid(intent.ref):
                yield f"P1 store_without_payment: {intent.ref} ({intent.state}) {', '.join(did)} without an approved sale"
        yield from self._members_without_payment()

    def _members_without_payment(self) -> Iterator[str]:
        groups = {g.bp_group_id: g for g in self.wp.groups}
        for bp_group_id, user_ids in sorted(self.wp.members.items()):
            group = groups.get(bp_group_id)
            for user_id in sorted(set(user_ids)):
                if not self._membership_paid(bp_group_id, user_id, group):
                    yield f"P1 member_without_payment: user {user_id} is in BuddyPress group {bp_group_id} without a paid intent for it"

    def _membership_paid(self, bp_group_id: int, user_id: int, group: GroupInfo | None) -> bool:
        user = self.users.get(user_id)
        owners = [i for i in self.store.intents if i.wp_user_id == user_id]
        if user is not None and user.intent_ref in self.intents:
            owners.append(self.intents[user.intent_ref])
        if any(i.bp_group_id == bp_group_id and self.paid(i.ref) for i in owners):
            return True
        # A member the site booked itself (an allow-listed, non-sidecar ref) is not the sidecar's.
        return group is not None and any(
            b.user_id == user_id and b.group_id == group.id and self.is_foreign(b.intent_ref)
            for b in self.wp.bookings
        )

    # promise 2
    def delivered_or_refunded(self, settled: bool, expected_attention: set[str]) -> Iterator[str]:
        for intent in self.store.intents:
            yield from self._final_state_is_true(intent)
        if settled:
            yield from self._every_sale_settled(expected_attention)
            for job in self.store.jobs:
                if job["state"] in ("pending", "running"):
                    ref = self._name(job["intent_id"])
                    yield f"P2 queue_not_drained: {job['kind']} job of {ref} is still {job['state']}"

    def _final_state_is_true(self, intent: Intent) -> Iterator[str]:
        sale = self._main_sale(intent)
        refunds = self.refunds(intent.ref, sale.tran_ref) if sale else []
        if intent.state == State.FULFILLED:
            missing = self._missing_delivery(intent)
            if missing:
                yield f"P2 fulfilled_incomplete: {intent.ref} is fulfilled but {', '.join(missing)}"
            if refunds and intent.ref not in self.kept_place:
                yield f"P2 fulfilled_and_refunded: {intent.ref} is fulfilled but PayTabs refunded {refunds[0].tran_ref}"
        elif intent.state == State.REFUNDED and not refunds:
            yield f"P2 refunded_without_refund: {intent.ref} is refunded but PayTabs has no approved refund of its sale"

    def _missing_delivery(self, intent: Intent) -> list[str]:
        missing = []
        if intent.wp_user_id is None or intent.wp_user_id not in self.users:
            missing.append(f"user {intent.wp_user_id} does not exist")
        if not self.bookings_by_ref.get(intent.ref):
            missing.append("there is no booking")
        if intent.wp_user_id not in self.members_of(intent.bp_group_id):
            missing.append(f"user {intent.wp_user_id} is not in group {intent.bp_group_id}")
        return missing

    def _main_sale(self, intent: Intent) -> Transaction | None:
        sales = self.sales(intent.ref)
        return next(
            (s for s in sales if s.tran_ref == intent.tran_ref), sales[-1] if sales else None
        )

    def _member_only_by(self, intent: Intent) -> bool:
        """Tell whether a user of the intent is in its group with no fulfilled intent for it."""
        users = {u.id for u in self.wp.users if u.intent_ref == intent.ref} | {intent.wp_user_id}
        members = set(self.members_of(intent.bp_group_id))
        return any(
            user_id in members
            and not any(
                other.state == State.FULFILLED
                and other.wp_user_id == user_id
                and other.bp_group_id == intent.bp_group_id
                for other in self.store.intents
            )
            for user_id in users
            if user_id is not None
        )

    def _every_sale_settled(self, expected_attention: set[str]) -> Iterator[str]:
        for cart_id, txns in sorted(self.by_cart.items()):
            sales = audit.approved_sales(txns, cart_id)
            if not sales:
                continue
            intent = self.intents.get(cart_id)
            if intent is None:
                yield f"P2 sale_without_intent: PayTabs approved {sales[0].tran_ref} for unknown cart {cart_id}"
                continue
            main = self._main_sale(intent)
            for sale in sales:
                refunded = bool(self.refunds(cart_id, sale.tran_ref))
                if sale is not main and not refunded:
                    yield f"P2 extra_sale_kept: {cart_id} has a second approved sale {sale.tran_ref} that is not refunded"
            yield from self._settled(intent, expected_attention)

    def _settled(self, intent: Intent, expected_attention: set[str]) -> Iterator[str]:
        if intent.state == State.FULFILLED:
            return
        if intent.state == State.REFUNDED:
            if self.bookings_by_ref.get(intent.ref):
                yield f"P2 refunded_but_booked: {intent.ref} is refunded but its booking is still in WordPress"
            if self._member_only_by(intent):
                yield f"P2 refunded_but_member: {intent.ref} is refunded but its user is still in group {intent.bp_group_id}"
            return
        if intent.state == State.NEEDS_ATTENTION and intent.ref in expected_attention:
            return
        why = f" ({intent.state_reason})" if intent.state_reason else ""
        yield f"P2 paid_not_settled: PayTabs approved {intent.ref} but it ended {intent.state}{why}"

    # promise 3
    def at_most_once(self) -> Iterator[str]:
        stamped = Counter(u.intent_ref for u in self.wp.users if u.intent_ref)
        for ref, n in sorted(stamped.items()):
            if n > 1:
                yield f"P3 duplicate_user: {n} users were created for {ref}"
        for ref, bookings in sorted(self.bookings_by_ref.items()):
            if len(bookings) > 1:
                ids = ", ".join(str(b.id) for b in bookings)
                yield f"P3 duplicate_booking: {len(bookings)} bookings for {ref} ({ids})"
        for bp_group_id, user_ids in sorted(self.wp.members.items()):
            for user_id, n in sorted(Counter(user_ids).items()):
                if n > 1:
                    yield f"P3 duplicate_membership: user {user_id} is in BuddyPress group {bp_group_id} {n} times"
        refunds = {cart: list(txns) for cart, txns in self.by_cart.items()}
        for d in audit.check_refunds(refunds):
            yield f"P3 double_refund: {d.detail} (cart {d.ref})"
        paid = Counter(t["intent_id"] for t in self.store.transitions if t["to_state"] == "paid")
        for intent_id, n in sorted(paid.items()):
            if n > 1:
                yield f"P3 paid_twice: {self._name(intent_id)} moved to paid {n} times"
        jobs = Counter((j["intent_id"], j["kind"]) for j in self.store.jobs)
        for (intent_id, kind), n in sorted(jobs.items()):
            if n > 1:
                yield f"P3 duplicate_job: {self._name(intent_id)} has {n} {kind} jobs"

    # promise 4
    def within_capacity(self) -> Iterator[str]:
        rules = audit.Rules(now=0.0)
        for d in audit.check_groups(self.wp.groups, self.wp.bookings, {}, rules):
            if d.kind == "over_capacity":
                yield f"P4 over_capacity: group {d.group_id} has {d.detail}"

    # promise 5
    def payments_match_paytabs(self) -> Iterator[str]:
        for t in self.store.transitions:
            if t["event"] not in PAYMENT_EVENTS:
                continue
            intent = self.intents_by_id.get(t["intent_id"])
            if intent is None:
                yield f"P5 payment_for_unknown_intent: transition {t['id']} names intent id {t['intent_id']}"
                continue
            sales = self.sales(intent.ref)
            if not any(mismatch(intent, s) is None for s in sales):
                problems = "; ".join(filter(None, (mismatch(intent, s) for s in sales)))
                seen = f" ({problems})" if problems else " (PayTabs has no approved sale)"
                yield f"P5 payment_not_confirmed: {intent.ref} moved {t['from_state']} -> {t['to_state']} on {t['event']}{seen}"
        for intent in self.store.intents:
            if intent.state in CLAIMS_PAYMENT and not self.paid(intent.ref):
                yield f"P5 state_without_sale: {intent.ref} is {intent.state} but PayTabs has no approved sale"

    # promise 7
    def carts_balance(self, settled: bool) -> Iterator[str]:
        if not settled:
            return  # a second sale's refund, or the intent's own, may still be on its way
        for intent in self.store.intents:
            if intent.state == State.FULFILLED and intent.ref in self.kept_place:
                continue  # refunded at PayTabs after the place was given: audit reports it
            for problem in ledger.balance_problems(intent, self.by_cart.get(intent.ref, [])):
                yield f"P7 cart_unbalanced: {intent.ref}: {problem}"

    # promise 8
    def one_place_per_person(self) -> Iterator[str]:
        places: dict[tuple[int, int], list[Booking]] = defaultdict(list)
        for b in self.wp.bookings:
            places[(b.user_id, b.group_id)].append(b)
        for (user_id, group_id), held in sorted(places.items()):
            n = len(held)
            # The site's own bookings alone are its business; one of ours beside any other is not.
            if n > 1 and not all(self.is_foreign(b.intent_ref) for b in held):
                yield f"P8 duplicate_place: user {user_id} has {n} bookings in group {group_id}"

    def _name(self, intent_id: int) -> str:
        intent = self.intents_by_id.get(intent_id)
        return intent.ref if intent else f"intent id {intent_id}"
