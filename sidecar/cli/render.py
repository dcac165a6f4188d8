"""How operator commands show intents to people: times, tables, reasons in words, the timeline."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sidecar.domain.money import from_minor
from sidecar.ops.reasons import reason_words, when

TOOK = re.compile(r" in \d+(?:\.\d+)?s")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Return rows in fixed-width columns under their headers (the last column is free)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = [[h.upper() for h in headers], *cells]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line[:-1], widths, strict=False)) + "  " + line[-1]
        for line in lines
    ).rstrip()


def render_history(found: dict[str, Any]) -> str:
    """Return an intent's facts, timeline and jobs as text for people."""
    i = found["intent"]
    reason = f" ({reason_words(i['state_reason'])})" if i["state_reason"] else ""
    refund_status = f" ({i['refund_status']})" if i["refund_status"] else ""
    lines = [
        f"intent   {i['ref']}  {i['state']}{reason}",
        f"group    {i['group_name']} (group {i['group_id']}, BuddyPress group {i['bp_group_id']})",
        f"amount   {from_minor(i['amount_minor'], i['currency'])} {i['currency']}",
        f"buyer    {i['email'] or '- (purged)'}",
        f"wp user  {wp_user(i)}",
        f"booking  {i['booking_id'] or '-'}   membership: {'yes' if i['member_joined'] else 'no'}",
        f"paytabs  sale {i['tran_ref'] or '-'}   refund {i['refund_tran_ref'] or '-'}{refund_status}",
        f"hold     {hold_line(i)}",
        f"times    created {when(i['created_at'])}  paid {when(i['paid_at'])}  "
        f"fulfilled {when(i['fulfilled_at'])}  updated {when(i['updated_at'])} (UTC)",
        "",
        table(
            ("time (UTC)", "what", "detail"),
            fold_repeats([(when(e["at"]), e["what"], describe(e)) for e in found["timeline"]]),
        ),
        "",
    ]
    jobs = [
        (j["kind"], j["state"], j["attempts"], when(j["run_after"]), j["last_error"] or "-")
        for j in found["jobs"]
    ]
    lines.append(table(("job", "state", "attempts", "run after (UTC)", "last error"), jobs))
    return "\n".join(lines)


def wp_user(facts: dict[str, Any]) -> str:
    """Return the WordPress user id and how the intent came by it."""
    if facts["wp_user_id"] is None:
        return "-"
    if facts["buyer_logged_in"]:
        return f"{facts['wp_user_id']} (logged-in buyer)"
    return f"{facts['wp_user_id']} (created by this intent)"


def describe(event: dict[str, Any]) -> str:
    """Return one timeline event as a line of text."""
    if event["what"] == "transition":
        text = f"{event['from'] or 'new'} -> {event['to']}  {event['event']} by {event['source']}"
        return text + (f": {event['detail']}" if event["detail"] else "")
    if event["what"] == "notification":
        signature = "signature ok" if event["signature_ok"] else "SIGNATURE BAD"
        return f"{event['channel']}  {signature}  {event['outcome']}  tran_ref {event['tran_ref'] or '-'}"
    took = "" if event["finished_at"] is None else f" in {event['finished_at'] - event['at']:.2f}s"
    error = f": {event['error']}" if event["error"] else ""
    return f"{event['kind']} #{event['attempt']}  {event['outcome'] or 'running'}{took}{error}"


def hold_line(facts: dict[str, Any]) -> str:
    """Return the seat hold's expiry, and whether it still holds the seat."""
    holding = facts["state"] == "awaiting_payment"
    return f"{when(facts['hold_expires_at'])} UTC" + (" (holding a seat)" if holding else " (over)")


def fold_repeats(rows: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Fold runs of the same event (a sweep re-querying a held payment) into one row with a count."""
    runs: list[list[tuple[str, str, str]]] = []
    for row in rows:
        if runs and _same(runs[-1][0], row):
            runs[-1].append(row)
        else:
            runs.append([row])
    return [
        run[0]
        if len(run) == 1
        else (run[0][0], run[0][1], f"{run[0][2]}  ({len(run)} times, last {run[-1][0]})")
        for run in runs
    ]


def _same(first: tuple[str, str, str], row: tuple[str, str, str]) -> bool:
    """Return True when two timeline rows say the same thing (durations aside)."""
    return (first[1], TOOK.sub("", first[2])) == (row[1], TOOK.sub("", row[2]))
