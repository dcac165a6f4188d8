"""The receipt: payment details with the booking and the e-mail; the signed .ics calendar entry."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar

from sidecar.payments.receipt import calendar_signature
from sidecar.store import repository as repo
from tests.support.stack import SHARED_SECRET, Stack
from wp_bridge.models import GroupSchedule

ARABIC_NAME = "مجموعة القلق, الرياض; مساءً"
RIYADH = ZoneInfo("Asia/Riyadh")
SESSION = GroupSchedule(
    starts_at=datetime(2027, 1, 10, 18, 30, tzinfo=RIYADH),
    timezone="Asia/Riyadh",
    duration_minutes=90,
    location="Room 2, Olaya St; Riyadh",
)


def fulfilled(stack: Any, group_id: int | None = None) -> Any:
    intent = stack.paid_intent(group_id=group_id or stack.group.id)
    stack.drain()
    return stack.intent(intent.ref)


def scheduled_group(stack: Any) -> Any:
    return stack.wp.add_group(name=ARABIC_NAME, price="120.50", capacity=4, schedule=SESSION)


def calendar_path(stack: Any, ref: str) -> str:
    booking = stack.wp.find_bookings(intent_ref=ref)[0]
    url = urlsplit(booking.payment.calendar_url)
    return f"{url.path}?{url.query}"


def test_fulfilment_sends_the_payment_details_with_the_booking(stack: Any) -> None:
    done = fulfilled(stack)
    booking = stack.wp.find_bookings(intent_ref=done.ref)[0]
    payment = booking.payment
    assert payment is not None
    assert (payment.amount, payment.currency, payment.tran_ref) == ("150.00", "SAR", done.tran_ref)
    assert done.paid_at is not None
    paid = datetime.fromtimestamp(int(done.paid_at), UTC)
    assert datetime.fromisoformat(payment.paid_at) == paid
    url = urlsplit(payment.calendar_url)
    assert f"{url.scheme}://{url.netloc}" == stack.services.settings.public_url
    assert url.path == f"/therapy/calendar/{done.ref}.ics"
    assert parse_qs(url.query) == {"sig": [calendar_signature(SHARED_SECRET, done.ref)]}


def test_confirmation_email_carries_the_receipt(stack: Any) -> None:
    done = fulfilled(stack)
    mail = next(e for e in stack.wp.emails if e["template"] == "booking_confirmed")
    booking = stack.wp.find_bookings(intent_ref=done.ref)[0]
    data = mail["data"]
    assert data["group_name"] == done.group_name
    assert (data["amount"], data["currency"], data["tran_ref"]) == ("150.00", "SAR", done.tran_ref)
    assert data["paid_at"] == booking.payment.paid_at
    assert data["calendar_url"] == booking.payment.calendar_url


def test_calendar_entry_parses_back_with_uid_timezone_and_escaped_summary(stack: Any) -> None:
    done = fulfilled(stack, scheduled_group(stack).id)
    response = stack.client.get(calendar_path(stack, done.ref))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    raw = response.get_data()
    assert b"\\," in raw and b"\\;" in raw  # RFC 5545 escaping of the summary's , and ;
    calendar = Calendar.from_ical(raw)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    event = events[0]
    host = urlsplit(stack.services.settings.public_url).hostname
    assert str(event["UID"]) == f"{done.ref}@{host}"
    assert str(event["SUMMARY"]) == ARABIC_NAME
    assert str(event["LOCATION"]) == SESSION.location
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == SESSION.starts_at and end == SESSION.ends_at
    assert event["DTSTART"].params["TZID"] == "Asia/Riyadh"
    assert start.utcoffset().total_seconds() == 3 * 3600
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Riyadh"]
    assert event.decoded("DTSTAMP").tzinfo is not None
    again = stack.client.get(calendar_path(stack, done.ref))
    assert Calendar.from_ical(again.get_data()).walk("VEVENT")[0]["UID"] == event["UID"]


def test_calendar_refuses_a_bad_or_missing_signature_with_a_bare_404(stack: Any) -> None:
    done = fulfilled(stack, scheduled_group(stack).id)
    other = fulfilled(stack, stack.group.id)
    good = calendar_signature(SHARED_SECRET, done.ref)
    wrong_secret = calendar_signature("another-secret-" + "y" * 32, done.ref)
    for query in (
        "",
        "?sig=",
        f"?sig={good[:-1]}",
        f"?sig={wrong_secret}",
        f"?sig={calendar_signature(SHARED_SECRET, other.ref)}",
        f"?sig={good}x" * 3,
    ):
        response = stack.client.get(f"/therapy/calendar/{done.ref}.ics{query}")
        assert response.status_code == 404, query
        body = response.get_data(as_text=True)
        assert response.get_json()["error"]["code"] == "calendar_not_found"
        assert done.ref not in body and "القلق" not in body and "Olaya" not in body
    unknown = "tp_" + "A" * 24
    sig = calendar_signature(SHARED_SECRET, unknown)
    assert stack.client.get(f"/therapy/calendar/{unknown}.ics?sig={sig}").status_code == 404


def test_calendar_group_without_schedule_has_no_entry(stack: Any) -> None:
    done = fulfilled(stack)  # stack.group has no schedule
    response = stack.client.get(calendar_path(stack, done.ref))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "calendar_not_found"


def test_calendar_registration_not_fulfilled_has_no_entry(stack: Any) -> None:
    group = scheduled_group(stack)
    intent = stack.start(group_id=group.id)  # not paid yet
    sig = calendar_signature(SHARED_SECRET, intent.ref)
    assert stack.client.get(f"/therapy/calendar/{intent.ref}.ics?sig={sig}").status_code == 404
    with stack.services.db.transaction() as tx:
        assert repo.find_intent_by_ref(tx, intent.ref) is not None


def test_calendar_is_rate_limited_like_the_status(tmp_path: Path) -> None:
    lone = Stack(
        tmp_path, f"sqlite:///{tmp_path / 'rl.sqlite3'}", SIDECAR_RATELIMIT_STATUS="3/minute"
    )
    try:
        codes = [lone.client.get("/therapy/calendar/tp_x.ics?sig=y").status_code for _ in range(4)]
    finally:
        lone.close()
    assert codes == [404, 404, 404, 429]
