"""The buyer's language: locale normalization, translation, and the catalogue kept in sync."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.pofile import read_po

from sidecar.core.i18n import direction, normalize_locale, paypage_lang, translate
from sidecar.domain import messages

ROOT = Path(__file__).resolve().parents[2]
RUN_EXTRACT = "python scripts/i18n.py extract"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("i18n_script", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return load_script()


def arabic() -> dict[str, str]:
    path = ROOT / "sidecar" / "translations" / "ar" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id and not m.fuzzy}


def sentences_in_messages() -> set[str]:
    """Every English sentence that messages.py holds, walked from its values."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, tuple):
            for item in value:
                walk(item)

    for name, value in vars(messages).items():
        if name.isupper() or (name.startswith("_") and name[1:].isupper()):
            walk(value)
    found.discard(messages.DEFAULT_LOCALE)
    return found


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ar", "ar"),
        ("ar_SA", "ar"),
        ("ar-EG", "ar"),
        ("AR", "ar"),
        (" ar ", "ar"),
        ("en_US", "en"),
        ("en-GB", "en"),
        ("fr_FR", "en"),
        ("", "en"),
        (None, "en"),
        ("x" * 500, "en"),
        ("<script>", "en"),
    ],
)
def test_normalize_locale_maps_to_a_locale_we_speak(given: str | None, expected: str) -> None:
    assert normalize_locale(given) == expected


def test_translate_fills_fields_in_arabic() -> None:
    text = translate(messages.EMAIL_TOO_LONG, "ar_SA", limit=100)
    assert text == "بريدك الإلكتروني طويل جدًا؛ الحد الأقصى لعدد أحرفه: 100."
    assert translate(messages.EMAIL_TOO_LONG, "en", limit=100).endswith("at most 100 characters.")


def test_translate_recognises_a_sentence_filled_in_english() -> None:
    held = messages.GROUP_FULL_HELD.format(time="10:30")
    assert translate(held, "ar") == translate(messages.GROUP_FULL_HELD, "ar", time="10:30")
    assert "10:30" in translate(held, "ar") and held != translate(held, "ar")
    label = messages.FIELD_ERRORS["missing_field"].format(label=messages.FIELD_LABELS["city"])
    assert translate(label, "ar") == "يُرجى ملء حقل «المدينة»."
    assert translate(held, "en") == held


def test_translate_leaves_unknown_and_arabic_text_as_is() -> None:
    assert translate("the site could not be reached: 10.0.0.1", "ar") == (
        "the site could not be reached: 10.0.0.1"
    )
    arabic = translate(messages.GO_BACK, "ar")
    assert translate(arabic, "ar") == arabic


def test_translate_unknown_locale_is_english() -> None:
    assert translate(messages.GO_BACK, "de_DE") == "Go back"
    assert translate(messages.GO_BACK, "ar") == "رجوع"


def test_direction_and_paypage_lang_follow_the_locale() -> None:
    assert (direction("ar_SA"), direction("en_US"), direction(None)) == ("rtl", "ltr", "ltr")
    assert (paypage_lang("ar_EG"), paypage_lang("en_US"), paypage_lang("fr")) == ("ar", "en", "en")


def test_form_error_in_arabic_names_the_field_in_arabic() -> None:
    assert messages.form_error("missing_field", "city", "ar") == "يُرجى ملء حقل «المدينة»."
    assert messages.form_error("group_full", "", "ar") == "عذرًا، اكتمل عدد هذه المجموعة."
    assert messages.form_error("group_full") == "Sorry, this group is full."


def test_catalogue_every_sentence_has_arabic_with_the_same_placeholders(
    script: ModuleType,
) -> None:
    translations = arabic()
    msgids = {str(m.id) for m in script.template() if m.id}
    # the N_ markers miss no sentence: every constant of messages.py is extracted
    assert sentences_in_messages() - msgids == set()
    for msgid in sorted(msgids):
        text = translations.get(msgid, "")
        assert text.strip(), f"no Arabic for {msgid!r}: run `{RUN_EXTRACT}` and translate it"
        assert sorted(script.PLACEHOLDER.findall(text)) == sorted(
            script.PLACEHOLDER.findall(msgid)
        ), msgid
        assert text != msgid, msgid


def test_catalogue_committed_mo_equals_a_fresh_compile(script: ModuleType) -> None:
    committed = (ROOT / "sidecar/translations/ar/LC_MESSAGES/messages.mo").read_bytes()
    assert committed == script.compiled("ar"), "run `python scripts/i18n.py compile`"


def test_catalogue_pot_in_sync_with_messages(script: ModuleType) -> None:
    assert script.problems() == [], f"run `{RUN_EXTRACT}`, translate, then compile"


def test_catalogue_check_names_a_new_sentence_without_arabic(
    script: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "messages.py"
    source.write_text(
        messages_source() + '\nNEW_SENTENCE = N_("A sentence nobody has translated yet.")\n'
    )
    shutil.copytree(ROOT / "sidecar" / "translations", tmp_path / "translations")
    monkeypatch.setattr(script, "SOURCE", source)
    monkeypatch.setattr(script, "ROOT", tmp_path)
    monkeypatch.setattr(script, "TRANSLATIONS", tmp_path / "translations")
    monkeypatch.setattr(script, "TEMPLATE", tmp_path / "translations" / "messages.pot")

    assert any(RUN_EXTRACT in line for line in script.problems())
    assert script.main(["i18n.py", "check"]) == 1
    before = arabic_of(tmp_path)
    script.extract()  # the new sentence reaches the .po untranslated; the others keep theirs
    found = script.problems()
    assert "ar: no translation for 'A sentence nobody has translated yet.'" in found
    assert not any(RUN_EXTRACT in line for line in found)
    after = arabic_of(tmp_path)
    assert after["A sentence nobody has translated yet."] == ""
    assert {k: v for k, v in before.items() if v} == {
        k: v for k, v in after.items() if k in before and v
    }


def test_catalogue_check_refuses_a_stale_mo(
    script: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "sidecar" / "translations", tmp_path / "translations")
    monkeypatch.setattr(script, "TRANSLATIONS", tmp_path / "translations")
    po = tmp_path / "translations" / "ar" / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text().replace('msgstr "رجوع"', 'msgstr "عودة"'))

    stale = "ar: messages.mo is stale: run `python scripts/i18n.py compile`"
    assert stale in script.problems()
    script.compile_all()
    assert stale not in script.problems()


def arabic_of(root: Path) -> dict[str, str]:
    path = root / "translations" / "ar" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id}


def messages_source() -> str:
    return (ROOT / "sidecar" / "domain" / "messages.py").read_text()
