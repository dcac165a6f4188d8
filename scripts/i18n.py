"""The sidecar's catalogue of buyer sentences: extract, compile and check the translations.

    python scripts/i18n.py extract   # messages.py -> messages.pot, and the .po of every locale
    python scripts/i18n.py compile   # each .po -> its .mo (the file the sidecar reads)
    python scripts/i18n.py check     # non-zero when a sentence lacks a translation or a .mo is stale

English is the source: the msgids are the sentences marked ``N_`` in sidecar/domain/messages.py.
``extract`` adds the new ones to each .po (untranslated), drops those no longer in messages.py and
keeps every existing translation.
"""

from __future__ import annotations

import io
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "sidecar" / "domain" / "messages.py"
TRANSLATIONS = ROOT / "sidecar" / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
LOCALES = ("ar",)
PROJECT = "therapy-pay-sidecar"
# The date stays fixed so that re-running extract changes the files only when a sentence changes.
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
HEADER = """\
Translations of the sentences a buyer reads from the payment sidecar ({language}).

To correct a translation: edit the msgstr under its English msgid below (keep every {{placeholder}}
exactly as it is, and "PayTabs" as written), then run

    python scripts/i18n.py compile

and commit this file together with messages.mo next to it. A new English sentence in
sidecar/domain/messages.py reaches this file with `python scripts/i18n.py extract` (its msgstr
empty until someone translates it); `python scripts/i18n.py check` says what is missing."""


def po_path(locale: str) -> Path:
    """Return the .po file of ``locale``."""
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def template() -> Catalog:
    """Return the catalogue of every English sentence marked in messages.py."""
    catalog = Catalog(project=PROJECT, creation_date=FIXED_DATE, fuzzy=False)
    where = SOURCE.relative_to(ROOT).as_posix()
    for lineno, message, comments, context in extract_from_file(
        "python", str(SOURCE), keywords={"N_": None}
    ):
        catalog.add(message, locations=[(where, lineno)], auto_comments=comments, context=context)
    return catalog


def _comment(text: str) -> str:
    return "\n".join(f"# {line}".rstrip() for line in text.splitlines())


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, include_lineno=False, sort_output=False)


def extract() -> None:
    """Write messages.pot from messages.py and bring every locale's .po up to date with it."""
    pot = template()
    _write(TEMPLATE, pot)
    for locale in LOCALES:
        path = po_path(locale)
        if path.exists():
            catalog = _read(path, locale)
        else:
            catalog = Catalog(locale=locale, project=PROJECT, creation_date=FIXED_DATE)
        catalog.update(pot, no_fuzzy_matching=True, update_creation_date=False)
        catalog.obsolete.clear()  # a sentence gone from messages.py leaves the .po too
        language = catalog.locale.english_name if catalog.locale else locale
        catalog.header_comment = _comment(HEADER.format(language=language))
        catalog.revision_date = FIXED_DATE
        catalog.fuzzy = False
        _write(path, catalog)


def compiled(locale: str) -> bytes:
    """Return the .mo bytes that the .po of ``locale`` compiles to."""
    buffer = io.BytesIO()
    write_mo(buffer, _read(po_path(locale), locale))
    return buffer.getvalue()


def compile_all() -> None:
    """Write each locale's messages.mo from its messages.po."""
    for locale in LOCALES:
        po_path(locale).with_suffix(".mo").write_bytes(compiled(locale))


def problems() -> list[str]:
    """Return what keeps the catalogue from being complete and in sync (empty when it is)."""
    found: list[str] = []
    wanted = {message.id for message in template() if message.id}
    with TEMPLATE.open("rb") as handle:
        in_template = {message.id for message in read_po(handle) if message.id}
    if wanted != in_template:
        found.append(
            "messages.pot is not in sync with sidecar/domain/messages.py: run "
            "`python scripts/i18n.py extract`, translate the new sentences, then "
            "`python scripts/i18n.py compile`"
        )
    for locale in LOCALES:
        catalog = _read(po_path(locale), locale)
        translated = {m.id: m.string for m in catalog if m.id and not m.fuzzy}
        for msgid in sorted(wanted):
            text = translated.get(msgid)
            if not isinstance(msgid, str) or not isinstance(text, str) or not text.strip():
                found.append(f"{locale}: no translation for {msgid!r}")
            elif sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text)):
                found.append(f"{locale}: the placeholders differ for {msgid!r}")
        mo = po_path(locale).with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != compiled(locale):
            found.append(f"{locale}: messages.mo is stale: run `python scripts/i18n.py compile`")
    return found


def main(argv: list[str]) -> int:
    """Run the command named in ``argv`` (extract, compile or check)."""
    command = argv[1] if len(argv) == 2 else ""
    if command == "extract":
        extract()
    elif command == "compile":
        compile_all()
    elif command == "check":
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
