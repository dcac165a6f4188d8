"""The bridge plugin in Arabic on the real WordPress: its pages right to left, its e-mails in the buyer's
language whatever the site's.

The site's language is the option WPLANG (what Settings > General > Site Language writes); the
fixture `arabic_site` sets it to "ar" for one test and puts the previous value back. WordPress's own
Arabic translation need not be installed: the plugin ships its catalogue and knows Arabic is written
right to left.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.realwp.helpers import REPO_ROOT, TIMEOUT, WPSite, run_php
from tests.realwp.test_emails_and_options import mails_to, send

pytestmark = pytest.mark.realwp

FORM_PAGE = "/therapy-registration/"
STATUS_PAGE = "/therapy-registration-status/"


def get(wp: WPSite, path: str, params: dict[str, str] | None = None) -> str:
    response = wp.session.get(
        f"{wp.base_url}{path}", params=params, timeout=TIMEOUT, allow_redirects=False
    )
    assert response.status_code == 200, (path, response.status_code)
    return response.text


def set_site_language(wp: WPSite, language: str | None) -> None:
    """Write WPLANG (None: remove it, as a site that never chose a language)."""
    table = f"{wp.prefix}options"
    wp.query(f"DELETE FROM {table} WHERE option_name = 'WPLANG'")
    if language is not None:
        wp.query(
            f"INSERT INTO {table} (option_name, option_value, autoload) VALUES ('WPLANG', %s, 'yes')",
            (language,),
        )


@pytest.fixture
def arabic_site(wp: WPSite) -> Iterator[None]:
    """The site's language set to Arabic for one test."""
    rows = wp.query(f"SELECT option_value FROM {wp.prefix}options WHERE option_name = 'WPLANG'")
    before = str(rows[0][0]) if rows else None
    set_site_language(wp, "ar")
    try:
        yield
    finally:
        set_site_language(wp, before)


MO_FILE = REPO_ROOT / "wp_bridge/wordpress/therapy-sidecar-bridge/languages/therapy-sidecar-ar.mo"
WORDPRESS = "/usr/share/wordpress"


