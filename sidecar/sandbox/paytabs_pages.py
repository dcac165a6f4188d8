"""HTML of the simulated PayTabs hosted payment page (plain strings, no template engine)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

INVALID_PAGE_TEXT = "This payment page is no longer valid"
CLOSE_WINDOW_TEXT = "You may close this window"

_CARD_ROWS = (
    ("4111 1111 1111 1111", "approved (A)"),
    ("4000 0000 0000 0002", "declined (D)"),
    ("4000 0000 0000 0119", "fraud hold (H)"),
    ("4000 0000 0000 0259", "pending (P)"),
)


# Usable on a phone: no fixed width, 16 px text (phones do not zoom into the card field), and the
# field and buttons take the whole width of a narrow screen; side by side from 480 px up.
STYLE = """
html { font-size: 16px; -webkit-text-size-adjust: 100%; }
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0 auto; padding: 1rem; max-width: 36rem; font-family: system-ui, sans-serif;
  font-size: 1rem; line-height: 1.5; color: #1a1a1a; overflow-wrap: anywhere; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.25rem; }
label { display: block; margin-bottom: 0.25rem; }
input, button { display: block; width: 100%; max-width: 100%; font: inherit; font-size: 1rem;
  min-height: 2.75rem; margin: 0 0 0.75rem; padding: 0.5rem 0.75rem; }
button { cursor: pointer; }
#error { color: #a00000; }
@media (min-width: 480px) {
  button { display: inline-block; width: auto; min-width: 8rem; margin-inline-end: 0.5rem; }
}
"""


# The hosted page in the language the merchant asked for (paypage_lang), as PayTabs' own is.
ARABIC = {
    "PayTabs simulator": "محاكي PayTabs",
    "Card number": "رقم البطاقة",
    "Pay": "ادفع",
    "Cancel": "إلغاء",
    "Test cards": "بطاقات الاختبار",
    "Continue": "متابعة",
}


def _document(title: str, body: str, *, onload: str = "", lang: str = "en") -> str:
    attribute = f' onload="{onload}"' if onload else ""
    language = "ar" if lang == "ar" else "en"
    direction = "rtl" if language == "ar" else "ltr"
    return (
        f'<!DOCTYPE html>\n<html lang="{language}" dir="{direction}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body{attribute}>\n"
        f"{body}\n</body></html>\n"
    )


def payment_page(
    *, amount: str, currency: str, description: str, error: str = "", lang: str = "en"
) -> str:
    """Render the card form with the list of test cards and a Cancel button (in ``lang``)."""

    def say(text: str) -> str:
        return ARABIC.get(text, text) if lang == "ar" else text

    cards = "".join(
        f"<li><code>{number}</code>: {escape(result)}</li>" for number, result in _CARD_ROWS
    )
    problem = f'<p id="error" role="alert">{escape(error)}</p>' if error else ""
    body = f"""<h1>{say("PayTabs simulator")}</h1>
<p id="description">{escape(description)}</p>
<p id="amount">{escape(amount)} {escape(currency)}</p>
{problem}
<form method="post">
  <label for="card_number">{say("Card number")}</label>
  <input id="card_number" name="card_number" inputmode="numeric" autocomplete="off" required
    dir="ltr">
  <button id="pay" type="submit" name="action" value="pay">{say("Pay")}</button>
  <button id="cancel" type="submit" name="action" value="cancel" formnovalidate>{say("Cancel")}</button>
</form>
<h2>{say("Test cards")}</h2>
<ul id="test-cards" lang="en" dir="ltr">{cards}</ul>
<p lang="en" dir="ltr">Any expiry date in the future and any CVV are accepted.</p>"""
    return _document("PayTabs simulator: payment", body, lang=lang)


def invalid_page() -> str:
    """Render the page shown for a finished, expired or unknown payment page."""
    body = f'<h1 id="invalid">{INVALID_PAGE_TEXT}</h1>'
    return _document("PayTabs simulator: invalid page", body)


def close_window_page(message: str) -> str:
    """Render the end page shown when the browser is not sent back to the merchant."""
    body = f'<h1 id="done">{escape(message)}</h1>\n<p id="close">{CLOSE_WINDOW_TEXT}.</p>'
    return _document("PayTabs simulator: done", body)


def return_form(return_url: str, fields: Mapping[str, str], *, lang: str = "en") -> str:
    """Render the auto-submitting form that POSTs the signed return fields to the merchant."""
    label = ARABIC["Continue"] if lang == "ar" else "Continue"
    inputs = "\n".join(
        f'  <input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )
    body = f"""<form id="return" method="post" action="{escape(return_url)}">
{inputs}
  <noscript><button id="continue" type="submit">{label}</button></noscript>
</form>"""
    return _document(
        "PayTabs simulator: redirecting", body, onload="document.forms[0].submit()", lang=lang
    )
