"""The buyer's sentences: the catalogue and the bridge plugin's copies say the same.

The plugin's sentences are read from shortcodes.php, form.php and status.php as text: the English
literals of their __( '...', 'therapy-sidecar' ) calls (its form_error_message() switch, the status
page's arrays and notices), so the test needs no PHP. Where the sidecar's Arabic catalogue and the
plugin's both translate a sentence, the two translations must agree too. The
Python side's refusals are read from the source: every CheckoutRejected code the sidecar can send back to the form must have a
sentence of its own in the plugin, and its sentence must come from the catalogue.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from sidecar.domain import messages
from sidecar.domain.messages import (
    ADDRESS_ERRORS,
    FIELD_ERRORS,
    FIELD_LABELS,
    FORM_ERRORS,
    PAYMENT_FAILED,
    STATUS_TEXTS,
    form_error,
)
from sidecar.domain.states import BUYER_MESSAGES, State
from sidecar.sandbox import wordpress_pages

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "wp_bridge" / "wordpress" / "therapy-sidecar-bridge"
SHORTCODES = [PLUGIN / name for name in ("shortcodes.php", "form.php", "status.php")]
PHP_STRING = r"'((?:[^'\\]|\\.)*)'"
DOMAIN = "therapy-sidecar"
# A literal translated in the plugin's text domain: __( 'English', 'therapy-sidecar' ).
TRANSLATED = rf"__\( {PHP_STRING}, '{DOMAIN}' \)"


def php_source() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in SHORTCODES)


def unquote(literal: str) -> str:
    """Return the value of a PHP single-quoted string's body."""
    return re.sub(r"\\([\\'])", r"\1", literal)


def php_function(name: str) -> str:
    """Return the body of the PHP function ``name`` (up to the next top-level closing brace)."""
    match = re.search(rf"\nfunction {name}\([^\n]*\{{\n(.*?)\n\}}\n", php_source(), re.S)
    assert match, f"{name}() not found in the shortcode files"
    return match.group(1)


def php_form_errors() -> dict[str, dict[str, str]]:
    """Read form_error_message(): each code's sentences, by field ('' = no field, '{label}')."""
    found: dict[str, dict[str, str]] = {}
    pending: list[str] = []
    block: list[str] = []
    for raw in php_function("form_error_message").splitlines():
        line = raw.strip()
        case = re.fullmatch(r"case '(\w+)':", line)
        if (case or line.startswith("default:")) and block:
            sentences = php_case_sentences("\n".join(block))
            found.update(dict.fromkeys(pending, sentences))
            pending, block = [], []
        if case:
            pending.append(case.group(1))
        elif line.startswith("default:"):
            pending.append("*default*")
        elif pending:
            block.append(line)
    found.update(dict.fromkeys(pending, php_case_sentences("\n".join(block))))
    return found


def php_case_sentences(block: str) -> dict[str, str]:
    """Read the sentences of one case of form_error_message(), by field; each one in __()."""
    returns = re.findall(r"\breturn\b", block)
    labelled = re.search(rf"sprintf\( {TRANSLATED}, \$label \)\s*: {TRANSLATED};", block)
    if labelled:
        assert len(returns) == 1, block
        return {
            "{label}": unquote(labelled.group(1)).replace("%s", "{label}"),
            "": unquote(labelled.group(2)),
        }
    by_field = re.findall(rf"'(\w+)' === \$field \) \{{\s*return {TRANSLATED};", block)
    plain = re.findall(rf"return {TRANSLATED};", block)
    assert len(plain) == len(returns), f"a return of form_error_message() without __(): {block}"
    sentences = {field: unquote(sentence) for field, sentence in by_field}
    return {**sentences, "": unquote(plain[-1])}


def php_array_entries(function: str) -> dict[str, str]:
    """Read the ``'key' => __( 'sentence', 'therapy-sidecar' )`` entries of a PHP function."""
    pairs = re.findall(rf"'(\w+)'\s*=>\s*{TRANSLATED}", php_function(function))
    return {key: unquote(value) for key, value in pairs}


def php_notices() -> list[str]:
    """Read every literal sentence the plugin shows in a notice box (each one in __())."""
    return [unquote(s) for s in re.findall(rf"notice_html\( {TRANSLATED}", php_source())]


