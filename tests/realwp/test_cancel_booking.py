"""Cancelling a fulfilled registration on the real WordPress.

The bridge's POST /bookings/cancel (idempotent, under the group lock, fires
therapy_sidecar_booking_cancelled once; the test site's hook recorder keeps each call in the option
therapy_test_cancelled_<intent_ref>), the fake BuddyPress's member DELETE, the 'cancelled' e-mail,
and the sidecar's cancel_and_refund run end to end against them.
"""

from __future__ import annotations

import concurrent.futures
import json
import secrets
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from sidecar.domain.states import State
from sidecar.ops.cancel import cancel_and_refund
from tests.realwp.helpers import WPSite
from tests.support.stack import Stack
from wp_bridge.client import WordPressClient

pytestmark = pytest.mark.realwp

CANCEL = "/therapy-sidecar/v1/bookings/cancel"


@pytest.fixture(autouse=True)
def forget_hook_calls(request: pytest.FixtureRequest) -> Iterator[None]:
    """Remove what the hook recorder stored for this module's intents (after each test)."""
    yield
    if "wp" in request.fixturenames:
        site: WPSite = request.getfixturevalue("wp")
        site.query(
            f"DELETE FROM {site.prefix}options WHERE option_name LIKE %s",
            ("therapy\\_test\\_cancelled\\_%",),
        )


def book(wp: WPSite, ref: str, group_id: int, user_id: int) -> requests.Response:
    return wp.rest(
        "POST",
        "/therapy-sidecar/v1/bookings",
        json={"intent_ref": ref, "group_id": group_id, "user_id": user_id},
    )


def cancel(wp: WPSite, ref: str, **kwargs: Any) -> requests.Response:
    return wp.rest("POST", CANCEL, json={"intent_ref": ref}, **kwargs)


def seats_taken(wp: WPSite, group_id: int) -> int:
    return int(wp.rest("GET", f"/therapy-sidecar/v1/groups/{group_id}").json()["seats_taken"])


def booking_rows(wp: WPSite, ref: str) -> int:
    rows = wp.query(
        f"SELECT COUNT(*) FROM {wp.prefix}therapy_sidecar_bookings WHERE intent_ref = %s", (ref,)
    )
    return int(rows[0][0])


def hook_calls(wp: WPSite, ref: str) -> list[dict[str, Any]]:
    """What therapy_sidecar_booking_cancelled was given for ref, as the test recorder kept it."""
    rows = wp.query(
        f"SELECT option_value FROM {wp.prefix}options WHERE option_name = %s",
        (f"therapy_test_cancelled_{ref}",),
    )
    return json.loads(rows[0][0]) if rows else []


def mails_to(wp: WPSite, address: str) -> list[tuple[str, str]]:
    table = wp.env.get("WP_MAILBOX_TABLE", f"{wp.prefix}therapy_test_mailbox")
    rows = wp.query(
        f"SELECT subject, message FROM {table} WHERE to_addr = %s ORDER BY id", (address,)
    )
    return [(str(subject), str(message)) for subject, message in rows]


# --- the bridge route ---------------------------------------------------------------------------


def test_cancel_removes_the_booking_frees_the_seat_and_fires_the_hook_once(
    wp: WPSite, buyer: dict[str, Any], new_ref: Callable[[], str]
) -> None:
    ref = new_ref()
    group_id = wp.group_id()
    booked = book(wp, ref, group_id, buyer["id"])
    assert booked.status_code == 201, booked.text
    taken = seats_taken(wp, group_id)

    first = cancel(wp, ref)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["cancelled"], body["intent_ref"]) == (True, ref)
    assert body["booking"]["id"] == booked.json()["id"]
    assert (body["booking"]["group_id"], body["booking"]["user_id"]) == (group_id, buyer["id"])
    assert booking_rows(wp, ref) == 0
    assert seats_taken(wp, group_id) == taken - 1

    calls = hook_calls(wp, ref)
    assert len(calls) == 1
    assert calls[0]["booking"]["intent_ref"] == ref
    assert calls[0]["booking"]["user_id"] == buyer["id"]
    assert calls[0]["group_info"]["id"] == group_id
    assert calls[0]["group_info"]["seats_taken"] == taken - 1  # read after the removal

    # Idempotent: a repeat is a 200 that changed nothing, and the action does not fire again.
    again = cancel(wp, ref)
    assert again.status_code == 200, again.text
    assert again.json() == {"cancelled": False, "intent_ref": ref, "booking": None}
    assert len(hook_calls(wp, ref)) == 1
    assert seats_taken(wp, group_id) == taken - 1


