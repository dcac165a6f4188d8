"""Parking an intent for an operator: the one way a worker hands over what it cannot finish."""

from __future__ import annotations

from sidecar.core.container import Services
from sidecar.domain.states import Event, is_allowed
from sidecar.payments.alerts import alert
from sidecar.store import repository as repo
from sidecar.store.transitions import apply_event


def park_for_operator(
    services: Services,
    intent_id: int,
    *,
    event: Event,
    reason: str,
    detail: str,
    message: str,
) -> None:
    """Move an intent to needs_attention along ``event`` (if still legal) and alert the operator."""
    with services.db.transaction() as tx:
        intent = repo.get_intent(tx, intent_id, lock=True)
        if intent is None or not is_allowed(intent.state, event):
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
    alert(services, "needs_attention", intent.ref, message)
