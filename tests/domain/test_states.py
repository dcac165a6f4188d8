"""The state machine table."""

from __future__ import annotations

import pytest

from sidecar.domain.states import (
    BUYER_MESSAGES,
    FINAL,
    TRANSITIONS,
    Event,
    InvalidTransition,
    State,
    can_retry,
    holds_seat,
    next_state,
)


def test_states_paid_path_reaches_fulfilled() -> None:
    state = State.AWAITING_PAYMENT
    for event in (Event.PAYMENT_CONFIRMED, Event.FULFILMENT_STARTED, Event.FULFILMENT_DONE):
        state = next_state(state, event)
    assert state == State.FULFILLED


@pytest.mark.parametrize("start", [State.EXPIRED, State.PAYMENT_FAILED])
def test_states_late_payment_is_never_ignored(start: State) -> None:
    assert next_state(start, Event.PAYMENT_CONFIRMED) == State.PAID
    assert next_state(start, Event.PAYMENT_CONFIRMED_NO_SEAT) == State.REFUNDING


@pytest.mark.parametrize("state", list(FINAL))
def test_states_final_states_accept_nothing(state: State) -> None:
    for event in Event:
        if (state, event) == (State.FULFILLED, Event.OPERATOR_CANCEL):
            continue  # an operator's cancellation is the one way out of fulfilled
        with pytest.raises(InvalidTransition):
            next_state(state, event)


def test_states_duplicate_confirmation_is_refused() -> None:
    paid = next_state(State.AWAITING_PAYMENT, Event.PAYMENT_CONFIRMED)
    with pytest.raises(InvalidTransition, match="payment_confirmed is not allowed in state paid"):
        next_state(paid, Event.PAYMENT_CONFIRMED)


def test_states_refund_only_after_money_or_operator() -> None:
    sources = {s for (s, e), t in TRANSITIONS.items() if t == State.REFUNDING}
    assert sources == {
        State.AWAITING_PAYMENT,
        State.PAYMENT_FAILED,
        State.EXPIRED,
        State.FULFILLING,
        State.PAID,
        State.NEEDS_ATTENTION,
        State.FULFILLED,  # only through an operator's cancellation
    }
    assert {e for (s, e), t in TRANSITIONS.items() if s == State.FULFILLED} == {
        Event.OPERATOR_CANCEL
    }
    # From awaiting/failed/expired only through a confirmed payment without a seat, or money
    # PayTabs took that is not the intent's price.
    for (s, e), t in TRANSITIONS.items():
        if t == State.REFUNDING and s in (
            State.AWAITING_PAYMENT,
            State.PAYMENT_FAILED,
            State.EXPIRED,
        ):
            assert e in (Event.PAYMENT_CONFIRMED_NO_SEAT, Event.PAYMENT_MISMATCHED)


def test_states_seat_holding_excludes_released_and_refunded() -> None:
    assert holds_seat(State.AWAITING_PAYMENT)
    assert holds_seat(State.FULFILLED)
    for state in (State.PAYMENT_FAILED, State.EXPIRED, State.REFUNDING, State.REFUNDED):
        assert not holds_seat(state)


def test_states_every_state_has_a_buyer_message() -> None:
    assert set(BUYER_MESSAGES) == set(State)


@pytest.mark.parametrize("start", [State.AWAITING_PAYMENT, State.PAYMENT_FAILED, State.EXPIRED])
def test_states_paytabs_ledger_events_end_an_unconfirmed_intent(start: State) -> None:
    assert next_state(start, Event.PAYMENT_MISMATCHED) == State.REFUNDING
    assert next_state(start, Event.REFUNDED_AT_PAYTABS) == State.REFUNDED
    assert next_state(start, Event.PARTLY_REFUNDED_AT_PAYTABS) == State.NEEDS_ATTENTION


@pytest.mark.parametrize(
    "event",
    [Event.PAYMENT_MISMATCHED, Event.REFUNDED_AT_PAYTABS, Event.PARTLY_REFUNDED_AT_PAYTABS],
)
def test_states_paytabs_ledger_events_never_touch_a_paid_intent(event: Event) -> None:
    for state in (State.PAID, State.FULFILLING, State.REFUNDING, State.NEEDS_ATTENTION):
        with pytest.raises(InvalidTransition):
            next_state(state, event)


def test_states_retry_leads_only_from_payment_failed_back_to_awaiting_payment() -> None:
    assert next_state(State.PAYMENT_FAILED, Event.RETRY) == State.AWAITING_PAYMENT
    assert {s for (s, e) in TRANSITIONS if e == Event.RETRY} == {State.PAYMENT_FAILED}


def test_states_declined_payment_holds_its_seat_only_while_kept() -> None:
    assert holds_seat(State.PAYMENT_FAILED, seat_kept=True)
    assert not holds_seat(State.PAYMENT_FAILED, seat_kept=False)
    assert not holds_seat(State.EXPIRED, seat_kept=True)  # the flag means nothing elsewhere


@pytest.mark.parametrize(
    ("state", "kept", "ends_in", "allowed"),
    [
        (State.PAYMENT_FAILED, True, 60.0, True),
        (State.PAYMENT_FAILED, True, 0.0, False),  # the hold ended
        (State.PAYMENT_FAILED, False, 60.0, False),  # the seat was released
        (State.EXPIRED, True, 60.0, False),
        (State.AWAITING_PAYMENT, True, 60.0, False),
        (State.PAID, True, 60.0, False),
    ],
)
def test_states_can_retry_only_a_declined_intent_keeping_its_seat(
    state: State, kept: bool, ends_in: float, allowed: bool
) -> None:
    assert can_retry(state, kept, 1000.0 + ends_in, 1000.0) is allowed