def test_cancel_of_an_intent_that_never_booked_is_200_not_cancelled(
    wp: WPSite, new_ref: Callable[[], str]
) -> None:
    ref = new_ref()
    response = cancel(wp, ref)
    assert response.status_code == 200, response.text
    assert response.json() == {"cancelled": False, "intent_ref": ref, "booking": None}
    assert hook_calls(wp, ref) == []


def test_cancelled_seat_of_a_full_group_can_be_booked_again(
    wp: WPSite, empty_small_group: int, new_ref: Callable[[], str]
) -> None:
    first, second = wp.create_user(), wp.create_user()
    held = new_ref()
    assert book(wp, held, empty_small_group, first["id"]).status_code == 201
    waiting = new_ref()
    assert book(wp, waiting, empty_small_group, second["id"]).status_code == 409  # full
    assert cancel(wp, held).json()["cancelled"] is True
    assert book(wp, waiting, empty_small_group, second["id"]).status_code == 201


def test_concurrent_cancels_remove_once_and_fire_the_hook_once(
    wp: WPSite, buyer: dict[str, Any], new_ref: Callable[[], str]
) -> None:
    ref = new_ref()
    assert book(wp, ref, wp.group_id(), buyer["id"]).status_code == 201

    def one(_: int) -> requests.Response:
        with requests.Session() as session:
            return cancel(wp, ref, session=session)

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(one, range(4)))
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert sorted(a.json()["cancelled"] for a in answers) == [False, False, False, True]
    assert len(hook_calls(wp, ref)) == 1
    assert booking_rows(wp, ref) == 0


def test_a_failing_cancellation_hook_is_not_an_error(
    wp: WPSite, buyer: dict[str, Any], new_ref: Callable[[], str]
) -> None:
    ref = new_ref() + "-hookfail"  # the test recorder throws after recording this one
    assert book(wp, ref, wp.group_id(), buyer["id"]).status_code == 201
    response = cancel(wp, ref)
    assert response.status_code == 200, response.text
    assert response.json()["cancelled"] is True
    assert booking_rows(wp, ref) == 0
    assert len(hook_calls(wp, ref)) == 1
    log = Path(wp.env["WP_DEBUG_LOG"]).read_text(encoding="utf-8", errors="replace")
    assert f"therapy_sidecar_booking_cancelled hook failed for {ref}" in log


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"intent_ref": ""},
        {"intent_ref": "has space"},
        {"intent_ref": "x" * 101},
        {"intent_ref": "rwp-<script>"},
        {"intent_ref": ["rwp-a"]},
    ],
)
def test_bad_cancel_input_is_400(wp: WPSite, body: dict[str, Any]) -> None:
    response = wp.rest("POST", CANCEL, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] in {"rest_missing_callback_param", "rest_invalid_param"}


def test_cancel_needs_an_administrator(
    wp: WPSite, buyer: dict[str, Any], new_ref: Callable[[], str]
) -> None:
    ref = new_ref()
    assert book(wp, ref, wp.group_id(), buyer["id"]).status_code == 201
    anonymous = cancel(wp, ref, auth=None)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "rest_forbidden")
    created = wp.rest(
        "POST", f"/wp/v2/users/{buyer['id']}/application-passwords", json={"name": "rwp-cancel"}
    )
    assert created.status_code == 201, created.text
    subscriber = (buyer["username"], created.json()["password"])
    refused = cancel(wp, ref, auth=subscriber)
    assert (refused.status_code, refused.json()["code"]) == (403, "rest_forbidden")
    assert booking_rows(wp, ref) == 1
    assert hook_calls(wp, ref) == []
    assert cancel(wp, ref).json()["cancelled"] is True


