"""The fulfilment job: ensure the user, book the session, join the group, mark fulfilled.

Every step is idempotent and recorded on the intent before the next one starts, so a run that died
anywhere is finished by the next run without creating anything twice.
"""

from __future__ import annotations

import logging
import re
import secrets

from sidecar.core.container import Services
from sidecar.core.secretbox import decrypt
from sidecar.domain.states import Event, is_allowed
from sidecar.jobs.kinds import JobKind
from sidecar.jobs.outbox import GiveUp, IntentMovedOn, Retry, crash_point, enqueue, hold_lease
from sidecar.payments.attention import park_for_operator
from sidecar.payments.receipt import payment_details
from sidecar.store import repository as repo
from sidecar.store.repository import Intent, Job
from sidecar.store.transitions import apply_event
from wp_bridge import errors as wp_errors

log = logging.getLogger(__name__)


class FulfilmentImpossible(Exception):
    """The group is full, closed or gone: the payment must be refunded."""


def run_fulfilment(services: Services, job: Job) -> str:
    """Run the remaining fulfilment steps of the intent."""
    intent = _start(services, job.intent_id)
    if intent is None:
        return "nothing_to_fulfil"
    try:
        if intent.wp_user_id is None:
            _check_group_bookable(services, intent)
            _fence(services, job)
            intent = _ensure_user(services, intent)
        if intent.booking_id is None:
            _fence(services, job)
            intent = _book(services, intent)
        if not intent.member_joined:
            _fence(services, job)
            intent = _join(services, intent)
    except FulfilmentImpossible as exc:
        _move_to_refund(services, intent, str(exc))
        return "impossible_refunding"
    with services.db.transaction() as tx:
        apply_event(
            tx,
            intent.id,
            Event.FULFILMENT_DONE,
            source="worker",
            now=services.clock(),
            fulfilled_at=services.clock(),
            password_enc=None,
            state_reason=None,
        )
        enqueue(services, tx, intent.id, JobKind.EMAIL)
    return "fulfilled"


def _fence(services: Services, job: Job) -> None:
    """Before touching WordPress: the job must still be ours and the intent still fulfilling."""
    hold_lease(services, job)
    with services.db.transaction() as tx:
        intent = repo.get_intent(tx, job.intent_id)
    if intent is None or not is_allowed(intent.state, Event.FULFILMENT_DONE):
        raise IntentMovedOn(f"intent is {intent.state.value if intent else 'gone'}, not fulfilling")


def _start(services: Services, intent_id: int) -> Intent | None:
    """Move a paid intent to fulfilling (or continue one already fulfilling)."""
    with services.db.transaction() as tx:
        intent = repo.get_intent(tx, intent_id, lock=True)
        if intent is None:
            return None
        if is_allowed(intent.state, Event.FULFILMENT_STARTED):
            return apply_event(
                tx, intent.id, Event.FULFILMENT_STARTED, source="worker", now=services.clock()
            )
        return intent if is_allowed(intent.state, Event.FULFILMENT_DONE) else None


def _record(services: Services, intent: Intent, step: str, **values: object) -> Intent:
    with services.db.transaction() as tx:
        repo.update_intent(tx, intent.id, services.clock(), **values)
        fresh = repo.get_intent(tx, intent.id)
    if fresh is None:
        raise AssertionError(f"intent {intent.ref} vanished")
    crash_point(services, f"after_wp_{step}_recorded")
    return fresh


def _check_group_bookable(services: Services, intent: Intent) -> None:
    """Refund before creating an account when the group is already full, closed or gone.

    The booking route decides for certain (under its lock); this only spares a buyer who will be
    refunded an account they never asked for.
    """
    try:
        group = services.wordpress.get_group(intent.group_id)
    except wp_errors.GroupNotFound as exc:
        raise FulfilmentImpossible("GroupNotFound") from exc
    if not group.open:
        raise FulfilmentImpossible("GroupClosed")
    if group.seats_taken >= group.capacity:
        raise FulfilmentImpossible("GroupFull")


def _ensure_user(services: Services, intent: Intent) -> Intent:
    """Find the account this intent created earlier, or create it; never adopt someone else's."""
    wp = services.wordpress
    email = intent.email or ""
    existing = wp.find_user_by_email(email)
    if existing is None:
        existing = _create_user(services, intent)
    elif existing.intent_ref != intent.ref:
        # Someone registered this email between checkout and payment: never log a buyer into an
        # account this intent did not create. An operator sorts it out (redrive or refund).
        raise GiveUp("email_taken_by_another_account")
    crash_point(services, "after_wp_user_returned")
    return _record(
        services, intent, "user", wp_user_id=existing.id, user_created=True, password_enc=None
    )


