"""The sandbox thank-you page's receipt box, as the bridge's [therapy_sidecar_receipt] renders it."""

from __future__ import annotations

from sidecar.domain import messages
from sidecar.sandbox.wordpress import seed_demo_groups
from sidecar.sandbox.wordpress_receipt import receipt_box
from wp_bridge.fake import FakeWordPress
from wp_bridge.models import PaymentDetails

PAID = PaymentDetails(
    "150.00", "SAR", "TST123", "2026-12-06T09:15:00+00:00", "http://s/c.ics?sig=x"
)


def booked(fake: FakeWordPress, group_id: int, email: str, ref: str) -> int:
    user = fake.create_user(
        username=email.split("@")[0],
        email=email,
        password="pw-12345678",
        first_name="A",
        last_name="B",
    )
    fake.book_session(intent_ref=ref, group_id=group_id, user_id=user.id, payment=PAID)
    return user.id


def test_receipt_box_shows_the_buyer_their_receipt_with_a_calendar_link() -> None:
    fake = FakeWordPress()
    scheduled = seed_demo_groups(fake)[0]
    uid = booked(fake, scheduled.id, "a@example.com", "tp_a")
    box = str(receipt_box(fake, fake.user_record(uid), "", "http://wp/thank-you/"))
    assert "Group: Anxiety Support Circle" in box and "Amount paid: 150.00 SAR" in box
    assert "PayTabs reference: TST123" in box and "Date of payment: 06 December 2026 09:15" in box
    assert "Session: " in box and "href='http://s/c.ics?sig=x'" in box


def test_receipt_box_without_a_schedule_has_no_calendar_link() -> None:
    fake = FakeWordPress()
    workshop = seed_demo_groups(fake)[2]
    assert workshop.schedule is None
    uid = booked(fake, workshop.id, "b@example.com", "tp_b")
    box = str(receipt_box(fake, fake.user_record(uid), "tp_b", "http://wp/thank-you/"))
    assert "PayTabs reference: TST123" in box
    assert "calendar" not in box.lower() and "Session: " not in box


def test_receipt_box_shows_nothing_to_another_user_and_no_personal_data_logged_out() -> None:
    fake = FakeWordPress()
    group = seed_demo_groups(fake)[0]
    booked(fake, group.id, "c@example.com", "tp_c")
    other = fake.create_user(
        username="d", email="d@example.com", password="pw-12345678", first_name="D", last_name="E"
    )
    assert str(receipt_box(fake, fake.user_record(other.id), "tp_c", "http://wp/")) == ""
    assert str(receipt_box(fake, fake.user_record(other.id), "", "http://wp/")) == ""
    logged_out = str(receipt_box(fake, None, "tp_c", "http://wp/thank-you/?intent=tp_c"))
    assert messages.REGISTERED_LOG_IN in logged_out and "action=lostpassword" in logged_out
    assert "TST123" not in logged_out and "c@example.com" not in logged_out
    assert str(receipt_box(fake, None, "", "http://wp/")) == ""
    assert str(receipt_box(fake, None, "tp_unknown", "http://wp/")) == ""
