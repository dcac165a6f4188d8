"""The buyer's language: which locales the sidecar speaks, and its sentences in each.

English is the source language: every sentence in ``sidecar.domain.messages`` is an English msgid,
marked with ``N_`` there so that Babel can extract it, and translated only where it is shown, with
the buyer's locale (kept on the intent from checkout on). The catalogues live in
``sidecar/translations/<locale>/LC_MESSAGES/messages.po`` (the file to correct) and ``messages.mo``
(compiled from it; ``scripts/i18n.py`` rebuilds both, a test checks they agree).
"""

from __future__ import annotations

import functools
import re
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
    """Return ``text`` (an English msgid) in ``locale``, its ``{fields}`` filled in.

    A sentence whose fields were filled in English already (an error raised with its figures) is
    recognised by its msgid and translated with the same figures; any other text comes back as is.
    """
    locale = normalize_locale(locale)
    translated = catalogue(locale).gettext(text)
    if fields:
        return translated.format(**fields)
    if translated == text and locale != DEFAULT_LOCALE:
        for pattern, msgid in _filled_patterns(locale):
            match = pattern.fullmatch(text)
            if match:
                # A filled-in field that is itself a sentence of ours (a label) is translated too.
                filled = {k: catalogue(locale).gettext(v) for k, v in match.groupdict().items()}
                return catalogue(locale).gettext(msgid).format(**filled)
    return translated


_FIELD = re.compile(r"\{([a-z_]+)\}")


@functools.cache
def _filled_patterns(locale: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each msgid of ``locale``'s catalogue that has fields, as a pattern of its filled form."""
    msgids = getattr(catalogue(locale), "_catalog", {})
    patterns = []
    for msgid in msgids:
        if not isinstance(msgid, str) or not _FIELD.search(msgid):
            continue
        parts = _FIELD.split(msgid)  # literal, name, literal, name, ..., literal
        regex = "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)"
            for index, part in enumerate(parts)
        )
        try:
            patterns.append((re.compile(regex, re.S), msgid))
        except re.error:  # a field named twice in one sentence: not recognisable, left as is
            continue
    return tuple(patterns)


def direction(locale: str | None) -> str:
    """Return the writing direction of ``locale``: "rtl" or "ltr" (for ``<html dir>``)."""
    return "rtl" if normalize_locale(locale) in RTL_LOCALES else "ltr"


def paypage_lang(locale: str | None) -> str:
    """Return the PayTabs hosted page's language (``paypage_lang``) for ``locale``."""
    return normalize_locale(locale)