def test_wordpress_reads_the_shipped_arabic_mo() -> None:
    # WordPress's own MO reader, as load_textdomain() uses it.
    result = run_php(
        f"""<?php
        define( 'ABSPATH', '{WORDPRESS}/' );
        require ABSPATH . 'wp-includes/pomo/mo.php';
        $mo = new MO();
        echo $mo->import_from_file( '{MO_FILE}' ) ? 'read' : 'refused', "\\n";
        echo $mo->translate( 'Sorry, this group is full.' ), "\\n";
        echo $mo->headers['Language'] ?? '', "\\n";
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["read", "عذرًا، اكتمل عدد هذه المجموعة.", "ar"]


def hidden(markup: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', markup)
    assert match, f"no hidden {name}"
    return html.unescape(match.group(1))


def wrapper(markup: str, css_class: str) -> str:
    """The opening tag of the plugin's wrapper with this class."""
    match = re.search(rf'<div class="{css_class}"[^>]*>', markup)
    assert match, f"no {css_class} wrapper"
    return match.group(0)


def field(markup: str, name: str) -> str:
    match = re.search(rf'<input type="[a-z]+" id="[^"]*" name="{name}"[^>]*>', markup)
    assert match, name
    return match.group(0)


def test_form_in_arabic_is_right_to_left_with_arabic_labels(wp: WPSite, arabic_site: None) -> None:
    markup = get(wp, FORM_PAGE)
    assert 'dir="rtl"' in wrapper(markup, "therapy-sidecar")
    for label in ("الاسم الأول", "اسم العائلة", "البريد الإلكتروني", "رقم الهاتف", "المدينة"):
        assert f">{label}</label>" in markup, label
    assert ">المملكة العربية السعودية</option>" in markup
    assert "المتابعة إلى الدفع" in markup
    assert "First name" not in markup
    assert hidden(markup, "locale") == "ar"
    # Numbers and addresses keep reading left to right inside the Arabic form.
    assert 'dir="ltr"' in field(markup, "phone")
    assert 'dir="ltr"' in field(markup, "email")


def test_form_error_in_arabic(wp: WPSite, arabic_site: None) -> None:
    markup = get(wp, FORM_PAGE, {"error": "missing_field", "field": "city"})
    assert "يُرجى ملء حقل «المدينة»." in markup
    full = get(wp, FORM_PAGE, {"error": "group_full", "field": "group_id"})
    assert "عذرًا، اكتمل عدد هذه المجموعة." in full
    assert "Sorry, this group is full." not in full


def test_status_page_in_arabic(wp: WPSite, arabic_site: None) -> None:
    markup = get(wp, STATUS_PAGE, {"intent": "TP-2024-0001"})
    assert 'dir="rtl"' in wrapper(markup, "therapy-sidecar-status")
    assert "جارٍ تسجيلك في المجموعة التي اخترتها…" in markup
    assert "العودة إلى صفحة التسجيل" in markup
    # The texts the status script shows later, in its call's settings.
    call = re.search(r"therapySidecarStatus\((\{.*?\})\);", markup)
    assert call, "no status script call"
    texts = json.loads(call.group(1))["texts"]
    assert texts["retrying"] == "ما زلنا نعمل على تسجيلك…"
    assert texts["notFound"].startswith("لم نتمكن من العثور على هذا التسجيل.")
    failed = get(wp, STATUS_PAGE, {"intent": "TP-2024-0002", "code": "payment_declined"})
    assert "رُفضت عملية الدفع ولم يُخصم منك أي مبلغ." in failed


def test_login_link_page_in_arabic(wp: WPSite, arabic_site: None) -> None:
    response = wp.rest("GET", "/therapy-sidecar/v1/login", params={"grant": "x.y"}, auth=None)
    assert response.status_code == 403
    assert 'dir="rtl"' in response.text.split(">", 2)[1]
    assert "رابط تسجيل الدخول هذا غير صالح" in response.text


def test_english_site_is_unchanged(wp: WPSite) -> None:
    markup = get(wp, FORM_PAGE, {"error": "group_full"})
    assert 'dir="ltr"' in wrapper(markup, "therapy-sidecar")
    assert hidden(markup, "locale") == "en_US"
    assert "Sorry, this group is full." in markup
    assert ">First name</label>" in markup
    status = get(wp, STATUS_PAGE, {"intent": "TP-2024-0001"})
    assert "You are being registered to your selected group…" in status


def booked(wp: WPSite, buyer: dict[str, Any], ref: str) -> None:
    response = wp.rest(
        "POST",
        "/therapy-sidecar/v1/bookings",
        json={"intent_ref": ref, "group_id": wp.group_id(), "user_id": buyer["id"]},
    )
    assert response.status_code == 201, response.text


def test_email_asked_in_arabic_on_an_english_site(
    wp: WPSite, buyer: dict[str, Any], new_ref: Any
) -> None:
    ref = new_ref()
    booked(wp, buyer, ref)
    sent = send(wp, template="booking_confirmed", intent_ref=ref, user_id=buyer["id"], locale="ar")
    assert sent.status_code == 202, sent.text
    [(subject, message)] = mails_to(wp, buyer["email"])
    assert "تم تأكيد مكانك في" in subject
    assert "شكرًا لك على الدفع." in message
    assert f"الرقم المرجعي لتسجيلك: {ref}" in message
    assert "Thank you" not in message
    # The request's language is back afterwards: the next mail, asked in English, is English.
    ref2 = new_ref()
    sent = send(wp, template="refunded", intent_ref=ref2, user_id=buyer["id"], locale="en")
    assert sent.status_code == 202, sent.text
    assert "Your payment has been refunded" in mails_to(wp, buyer["email"])[1][0]


def test_email_asked_in_english_on_an_arabic_site(
    wp: WPSite, arabic_site: None, buyer: dict[str, Any], new_ref: Any
) -> None:
    ref = new_ref()
    booked(wp, buyer, ref)
    sent = send(wp, template="booking_confirmed", intent_ref=ref, user_id=buyer["id"], locale="en")
    assert sent.status_code == 202, sent.text
    [(subject, message)] = mails_to(wp, buyer["email"])
    assert "is confirmed" in subject
    assert "Thank you for your payment." in message
    assert not re.search("[\u0600-\u06ff]", message)


def test_email_without_a_locale_follows_the_site(
    wp: WPSite, arabic_site: None, buyer: dict[str, Any], new_ref: Any
) -> None:
    ref = new_ref()
    sent = send(wp, template="refunded", intent_ref=ref, user_id=buyer["id"])
    assert sent.status_code == 202, sent.text
    [(subject, message)] = mails_to(wp, buyer["email"])
    assert "أُعيد إليك المبلغ المدفوع" in subject
    assert "قد يستغرق وصول المبلغ إلى حسابك بضعة أيام" in message


def test_email_with_a_malformed_locale_is_refused(
    wp: WPSite, buyer: dict[str, Any], new_ref: Any
) -> None:
    sent = send(
        wp, template="refunded", intent_ref=new_ref(), user_id=buyer["id"], locale="../../x"
    )
    assert sent.status_code == 400
    assert sent.json()["code"] == "rest_invalid_param"


def test_email_without_a_locale_follows_the_users_language(
    wp: WPSite, buyer: dict[str, Any], new_ref: Any
) -> None:
    # The user's own language (Profile > Language), on an English site.
    # (WordPress gives every new user an empty "locale" meta.)
    wp.query(
        f"UPDATE {wp.prefix}usermeta SET meta_value = 'ar' WHERE user_id = %s AND meta_key = 'locale'",
        (buyer["id"],),
    )
    sent = send(wp, template="refunded", intent_ref=new_ref(), user_id=buyer["id"])
    assert sent.status_code == 202, sent.text
    [(subject, _)] = mails_to(wp, buyer["email"])
    assert "أُعيد إليك المبلغ المدفوع" in subject
