"""The buyer's language: posted with the form, kept on the intent, spoken by all they read next."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import responses

from sidecar.domain import messages
from sidecar.payments.seats import hhmm
from sidecar.store import repository as repo

JSON = {"Accept": "application/json"}
ARABIC_WAITING = "ننتظر تأكيد دفعتك من PayTabs…"


@pytest.mark.parametrize(
    ("posted", "stored"),
    [("ar", "ar"), ("ar_SA", "ar"), ("en_US", "en"), ("fr_FR", "en"), ("", "en"), (None, "en")],
)
def test_checkout_locale_is_normalized_onto_the_intent_and_the_paytabs_page(
    stack: Any, posted: str | None, stored: str
) -> None:
    fields = {} if posted is None else {"locale": posted}
    intent = stack.start(**fields)
    assert intent.locale == stored
    sale = next(t for t in stack.sim.ledger() if t["tran_ref"] == intent.tran_ref)
    assert sale["paypage_lang"] == stored


def test_checkout_locale_of_an_intent_from_before_is_english(stack: Any) -> None:
    """A row written without a locale (as every row before sql/0007) reads as English."""
    intent = stack.start(locale="ar")
    values = {k: repo.db_value(v) for k, v in asdict(intent).items() if k not in ("id", "locale")}
    values.update(ref=intent.ref + "x", idempotency_key=None, tran_ref=None)
    with stack.services.db.transaction() as tx:
        older = repo.get_intent(tx, repo.insert_intent(tx, values))
    assert older is not None and older.locale == "en"


@pytest.mark.parametrize(("locale", "lang"), [("ar", "ar"), ("en_US", "en")])
def test_checkout_create_page_request_carries_paypage_lang(
    stack: Any, locale: str, lang: str
) -> None:
    """The request on the wire, as PayTabs receives it (answered by the simulator)."""
    sent: list[dict[str, Any]] = []

    def paytabs(request: Any) -> tuple[int, dict[str, str], str]:
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        sent.append(json.loads(body))
        status, answer = stack.sim.handle_api("request", request.headers.get("authorization"), body)
        return status, {"Content-Type": "application/json"}, json.dumps(answer)

    with responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        mocked.add_callback(
            responses.POST, f"{stack.sim_server.url}/payment/request", callback=paytabs
        )
        stack.start(locale=locale)
    assert [body["paypage_lang"] for body in sent] == [lang]


def test_checkout_status_json_and_page_speak_the_intents_locale(stack: Any) -> None:
    intent = stack.start(locale="ar")
    answer = stack.client.get(f"/therapy/status/{intent.ref}", headers=JSON).get_json()
    assert answer["locale"] == "ar"
    assert answer["message"].startswith(ARABIC_WAITING)
    # The browser's own language does not matter once the intent has one.
    page = stack.client.get(
        f"/therapy/status/{intent.ref}",
        headers={"Accept": "text/html", "Accept-Language": "en-US"},
    ).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert ARABIC_WAITING in page and "جارٍ تسجيلك" in page

    english = stack.start(locale="en_US")
    answer = stack.client.get(f"/therapy/status/{english.ref}", headers=JSON).get_json()
    assert answer["message"].startswith("We are waiting for PayTabs")


def test_checkout_refusal_json_message_in_the_posted_locale(stack: Any) -> None:
    response = stack.checkout(stack.form(phone="abc", locale="ar"), headers=JSON)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("invalid_phone", "phone")
    assert error["message"] == "يُرجى إدخال رقم هاتف صحيح مع رمز الدولة."

    english = stack.checkout(stack.form(phone="abc", locale="en_US"), headers=JSON)
    assert english.get_json()["error"]["message"] == messages.FORM_ERRORS["invalid_phone"]


def test_checkout_refusal_with_figures_in_arabic_keeps_the_figures(stack: Any) -> None:
    response = stack.checkout(stack.form(email="a" * 95 + "@x.com", locale="ar"), headers=JSON)
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("field_too_long", "email")
    assert error["message"] == "بريدك الإلكتروني طويل جدًا؛ الحد الأقصى لعدد أحرفه: 100."


def test_checkout_refusal_group_full_held_in_arabic_says_when(stack: Any) -> None:
    stack.set_site_options(timezone_string="Asia/Riyadh")
    held = stack.start(group_id=str(stack.small_group.id))
    response = stack.checkout(stack.form(stack.small_group.id, locale="ar"), headers=JSON)
    error = response.get_json()["error"]
    assert error["code"] == "group_full"
    assert error["message"].startswith("جميع الأماكن محجوزة أو قيد الدفع الآن.")
    when = hhmm(held.hold_expires_at, ZoneInfo("Asia/Riyadh"), round_up=True)
    assert f"الساعة {when}؛" in error["message"] and "UTC" not in error["message"]
    assert held.locale == "en"


def test_checkout_refusal_redirect_carries_only_the_code(stack: Any) -> None:
    response = stack.checkout(stack.form(phone="abc", locale="ar"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("?error=invalid_phone&field=phone")


def test_checkout_unavailable_page_in_the_posted_locale(stack: Any) -> None:
    stack.wp.down = True  # WordPress not answering: the 503 page, before any intent exists
    page = stack.checkout(stack.form(locale="ar"), headers={"Accept": "text/html"})
    body = page.get_data(as_text=True)
    assert page.status_code == 503
    assert '<html lang="ar" dir="rtl">' in body
    assert "لم يُخصم منك أي مبلغ." in body and "التسجيل غير متاح" in body
    assert "العودة إلى الموقع" in body

    by_browser = stack.checkout(
        stack.form(), headers={"Accept": "text/html", "Accept-Language": "ar-SA,ar;q=0.9,en;q=0.5"}
    )
    assert '<html lang="ar" dir="rtl">' in by_browser.get_data(as_text=True)
    english = stack.checkout(stack.form(), headers={"Accept": "text/html"})
    assert '<html lang="en" dir="ltr">' in english.get_data(as_text=True)
    assert "You have not been charged." in english.get_data(as_text=True)
    json_answer = stack.checkout(stack.form(locale="ar"), headers=JSON).get_json()["error"]
    assert json_answer["code"] == "wordpress_unavailable"


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_checkout_locale_every_mail_asks_the_bridge_for_the_buyers_language(
    stack: Any, locale: str
) -> None:
    intent = stack.paid_intent(locale=locale)
    stack.drain()
    assert stack.intent(intent.ref).state.value == "fulfilled"
    mails = [m for m in stack.wp.emails if m["intent_ref"] == intent.ref]
    assert {m["template"] for m in mails} >= {"new_user", "booking_confirmed"}
    assert {m["locale"] for m in mails} == {locale}


def test_checkout_locale_refund_mail_in_arabic(stack: Any) -> None:
    intent = stack.paid_intent(locale="ar")
    stack.wp.set_group_open(stack.group.id, False)
    stack.drain()
    mails = [m for m in stack.wp.emails if m["intent_ref"] == intent.ref]
    assert [(m["template"], m["locale"]) for m in mails] == [("refunded", "ar")]


def test_checkout_unavailable_json_message_in_the_posted_locale(stack: Any) -> None:
    """The operator's detail stays in English answers; an Arabic buyer reads the page's sentence."""
    stack.wp.down = True
    arabic = stack.checkout(stack.form(locale="ar"), headers=JSON).get_json()["error"]
    assert arabic["code"] == "wordpress_unavailable"
    assert arabic["message"] == ("موقعنا لا يستجيب حاليًا، لذا لا يمكننا تسجيلك في الوقت الحالي.")
    english = stack.checkout(stack.form(locale="en_US"), headers=JSON).get_json()["error"]
    assert english["code"] == "wordpress_unavailable"
    assert "nothing was charged" in english["message"]


def test_checkout_status_of_an_unknown_ref_in_the_browsers_language(stack: Any) -> None:
    answer = stack.client.get(
        "/therapy/status/tp_unknown", headers={**JSON, "Accept-Language": "ar-SA,ar;q=0.9"}
    )
    assert answer.status_code == 404
    assert answer.get_json()["error"]["message"].startswith("لم نتمكن من العثور على هذا التسجيل")
