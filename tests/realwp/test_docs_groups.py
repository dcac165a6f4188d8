"""Following the operations guide's section 4 on the real WordPress: the therapy groups as 4.4
defines them (the `wp option update` value, the PHP script, the filter) answer at the bridge's
group route, and the pages at the addresses of 4.5 show the documented shortcodes' output.

WP-CLI is not installed on the test machine: the JSON of the `wp option update` example is applied
the way WP-CLI applies `--format=json` (json_decode to an array, then update_option) through the
site's own PHP. The PHP script of the guide is run as written, with the site's host name for
example.org. The test site's groups are put back afterwards.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.realwp.helpers import REPO_ROOT, WPSite, run_php

GUIDE = REPO_ROOT / "docs" / "operations.md"
OPTION = "therapy_sidecar_groups"


def guide_section_4() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    return text.split("## 4. ", 1)[1].split("\n## 5. ", 1)[0]


def in_guide(sentence: str) -> bool:
    """True when section 4 says the sentence (line breaks in the markdown ignored)."""
    return sentence in " ".join(guide_section_4().split())


def code_block(language: str, containing: str) -> str:
    """The one fenced block of section 4 in that language that contains the given text."""
    blocks = re.findall(rf"^```{language}\n(.*?)^```$", guide_section_4(), flags=re.M | re.S)
    found = [block for block in blocks if containing in block]
    assert len(found) == 1, f"section 4 should have one ```{language} block with {containing!r}"
    return found[0]


def documented_json() -> dict[str, dict[str, Any]]:
    """The value of the guide's `wp option update therapy_sidecar_groups --format=json '...'`."""
    block = code_block("sh", f"wp option update {OPTION} --format=json")
    match = re.search(r"--format=json '(.*?)'", block, flags=re.S)
    assert match is not None
    value: dict[str, dict[str, Any]] = json.loads(match.group(1))
    return value


def wp_load_prelude(wp: WPSite) -> str:
    """PHP that loads the site the way the guide's script does (Debian: host selects the config)."""
    host = urlsplit(wp.base_url).hostname or "127.0.0.1"
    return (
        "<?php\n"
        f"$_SERVER['HTTP_HOST'] = '{host}'; $_SERVER['SERVER_NAME'] = '{host}';\n"
        "$_SERVER['REQUEST_URI'] = '/';\n"
        "require '/usr/share/wordpress/wp-load.php';\n"
    )


def php_ok(code: str) -> str:
    result = run_php(code)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "Deprecated" not in result.stderr, result.stderr
    return result.stdout


def raw_option(wp: WPSite) -> str | None:
    rows = wp.query(
        f"SELECT option_value FROM {wp.prefix}options WHERE option_name = %s", (OPTION,)
    )
    return str(rows[0][0]) if rows else None


@pytest.fixture
def groups_put_back(wp: WPSite) -> Iterator[None]:
    """The test site's own groups (other tests rely on them), restored after the test."""
    before = raw_option(wp)
    assert before is not None, "the test site defines its groups in the option"
    try:
        yield
    finally:
        wp.query(
            f"UPDATE {wp.prefix}options SET option_value = %s WHERE option_name = %s",
            (before, OPTION),
        )
        assert raw_option(wp) == before


def fetch_group(wp: WPSite, group_id: int | str) -> Any:
    """GET /wp-json/therapy-sidecar/v1/groups/<id> with the sidecar's application password."""
    response = wp.session.get(
        f"{wp.base_url}/wp-json/therapy-sidecar/v1/groups/{group_id}", auth=wp.auth, timeout=15
    )
    return response.status_code, response.json()


def assert_group_as_documented(answer: dict[str, Any], group_id: int, doc: dict[str, Any]) -> None:
    assert answer["id"] == group_id
    for key, value in doc.items():
        assert answer[key] == value, (group_id, key)
    assert answer["seats_taken"] >= 0