def php_translated() -> set[str]:
    """Every English sentence of the shortcode files' __() and esc_html__() calls."""
    calls = re.findall(
        rf"\b(?:__|esc_html__|esc_attr__)\( {PHP_STRING}, '{DOMAIN}' \)", php_source()
    )
    return {unquote(sentence) for sentence in calls}


def rejections() -> list[tuple[str, ast.Call]]:
    """Every CheckoutRejected the sidecar raises, with its code (``_reject`` included)."""
    calls = []
    for path in sorted((ROOT / "sidecar").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            first = node.args[0]
            if name in ("CheckoutRejected", "_reject") and isinstance(first, ast.Constant):
                calls.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return calls


def rejected_codes() -> set[str]:
    return {str(call.args[0].value) for _, call in rejections()}  # type: ignore[attr-defined]


def test_the_sidecar_can_refuse_a_checkout_with_these_codes() -> None:
    # Guards the reader above: a refactor that hides the raise sites would make the checks empty.
    assert {"missing_field", "group_full", "registration_in_progress", "form_expired"} <= (
        rejected_codes()
    )


def test_every_code_the_sidecar_sends_back_to_the_form_has_a_sentence_in_the_plugin() -> None:
    plugin = php_form_errors()
    missing = sorted(code for code in rejected_codes() if code not in plugin)
    assert missing == [], f"codes the plugin only answers with its generic sentence: {missing}"


def test_every_code_the_sidecar_sends_back_to_the_form_has_a_sentence_in_the_catalogue() -> None:
    assert sorted(rejected_codes() - set(FORM_ERRORS)) == []


def test_the_sidecar_takes_its_refusals_sentences_from_the_catalogue() -> None:
    literal = []
    for where, call in rejections():
        name = getattr(call.func, "id", getattr(call.func, "attr", ""))
        sentence = call.args[1:2] if name == "CheckoutRejected" else call.args[2:3]  # _reject
        if any(isinstance(arg, ast.Constant | ast.JoinedStr) for arg in sentence):
            literal.append(where)
    assert literal == [], "a refusal with its own sentence instead of sidecar.domain.messages"


@pytest.mark.parametrize("code", sorted(FORM_ERRORS))
def test_the_plugin_shows_the_catalogues_sentence_for_a_code_without_a_field(code: str) -> None:
    plugin = php_form_errors()
    assert code in plugin, f"the plugin has no case for {code}"
    assert plugin[code][""] == FORM_ERRORS[code]


@pytest.mark.parametrize("code", sorted(FIELD_ERRORS))
def test_the_plugin_names_the_field_as_the_catalogue_does(code: str) -> None:
    assert php_form_errors()[code]["{label}"] == FIELD_ERRORS[code]


def test_the_plugin_says_which_part_of_the_address_as_the_catalogue_does() -> None:
    plugin = php_form_errors()["invalid_address"]
    assert {field: plugin[field] for field in ADDRESS_ERRORS} == ADDRESS_ERRORS


def test_the_plugins_fallback_sentence_is_the_catalogues() -> None:
    assert php_form_errors()["*default*"][""] == messages.FORM_ERROR_FALLBACK


def test_the_plugin_labels_the_fields_as_the_catalogue_does() -> None:
    assert php_array_entries("form_field_labels") == FIELD_LABELS


def test_the_status_page_texts_are_the_catalogues() -> None:
    entries = php_array_entries("shortcode_status")
    assert {key: entries[key] for key in STATUS_TEXTS} == STATUS_TEXTS
    assert {code: entries[code] for code in PAYMENT_FAILED} == PAYMENT_FAILED


@pytest.mark.parametrize(
    "sentence",
    [
        messages.STATUS_PLACEHOLDER,
        messages.BACK_TO_REGISTRATION,
        messages.NO_REGISTRATION_ON_PAGE,
        messages.FORM_NOT_AVAILABLE,
    ],
)
def test_the_plugin_has_the_catalogues_status_and_form_sentences(sentence: str) -> None:
    assert sentence in php_translated()


def test_every_notice_of_the_plugin_is_in_the_catalogue() -> None:
    known = {
        *FORM_ERRORS.values(),
        messages.NO_REGISTRATION_ON_PAGE,
        messages.FORM_NOT_AVAILABLE,
    }
    assert php_notices() and [s for s in php_notices() if s not in known] == []


def test_every_notice_of_the_plugin_is_translated() -> None:
    untranslated = re.findall(rf"notice_html\( {PHP_STRING}", php_source())
    assert php_notices() and untranslated == []


@pytest.mark.parametrize(
    ("code", "field"),
    [
        ("missing_field", "city"),
        ("missing_field", "form_token"),
        ("missing_field", ""),
        ("field_too_long", "email"),
        ("invalid_address", "street1"),
        ("invalid_address", "city"),
        ("invalid_address", "country"),
        ("group_full", "group_id"),
        ("something_new", ""),
    ],
)
def test_form_error_chooses_as_the_plugin_does(code: str, field: str) -> None:
    plugin = php_form_errors().get(code) or php_form_errors()["*default*"]
    label = FIELD_LABELS.get(field, "")
    if "{label}" in plugin and label:
        expected = plugin["{label}"].format(label=label)
    else:
        expected = plugin.get(field, plugin[""])
    assert form_error(code, field) == expected


@pytest.mark.parametrize(
    ("code", "field"),
    [("missing_field", "city"), ("invalid_address", "street1"), ("group_full", ""), ("x", "")],
)
def test_the_sandbox_wordpress_shows_the_catalogues_form_errors(code: str, field: str) -> None:
    assert wordpress_pages.error_message(code, field) == form_error(code, field)


def test_every_state_has_its_sentence_in_the_catalogue() -> None:
    assert set(messages.STATE_MESSAGES) == {state.value for state in State}
    assert all(BUYER_MESSAGES[state] == messages.STATE_MESSAGES[state.value] for state in State)


def test_no_sentence_is_empty_or_glued_with_a_stray_space() -> None:
    texts = [
        value
        for name, value in vars(messages).items()
        if isinstance(value, str) and not name.startswith("__")
    ]
    for table in (messages.STATE_MESSAGES, STATUS_TEXTS, PAYMENT_FAILED, FORM_ERRORS):
        texts.extend(table.values())
    texts.extend(FIELD_ERRORS.values())
    texts.extend(ADDRESS_ERRORS.values())
    assert all(text and text == text.strip() and "  " not in text for text in texts)


SIDECAR_PO = ROOT / "sidecar" / "translations" / "{locale}" / "LC_MESSAGES" / "messages.po"
PLUGIN_PO = PLUGIN / "languages" / "therapy-sidecar-{locale}.po"
# A placeholder of either side: the sidecar's {label}, the plugin's %s, %d or %1$s.
PLACEHOLDER = re.compile(r"\{[a-z_]*\}|%(?:\d+\$)?[sdf]")


def translations(path: Path) -> dict[str, str]:
    """Read a .po file: each translated msgid's msgstr, placeholders written as §."""
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {
        PLACEHOLDER.sub("§", message.id): PLACEHOLDER.sub("§", message.string)
        for message in catalog
        if isinstance(message.id, str) and message.id and isinstance(message.string, str)
        if message.string and not message.fuzzy
    }


def shared_sentences() -> list[str]:
    """The English sentences that both the sidecar's catalogue and the plugin's form or status say."""
    sidecar = {
        *FORM_ERRORS.values(),
        *FIELD_ERRORS.values(),
        *ADDRESS_ERRORS.values(),
        *FIELD_LABELS.values(),
        *STATUS_TEXTS.values(),
        *PAYMENT_FAILED.values(),
        messages.STATUS_PLACEHOLDER,
        messages.BACK_TO_REGISTRATION,
        messages.NO_REGISTRATION_ON_PAGE,
        messages.FORM_NOT_AVAILABLE,
    }
    plugin = {PLACEHOLDER.sub("§", sentence) for sentence in php_translated()}
    return sorted({PLACEHOLDER.sub("§", s) for s in sidecar} & plugin)


def test_the_plugin_and_the_sidecar_share_their_form_and_status_sentences() -> None:
    # Guards the comparison below: the English copies are the same sentences on both sides.
    assert len(shared_sentences()) > 40


@pytest.mark.parametrize("locale", ["ar"])
def test_the_plugin_and_the_sidecar_translate_their_shared_sentences_alike(locale: str) -> None:
    sidecar_po = Path(str(SIDECAR_PO).format(locale=locale))
    assert sidecar_po.exists(), f"the sidecar ships no {locale} catalogue"
    sidecar = translations(sidecar_po)
    plugin = translations(Path(str(PLUGIN_PO).format(locale=locale)))
    differ = {
        sentence: (sidecar[sentence], plugin.get(sentence))
        for sentence in shared_sentences()
        if sentence in sidecar and sidecar[sentence] != plugin.get(sentence)
    }
    assert differ == {}
