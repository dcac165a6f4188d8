"""The one place where an intent changes state: lock the row, re-read, ask the table, record."""

from __future__ import annotations

from typing import Any

from sidecar import repository as repo
from sidecar.db import Tx
from sidecar.errors import IntentNotFound
from sidecar.repository import Intent
from sidecar.services import Services
from sidecar.states import Event, State, next_state

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
    if new_state in NO_LONGER_NEEDS_PASSWORD:
        changes["password_enc"] = None  # a form password lives only until it can no longer be used
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
    assert updated is not None
    return updated


def park_for_operator(
    services: Services,
    intent_id: int,
    *,
    expected: State,
    event: Event,
    reason: str,
    detail: str,
    message: str,
) -> None:
    """Move an intent that is still ``expected`` to needs_attention and alert the operator."""
    with services.db.transaction() as tx:
        intent = repo.get_intent(tx, intent_id, lock=True)
        if intent is None or intent.state != expected:
            return  # someone else moved it meanwhile: nothing to park
        apply_event(
            tx,
            intent.id,
            event,
            source="worker",
            now=services.clock(),
            detail=detail[:300],
            state_reason=reason,
        )
    from sidecar.alerts import alert

    alert(services, "needs_attention", intent.ref, message)