# --- the 'cancelled' e-mail ---------------------------------------------------------------------


def test_cancelled_mail_says_cancelled_refunded_and_the_account_stays(
    wp: WPSite, buyer: dict[str, Any], new_ref: Callable[[], str]
) -> None:
    ref = new_ref()
    data = {"group_name": "Anxiety Support Circle", "amount": "150.00", "currency": "SAR"}
    sent = wp.rest(
        "POST",
        "/therapy-sidecar/v1/emails",
        json={"template": "cancelled", "intent_ref": ref, "user_id": buyer["id"], "data": data},
    )
    assert (sent.status_code, sent.json()) == (202, {"sent": True})
    again = wp.rest(
        "POST",
        "/therapy-sidecar/v1/emails",
        json={"template": "cancelled", "intent_ref": ref, "user_id": buyer["id"], "data": data},
    )
    assert (again.status_code, again.json()["sent"]) == (200, False)
    mails = mails_to(wp, buyer["email"])
    assert len(mails) == 1
    subject, message = mails[0]
    assert "Your registration for Anxiety Support Circle is cancelled" in subject
    assert "Hello Test," in message
    assert "Your registration for Anxiety Support Circle is cancelled." in message
    assert "150.00 SAR has been refunded" in message
    assert "Your account on" in message and "stays" in message
    assert ref in message


# --- the fake BuddyPress's member DELETE --------------------------------------------------------


def test_fake_buddypress_removes_a_member_like_buddypress(
    wp: WPSite, buyer: dict[str, Any]
) -> None:
    group = wp.bp_group_id()
    route = f"/buddypress/v1/groups/{group}/members"
    joined = wp.rest("POST", route, params={"context": "view"}, json={"user_id": buyer["id"]})
    assert joined.status_code == 200, joined.text

    removed = wp.rest("DELETE", f"{route}/{buyer['id']}")
    assert removed.status_code == 200, removed.text
    body = removed.json()
    assert body["removed"] is True
    previous = body["previous"]
    assert (previous["id"], previous["group"]) == (buyer["id"], group)
    assert previous["user_login"] == buyer["username"]
    assert previous["is_confirmed"] is True and previous["is_admin"] is False
    assert "_links" not in previous
    listed = wp.rest("GET", route, params={"exclude_admins": "false", "per_page": 100})
    assert buyer["id"] not in [m["id"] for m in listed.json()]

    # BuddyPress answers a second removal (no longer a member) with a 500.
    twice = wp.rest("DELETE", f"{route}/{buyer['id']}")
    assert (twice.status_code, twice.json()["code"]) == (
        500,
        "bp_rest_group_member_failed_to_remove",
    )
    assert twice.json()["message"] == "Could not remove member from this group."


def test_fake_buddypress_member_delete_errors(wp: WPSite, buyer: dict[str, Any]) -> None:
    group = wp.bp_group_id()
    anonymous = wp.rest("DELETE", f"/buddypress/v1/groups/{group}/members/{buyer['id']}", auth=None)
    assert (anonymous.status_code, anonymous.json()["code"]) == (
        401,
        "bp_rest_authorization_required",
    )
    unknown_user = wp.rest("DELETE", f"/buddypress/v1/groups/{group}/members/987654")
    assert (unknown_user.status_code, unknown_user.json()["code"]) == (
        404,
        "bp_rest_group_member_invalid_id",
    )
    unknown_group = wp.rest("DELETE", f"/buddypress/v1/groups/987654/members/{buyer['id']}")
    assert (unknown_group.status_code, unknown_group.json()["code"]) == (
        404,
        "bp_rest_group_invalid_id",
    )


# --- the sidecar's client -----------------------------------------------------------------------


