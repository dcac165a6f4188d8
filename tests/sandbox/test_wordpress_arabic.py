"""The demo site in Arabic: a language switch on every page, remembered, right to left."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from sidecar.sandbox.wordpress_i18n import LANG_COOKIE
from tests.support.sandbox_site import sandbox_browser, sandbox_fake

PAGES = ["/therapy-registration/", "/therapy-registration-status/", "/thank-you/", "/wp-login.php"]
ARABIC_LETTERS = re.compile(r"[\u0600-\u06FF]{3,}")


@pytest.fixture
def browser() -> FlaskClient:
    fake = sandbox_fake()
    fake.add_group(name="Anxiety circle", price="150.00", capacity=5)
    return sandbox_browser(fake)


def html_of(browser: FlaskClient, path: str) -> str:
    response = browser.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", PAGES)
def test_sandbox_every_page_has_the_language_switch(browser: FlaskClient, path: str) -> None:
    html = html_of(browser, path)
    assert "<html lang='en' dir='ltr'>" in html
    assert "lang=ar" in html and "العربية" in html and ">English<" in html


def test_sandbox_lang_ar_is_remembered_for_every_page(browser: FlaskClient) -> None:
    first = browser.get("/therapy-registration/?lang=ar")
    assert LANG_COOKIE + "=ar" in first.headers["Set-Cookie"]
    for path in PAGES:
        html = html_of(browser, path)  # no ?lang= any more: the cookie speaks
        assert "<html lang='ar' dir='rtl'>" in html, path
        assert ARABIC_LETTERS.search(html), path
    browser.get("/therapy-registration/?lang=en")
    assert "<html lang='en' dir='ltr'>" in html_of(browser, "/thank-you/")


def test_sandbox_arabic_form_posts_locale_ar_and_speaks_arabic(browser: FlaskClient) -> None:
    html = html_of(browser, "/therapy-registration/?lang=ar")
    assert "<input type='hidden' name='locale' value='ar'>" in html
    assert "المتابعة إلى الدفع" in html and "الاسم الأول" in html
    assert "المملكة العربية السعودية" in html  # the country list in Arabic
    assert "المقاعد المتبقية: 5 من 5" in html
    english = html_of(browser, "/therapy-registration/?lang=en")
    assert "<input type='hidden' name='locale' value='en_US'>" in english
    assert "Continue to payment" in english and "5 of 5 seats left" in english


def test_sandbox_arabic_error_notice_names_the_field_in_arabic(browser: FlaskClient) -> None:
    browser.get("/?lang=ar")
    html = html_of(browser, "/therapy-registration/?error=missing_field&field=city")
    assert "يُرجى ملء حقل «المدينة»." in html
    known = html_of(browser, "/therapy-registration/?error=account_exists")
    assert "يوجد حساب مسجّل بهذا البريد الإلكتروني" in known
    assert "تسجيل الدخول" in known and "نسيت كلمة المرور؟" in known


def test_sandbox_arabic_status_page_texts_and_script_config(browser: FlaskClient) -> None:
    browser.get("/?lang=ar")
    html = html_of(browser, "/therapy-registration-status/?intent=tp_x&code=payment_declined")
    assert "رُفضت عملية الدفع ولم يُخصم منك أي مبلغ." in html
    assert "العودة إلى صفحة التسجيل" in html
    # the script's own sentences (JSON, ASCII-escaped) are the Arabic ones
    assert "\\u0645\\u0627 \\u0632\\u0644\\u0646\\u0627" in html  # "ما زلنا" (retrying)


def test_sandbox_language_switch_keeps_the_query(browser: FlaskClient) -> None:
    html = html_of(browser, "/therapy-registration/?group=1&lang=ar")
    assert "href='/therapy-registration/?group=1&amp;lang=en'" in html
    assert "aria-current='true'>العربية<" in html


def test_sandbox_layout_uses_no_fixed_left_or_right(browser: FlaskClient) -> None:
    html = html_of(browser, "/therapy-registration/?lang=ar")
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert style is not None
    assert not re.search(
        r"(margin|padding|border)-(left|right)|text-align:\s*(left|right)", style[1]
    )
