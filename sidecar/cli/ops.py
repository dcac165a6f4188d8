"""Operator commands (intents, redrive, refund, reconcile, audit); registered on the CLI group.

Tables are for people (fixed-width columns, UTC times); ``--json`` prints the same facts for
scripts (times as epoch seconds). Nothing here prints a secret or a notification body; the
buyer's e-mail is shown (list and show) because operators find and help buyers by it.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from sidecar.cli.render import render_history, table
from sidecar.core.container import Services
from sidecar.core.errors import SidecarError
from sidecar.domain.money import from_minor
from sidecar.domain.states import State
from sidecar.jobs.kinds import JobKind
from sidecar.ops import actions as ops
from sidecar.ops import audit as audit_checks
from sidecar.ops.reasons import list_reason, when
from sidecar.paytabs import PayTabsError
from sidecar.store import repository as repo
from sidecar.store.repository import Intent
from sidecar.store.repository.intents import search_intents
from wp_bridge.errors import WPBridgeError

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
SUMMARY_FIELDS = (
    "ref",
    "state_reason",
    "email",
    "group_id",
    "group_name",
    "currency",
    "created_at",
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def register(group: click.Group) -> None:
    """Add the operator commands to ``group``."""
    for command in (intents, redrive, refund, reconcile, audit):
        group.add_command(command)


def services() -> Services:
    """Return the services of the current app."""
    found: Services = current_app.extensions["sidecar"]
    return found


def parse_since(text: str | None, now: float) -> float | None:
    """Turn "2h", "3d", "90m" or an ISO date/time (UTC unless it says otherwise) into epoch seconds."""
    if not text:
        return None
    match = DURATION.match(text)
    if match:
        return now - float(match.group(1)) * UNITS[match.group(2)]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is neither a duration (2h, 3d) nor an ISO date"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def emit_json(data: object) -> None:
    """Print ``data`` as indented JSON."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def money(intent: Intent) -> str:
    """Return the intent's amount with its currency."""
    return f"{from_minor(intent.amount_minor, intent.currency)} {intent.currency}"


def summary(intent: Intent) -> dict[str, Any]:
    """Return the intent's list columns (the e-mail: operators search and answer by it)."""
    facts = {name: getattr(intent, name) for name in SUMMARY_FIELDS}
    amount = from_minor(intent.amount_minor, intent.currency)
    return {
        **facts,
        "state": intent.state.value,
        "amount": str(amount),
        "updated_at": intent.updated_at,
    }


@click.group()
def intents() -> None:
    """List intents or show one intent's whole history."""


