"""What the WordPress payments panel lists: registrations found by text or state, and the ones
that need an operator (the dashboard widget)."""

from __future__ import annotations

from sidecar.core.container import Services
from sidecar.domain.states import State
from sidecar.store import repository as repo
from sidecar.store.repository import Intent
from sidecar.store.repository.intents import search_intents

MAX_LIMIT = 100
DEFAULT_LIMIT = 50


def find_registrations(
    services: Services, *, text: str | None, state: str | None, limit: int = DEFAULT_LIMIT
) -> list[Intent]:
    """Return intents, newest first, whose e-mail, name, ref or tran_ref contains ``text``."""
    with services.db.transaction() as tx:
        return search_intents(tx, text=text, state=state, limit=max(1, min(MAX_LIMIT, int(limit))))


def needing_attention(services: Services, *, limit: int = MAX_LIMIT) -> list[Intent]:
    """Return the intents in needs_attention, newest first."""
    return find_registrations(services, text=None, state=State.NEEDS_ATTENTION.value, limit=limit)


def find_registration(services: Services, ref: str) -> Intent | None:
    """Return the intent with this ref, or None."""
    with services.db.transaction() as tx:
        return repo.find_intent_by_ref(tx, ref)
