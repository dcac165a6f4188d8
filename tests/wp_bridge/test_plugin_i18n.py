"""The bridge plugin's catalogue: scripts/plugin_i18n.py reads the PHP, and what it ships is whole.

The .pot must hold every __() of the plugin, the Arabic .po must translate each one with the same
placeholders, and the .mo WordPress reads must be the .po compiled.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "plugin_i18n.py"


def load_script() -> ModuleType:
    """Import scripts/plugin_i18n.py (scripts/ is not a package: its modules import each other)."""
    if str(SCRIPT.parent) not in sys.path:
        sys.path.insert(0, str(SCRIPT.parent))
    return importlib.import_module("plugin_i18n")


plugin_i18n = load_script()

SAMPLE = r"""<?php
// A comment that says __( 'Not code', 'therapy-sidecar' ).
$a = __( 'It\'s a buyer\'s form', 'therapy-sidecar' );
$b = esc_html__( "Say \"hello\"", 'therapy-sidecar' );
$c = __( 'Another plugin', 'other-domain' );
/* translators: %s: the group's name. */
$d = sprintf( __( 'Welcome to %s', 'therapy-sidecar' ), $name );
$e = _n( '%d seat', '%d seats', $n, 'therapy-sidecar' );
$f = _x( 'State', 'column heading', 'therapy-sidecar' );
$g = <<<'JS'
var x = __( 'Inside a nowdoc', 'therapy-sidecar' ); var q = "'";
JS;
$h = esc_attr__( 'After the nowdoc', 'therapy-sidecar' );
$i = __( $variable, 'therapy-sidecar' );
"""


def found() -> list[object]:
    return list(importlib.import_module("php_gettext").extract_source(SAMPLE))


def test_extract_reads_the_calls_of_the_plugins_domain_only() -> None:
    ids = [item.msgid for item in found()]
    assert ids == [
        "It's a buyer's form",
        'Say "hello"',
        "Welcome to %s",
        "%d seat",
        "State",
        "After the nowdoc",
    ]


def test_extract_keeps_the_translators_comment_with_its_call() -> None:
    comments = {item.msgid: item.comment for item in found()}
    assert comments["Welcome to %s"] == "translators: %s: the group's name."
    assert comments["It's a buyer's form"] == ""


def test_extract_reads_plural_and_context() -> None:
    by_id = {item.msgid: item for item in found()}
    assert by_id["%d seat"].plural == "%d seats"
    assert by_id["State"].context == "column heading"
    assert by_id["State"].plural is None


def test_extract_gives_each_call_its_line() -> None:
    assert {item.msgid: item.line for item in found()}["After the nowdoc"] == 13


def test_the_template_holds_every_translated_string_of_the_plugin() -> None:
    ids = {message.id for message in plugin_i18n.template() if message.id}
    assert {
        "Sorry, this group is full.",
        "Continue to payment (%1$s %2$s)",
        "Therapy payments",
    } <= ids
    assert all("php-format" in m.flags for m in plugin_i18n.template() if m.id == "Hello %s,")


def test_check_passes_on_the_shipped_catalogue() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "check"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_names_a_missing_translation_and_lost_placeholders() -> None:
    pot = plugin_i18n.template()
    catalog = plugin_i18n.read_catalog(plugin_i18n.po_path("ar"), "ar")
    catalog["Sorry, this group is full."].string = ""
    catalog["Hello %s,"].string = "مرحبًا،"
    found = plugin_i18n.translation_problems(pot, catalog, "ar")
    assert sorted(found) == [
        "ar: no translation for 'Sorry, this group is full.'",
        "ar: the placeholders differ in 'Hello %s,'",
    ]


def test_check_fails_when_the_mo_is_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    languages = tmp_path / "languages"
    languages.mkdir()
    for path in plugin_i18n.LANGUAGES.iterdir():
        (languages / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(plugin_i18n, "LANGUAGES", languages)
    monkeypatch.setattr(plugin_i18n, "TEMPLATE", languages / "therapy-sidecar.pot")
    assert plugin_i18n.problems() == []
    po = languages / "therapy-sidecar-ar.po"
    po.write_text(
        po.read_text(encoding="utf-8").replace("عذرًا، اكتمل", "نأسف، اكتمل"), encoding="utf-8"
    )
    assert plugin_i18n.problems() == ["therapy-sidecar-ar.mo is stale: run compile"]


def test_a_sentence_the_sidecar_says_too_takes_the_sidecars_translation() -> None:
    shared = {
        "Please fill in the field “§”.": (
            "Please fill in the field “{label}”.",
            "يُرجى ملء حقل «{label}».",
        ),
        "§ of § seats left": ("{left} of {capacity} seats left", "المتبقي {left} من {capacity}"),
    }
    fill = plugin_i18n.shared_translation
    assert fill("Please fill in the field “%s”.", shared) == "يُرجى ملء حقل «%s»."
    assert fill("%1$d of %2$d seats left", shared) == "المتبقي %1$d من %2$d"
    assert fill("Only the plugin says %s", shared) == ""


def test_the_sidecars_translations_are_read_where_they_exist() -> None:
    shared = plugin_i18n.sidecar_translations("ar")
    sidecar_po = plugin_i18n.SIDECAR_TRANSLATIONS / "ar" / "LC_MESSAGES" / "messages.po"
    assert bool(shared) == sidecar_po.exists()
    assert plugin_i18n.sidecar_translations("xx") == {}
