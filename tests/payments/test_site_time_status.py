"""The times a buyer reads on the status page are in the site's timezone (SQLite and MariaDB).

The site says Asia/Riyadh (UTC+3): the JSON's ``held_until`` stays ISO UTC for scripts, while its
``held_until_text`` and the sentences give the Riyadh "HH:MM", with no "(UTC)".
"""

from __future__ import annotations

from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from sidecar.core.i18n import translate
from sidecar.domain import messages
from sidecar.domain.states import State
from sidecar.payments.seats import hhmm, iso_utc

JSON = {"Accept": "application/json"}
NAVIGATE = {"Sec-Fetch-Mode": "navigate", "Accept": "text/html"}
RIYADH = ZoneInfo("Asia/Riyadh")
DECLINE = "4000000000000002"


def declined(stack: Any, **fields: str) -> Any:
    intent = stack.start(**fields)
    stack.post_return(stack.pay(intent, card=DECLINE))
    stack.deliver_ipns()
    stack.drain()
    failed = stack.intent(intent.ref)
    assert (failed.state, failed.seat_kept) == (State.PAYMENT_FAILED, True)
    return failed


def test_status_declined_held_until_text_is_in_the_sites_zone(stack: Any) -> None:
    stack.set_site_options(timezone_string="Asia/Riyadh")
    failed = declined(stack)
    answer = stack.client.get(f"/therapy/status/{failed.ref}", headers=JSON).get_json()
    assert answer["can_retry"] is True
    assert answer["held_until"] == iso_utc(failed.hold_expires_at)
    riyadh = hhmm(failed.hold_expires_at, RIYADH)
    assert riyadh != hhmm(failed.hold_expires_at, UTC)
    assert answer["held_until_text"] == riyadh
    page = stack.client.get(f"/therapy/status/{failed.ref}", headers=NAVIGATE)
    assert f"<p>Your place is held for you until {riyadh}.</p>" in page.get_data(as_text=True)


def test_status_declined_in_arabic_says_the_sites_time_without_utc(stack: Any) -> None:
    stack.set_site_options(timezone_string="", gmt_offset="5.5")
    failed = declined(stack, locale="ar")
    answer = stack.client.get(f"/therapy/status/{failed.ref}", headers=JSON).get_json()
    kolkata = hhmm(failed.hold_expires_at, ZoneInfo("Asia/Kolkata"))
    assert answer["held_until_text"] == kolkata
    page = stack.client.get(f"/therapy/status/{failed.ref}", headers=NAVIGATE)
    text = page.get_data(as_text=True)
    assert translate(messages.RETRY_HELD_UNTIL, "ar", time=kolkata) in text
    assert "UTC" not in text


def test_status_held_until_text_only_while_the_seat_is_kept(stack: Any) -> None:
    stack.set_site_options(timezone_string="Asia/Riyadh")
    failed = declined(stack)
    stack.clock.advance(failed.hold_expires_at - stack.clock() + 1)
    answer = stack.client.get(f"/therapy/status/{failed.ref}", headers=JSON).get_json()
    assert (answer["can_retry"], answer["held_until"], answer["held_until_text"]) == (
        False,
        None,
        None,
    )


def test_status_awaiting_payment_in_arabic_says_the_sites_time(stack: Any) -> None:
    stack.set_site_options(timezone_string="Asia/Riyadh")
    intent = stack.start(locale="ar")
    answer = stack.client.get(f"/therapy/status/{intent.ref}", headers=JSON).get_json()
    until = hhmm(intent.hold_expires_at, RIYADH)
    expected = translate(messages.AWAITING_PAYMENT_HELD_UNTIL, "ar", time=until)
    assert answer["message"] == expected
    assert "UTC" not in answer["message"]
