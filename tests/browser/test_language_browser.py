"""A buyer in Arabic (390 px, a phone) and one in English (1280 px) pay and land on thank-you.

Every page the browser is served on the way (form, PayTabs page, status page, thank-you) is in the
buyer's language and direction, and the PayTabs page was asked for in it (``paypage_lang``).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from sidecar.sandbox.demo import DemoStack
from tests.browser.flows import Buyer, only_intent, sales

pytestmark = pytest.mark.browser
EMAIL = "amal@example.com"
ARABIC_WORDS = re.compile(r"[\u0600-\u06FF]{3,}")
SWITCH_NAME = "العربية"  # the switch names Arabic in Arabic on English pages too


def arabic_in(text: str) -> bool:
    """Tell whether ``text`` has Arabic words besides the language switch's name."""
    return bool(ARABIC_WORDS.search(text.replace(SWITCH_NAME, "")))


HTML_TAG = re.compile(r"<html[^>]*>", re.I)
PHONE = {"viewport": {"width": 390, "height": 844}}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
WHO = {"ar": f"مسجّل الدخول باسم {EMAIL}", "en": f"Logged in as {EMAIL}"}


class Served:
    """The HTML documents the browser was served (2xx navigations of the main frame)."""

    def __init__(self, page: Any) -> None:
        self.documents: list[tuple[str, str]] = []
        self.unread: list[str] = []
        self.page = page
        page.on("response", self._response)

    def _response(self, response: Any) -> None:
        request = response.request
        if not (request.is_navigation_request() and request.frame == self.page.main_frame):
            return
        if 200 <= response.status < 300:
            from playwright.sync_api import Error as PlaywrightError

            try:
                self.documents.append((response.url, response.text()))
            except PlaywrightError:  # a page left before its body was read (an auto-submit form)
                self.unread.append(response.url)

    def opening_tags(self) -> dict[str, str]:
        """Each served page's address (without query) and its <html> tag."""
        return {
            url.split("?")[0]: (match[0] if (match := HTML_TAG.search(text)) else "")
            for url, text in self.documents
        }


def assert_page_reads(page: Any, lang: str) -> None:
    """The open page is in ``lang``, in its direction, and fits the screen's width."""
    html = page.evaluate(
        "() => [document.documentElement.lang, document.documentElement.dir,"
        " document.body.innerText, document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert html[0] == lang and html[1] == ("rtl" if lang == "ar" else "ltr"), html[:2]
    assert arabic_in(html[2]) == (lang == "ar"), html[2][:200]
    assert html[3] <= html[4], f"horizontal scroll: {html[3]} > {html[4]}"


@pytest.mark.parametrize(
    ("context", "lang"),
    [(PHONE, "ar"), (DESKTOP, "en")],
    indirect=["context"],
    ids=["arabic-390px", "english-1280px"],
)
def test_browser_journey_in_the_buyers_language(demo: DemoStack, buyer: Buyer, lang: str) -> None:
    served = Served(buyer.page)
    group = demo.groups[0]
    buyer.page.goto(f"{demo.wordpress_url}/therapy-registration/?group={group.id}&lang={lang}")
    assert_page_reads(buyer.page, lang)
    locale = buyer.page.get_attribute("input[name=locale]", "value")
    assert locale == ("ar" if lang == "ar" else "en_US")
    buyer.fill_form(EMAIL)
    buyer.submit()
    assert_page_reads(buyer.page, lang)  # the PayTabs page, opened in the buyer's language
    buyer.pay()
    buyer.wait_for_thank_you()
    assert_page_reads(buyer.page, lang)
    assert buyer.text(".who") == WHO[lang]

    tags = served.opening_tags()
    status_page = f"{demo.wordpress_url}/therapy-registration-status/"
    assert status_page in tags, (list(tags), served.unread)  # the status page was served
    expected = f"dir='{'rtl' if lang == 'ar' else 'ltr'}'"
    for url, tag in tags.items():
        if url.startswith(demo.wordpress_url):
            assert expected in tag, (url, tag)
    for url, text in served.documents:
        assert arabic_in(text) == (lang == "ar"), url
    intent = only_intent(demo)
    assert (intent.state.value, intent.locale) == ("fulfilled", lang)
    assert [s["paypage_lang"] for s in sales(demo)] == [lang]
