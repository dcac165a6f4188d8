"""The one place where an intent changes state: lock the row, re-read, ask the table, record."""

from __future__ import annotations

from typing import Any

from sidecar.core.errors import IntentNotFound
from sidecar.domain.states import Event, State, first_state, next_state
from sidecar.store import repository as repo
from sidecar.store.db import Tx
from sidecar.store.repository import Intent

NO_LONGER_NEEDS_PASSWORD = frozenset(
    {State.PAYMENT_FAILED, State.EXPIRED, State.REFUNDING, State.REFUNDED, State.FULFILLED}
)


def apply_event(
    tx: Tx,
    intent_id: int,
    event: Event,
    *,
    source: str,
    now: float,
    detail: str | None = None,
    **changes: Any,
) -> Intent:
    """Move the intent along ``event`` under its row lock, or raise InvalidTransition.

    Compare-and-set: the state is re-read under the lock, so of two racing callers (IPN, return,
    sweep, operator) exactly one moves the intent and the other sees the new state and is refused.
    """
    intent = repo.get_intent(tx, intent_id, lock=True)
    if intent is None:
        raise IntentNotFound(f"intent {intent_id} does not exist")
    tx.race_window()
    new_state = next_state(intent.state, event)
    if new_state != State.PAYMENT_FAILED:
        changes["seat_kept"] = False  # only a declined payment keeps a seat by that flag
    if new_state in NO_LONGER_NEEDS_PASSWORD and not changes.get("seat_kept"):
        # A form password lives only until it can no longer be used; a declined payment that
        # keeps its seat for "Try again" keeps it until the hold ends (the sweep drops it then).
        changes["password_enc"] = None
    repo.update_intent(tx, intent.id, now, state=new_state, **changes)
    repo.insert_transition(
        tx,
        intent_id=intent.id,
        from_state=intent.state.value,
        to_state=new_state.value,
        event=event.value,
        source=source,
        detail=detail,
        now=now,
    )
    updated = repo.get_intent(tx, intent.id)
    if updated is None:
        raise AssertionError(f"intent {intent.ref} vanished")
    return updated


def start_intent(
    tx: Tx, values: dict[str, Any], event: Event, *, source: str, now: float
) -> Intent:
    """Store a new intent in the state ``event`` starts it in, and record that first transition."""
    state = first_state(event)
    intent_id = repo.insert_intent(tx, {**values, "state": state})
    repo.insert_transition(
        tx,
        intent_id=intent_id,
        from_state=None,
        to_state=state.value,
        event=event.value,
        source=source,
        detail=None,
        now=now,
    )
    intent = repo.get_intent(tx, intent_id)
    if intent is None:
        raise AssertionError(f"intent {intent_id} vanished")
    return intent
