"""The receipt: what was paid (sent to WordPress with the booking) and the session's calendar entry.

The calendar entry is served by the sidecar at ``/therapy/calendar/<ref>.ics?sig=SIG``, where SIG is
an HMAC of the reference under a key derived from the shared secret. The link works from the e-mail
and the thank-you page without cookies; without the right signature the sidecar answers 404 and
says nothing about the reference. WordPress never signs: it shows the URL the sidecar sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from sidecar.core.config import Settings
from sidecar.core.container import Services
from sidecar.domain.money import from_minor
from sidecar.domain.states import State
from sidecar.store import repository as repo
from sidecar.store.repository import Intent
from wp_bridge.models import GroupInfo, PaymentDetails

# Domain separation: the calendar key signs nothing else, and a calendar signature is no token.
_KEY_LABEL = b"therapy-sidecar calendar link v1"
PRODID = "-//Therapy Pay Sidecar//Receipt//EN"
MAX_SIGNATURE_LENGTH = 64


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), _KEY_LABEL, hashlib.sha256).digest()


def calendar_signature(secret: str, ref: str) -> str:
    """Return the URL-safe signature of ``ref``'s calendar link."""
    digest = hmac.new(_key(secret), ref.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def signature_ok(settings: Settings, ref: str, signature: str) -> bool:
    """Tell, in constant time, whether ``signature`` signs ``ref`` (the previous secret too)."""
    if not signature or len(signature) > MAX_SIGNATURE_LENGTH:
        return False
    secrets = [settings.shared_secret]
    if settings.shared_secret_also_accepted is not None:
        secrets.append(settings.shared_secret_also_accepted)
    wanted = signature.encode("ascii", "replace")
    results = [
        hmac.compare_digest(calendar_signature(s.reveal(), ref).encode("ascii"), wanted)
        for s in secrets
    ]
    return any(results)


def calendar_url(settings: Settings, ref: str) -> str:
    """Return the signed, cookie-free address of ``ref``'s calendar entry."""
    signature = calendar_signature(settings.shared_secret.reveal(), ref)
    return f"{settings.public_url}/therapy/calendar/{quote(ref, safe='')}.ics?sig={signature}"


def iso_utc_seconds(timestamp: float) -> str:
    """Return a unix time as ISO 8601 in UTC ("2026-12-06T10:00:00+00:00")."""
    return datetime.fromtimestamp(int(timestamp), UTC).isoformat()


def payment_details(settings: Settings, intent: Intent) -> PaymentDetails | None:
    """Return what the intent paid, for the booking; None before PayTabs' reference is known."""
    if not intent.tran_ref:
        return None
    paid_at = intent.paid_at if intent.paid_at is not None else intent.updated_at
    return PaymentDetails(
        amount=str(from_minor(intent.amount_minor, intent.currency)),
        currency=intent.currency,
        tran_ref=intent.tran_ref,
        paid_at=iso_utc_seconds(paid_at),
        calendar_url=calendar_url(settings, intent.ref),
    )


def receipt_data(settings: Settings, intent: Intent) -> dict[str, str]:
    """Return the receipt fields of the confirmation e-mail's data (empty before payment)."""
    details = payment_details(settings, intent)
    return details.to_json() if details is not None else {}


def build_calendar(ref: str, group: GroupInfo, host: str, now: float) -> bytes:
    """Return the .ics of the group's session (the group must have a schedule)."""
    schedule = group.schedule
    if schedule is None:
        raise ValueError("the group has no schedule")
    event = Event()
    # Stable across downloads: a calendar that imports it twice updates one entry.
    event.add("uid", f"{ref}@{host}")
    event.add("dtstamp", datetime.fromtimestamp(int(now), UTC))
    start, end = schedule.starts_at, schedule.ends_at
    if not isinstance(start.tzinfo, ZoneInfo):
        # A bare UTC offset names no timezone a calendar knows: say the instant in UTC.
        start, end = start.astimezone(UTC), end.astimezone(UTC)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", group.name)
    if schedule.location:
        event.add("location", schedule.location)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    calendar.add_missing_timezones()  # a VTIMEZONE for the session's TZID
    return bytes(calendar.to_ical())


def calendar_for(services: Services, ref: str, signature: str) -> bytes | None:
    """Return the .ics for a correctly signed, fulfilled registration with a schedule; else None."""
    if not signature_ok(services.settings, ref, signature):
        return None
    with services.db.transaction() as tx:
        intent = repo.find_intent_by_ref(tx, ref)
    if intent is None or intent.state != State.FULFILLED:
        return None
    group = services.wordpress.get_group(intent.group_id)
    if group.schedule is None:
        return None
    host = urlsplit(services.settings.public_url).hostname or "sidecar"
    return build_calendar(intent.ref, group, host, services.clock())
