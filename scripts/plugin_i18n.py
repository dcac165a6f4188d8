"""The WordPress bridge plugin's catalogue (text domain therapy-sidecar): extract, compile, check.

    python scripts/plugin_i18n.py extract   # the plugin's PHP -> therapy-sidecar.pot, and the .po
    python scripts/plugin_i18n.py compile   # each .po -> its .mo (the file WordPress reads)
    python scripts/plugin_i18n.py check     # non-zero when a msgid lacks a translation or a .mo is stale

English is the source: the msgids are the strings of the plugin's __(), esc_html__(), esc_attr__(),
_e(), esc_html_e(), esc_attr_e(), _x(), _ex(), esc_html_x(), esc_attr_x(), _n() and _nx() calls
whose text domain is therapy-sidecar, with their ``/* translators: */`` comments. ``extract`` adds
new msgids to each .po (untranslated), drops those the plugin no longer says and keeps every
existing translation; a msgid that the sidecar says too takes the sidecar's translation
(sidecar/translations). The files live in wp_bridge/wordpress/therapy-sidecar-bridge/languages/.
"""

from __future__ import annotations

import io
import re
import struct
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from php_gettext import DOMAIN, extract_source

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "wp_bridge" / "wordpress"
LANGUAGES = PLUGIN / "therapy-sidecar-bridge" / "languages"
TEMPLATE = LANGUAGES / f"{DOMAIN}.pot"
LOCALES = ("ar",)
LANGUAGE_NAMES = {"ar": "Arabic"}
# The date stays fixed so that re-running extract changes the files only when a string changes.
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)
PLACEHOLDER = re.compile(r"%(?:\d+\$)?[sdf]")
SIDECAR_TRANSLATIONS = ROOT / "sidecar" / "translations"
# A placeholder of either side: the sidecar's {label}, the plugin's %s, %d or %1$s.
ANY_PLACEHOLDER = re.compile(r"\{[a-z_]*\}|%(?:\d+\$)?[sdf]")
HEADER = """\
{title} of the Therapy Sidecar Bridge plugin (text domain therapy-sidecar).

To correct a translation: edit the msgstr under its English msgid below (keep each placeholder
such as %s, %d or %1$s exactly as it is, and "PayTabs" as written), then run

    python scripts/plugin_i18n.py compile

and commit this file together with the .mo next to it. A new English string in the plugin's
PHP reaches this file with `python scripts/plugin_i18n.py extract`, empty until someone
translates it. A sentence the sidecar says too (its form errors, status texts) takes the sidecar's
translation at each extract: correct those in sidecar/translations/ar/LC_MESSAGES/messages.po.
`python scripts/plugin_i18n.py check` says what is missing."""


def php_files() -> list[Path]:
    """Return the plugin's PHP files, in a stable order (the test-only ones left out)."""
    return sorted(p for p in PLUGIN.rglob("*.php") if "testing" not in p.relative_to(PLUGIN).parts)


def template() -> Catalog:
    """Return the catalogue of every msgid the plugin's PHP says."""
    catalog = Catalog(project=DOMAIN, domain=DOMAIN, creation_date=FIXED_DATE, fuzzy=False)
    dress(catalog, "The English strings")
    for path in php_files():
        where = path.relative_to(PLUGIN).as_posix()
        for found in extract_source(path.read_text(encoding="utf-8")):
            msgid: str | tuple[str, str] = found.msgid
            if found.plural is not None:
                msgid = (found.msgid, found.plural)
            comments = [found.comment] if found.comment else []
            catalog.add(
                msgid,
                locations=[(where, found.line)],
                auto_comments=comments,
                context=found.context,
            )
    for message in catalog:
        php_flags(message)
    return catalog


def dress(catalog: Catalog, title: str) -> None:
    """Give a catalogue the plugin's header (fixed dates: no change without a string's)."""
    catalog.header_comment = "\n".join(
        f"# {line}".rstrip() for line in HEADER.format(title=title).splitlines()
    )
    catalog.version = "1.0.0"
    catalog.msgid_bugs_address = ""
    catalog.last_translator = "Therapy Pay Sidecar"
    catalog.language_team = "Therapy Pay Sidecar"
    catalog.creation_date = FIXED_DATE
    catalog.revision_date = FIXED_DATE


def php_flags(message: Message) -> None:
    """Mark sprintf() patterns php-format (Babel would call a "%s" python-format)."""
    message.flags.discard("python-format")
    if any(PLACEHOLDER.search(text) for text in texts(message.id)):
        message.flags.add("php-format")


def po_path(locale: str) -> Path:
    """Return the .po file of ``locale``."""
    return LANGUAGES / f"{DOMAIN}-{locale}.po"


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    """Read a .po or .pot file."""
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN)


