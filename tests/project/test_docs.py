"""The install docs say true things: their references resolve, reload versus restart has one
answer, the settings they name exist and the shortcodes they name are registered by the plugin.

The real-WordPress half (the group examples applied, the page addresses opened) is
tests/realwp/test_docs_groups.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "operations.md"
ENV_EXAMPLE = ROOT / "deploy" / "sidecar.env.example"
WEB_UNIT = ROOT / "systemd" / "therapy-sidecar-web.service"
WORKER_UNIT = ROOT / "systemd" / "therapy-sidecar-worker.service"
PLUGIN = ROOT / "wp_bridge" / "wordpress"
DOCS = (
    ROOT / "README.md",
    GUIDE,
    ROOT / "docs" / "contracts.md",
    ENV_EXAMPLE,
)
# Where the sidecar reads its settings: config.py, plus the settings file's name and the process
# settings gunicorn and the logging read before the app exists.
SETTINGS_SOURCES = (
    ROOT / "sidecar" / "core" / "config.py",
    ROOT / "sidecar" / "__init__.py",  # SIDECAR_ENV_FILE: where the settings are read from
    ROOT / "sidecar" / "web" / "gunicorn_conf.py",
    ROOT / "sidecar" / "core" / "logs.py",
)
# WordPress's own constants that the docs may name; not sidecar settings.
WORDPRESS_CONSTANTS = {
    "WP_HOME",
    "WP_SITEURL",
    "WP_CONTENT_DIR",
    "WP_DEBUG",
    "WP_DEBUG_LOG",
    "WP_DEBUG_DISPLAY",
    "WP_ENVIRONMENT_TYPE",
}


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def guide_sections() -> dict[int, str]:
    """Section number -> its text (from its "## N." heading to the next)."""
    parts = re.split(r"^## (\d+)\. ", text(GUIDE), flags=re.M)
    return {int(number): body for number, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_no_reference_by_position() -> None:
    """'point 4 above' broke when points moved: the docs name what they refer to."""
    for path in DOCS:
        found = re.findall(
            r"\b(?:point|step|item|paragraph)s?\s+\d+\s+(?:above|below)\b", text(path), flags=re.I
        )
        assert found == [], f"{path.name}: {found}"


def test_guide_section_references_exist() -> None:
    sections = guide_sections()
    body = text(GUIDE)
    for number in re.findall(r"\bsections? (\d+)\b", body):
        assert int(number) in sections, f"operations.md refers to a missing section {number}"
    # Sub-sections are written "**N.M Title.**" and referred to as "(N.M)", "N.M and N.M", "see N.M".
    subsections = set(re.findall(r"^\*\*(\d+\.\d+) ", body, flags=re.M))
    referred = set(re.findall(r"(?<![\d.`/])(\d{1,2}\.\d)(?![\d.]*[\d`/])", body))
    referred = {ref for ref in referred if int(ref.split(".")[0]) in sections}
    # Version numbers and sizes are not references: only numbers near a section-like word.
    missing = sorted(ref for ref in referred if ref not in subsections and is_reference(body, ref))
    assert missing == [], f"operations.md refers to missing sub-sections {missing}"
    for path in DOCS:
        for number in re.findall(r"operations\.md`?,? section (\d+)", text(path)):
            assert int(number) in sections, f"{path.name} refers to guide section {number}"


def is_reference(body: str, ref: str) -> bool:
    """True when the number is used as a reference: "(4.4)", "as in 4.4", "see 4.4", "4.4 and"."""
    pattern = rf"(?:\(|\bin |\bsee |\bafter |\band |\bof )({re.escape(ref)})(?:\)|,| and|\b)"
    return re.search(pattern, body) is not None


def test_guide_anchor_links_exist() -> None:
    body = text(GUIDE)
    anchors = {
        re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(r"^## (.+)$", body, flags=re.M)
    }
    for target in re.findall(r"\]\(#([^)]+)\)", body):
        assert target in anchors, f"operations.md links to a missing heading #{target}"


def test_the_group_settings_are_documented() -> None:
    """The guide says where groups are defined, with a WP-CLI example, PHP and the filter."""
    section = guide_sections()[4]
    assert "therapy_sidecar_groups" in section
    assert "wp option update therapy_sidecar_groups --format=json" in section
    assert "update_option(" in section
    assert "add_filter(\n\t'therapy_sidecar_group_info'" in section
    for key in ("price", "currency", "capacity", "open", "bp_group_id", "registration_url"):
        assert f"`{key}`" in section, key
    groups_php = text(PLUGIN / "therapy-sidecar-bridge" / "groups.php")
    for name in ("therapy_sidecar_group_info", "therapy_sidecar_seats_taken"):
        assert f"'{name}'" in groups_php, f"the guide names a filter the plugin lacks: {name}"


def test_the_page_addresses_are_the_plugins() -> None:
    """The default addresses the guide gives are the ones groups.php falls back to."""
    groups_php = text(PLUGIN / "therapy-sidecar-bridge" / "groups.php")
    defaults = re.findall(r"return home_url\( '([^']+)' \);", groups_php)
    assert sorted(defaults) == [
        "/thank-you/",
        "/therapy-registration-status/",
        "/therapy-registration/",
    ]
    section = guide_sections()[4]
    for path in defaults:
        assert f"| `{path}` |" in section, path
    assert "pretty permalinks" in section.lower()


def test_reload_and_restart_have_one_answer() -> None:
    """systemd reads sidecar.env only when it starts a service, and the web unit's reload is a
    SIGHUP to the running gunicorn: only a restart applies a changed sidecar.env. Every place
    that says what to do after editing it says restart."""
    web_unit = text(WEB_UNIT)
    assert "ExecReload=/bin/kill -HUP $MAINPID" in web_unit
    assert "it does NOT apply changes to sidecar.env" in web_unit
    assert "ExecReload" not in text(WORKER_UNIT)  # the worker has no reload at all

    env = text(ENV_EXAMPLE)
    after_editing = re.search(r"^# After editing: (.+?)(?=^# ?$|^[A-Z])", env, flags=re.M | re.S)
    assert after_editing is not None
    sentence = after_editing.group(1)
    assert "systemctl restart therapy-sidecar-web therapy-sidecar-worker" in sentence
    assert "systemctl reload" not in sentence
    assert "does not" in sentence and "reload" in sentence

    sections = guide_sections()
    assert "**restart**" in sections[3]
    assert "**restart**" in sections[10]
    assert "reload does not apply" in sections[10]
    assert "One rule: **after changing sidecar.env or upgrading, restart**" in sections[13]
    reload_row = next(
        line
        for line in sections[13].splitlines()
        if "`systemctl reload therapy-sidecar-web`" in line
    )
    assert "**not** applied" in reload_row

    # No doc tells anyone to reload after a change: each "systemctl reload therapy-sidecar..." is
    # the guide's table row that says it applies nothing.
    for path in (*DOCS, WEB_UNIT, WORKER_UNIT):
        for line in text(path).splitlines():
            if re.search(r"systemctl reload therapy-sidecar", line):
                assert path == GUIDE and line.startswith("| `systemctl reload"), (path.name, line)


def test_guide_says_what_check_checks() -> None:
    """The guide's table of `check` lines is the list health.py and readiness.py produce."""
    sources = text(ROOT / "sidecar" / "ops" / "health.py") + text(
        ROOT / "sidecar" / "payments" / "readiness.py"
    )
    produced = set(re.findall(r'checks\["(\w+)"\]', sources)) | set(
        re.findall(r'"(\w+)": (?:unknown|index\.)', sources)
    )
    assert produced == {
        "database",
        "paytabs_credentials",
        "wordpress",
        "wordpress_bridge",
        "buddypress",
    }
    table = guide_sections()[5]
    documented = set(re.findall(r"^\| `(\w+)` \|", table, flags=re.M))
    assert documented == produced
    assert "REST v1" in table and "REST v2" in table
    # The old claim that `check` needs the bridge for its WordPress line is gone.
    assert "for its WordPress line" not in text(GUIDE)


