"""The intent's state machine: one pure transition table, no I/O.

Every caller (checkout, confirmation job, sweeps, fulfilment, refunds, operators) asks this module:
``is_allowed`` for a move, the named sets and ``is_payable``/``holds_seat`` for a question, and
``sidecar.store.transitions`` applies the move (``start_intent`` for the first one).
"""

from __future__ import annotations

from enum import StrEnum

from sidecar.domain.messages import CANCELLED_MESSAGES, STATE_MESSAGES


class State(StrEnum):
    """Where an intent is in its life."""

    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    FULFILLING = "fulfilling"
    FULFILLED = "fulfilled"
    PAYMENT_FAILED = "payment_failed"
    EXPIRED = "expired"
    REFUNDING = "refunding"
    REFUNDED = "refunded"
    NEEDS_ATTENTION = "needs_attention"


class Event(StrEnum):
    """What can happen to an intent."""

    CHECKOUT = "checkout"  # the buyer's form was accepted and a seat held: the intent begins
    PAYMENT_CONFIRMED = "payment_confirmed"  # PayTabs query says A, seat still ours
    PAYMENT_CONFIRMED_NO_SEAT = "payment_confirmed_no_seat"  # A, but the seat is gone
    PAYMENT_FAILED = "payment_failed"  # D, E, X, C, V
    HOLD_EXPIRED = "hold_expired"  # the sweep queried PayTabs: nothing paid
    FULFILMENT_STARTED = "fulfilment_started"
    FULFILMENT_DONE = "fulfilment_done"
    FULFILMENT_GAVE_UP = "fulfilment_gave_up"  # transient failures past the budget
    FULFILMENT_IMPOSSIBLE = "fulfilment_impossible"  # group full, closed or gone
    REFUND_CONFIRMED = "refund_confirmed"
    REFUND_GAVE_UP = "refund_gave_up"
    OPERATOR_REDRIVE = "operator_redrive"
    OPERATOR_REFUND = "operator_refund"
    # An operator cancels a fulfilled registration: un-book, leave the group, refund (all or part).
    OPERATOR_CANCEL = "operator_cancel"
    # PayTabs took money that cannot be this intent's price (another amount or currency).
    PAYMENT_MISMATCHED = "payment_mismatched"
    # The sale was refunded at PayTabs (its dashboard) before the sidecar confirmed it.
    REFUNDED_AT_PAYTABS = "refunded_at_paytabs"
    PARTLY_REFUNDED_AT_PAYTABS = "partly_refunded_at_paytabs"
    # The paying browser pressed "Try again" after a decline, while its seat was still kept:
    # a fresh PayTabs page for the same intent (same cart).
    RETRY = "retry"


class InvalidTransition(Exception):
    """The event is not legal in the intent's current state."""

    def __init__(self, state: State, event: Event) -> None:
        super().__init__(f"{event.value} is not allowed in state {state.value}")
        self.state = state
        self.event = event


S, E = State, Event
_UNCONFIRMED = (S.AWAITING_PAYMENT, S.PAYMENT_FAILED, S.EXPIRED)

