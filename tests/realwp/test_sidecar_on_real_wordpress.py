"""The sidecar against the real WordPress: credentials from its options table, a real user, booking,
membership (fake BuddyPress routes), and a login grant that sets a real auth cookie."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sidecar.domain.states import State
from tests.realwp.helpers import WPSite
from tests.support.stack import Stack

pytestmark = pytest.mark.realwp


@pytest.fixture
def real_stack(tmp_path: Path, wp: WPSite) -> Iterator[Stack]:
    """Sidecar (SQLite) + PayTabs simulator + the real WordPress and its options table."""
    stack = Stack(tmp_path, f"sqlite:///{tmp_path / 'sidecar.sqlite3'}", real_wp=wp.env)
    yield stack
    stack.close()


def test_real_wp_credentials_come_from_the_options_table(real_stack: Stack, wp: WPSite) -> None:
    creds = real_stack.services.credentials.get()
    assert creds.profile_id == int(wp.env["PAYTABS_PROFILE_ID"])
    assert creds.server_key.reveal() == wp.env["PAYTABS_SERVER_KEY"]
    ready = real_stack.client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()


def test_real_wp_paid_intent_is_fulfilled_and_the_grant_logs_in(
    real_stack: Stack, wp: WPSite
) -> None:
    form = real_stack.form(email=f"rwp.{secrets.token_hex(4)}@example.com")
    response = real_stack.checkout(form)
    assert response.status_code == 303, response.get_data(as_text=True)
    intent = real_stack.intent_by_key(form["idempotency_key"])
    assert real_stack.wordpress.find_user_by_email(form["email"]) is None  # nothing before payment
    real_stack.pay(intent)
    real_stack.deliver_ipns()
    real_stack.drain()
    done = real_stack.intent(intent.ref)
    assert done.state == State.FULFILLED, done
    wp.created_user_ids.append(done.wp_user_id)
    user = real_stack.wordpress.find_user_by_email(form["email"])
    assert user is not None and user.id == done.wp_user_id and user.intent_ref == intent.ref
    booking = real_stack.wordpress.find_booking(intent.ref)
    assert booking is not None and booking.user_id == user.id
    # The receipt's payment details went with the booking and are stored by WordPress.
    assert booking.payment is not None
    assert (booking.payment.tran_ref, booking.payment.currency) == (done.tran_ref, done.currency)
    assert f"/therapy/calendar/{done.ref}.ics?sig=" in booking.payment.calendar_url
    assert real_stack.wordpress.is_group_member(done.bp_group_id, user.id)
    # The paying browser gets the login link; WordPress turns it into a real session once.
    status = real_stack.client.get(f"/therapy/status/{intent.ref}").get_json()
    browser = requests.Session()
    try:
        first = browser.get(status["login_url"], allow_redirects=False, timeout=15)
        assert first.status_code == 302, first.text[:300]
        assert any(c.name.startswith("wordpress_logged_in_") for c in browser.cookies)
        profile = browser.get(
            f"{wp.base_url}/wp-admin/profile.php", allow_redirects=False, timeout=15
        )
        assert profile.status_code == 200
        # Used once: another browser is sent to the login form, with no session.
        again = requests.get(status["login_url"], allow_redirects=False, timeout=15)
        assert again.status_code == 302 and "/wp-login.php?" in again.headers["Location"]
        assert "wordpress_logged_in_" not in again.headers.get("Set-Cookie", "")
    finally:
        browser.close()


def test_real_wp_booking_a_full_group_after_payment_refunds(
    real_stack: Stack, wp: WPSite, empty_small_group: int
) -> None:
    ref_holder = wp.env["THERAPY_SMALL_GROUP_ID"]
    # Another booking path fills the only seat after our checkout held it.
    form = real_stack.form(
        real_stack.small_group.id, email=f"rwp.{secrets.token_hex(4)}@example.com"
    )
    response = real_stack.checkout(form)
    assert response.status_code == 303
    assert "/payment/page/" in response.headers["Location"], response.headers["Location"]
    intent = real_stack.intent_by_key(form["idempotency_key"])
    other = wp.create_user()
    real_stack.wordpress.book_session(
        intent_ref=f"rwp-other-{intent.ref[-8:]}", group_id=int(ref_holder), user_id=other["id"]
    )
    real_stack.pay(intent)
    real_stack.deliver_ipns()
    real_stack.drain()
    done = real_stack.intent(intent.ref)
    if done.wp_user_id:
        wp.created_user_ids.append(done.wp_user_id)
    assert done.state == State.REFUNDED, done
    assert real_stack.wordpress.find_booking(intent.ref) is None