def documented_settings() -> set[str]:
    names: set[str] = set()
    for path in DOCS:
        for name in re.findall(
            r"(?<![A-Z0-9_])((?:SIDECAR|WP|PAYTABS)_[A-Z0-9_]*[A-Z0-9])", text(path)
        ):
            names.add(name)
    return names - WORDPRESS_CONSTANTS


def test_every_setting_the_docs_name_exists() -> None:
    sources = "\n".join(text(path) for path in SETTINGS_SOURCES)
    names = documented_settings()
    assert {"SIDECAR_PUBLIC_URL", "WP_API_APP_PASSWORD", "SIDECAR_TRUSTED_PROXIES"} <= names
    missing = sorted(name for name in names if f'"{name}' not in sources)
    assert missing == [], f"the docs name settings the sidecar never reads: {missing}"


def plugin_php() -> str:
    return "\n".join(text(path) for path in sorted(PLUGIN.glob("therapy-sidecar-bridge*/**/*.php")))


def shortcode_attributes() -> dict[str, set[str]]:
    """Shortcode -> the attributes its shortcode_atts() accepts, for every add_shortcode()."""
    php = text(PLUGIN / "therapy-sidecar-bridge.php") + "\n" + plugin_php()
    accepted: dict[str, set[str]] = {
        name: set() for name in re.findall(r"add_shortcode\( '(\w+)'", php)
    }
    for defaults, name in re.findall(
        r"shortcode_atts\(\s*array\((.*?)\),[^;]*?'(\w+)'\s*\)", php, flags=re.S
    ):
        if name in accepted:
            accepted[name] |= set(re.findall(r"'(\w+)'\s*=>", defaults))
    return accepted


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_shortcode_the_docs_name_is_registered(path: Path) -> None:
    accepted = shortcode_attributes()
    assert {"therapy_sidecar_form", "therapy_sidecar_status"} <= set(accepted)
    assert accepted["therapy_sidecar_form"] == {"group"}
    for name, attributes in re.findall(r"\[(therapy_\w+)((?: \w+=\"[^\"]*\")*)\]", text(path)):
        assert name in accepted, f"{path.name}: [{name}] is not a shortcode of the plugin"
        for attribute in re.findall(r"(\w+)=", attributes):
            assert attribute in accepted[name], f"{path.name}: [{name}] has no {attribute}="