def _create_user(services: Services, intent: Intent):  # type: ignore[no-untyped-def]
    password = decrypt(services.settings, intent.password_enc) if intent.password_enc else None
    for attempt in range(4):
        try:
            return services.wordpress.create_user(
                username=username_for(intent, attempt),
                email=intent.email or "",
                password=password or secrets.token_urlsafe(24),
                first_name=intent.first_name or "",
                last_name=intent.last_name or "",
                intent_ref=intent.ref,
            )
        except wp_errors.UserAlreadyExists as exc:
            if exc.field == "email":
                found = services.wordpress.find_user_by_email(intent.email or "")
                if found is not None and found.intent_ref == intent.ref:
                    return found  # our own earlier attempt won; adopt it
                raise GiveUp("email_taken_by_another_account") from exc
    raise Retry("could not find a free username")


def username_for(intent: Intent, attempt: int) -> str:
    """Return a WordPress-safe username derived from the email (suffixed on later attempts)."""
    local = (intent.email or "member").split("@")[0]
    base = re.sub(r"[^a-z0-9_.-]", "", local.lower())[:40] or "member"
    return (
        base
        if attempt == 0
        else f"{base}-{intent.ref[-6:].lower()}{attempt if attempt > 1 else ''}"
    )


def _book(services: Services, intent: Intent) -> Intent:
    if intent.wp_user_id is None:
        raise AssertionError(f"intent {intent.ref} has no WordPress user to book")
    try:
        booking = services.wordpress.book_session(
            intent_ref=intent.ref,
            group_id=intent.group_id,
            user_id=intent.wp_user_id,
            # Stored with the booking: the thank-you page's receipt reads it from WordPress.
            payment=payment_details(services.settings, intent),
        )
    except (
        wp_errors.GroupFull,
        wp_errors.GroupClosed,
        wp_errors.GroupNotFound,
        wp_errors.AlreadyBooked,  # the member has a place already (another intent): refund this one
    ) as exc:
        raise FulfilmentImpossible(type(exc).__name__) from exc
    crash_point(services, "after_wp_booking_returned")
    return _record(services, intent, "booking", booking_id=booking.id)


def _join(services: Services, intent: Intent) -> Intent:
    if intent.wp_user_id is None:
        raise AssertionError(f"intent {intent.ref} has no WordPress user to add")
    wp = services.wordpress
    # BuddyPress re-adds are not reliably idempotent: check first, then add with context=view.
    if not wp.is_group_member(intent.bp_group_id, intent.wp_user_id):
        try:
            wp.join_group(intent.bp_group_id, intent.wp_user_id)
        except wp_errors.GroupNotFound as exc:
            raise FulfilmentImpossible("bp_group_not_found") from exc
    crash_point(services, "after_wp_membership_returned")
    return _record(services, intent, "membership", member_joined=True)


def _move_to_refund(services: Services, intent: Intent, reason: str) -> None:
    log.warning("intent %s cannot be fulfilled (%s): refunding", intent.ref, reason)
    with services.db.transaction() as tx:
        apply_event(
            tx,
            intent.id,
            Event.FULFILMENT_IMPOSSIBLE,
            source="worker",
            now=services.clock(),
            detail=reason,
            state_reason=_reason_code(reason),
        )
        enqueue(services, tx, intent.id, JobKind.REFUND)


def _reason_code(reason: str) -> str:
    codes = {
        "GroupFull": "group_full",
        "GroupClosed": "group_closed",
        "AlreadyBooked": "already_registered",
    }
    return codes.get(reason, "group_not_found")


def on_gave_up(services: Services, job: Job, error: str) -> None:
    """Past the retry budget (or a permanent problem): park the intent for an operator."""
    taken = "email_taken" in error
    reason = "email_taken_by_another_account" if taken else "fulfilment_retries_exhausted"
    park_for_operator(
        services,
        job.intent_id,
        event=Event.FULFILMENT_GAVE_UP,
        reason=reason,
        detail=error,
        message=f"fulfilment stopped: {reason}",
    )