def test_the_client_cancels_and_leaves_idempotently(
    wp: WPSite, buyer: dict[str, Any], new_ref: Callable[[], str]
) -> None:
    ref = new_ref()
    assert book(wp, ref, wp.group_id(), buyer["id"]).status_code == 201
    with requests.Session() as session:
        client = WordPressClient(wp.base_url, wp.user, wp.app_password, session=session)
        client.join_group(wp.bp_group_id(), buyer["id"])
        assert client.cancel_booking(ref) is True
        assert client.cancel_booking(ref) is False
        assert client.find_booking(ref) is None
        assert client.leave_group(wp.bp_group_id(), buyer["id"]) is True
        assert client.leave_group(wp.bp_group_id(), buyer["id"]) is False
        assert client.is_group_member(wp.bp_group_id(), buyer["id"]) is False
    assert len(hook_calls(wp, ref)) == 1


# --- the sidecar's cancel and refund, end to end ------------------------------------------------


@pytest.fixture
def real_stack(tmp_path: Path, wp: WPSite) -> Iterator[Stack]:
    """Sidecar (SQLite) + PayTabs simulator + the real WordPress and its options table."""
    stack = Stack(tmp_path, f"sqlite:///{tmp_path / 'sidecar.sqlite3'}", real_wp=wp.env)
    yield stack
    stack.close()


def test_sidecar_cancel_and_refund_on_the_real_wordpress(real_stack: Stack, wp: WPSite) -> None:
    email = f"rwp.{secrets.token_hex(4)}@example.com"
    form = real_stack.form(email=email)
    assert real_stack.checkout(form).status_code == 303
    intent = real_stack.intent_by_key(form["idempotency_key"])
    real_stack.pay(intent)
    real_stack.deliver_ipns()
    real_stack.drain()
    done = real_stack.intent(intent.ref)
    assert done.state == State.FULFILLED, done
    assert done.wp_user_id is not None
    wp.created_user_ids.append(done.wp_user_id)
    assert real_stack.wordpress.find_booking(intent.ref) is not None
    assert real_stack.wordpress.is_group_member(done.bp_group_id, done.wp_user_id)

    outcome = cancel_and_refund(
        real_stack.services, intent.ref, reason="buyer cancelled", actor="test:realwp"
    )
    assert (outcome.before, outcome.after) == ("fulfilled", "refunding"), outcome
    real_stack.drain()

    after = real_stack.intent(intent.ref)
    assert after.state == State.REFUNDED, after
    assert real_stack.wordpress.find_booking(intent.ref) is None
    assert booking_rows(wp, intent.ref) == 0
    assert not real_stack.wordpress.is_group_member(done.bp_group_id, done.wp_user_id)
    calls = hook_calls(wp, intent.ref)
    assert [c["booking"]["user_id"] for c in calls] == [done.wp_user_id]
    # The account stays.
    user = real_stack.wordpress.find_user_by_email(email)
    assert user is not None and user.id == done.wp_user_id
    # One refund of the whole price at PayTabs (the simulator).
    refunds = [
        t
        for t in real_stack.sim.ledger()
        if t["tran_type"].lower() == "refund" and t["previous_tran_ref"] == done.tran_ref
    ]
    assert len(refunds) == 1, refunds
    assert refunds[0]["status"] == "A"
    assert Decimal(str(refunds[0]["amount"])) == Decimal(real_stack.group.price)
    # The buyer's mail, captured by the test mailbox.
    cancelled = [m for m in mails_to(wp, email) if "is cancelled" in m[0]]
    assert len(cancelled) == 1, mails_to(wp, email)
    subject, message = cancelled[0]
    assert real_stack.group.name in subject
    assert (
        f"{Decimal(real_stack.group.price):.2f} {real_stack.group.currency} has been refunded"
        in (message)
    )
    assert intent.ref in message

    # A second cancellation is answered, never acted on.
    again = cancel_and_refund(real_stack.services, intent.ref, reason="again", actor="test:realwp")
    assert "already cancelled" in again.message
    real_stack.drain()
    assert len(hook_calls(wp, intent.ref)) == 1
    assert len([t for t in real_stack.sim.ledger() if t["previous_tran_ref"] == done.tran_ref]) == 1