def test_wp_option_example_defines_the_groups(wp: WPSite, groups_put_back: None) -> None:
    doc = documented_json()
    assert len(doc) >= 2
    assert all(
        {"price", "currency", "capacity", "open", "bp_group_id"} <= set(g) for g in doc.values()
    )
    php_ok(
        wp_load_prelude(wp)
        + f"update_option( '{OPTION}', json_decode( {json.dumps(json.dumps(doc))}, true ) );\n"
    )
    for group_id, settings in doc.items():
        status, answer = fetch_group(wp, group_id)
        assert status == 200, answer
        assert_group_as_documented(answer, int(group_id), settings)
        if "registration_url" not in settings:
            assert answer["registration_url"] == f"{wp.base_url}/therapy-registration/"
        assert answer["status_url"] == f"{wp.base_url}/therapy-registration-status/"
        assert answer["thank_you_url"] == f"{wp.base_url}/thank-you/"
    # A group in neither the option nor a filter: the guide's 404.
    status, answer = fetch_group(wp, 999_999)
    assert (status, answer["code"]) == (404, "therapy_group_not_found")


def test_php_script_saves_the_same_groups(wp: WPSite, groups_put_back: None) -> None:
    doc = documented_json()
    php_ok(
        wp_load_prelude(wp)
        + f"update_option( '{OPTION}', json_decode( {json.dumps(json.dumps(doc))}, true ) );\n"
    )
    from_json = raw_option(wp)

    script = code_block("php", f"'{OPTION}'")
    assert "require '/usr/share/wordpress/wp-load.php';" in script
    host = urlsplit(wp.base_url).hostname or "127.0.0.1"
    output = php_ok(script.replace("'example.org'", f"'{host}'"))
    assert output.strip() == "therapy groups saved"
    assert raw_option(wp) == from_json  # the same option, value for value
    for group_id, settings in doc.items():
        status, answer = fetch_group(wp, group_id)
        assert status == 200, answer
        assert_group_as_documented(answer, int(group_id), settings)


def test_filter_example_defines_a_group(wp: WPSite, tmp_path: Path) -> None:
    """The guide's filter, loaded as a plugin file after WordPress: the plugin's group lookup
    (what the REST route answers) returns the filter's group, and leaves other ids alone."""
    block = code_block("php", "add_filter(")
    plugin = tmp_path / "therapy-groups.php"
    plugin.write_text(block, encoding="utf-8")
    documented = re.search(r"if \( (\d+) !== \$group_id \)", block)
    assert documented is not None
    group_id = int(documented.group(1))
    output = php_ok(
        wp_load_prelude(wp)
        + f"require {json.dumps(str(plugin))};\n"
        + f"echo wp_json_encode( array( \\TherapySidecar\\get_group_info( {group_id} ),"
        + f" \\TherapySidecar\\get_group_info( {wp.group_id()} ) ) );\n"
    )
    from_filter, other = json.loads(output)
    returned = re.search(r"return array\((.*?)\);", block, flags=re.S)
    assert returned is not None
    pairs = dict(re.findall(r"'(\w+)'\s*=>\s*('[^']*'|\d+|true|false)", returned.group(1)))
    assert from_filter["id"] == group_id
    for key, literal in pairs.items():
        expected = json.loads(literal.replace("'", '"'))
        assert from_filter[key] == expected, key
    assert other["id"] == wp.group_id()  # the option still decides for the site's own groups


def documented_pages() -> dict[str, str]:
    """Default address -> content, from the guide's table of pages (4.5)."""
    pages = guide_section_4().split("**4.5 The pages.**", 1)[1]
    rows = re.findall(r"^\| [^|]+ \| `(/[\w/-]+/)` \| (.+) \|$", pages, flags=re.M)
    return {path: content for path, content in rows}


def page_content(wp: WPSite, path: str) -> str:
    rows = wp.query(
        f"SELECT post_content FROM {wp.prefix}posts WHERE post_type = 'page'"
        " AND post_status = 'publish' AND post_name = %s",
        (path.strip("/"),),
    )
    assert rows, f"no published page at {path}"
    return str(rows[0][0])


