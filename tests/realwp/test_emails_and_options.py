"""POST /emails (idempotent per template + intent_ref) and the retreat's PayTabs options in wp_options.

Mail never leaves the test site: the setup installs a test-only mu-plugin that stores every wp_mail()
in the table WP_MAILBOX_TABLE and refuses recipients containing "+fail@".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import phpserialize
import pytest

from tests.realwp.helpers import REPO_ROOT, WPSite

pytestmark = pytest.mark.realwp


def send(wp: WPSite, **body: Any) -> Any:
    return wp.rest("POST", "/therapy-sidecar/v1/emails", json=body)


def mails_to(wp: WPSite, address: str) -> list[tuple[str, str]]:
    table = wp.env.get("WP_MAILBOX_TABLE", f"{wp.prefix}therapy_test_mailbox")
    rows = wp.query(
        f"SELECT subject, message FROM {table} WHERE to_addr = %s ORDER BY id", (address,)
    )
    return [(str(subject), str(message)) for subject, message in rows]


def test_booking_confirmed_is_sent_once(
    wp: WPSite, buyer: dict[str, Any], new_ref: Callable[[], str]
) -> None:
    ref = new_ref()
    booked = wp.rest(
        "POST",
        "/therapy-sidecar/v1/bookings",
        json={"intent_ref": ref, "group_id": wp.group_id(), "user_id": buyer["id"]},
    )
    assert booked.status_code == 201

    first = send(wp, template="booking_confirmed", intent_ref=ref, user_id=buyer["id"])
    assert (first.status_code, first.json()) == (202, {"sent": True})
    again = send(wp, template="booking_confirmed", intent_ref=ref, user_id=buyer["id"])
    assert again.status_code == 200
    assert again.json()["sent"] is False

    mails = mails_to(wp, buyer["email"])
    assert len(mails) == 1
    subject, message = mails[0]
    assert "Anxiety Support Circle" in subject
    assert "Hello Test," in message
    assert ref in message


def test_new_user_sends_wordpress_set_password_mail(
    wp: WPSite, buyer: dict[str, Any], new_ref: Callable[[], str]
) -> None:
    ref = new_ref()
    first = send(wp, template="new_user", intent_ref=ref, user_id=buyer["id"])
    assert (first.status_code, first.json()) == (202, {"sent": True})
    assert (
        send(wp, template="new_user", intent_ref=ref, user_id=buyer["id"]).json()["sent"] is False
    )
    mails = mails_to(wp, buyer["email"])
    assert len(mails) == 1
    assert "wp-login.php?action=rp" in mails[0][1]
    assert buyer["username"] in mails[0][1]


def test_refunded_goes_to_the_given_address_and_alert_to_the_admin(
    wp: WPSite, buyer: dict[str, Any], new_ref: Callable[[], str]
) -> None:
    ref = new_ref()
    other = f"refund.{ref}@example.test"
    refunded = send(
        wp,
        template="refunded",
        intent_ref=ref,
        user_id=buyer["id"],
        to=other,
        data={"amount": "150.00", "currency": "SAR", "group_id": wp.group_id()},
    )
    assert refunded.status_code == 202
    [(subject, message)] = mails_to(wp, other)
    assert "refunded" in subject
    assert "150.00 SAR" in message

    admin_email = wp.rest("GET", "/wp/v2/users/me", params={"context": "edit"}).json()["email"]
    before = len(mails_to(wp, admin_email))
    alert = send(wp, template="alert", intent_ref=ref, data={"message": f"stuck {ref}"})
    assert alert.status_code == 202
    after = mails_to(wp, admin_email)
    assert len(after) == before + 1
    assert f"stuck {ref}" in after[-1][1]


def test_a_failed_mail_is_503_and_can_be_retried(wp: WPSite, new_ref: Callable[[], str]) -> None:
    ref = new_ref()
    for _ in range(2):  # the claim is released, so the retry tries again (and fails again)
        failed = send(wp, template="refunded", intent_ref=ref, to=f"buyer+fail@{ref}.example.test")
        assert failed.status_code == 503
        assert failed.json()["code"] == "therapy_email_failed"
    rows = wp.query(
        f"SELECT COUNT(*) FROM {wp.prefix}therapy_sidecar_emails WHERE intent_ref = %s", (ref,)
    )
    assert rows[0][0] == 0
    ok = send(wp, template="refunded", intent_ref=ref, to=f"buyer@{ref}.example.test")
    assert ok.status_code == 202


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"template": "nope", "intent_ref": "rwp-x"}, 400, "rest_invalid_param"),
        ({"template": "alert"}, 400, "rest_missing_callback_param"),
        ({"template": "new_user", "intent_ref": "rwp-nouser"}, 400, "therapy_missing_user"),
        (
            {"template": "booking_confirmed", "intent_ref": "rwp-x", "user_id": 2_000_000_000},
            404,
            "therapy_user_not_found",
        ),
        ({"template": "refunded", "intent_ref": "rwp-x"}, 400, "therapy_email_no_recipient"),
    ],
)
def test_bad_email_requests(wp: WPSite, body: dict[str, Any], status: int, code: str) -> None:
    response = send(wp, **body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


# --- the retreat's PayTabs options ---------------------------------------------------------------


def option_value(wp: WPSite, name: str) -> str:
    rows = wp.query(f"SELECT option_value FROM {wp.prefix}options WHERE option_name = %s", (name,))
    assert len(rows) == 1, f"option {name} missing"
    value = rows[0][0]
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def test_paytabs_settings_are_a_serialized_php_array(wp: WPSite) -> None:
    expected = {
        "profile_id": wp.env["PAYTABS_PROFILE_ID"],
        "server_key": wp.env["PAYTABS_SERVER_KEY"],
        "region": wp.env["PAYTABS_REGION"],
        "currency": wp.env["PAYTABS_CURRENCY"],
    }
    raw = option_value(wp, "retreat_paytabs_settings")
    # Exactly what update_option() with a PHP array writes (string lengths in bytes).
    assert raw == phpserialize.dumps(expected).decode("utf-8")
    if wp.env["PAYTABS_PROFILE_ID"] == "87654":
        assert raw == (
            'a:4:{s:10:"profile_id";s:5:"87654";s:10:"server_key";s:33:"SZJNTEST-REALSTACK-FAKE-SERVERKEY";'
            's:6:"region";s:3:"SAU";s:8:"currency";s:3:"SAR";}'
        )
    assert phpserialize.loads(raw.encode("utf-8"), decode_strings=True) == expected


def test_separate_paytabs_options_are_plain_strings(wp: WPSite) -> None:
    assert option_value(wp, "paytabs_profile_id") == wp.env["PAYTABS_PROFILE_ID"]
    assert option_value(wp, "paytabs_server_key") == wp.env["PAYTABS_SERVER_KEY"]
    assert option_value(wp, "paytabs_region") == wp.env["PAYTABS_REGION"]


def test_the_bridge_plugin_never_touches_payment_options() -> None:
    plugin_dir = REPO_ROOT / "wp_bridge" / "wordpress"
    sources = [
        plugin_dir / "therapy-sidecar-bridge.php",
        *sorted((plugin_dir / "therapy-sidecar-bridge").glob("*.php")),
    ]
    pattern = re.compile(r"_option\s*\(\s*['\"][^'\"]*paytabs", re.IGNORECASE)
    for source in sources:
        text = Path(source).read_text(encoding="utf-8")
        assert not pattern.search(text), source
        assert "server_key" not in text, source
