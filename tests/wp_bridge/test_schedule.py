"""A group's schedule as the bridge sends it: a local time in a zone, or an instant with an offset."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from sidecar.payments.receipt import build_calendar
from wp_bridge.models import GroupInfo, GroupSchedule


def test_schedule_local_time_is_read_in_its_timezone() -> None:
    schedule = GroupSchedule.from_json({"starts_at": "2027-01-10T18:30", "timezone": "Asia/Riyadh"})
    assert schedule is not None
    assert schedule.starts_at == datetime(2027, 1, 10, 18, 30, tzinfo=ZoneInfo("Asia/Riyadh"))
    assert (schedule.duration_minutes, schedule.location) == (60, "")
    assert schedule.ends_at - schedule.starts_at == timedelta(minutes=60)


def test_schedule_with_an_offset_keeps_its_instant_in_the_zone() -> None:
    data = {"starts_at": "2027-01-10T15:30:00+00:00", "timezone": "Asia/Riyadh"}
    schedule = GroupSchedule.from_json(data)
    assert schedule is not None and schedule.starts_at.isoformat() == "2027-01-10T18:30:00+03:00"
    assert GroupSchedule.from_json(schedule.to_json()) == schedule


def test_schedule_absent_is_none_and_bad_ones_are_refused() -> None:
    assert GroupSchedule.from_json(None) is None
    with pytest.raises(ValueError):
        GroupSchedule.from_json({"starts_at": "2027-01-10T18:30", "timezone": "+03:00"})
    with pytest.raises(ValueError):
        GroupSchedule.from_json({"starts_at": "soon", "timezone": "UTC"})
    with pytest.raises(ValueError):
        GroupSchedule.from_json({"starts_at": "2027-01-10T18:30", "duration_minutes": -5})


def test_schedule_of_a_site_on_a_bare_offset_gives_a_utc_calendar_entry() -> None:
    data = {"starts_at": "2027-01-10T18:30:00+03:00", "timezone": "+03:00", "duration_minutes": 45}
    schedule = GroupSchedule.from_json(data)
    group = GroupInfo(7, "Circle", Decimal("1"), "SAR", 5, 0, True, 8, "", "", "", schedule)
    event = Calendar.from_ical(build_calendar("tp_x", group, "sidecar.test", 0)).walk("VEVENT")[0]
    start = event.decoded("DTSTART")
    assert start.isoformat() == "2027-01-10T15:30:00+00:00"
    assert event.decoded("DTEND") - start == timedelta(minutes=45)
    assert "LOCATION" not in event
