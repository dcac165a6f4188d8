"""A cancelled registration leaves WordPress: its booking, then its group membership.

Run by the refund job before any money goes back. Each step is idempotent (the bridge answers 200
for a booking already gone; a membership is asked about before it is removed), fenced by the job's
lease like fulfilment's steps, and recorded on the intent before the next one starts. The WordPress
account stays: the buyer may register again.
"""

from __future__ import annotations

import logging

from sidecar.core.container import Services
from sidecar.domain.states import Event, is_allowed
from sidecar.jobs.outbox import IntentMovedOn, crash_point, hold_lease
from sidecar.store import repository as repo
from sidecar.store.repository import Intent, Job

log = logging.getLogger(__name__)


def remove_from_wordpress(services: Services, job: Job, intent: Intent) -> Intent:
    """Cancel the intent's booking and leave its BuddyPress group; return the updated intent."""
    if intent.booking_id is not None:
        _fence(services, job)
        removed = services.wordpress.cancel_booking(intent.ref)
        crash_point(services, "after_wp_booking_cancelled")
        log.info("intent %s: booking %s %s", intent.ref, intent.booking_id,
                 "cancelled" if removed else "was already gone")  # fmt: skip
        intent = _record(services, intent, booking_id=None)
    if intent.member_joined and intent.wp_user_id is not None:
        _fence(services, job)
        services.wordpress.leave_group(intent.bp_group_id, intent.wp_user_id)
        crash_point(services, "after_wp_group_left")
        intent = _record(services, intent, member_joined=False)
    return intent


def _fence(services: Services, job: Job) -> None:
    """Before touching WordPress: the job must still be ours and the intent still refunding."""
    hold_lease(services, job)
    with services.db.transaction() as tx:
        intent = repo.get_intent(tx, job.intent_id)
    if intent is None or not is_allowed(intent.state, Event.REFUND_CONFIRMED):
        raise IntentMovedOn(f"intent is {intent.state.value if intent else 'gone'}, not refunding")


def _record(services: Services, intent: Intent, **values: object) -> Intent:
    with services.db.transaction() as tx:
        repo.update_intent(tx, intent.id, services.clock(), **values)
        fresh = repo.get_intent(tx, intent.id)
    if fresh is None:
        raise AssertionError(f"intent {intent.ref} vanished")
    return fresh