TRANSITIONS: dict[tuple[State, Event], State] = {
    (S.AWAITING_PAYMENT, E.PAYMENT_CONFIRMED): S.PAID,
    (S.AWAITING_PAYMENT, E.PAYMENT_CONFIRMED_NO_SEAT): S.REFUNDING,
    (S.AWAITING_PAYMENT, E.PAYMENT_FAILED): S.PAYMENT_FAILED,
    (S.AWAITING_PAYMENT, E.HOLD_EXPIRED): S.EXPIRED,
    # Only while the declined intent keeps its seat (``seat_kept``, until its hold ends) and no
    # sale of its cart is approved: the retry checks PayTabs' ledger first.
    (S.PAYMENT_FAILED, E.RETRY): S.AWAITING_PAYMENT,
    # A late "A" is never ignored: it is fulfilled if a seat can be had again, else refunded.
    (S.PAYMENT_FAILED, E.PAYMENT_CONFIRMED): S.PAID,
    (S.PAYMENT_FAILED, E.PAYMENT_CONFIRMED_NO_SEAT): S.REFUNDING,
    (S.EXPIRED, E.PAYMENT_CONFIRMED): S.PAID,
    (S.EXPIRED, E.PAYMENT_CONFIRMED_NO_SEAT): S.REFUNDING,
    # PayTabs' ledger decides: money that cannot buy the place goes back, money already given
    # back ends the intent, and a sale refunded in part goes to an operator.
    **{(start, E.PAYMENT_MISMATCHED): S.REFUNDING for start in _UNCONFIRMED},
    **{(start, E.REFUNDED_AT_PAYTABS): S.REFUNDED for start in _UNCONFIRMED},
    **{(start, E.PARTLY_REFUNDED_AT_PAYTABS): S.NEEDS_ATTENTION for start in _UNCONFIRMED},
    (S.PAID, E.FULFILMENT_STARTED): S.FULFILLING,
    (S.FULFILLING, E.FULFILMENT_DONE): S.FULFILLED,
    (S.FULFILLING, E.FULFILMENT_GAVE_UP): S.NEEDS_ATTENTION,
    (S.FULFILLING, E.FULFILMENT_IMPOSSIBLE): S.REFUNDING,
    (S.PAID, E.FULFILMENT_IMPOSSIBLE): S.REFUNDING,
    (S.REFUNDING, E.REFUND_CONFIRMED): S.REFUNDED,
    (S.REFUNDING, E.REFUND_GAVE_UP): S.NEEDS_ATTENTION,
    (S.NEEDS_ATTENTION, E.OPERATOR_REDRIVE): S.FULFILLING,
    (S.NEEDS_ATTENTION, E.OPERATOR_REFUND): S.REFUNDING,
    (S.PAID, E.OPERATOR_REFUND): S.REFUNDING,
    # The refund job removes the booking and the membership before it gives the money back.
    (S.FULFILLED, E.OPERATOR_CANCEL): S.REFUNDING,
}

# States in which the intent owns a seat of its group.
SEAT_HOLDING = frozenset({S.AWAITING_PAYMENT, S.PAID, S.FULFILLING, S.FULFILLED, S.NEEDS_ATTENTION})
# States in which PayTabs has (or may soon have) money for the intent.
MONEY_TAKEN = frozenset({S.PAID, S.FULFILLING, S.FULFILLED, S.REFUNDING, S.REFUNDED})
FINAL = frozenset({S.FULFILLED, S.REFUNDED})
# States in which nothing more happens unless PayTabs reports money late: the buyer's page is done
# and, after the retention period, the personal data goes.
ENDED = frozenset({S.FULFILLED, S.PAYMENT_FAILED, S.EXPIRED, S.REFUNDED})
# The events that start an intent, and the state each starts it in.
STARTS: dict[Event, State] = {E.CHECKOUT: S.AWAITING_PAYMENT}
# States a payment notification may still change (a late A on a failed or expired intent counts).
AWAITING_CONFIRMATION = frozenset({S.AWAITING_PAYMENT, S.PAYMENT_FAILED, S.EXPIRED})


def next_state(current: State, event: Event) -> State:
    """Return the state ``event`` leads to from ``current``, or raise InvalidTransition."""
    try:
        return TRANSITIONS[(current, event)]
    except KeyError:
        raise InvalidTransition(current, event) from None


def is_allowed(current: State, event: Event) -> bool:
    """Tell whether ``event`` is legal in ``current``."""
    return (current, event) in TRANSITIONS


def first_state(event: Event) -> State:
    """Return the state a new intent starts in through ``event`` (only a starting event)."""
    return STARTS[event]


def is_payable(state: State) -> bool:
    """Tell whether the intent's hosted page may still be paid (a seat is held for it)."""
    return state == S.AWAITING_PAYMENT


def holds_seat(state: State, seat_kept: bool = False) -> bool:
    """Tell whether an intent in ``state`` counts against its group's capacity.

    A declined payment (payment_failed) keeps its seat while ``seat_kept``: until its original
    hold ends, so that "Try again" cannot lose the place.
    """
    return state in SEAT_HOLDING or (seat_kept and state == S.PAYMENT_FAILED)


def can_retry(state: State, seat_kept: bool, hold_expires_at: float, now: float) -> bool:
    """Tell whether "Try again" may open a fresh page: declined, seat still kept, hold not over."""
    return state == S.PAYMENT_FAILED and seat_kept and now < hold_expires_at


def buyer_message(state: State, reason: str | None = None) -> str:
    """Return the sentence the registration status page shows for ``state`` (and its reason)."""
    if reason == "cancelled" and state.value in CANCELLED_MESSAGES:
        return CANCELLED_MESSAGES[state.value]
    return BUYER_MESSAGES[state]


# The sentences live in sidecar.domain.messages, with every other sentence a buyer reads.
BUYER_MESSAGES: dict[State, str] = {state: STATE_MESSAGES[state.value] for state in State}