@intents.command("list")
@click.option("--email", help="Only intents whose e-mail contains this (any case).")
@click.option("--name", help="Only intents whose buyer's name contains this (any case).")
@click.option("--state", type=click.Choice([s.value for s in State]), help="Only this state.")
@click.option("--since", help='Created since: "2h", "3d" or an ISO date/time (UTC).')
@click.option("--limit", default=200, show_default=True, type=int)
@JSON_OPTION
@with_appcontext
def list_intents(
    email: str | None,
    name: str | None,
    state: str | None,
    since: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List intents, newest first (awaiting payment: the hold's expiry as the reason)."""
    s = services()
    with s.db.transaction() as tx:
        found = search_intents(
            tx,
            email=email,
            name=name,
            state=state,
            since=parse_since(since, s.clock()),
            limit=limit,
        )
    if as_json:
        emit_json([summary(i) for i in found])
        return
    columns = (
        "ref",
        "state",
        "reason",
        "email",
        "group",
        "amount",
        "created (UTC)",
        "updated (UTC)",
    )
    rows = [
        (i.ref, i.state.value, list_reason(i), i.email or "-", f"{i.group_id} {i.group_name}"[:28],
         money(i), when(i.created_at), when(i.updated_at))
        for i in found
    ]  # fmt: skip
    click.echo(table(columns, rows))
    more = f" (the newest {limit}: raise --limit for more)" if len(found) == limit else ""
    click.echo(f"{len(found)} intent(s){more}")


@intents.command("show")
@click.argument("ref")
@JSON_OPTION
@with_appcontext
def show_intent(ref: str, as_json: bool) -> None:
    """Show an intent: WordPress ids, PayTabs refs and its timeline (transitions, notifications, jobs)."""
    found = ops.history(services(), ref)
    if found is None:
        fail(f"no intent with ref {ref}")
    elif as_json:
        emit_json(found)
    else:
        click.echo(render_history(found))


def fail(message: str, code: int = 1) -> None:
    """Print ``message`` on stderr and exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def print_outcomes(
    outcomes: Sequence[ops.Outcome], as_json: bool, extra: Sequence[str] = ()
) -> None:
    """Print what operator actions did."""
    if as_json:
        emit_json({"outcomes": [o.as_dict() for o in outcomes], "jobs_run": list(extra)})
        return
    rows = [(o.ref, o.before, o.after, o.message) for o in outcomes]
    click.echo(table(("ref", "before", "after", "what happened"), rows))
    for line in extra:
        click.echo(f"ran {line}")


@click.command()
@click.argument("ref")
@click.option("--now", "now_", is_flag=True, help="Run the job here, not in the worker.")
@JSON_OPTION
@with_appcontext
def redrive(ref: str, now_: bool, as_json: bool) -> None:
    """Redrive a needs_attention intent (fulfil again, or retry the refund that gave up)."""
    act(
        lambda s: ops.redrive(s, ref),
        ref,
        (JobKind.FULFIL, JobKind.REFUND, JobKind.EMAIL) if now_ else (),
        as_json,
    )


@click.command()
@click.argument("ref")
@click.option("--now", "now_", is_flag=True, help="Run the refund here, not in the worker.")
@JSON_OPTION
@with_appcontext
def refund(ref: str, now_: bool, as_json: bool) -> None:
    """Refund a paid or needs_attention intent (the worker's never-twice rules apply)."""
    act(lambda s: ops.refund(s, ref), ref, (JobKind.REFUND, JobKind.EMAIL) if now_ else (), as_json)


def act(action: Any, ref: str, kinds: tuple[JobKind, ...], as_json: bool) -> None:
    """Run an operator action, then (with --now) its jobs; exit 1 when the state refuses it."""
    s = services()
    try:
        outcome = action(s)
        ran = ops.run_now(s, ref, kinds)
        if ran:
            with s.db.transaction() as tx:
                latest = repo.find_intent_by_ref(tx, ref)
            if latest is None:
                raise AssertionError(f"intent {ref} vanished")
            outcome = ops.Outcome(ref, outcome.before, latest.state.value, outcome.message)
    except ops.OperatorRefused as exc:
        fail(str(exc))
    print_outcomes([outcome], as_json, ran)


@click.command()
@click.argument("ref", required=False)
@click.option("--all", "all_", is_flag=True, help="Every intent still awaiting confirmation.")
@click.option("--since", default="30d", show_default=True, help="With --all: created since.")
@JSON_OPTION
@with_appcontext
def reconcile(ref: str | None, all_: bool, since: str, as_json: bool) -> None:
    """Ask PayTabs about intents still awaiting payment, failed or expired; print what changed."""
    if not ref and not all_:
        fail(
            "say which intents to ask PayTabs about: an intent REF (`sidecar intents list` shows "
            "them) or --all (every intent awaiting payment, failed or expired, see --since)",
            code=2,
        )
    if ref and all_:
        fail("give an intent REF or --all, not both", code=2)
    s = services()
    try:
        outcomes = ops.reconcile(s, ref, None if ref else parse_since(since, s.clock()))
    except ops.OperatorRefused as exc:
        fail(str(exc))
    print_outcomes(outcomes, as_json)
    if not as_json:
        changed = sum(1 for o in outcomes if o.before != o.after)
        click.echo(f"{len(outcomes)} checked, {changed} changed")


@click.command()
@click.option("--since", help='Intents created since: "2h", "3d" or an ISO date/time (UTC).')
@click.option("--grace", default="10m", show_default=True, help="Skip younger in-flight work.")
@click.option("--skip-user", "skip_users", multiple=True, type=int, help="A group admin's user id.")
@click.option(
    "--ignore-ref-prefix",
    "prefixes",
    multiple=True,
    envvar="SIDECAR_AUDIT_IGNORE_REF_PREFIXES",
    help="Booking refs of the site's own (pre-sidecar) bookings to skip; space-separated in "
    "SIDECAR_AUDIT_IGNORE_REF_PREFIXES.",
)
@JSON_OPTION
@with_appcontext
def audit(
    since: str | None,
    grace: str,
    skip_users: tuple[int, ...],
    prefixes: tuple[str, ...],
    as_json: bool,
) -> None:
    """Cross-check PayTabs, the intents and WordPress; exit 1 when anything does not add up."""
    s = services()
    now = s.clock()
    grace_start = parse_since(grace, now)
    try:
        snapshot = audit_checks.gather(s, parse_since(since, now))
        admins = frozenset(skip_users) | {s.wordpress.ping().id}
    except (SidecarError, PayTabsError, WPBridgeError) as exc:
        fail(f"cannot audit: {type(exc).__name__}: {exc}", code=2)
    rules = audit_checks.Rules(now, now - (grace_start or now), admins, prefixes)
    found = audit_checks.find_discrepancies(snapshot, rules)
    counts = (len(snapshot.intents), len(snapshot.bookings), len(snapshot.groups))
    checked = dict(zip(("intents", "bookings", "groups"), counts, strict=True))
    if as_json:
        emit_json({"checked": checked, "discrepancies": [d.as_dict() for d in found]})
    else:
        rows = [(d.kind, d.ref or "-", d.group_id or "-", d.detail) for d in found]
        if rows:
            click.echo(table(("type", "ref", "group", "detail"), rows))
        click.echo(
            f"checked {checked['intents']} intent(s), {checked['bookings']} booking(s), "
            f"{checked['groups']} group(s): {len(found)} discrepancy(ies)"
        )
    sys.exit(1 if found else 0)