def write_catalog(catalog: Catalog, path: Path) -> None:
    """Write a .po or .pot file (wrapped at 100 columns, sorted as extracted)."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, include_previous=False)
    path.write_bytes(buffer.getvalue())


def extract() -> None:
    """Write the .pot and bring each locale's .po up to date with it."""
    LANGUAGES.mkdir(parents=True, exist_ok=True)
    pot = template()
    write_catalog(pot, TEMPLATE)
    for locale in LOCALES:
        path = po_path(locale)
        if path.exists():
            catalog = read_catalog(path, locale)
        else:
            catalog = Catalog(locale=locale, domain=DOMAIN, project=DOMAIN, fuzzy=False)
        catalog.update(pot, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()
        dress(catalog, f"The {LANGUAGE_NAMES[locale]} ({locale}) translation")
        shared = sidecar_translations(locale)
        for message in catalog:
            php_flags(message)
            if isinstance(message.id, str) and message.id:
                message.string = shared_translation(message.id, shared) or message.string
        write_catalog(catalog, path)
    print(f"{len(pot)} msgids -> {TEMPLATE.relative_to(ROOT)}")


def sidecar_translations(locale: str) -> dict[str, tuple[str, str]]:
    """The sidecar's translated sentences, (msgid, msgstr) by their msgid with placeholders as §.

    The form's and status page's sentences are said on both sides (the sidecar's ``{label}`` is the
    plugin's ``%s``): one source for each, the sidecar's catalogue, so that the buyer reads the same
    words on both (tests/domain/test_messages.py checks they agree).
    """
    path = SIDECAR_TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return {
        ANY_PLACEHOLDER.sub("§", message.id): (message.id, message.string)
        for message in catalog
        if isinstance(message.id, str) and isinstance(message.string, str)
        if message.id and message.string and not message.fuzzy
    }


def shared_translation(msgid: str, shared: dict[str, tuple[str, str]]) -> str:
    """The sidecar's translation of the plugin's ``msgid``, in the plugin's placeholders ('' if none)."""
    sidecar_id, sidecar_string = shared.get(ANY_PLACEHOLDER.sub("§", msgid), ("", ""))
    if not sidecar_string:
        return ""
    ours = dict(zip(ANY_PLACEHOLDER.findall(sidecar_id), PLACEHOLDER.findall(msgid), strict=True))
    return ANY_PLACEHOLDER.sub(lambda m: ours.get(m.group(0), m.group(0)), sidecar_string)


def mo_bytes(locale: str) -> bytes:
    """Return the .mo that the locale's .po compiles to, laid out as WordPress's MO reader wants."""
    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(po_path(locale), locale))
    return wordpress_mo(buffer.getvalue())


def wordpress_mo(data: bytes) -> bytes:
    """Point the .mo's (empty) hash table at the end of the two tables, as GNU msgfmt does.

    Babel writes offset 0 for a hash table of size 0; WordPress's MO reader takes the hash table's
    offset as the end of the translations' table and refuses the whole file.
    """
    magic, revision, total, originals, translations, hash_size, _ = struct.unpack("<7I", data[:28])
    if magic != 0x950412DE or hash_size != 0:
        return data
    header = struct.pack(
        "<7I", magic, revision, total, originals, translations, 0, translations + 8 * total
    )
    return header + data[28:]


def compile_all() -> None:
    """Write each locale's .mo from its .po."""
    for locale in LOCALES:
        po_path(locale).with_suffix(".mo").write_bytes(mo_bytes(locale))
        print(f"compiled {po_path(locale).with_suffix('.mo').relative_to(ROOT)}")


def problems() -> list[str]:
    """Return what is wrong: a stale .pot, msgids untranslated, placeholders lost, a stale .mo."""
    found: list[str] = []
    pot = template()
    wanted = {message.id for message in pot if message.id}
    if not TEMPLATE.exists() or {m.id for m in read_catalog(TEMPLATE) if m.id} != wanted:
        found.append(f"{TEMPLATE.name} is stale: run extract")
    for locale in LOCALES:
        catalog = read_catalog(po_path(locale), locale)
        found.extend(translation_problems(pot, catalog, locale))
        mo = po_path(locale).with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != mo_bytes(locale):
            found.append(f"{mo.name} is stale: run compile")
    return found


def translation_problems(pot: Catalog, catalog: Catalog, locale: str) -> list[str]:
    """Return the msgids of ``pot`` that ``catalog`` lacks or translates with other placeholders."""
    found = []
    for message in pot:
        if not message.id:
            continue
        have = catalog.get(message.id, message.context)
        label = texts(message.id)[0]
        strings = texts(have.string) if have is not None else []
        if have is None or have.fuzzy or not all(strings):
            found.append(f"{locale}: no translation for {label!r}")
        elif placeholders(texts(message.id)[-1]) != placeholders(strings[-1]):
            found.append(f"{locale}: the placeholders differ in {label!r}")
    return found


def texts(value: object) -> list[str]:
    """Return a msgid or msgstr as a list of strings (one, or one per plural form)."""
    if isinstance(value, tuple | list):
        return [str(item or "") for item in value]
    return [str(value or "")]


def placeholders(text: str) -> list[str]:
    """Return the sprintf() placeholders of a string, sorted."""
    return sorted(PLACEHOLDER.findall(text))


def main(argv: list[str]) -> int:
    """Run ``extract``, ``compile`` or ``check``."""
    command = argv[1] if len(argv) > 1 else ""
    if command == "extract":
        extract()
    elif command == "compile":
        compile_all()
    elif command == "check":
        found = problems()
        for line in found:
            print(line)
        if found:
            return 1
        print(f"{len(template())} msgids, all translated in {', '.join(LOCALES)}; .mo up to date")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
