"""The sandbox WordPress's language: the visitor's choice (English or Arabic) and the switch.

The theme's sentences come from the sidecar's one catalogue (``sidecar.domain.messages``), in the
language the visitor chose with the switch on every page (?lang=ar|en, remembered in a cookie).
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, has_request_context, request
from markupsafe import Markup

from sidecar.core.i18n import DEFAULT_LOCALE, LOCALES, normalize_locale, translate
from sidecar.domain import messages

LANG_COOKIE_SECONDS = 365 * 24 * 3600
# The visitor's language: ?lang=ar|en (remembered in this cookie by wordpress.py), else the cookie.
LANG_COOKIE = "wp_lang"
# Each language named in itself, as language switches do (never translated).
LANGUAGE_NAMES = {"en": "English", "ar": "العربية"}
# What the form posts as ``locale``: WordPress's get_locale() for each language.
WP_LOCALES = {"en": "en_US", "ar": "ar"}


def visitor_locale() -> str:
    """Return the language the visitor chose (?lang=, else the wp_lang cookie); English by default."""
    if not has_request_context():
        return DEFAULT_LOCALE
    return normalize_locale(request.args.get("lang") or request.cookies.get(LANG_COOKIE))


def _(text: str, **fields: object) -> str:
    """Return a catalogue sentence in the visitor's language."""
    return translate(text, visitor_locale(), **fields)


def language_switch() -> Markup:
    """Return "English | العربية": links to this page in each language, the current one marked."""
    current = visitor_locale()
    kept = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    links = [
        Markup("<a href='{}' lang='{}' hreflang='{}'{}>{}</a>").format(
            f"{request.path}?{urlencode([*kept, ('lang', code)])}",
            code,
            code,
            Markup(" aria-current='true'") if code == current else "",
            LANGUAGE_NAMES[code],
        )
        for code in LOCALES
    ]
    return Markup("<nav class='languages' aria-label='{}'>{}</nav>").format(
        _(messages.DEMO_LANGUAGE), Markup(" | ").join(links)
    )


def remember_language(response: Response) -> Response:
    """Keep a ?lang= choice in the wp_lang cookie, so that every later page speaks it."""
    chosen = request.args.get("lang")
    if chosen in LOCALES:
        response.set_cookie(
            LANG_COOKIE, chosen, max_age=LANG_COOKIE_SECONDS, path="/", samesite="Lax"
        )
    return response
