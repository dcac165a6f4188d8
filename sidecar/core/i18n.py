"""The buyer's language: which locales the sidecar speaks, and its sentences in each.

English is the source language: every sentence in ``sidecar.domain.messages`` is an English msgid,
marked with ``N_`` there so that Babel can extract it, and translated only where it is shown, with
the buyer's locale (kept on the intent from checkout on). The catalogues live in
``sidecar/translations/<locale>/LC_MESSAGES/messages.po`` (the file to correct) and ``messages.mo``
(compiled from it; ``scripts/i18n.py`` rebuilds both, a test checks they agree).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Final

from babel.support import NullTranslations, Translations

DEFAULT_LOCALE: Final = "en"
# The locales the buyer's pages, e-mails and the PayTabs page are offered in.
LOCALES: Final = ("en", "ar")
RTL_LOCALES: Final = frozenset({"ar"})
TRANSLATIONS_DIR: Final = Path(__file__).resolve().parent.parent / "translations"
DOMAIN: Final = "messages"


def normalize_locale(value: str | None) -> str:
    """Map a WordPress or browser locale ("ar", "ar_SA", "ar-EG", "en_US") to one we speak."""
    if not value:
        return DEFAULT_LOCALE
    language = value.strip().replace("-", "_").split("_", 1)[0].lower()
    return language if language in LOCALES else DEFAULT_LOCALE


@functools.cache
def catalogue(locale: str) -> NullTranslations:
    """Return the compiled catalogue of ``locale`` (English, the source, has none)."""
    locale = normalize_locale(locale)
    if locale == DEFAULT_LOCALE:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [locale], DOMAIN)


def translate(text: str, locale: str | None, /, **fields: object) -> str:
    """Return ``text`` (an English msgid) in ``locale``, its ``{fields}`` filled in."""
    translated = catalogue(normalize_locale(locale)).gettext(text)
    return translated.format(**fields) if fields else translated


def direction(locale: str | None) -> str:
    """Return the writing direction of ``locale``: "rtl" or "ltr" (for ``<html dir>``)."""
    return "rtl" if normalize_locale(locale) in RTL_LOCALES else "ltr"


def paypage_lang(locale: str | None) -> str:
    """Return the PayTabs hosted page's language (``paypage_lang``) for ``locale``."""
    return normalize_locale(locale)
