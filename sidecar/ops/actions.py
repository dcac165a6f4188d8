"""Operator actions on one intent: its history, redrive, refund, reconcile with PayTabs.

Each goes through ``apply_event`` (source ``operator``) under the intent's row lock and queues the
job that does the work, so the worker's rules (idempotent fulfilment, never two refunds) hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sidecar.core.container import Services
from sidecar.domain.states import AWAITING_CONFIRMATION, Event, InvalidTransition, State, is_allowed
from sidecar.jobs.kinds import JobKind
from sidecar.jobs.outbox import enqueue
from sidecar.jobs.runner import drain, run_job
from sidecar.payments import ledger
from sidecar.store import repository as repo
from sidecar.store.db import Tx
from sidecar.store.repository import Intent
from sidecar.store.transitions import apply_event

SOURCE = "operator"


class OperatorRefused(Exception):
    """The action does not apply to the intent in its current state (the message says why)."""


@dataclass(frozen=True)
class Outcome:
    """What an operator action did to one intent."""

    ref: str
    before: str
    after: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """Return a JSON-ready dict."""
        return {
            "ref": self.ref,
            "before": self.before,
            "after": self.after,
            "message": self.message,
        }


def redrive(services: Services, ref: str, *, source: str = SOURCE) -> Outcome:
    """Send a stuck intent back to its worker: fulfilment again, or the refund that gave up.

    ``source`` is recorded in the transition: who acted (the panel's "wp:<login>").
    """
    now = services.clock()
    with services.db.transaction() as tx:
        intent = _locked(tx, ref)
        events = [t["event"] for t in repo.list_transitions(tx, intent.id)]
        refund_gave_up = bool(events) and events[-1] == Event.REFUND_GAVE_UP.value
        if intent.state == State.NEEDS_ATTENTION and refund_gave_up:
            moved = _apply(
                tx, intent, Event.OPERATOR_REFUND, now, "redrive: refund again", source=source
            )
            kind, message = JobKind.REFUND, "refund job queued again"
        elif intent.state == State.NEEDS_ATTENTION:
            _refuse_while_email_taken(services, intent)
            moved = _apply(
                tx, intent, Event.OPERATOR_REDRIVE, now, "redrive", source=source, state_reason=None
            )
            kind, message = JobKind.FULFIL, "fulfilment job queued again"
        elif intent.state == State.REFUNDING and _job_state(tx, intent.id, JobKind.REFUND) in (
            None,
            "failed",
        ):
            moved, kind, message = intent, JobKind.REFUND, "refund job had stopped: queued again"
        else:
            raise OperatorRefused(
                f"{ref} is {intent.state}: only needs_attention intents (or refunding ones whose "
                "refund job stopped) can be redriven"
            )
        enqueue(services, tx, intent.id, kind)
    return Outcome(ref, intent.state.value, moved.state.value, message)


def _refuse_while_email_taken(services: Services, intent: Intent) -> None:
    """A redrive cannot succeed while another account still holds the buyer's email."""
    if intent.state_reason != "email_taken_by_another_account" or not intent.email:
        return
    holder = services.wordpress.find_user_by_email(intent.email)
    if holder is not None and holder.intent_ref != intent.ref:
        raise OperatorRefused(
            f"{intent.ref}: WordPress user {holder.id} still has this email. Free the email in "
            "WordPress (or ask the buyer), then redrive; or refund the intent."
        )


def refund(services: Services, ref: str) -> Outcome:
    """Move a paid or needs_attention intent to refunding and queue its refund job."""
    now = services.clock()
    with services.db.transaction() as tx:
        intent = _locked(tx, ref)
        if not is_allowed(intent.state, Event.OPERATOR_REFUND):
            raise OperatorRefused(
                f"{ref} is {intent.state}: only paid or needs_attention intents can be refunded"
            )
        moved = _apply(
            tx,
            intent,
            Event.OPERATOR_REFUND,
            now,
            "operator refund",
            state_reason="operator_refund",
        )
        enqueue(services, tx, intent.id, JobKind.REFUND)
    left = [
        name
        for name, present in (
            (f"booking {intent.booking_id}", intent.booking_id is not None),
            (f"membership of user {intent.wp_user_id}", intent.member_joined),
        )
        if present
    ]
    note = f"; WordPress still has {' and '.join(left)}: remove by hand" if left else ""
    return Outcome(ref, intent.state.value, moved.state.value, "refund job queued" + note)


def run_now(services: Services, ref: str, kinds: tuple[JobKind, ...]) -> list[str]:
    """Run the intent's due jobs of ``kinds`` in this process, in order; return their outcomes."""
    outcomes = []
    for kind in kinds:
        while True:
            with services.db.transaction() as tx:
                intent = _locked(tx, ref)
                job = repo.claim_job_for_intent(
                    tx,
                    intent_id=intent.id,
                    kind=kind,
                    now=services.clock(),
                    lease_seconds=services.settings.job_lease_seconds,
                )
            if job is None:
                break
            outcomes.append(f"{kind}: {run_job(services, job)}")
    return outcomes


def reconcile(
    services: Services, ref: str | None, since: float | None, limit: int = 500
) -> list[Outcome]:
    """Ask PayTabs again about intents still awaiting confirmation (one, or all since ``since``).

    For all, the carts of intents holding a sale are read too: a second sale gets its refund
    queued, and a cart that does not balance against its ended intent is named.
    """
    with services.db.transaction() as tx:
        if ref is not None:
            intents = [_locked(tx, ref)]
            if intents[0].state not in AWAITING_CONFIRMATION:
                raise OperatorRefused(
                    f"{ref} is {intents[0].state}: only awaiting_payment, payment_failed and "
                    "expired intents wait for a PayTabs confirmation"
                )
        else:
            states = [s.value for s in AWAITING_CONFIRMATION]
            intents = repo.list_intents_in_states(tx, states, since=since, limit=limit)
        for intent in intents:
            enqueue(services, tx, intent.id, JobKind.CONFIRM)
    drain(services, kinds=[JobKind.CONFIRM], limit=2 * len(intents) + 10)
    outcomes = [_after_confirmation(services, intent) for intent in intents]
    if ref is None:
        for cart in ledger.check_carts(services, since, limit):
            state = cart.intent.state.value
            outcomes.append(Outcome(cart.intent.ref, state, state, "; ".join(cart.notes)))
    return outcomes


def _after_confirmation(services: Services, before: Intent) -> Outcome:
    with services.db.transaction() as tx:
        after = repo.get_intent(tx, before.id)
        attempts = repo.list_job_attempts(tx, before.id)
    if after is None:
        raise AssertionError(f"intent {before.ref} vanished")
    last = next((a for a in reversed(attempts) if a["kind"] == JobKind.CONFIRM), None)
    if last is None:
        message = "not queried"
    else:
        message = f"PayTabs query: {last['outcome'] or 'running'}"
        message += f" ({last['error']})" if last["error"] else ""
    if after.state == State.PAID:
        message += "; the worker fulfils it next"
    return Outcome(before.ref, before.state.value, after.state.value, message)


def _locked(tx: Tx, ref: str) -> Intent:
    intent = repo.find_intent_by_ref(tx, ref, lock=True)
    if intent is None:
        raise OperatorRefused(f"no intent with ref {ref}")
    return intent


def _apply(
    tx: Tx,
    intent: Intent,
    event: Event,
    now: float,
    detail: str,
    *,
    source: str = SOURCE,
    **changes: object,
) -> Intent:
    try:
        return apply_event(tx, intent.id, event, source=source, now=now, detail=detail, **changes)
    except InvalidTransition as exc:
        raise OperatorRefused(f"{intent.ref}: {exc}") from exc


def _job_state(tx: Tx, intent_id: int, kind: str) -> str | None:
    job = repo.find_job(tx, intent_id, kind)
    return job.state if job is not None else None


def history(services: Services, ref: str) -> dict[str, Any] | None:
    """Return the intent's facts and its timeline (transitions, notifications, job runs) by time."""
    with services.db.transaction() as tx:
        intent = repo.find_intent_by_ref(tx, ref)
        if intent is None:
            return None
        transitions = repo.list_transitions(tx, intent.id)
        notifications = repo.list_notifications(tx, intent.id)
        jobs = repo.list_jobs(tx, intent.id)
        attempts = repo.list_job_attempts(tx, intent.id)
    events = [
        *({"at": t["at"], "what": "transition", **_pick(t, TRANSITION)} for t in transitions),
        *({"at": n["received_at"], "what": "notification", **_pick(n, NOTIFICATION)}
          for n in notifications),
        *({"at": a["started_at"], "what": "job", **_pick(a, ATTEMPT)} for a in attempts),
    ]  # fmt: skip
    events.sort(key=_timeline_order)
    job_rows = [_pick(j, ("kind", "state", "attempts", "run_after", "last_error")) for j in jobs]
    return {"intent": _facts(intent), "timeline": events, "jobs": job_rows}


# What the timeline shows of each row. Never a notification's body or headers: personal data.
TRANSITION = {"from": "from_state", "to": "to_state", "event": "event", "source": "source",
              "detail": "detail"}  # fmt: skip
NOTIFICATION = {"channel": "channel", "signature_ok": "signature_ok", "outcome": "outcome",
                "tran_ref": "tran_ref"}  # fmt: skip
ATTEMPT = {"kind": "kind", "attempt": "attempt", "outcome": "outcome", "error": "error",
           "finished_at": "finished_at"}  # fmt: skip


def _pick(row: dict[str, Any], names: Any) -> dict[str, Any]:
    """Return the named columns of a row (``names`` maps output keys to columns, or lists them)."""
    pairs = names.items() if isinstance(names, dict) else ((n, n) for n in names)
    return {key: bool(row[col]) if col == "signature_ok" else row[col] for key, col in pairs}


# Ties (a frozen test clock, or one fast run) fall back to the order in which the steps happen:
# checkout, notifications, then each job kind with the transitions it made right after its run.
STEPS = {"checkout": 0, "notification": 1, "confirm": 2, "fulfil": 3, "refund": 4, "email": 5}
EVENT_STEP = {
    **dict.fromkeys(
        (
            "payment_confirmed",
            "payment_confirmed_no_seat",
            "payment_failed",
            "payment_mismatched",
            "refunded_at_paytabs",
            "partly_refunded_at_paytabs",
        ),
        "confirm",
    ),
    **dict.fromkeys(("fulfilment_started", "fulfilment_done", "fulfilment_gave_up"), "fulfil"),
    "fulfilment_impossible": "fulfil",
    **dict.fromkeys(("refund_confirmed", "refund_gave_up"), "refund"),
}


def _timeline_order(event: dict[str, Any]) -> tuple[float, int, int]:
    if event["what"] == "transition":
        step = "checkout" if event["from"] is None else EVENT_STEP.get(event["event"], "")
        return event["at"], STEPS.get(step, len(STEPS)), 1
    step = event["kind"] if event["what"] == "job" else "notification"
    return event["at"], STEPS.get(step, len(STEPS)), 0


def _facts(intent: Intent) -> dict[str, Any]:
    """Return what operators need about an intent: no password, token hashes or page URLs."""
    names = (
        "ref",
        "state",
        "state_reason",
        "group_id",
        "bp_group_id",
        "group_name",
        "amount_minor",
        "currency",
        "email",
        "wp_user_id",
        "buyer_logged_in",
        "user_created",
        "booking_id",
        "member_joined",
        "confirmation_sent",
        "tran_ref",
        "refund_tran_ref",
        "refund_status",
        "refund_requested_at",
        "hold_expires_at",
        "paid_at",
        "fulfilled_at",
        "purged_at",
        "created_at",
        "updated_at",
    )
    facts = {name: getattr(intent, name) for name in names}
    facts["state"] = intent.state.value
    return facts