def test_pages_at_the_documented_addresses(wp: WPSite, groups_put_back: None) -> None:
    pages = documented_pages()
    assert set(pages) == {"/therapy-registration/", "/therapy-registration-status/", "/thank-you/"}
    doc = documented_json()
    php_ok(
        wp_load_prelude(wp)
        + f"update_option( '{OPTION}', json_decode( {json.dumps(json.dumps(doc))}, true ) );\n"
    )

    # The test site's pages hold exactly the documented shortcodes.
    form = re.search(
        r"`(\[therapy_sidecar_form group=\"(\d+)\"\])`", pages["/therapy-registration/"]
    )
    assert form is not None
    assert page_content(wp, "/therapy-registration/") == form.group(1)
    status_shortcode = pages["/therapy-registration-status/"].strip("`")
    assert page_content(wp, "/therapy-registration-status/") == status_shortcode

    # Registration: the form for the documented group, at its documented price.
    group = doc[form.group(2)]
    response = wp.session.get(f"{wp.base_url}/therapy-registration/", timeout=15)
    assert response.status_code == 200
    assert "This group could not be found." not in response.text
    _, answer = fetch_group(wp, form.group(2))
    if answer["seats_taken"] < group["capacity"]:
        assert re.search(rf'name="group_id" value="{form.group(2)}"', response.text)
        assert f"Continue to payment ({group['price']} {group['currency']})" in response.text
        assert f"<strong>{group['name']}</strong>" in response.text  # the documented group's
    else:  # other tests of this session booked the group's documented seats
        assert "Sorry, this group is full." in response.text
        assert in_guide("Sorry, this group is full.")

    # Status: what the guide says it shows with and without ?intent=.
    status_url = f"{wp.base_url}/therapy-registration-status/"
    bare = wp.session.get(status_url, timeout=15)
    assert bare.status_code == 200
    assert "We could not find a registration to follow on this page." in bare.text
    assert in_guide("We could not find a registration to follow on this page.")
    assert (
        f'<a href="{wp.base_url}/therapy-registration/">Back to the registration page' in bare.text
    )
    assert in_guide('registration page" link goes to `/therapy-registration/` whatever the group')
    following = wp.session.get(status_url, params={"intent": "TP-2024-0001"}, timeout=15)
    assert following.status_code == 200
    assert "You are being registered" in following.text
    assert in_guide("You are being registered")

    assert wp.session.get(f"{wp.base_url}/thank-you/", timeout=15).status_code == 200


def test_permalinks_are_pretty_on_the_site_the_docs_were_checked_on(wp: WPSite) -> None:
    """The guide's addresses assume pretty permalinks (4.1); the test site uses "Post name"."""
    rows = wp.query(
        f"SELECT option_value FROM {wp.prefix}options WHERE option_name = 'permalink_structure'"
    )
    assert rows and str(rows[0][0]) not in ("", "None")
    assert in_guide("pretty permalinks")


def set_permalinks(wp: WPSite, structure: str) -> None:
    php_ok(
        wp_load_prelude(wp)
        + "global $wp_rewrite;\n"
        + f"$wp_rewrite->set_permalink_structure( {json.dumps(structure)} );\n"
        + "delete_option( 'rewrite_rules' );\n"
    )


def test_plain_permalinks_answer_the_addresses_with_the_home_page(wp: WPSite) -> None:
    """What 4.1 warns of: with "Plain" permalinks the page addresses show the home page, no form.
    The site's structure is put back afterwards."""
    rows = wp.query(
        f"SELECT option_value FROM {wp.prefix}options WHERE option_name = 'permalink_structure'"
    )
    before = str(rows[0][0])
    assert before
    assert in_guide("with plain permalinks WordPress answers them with the home page")
    try:
        set_permalinks(wp, "")
        plain = wp.session.get(f"{wp.base_url}/therapy-registration/", timeout=15)
        assert plain.status_code == 200
        assert 'class="therapy-sidecar-form"' not in plain.text
        assert "could not be found" not in plain.text  # no error either: easy to miss
    finally:
        set_permalinks(wp, before)
    pretty = wp.session.get(f"{wp.base_url}/therapy-registration/", timeout=15)
    assert 'class="therapy-sidecar-form"' in pretty.text
