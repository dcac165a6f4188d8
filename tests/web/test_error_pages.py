"""The buyer's error pages: sentences from the catalogue, "not charged" at checkout, a way back.

Each error a buyer can meet when the form reaches the sidecar (the group's own refusals go back to
the form with a 303 and are covered by the checkout tests) is raised for real through the stack; the
page must read as sentences only, with no code, setting, exception name or traceback, while the JSON
answer for scripts keeps the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sidecar.core.errors import DatabaseUnavailable
from sidecar.domain import messages
from sidecar.sandbox import wordpress_pages

JSON = {"Accept": "application/json"}
FORM_URL = "http://wp.test/therapy-registration/?group_id=7"
FORBIDDEN = ("WP_", "SIDECAR_", "PAYTABS_", "Traceback", "Exception")
EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z]+(?:Error|Unavailable|Busy|Rejected)\b")


def credentials_missing(stack: Any, tmp_path: Path) -> None:
    from tests.support.wp_options import write_sqlite_options

    write_sqlite_options(tmp_path / "wp-options.sqlite3", {"retreat_paytabs_settings": "a:0:{}"})
    stack.services.credentials.forget()


def wordpress_database_gone(stack: Any, tmp_path: Path) -> None:
    (tmp_path / "wp-options.sqlite3").unlink()
    stack.services.credentials.forget()


def wordpress_down(stack: Any, _tmp_path: Path) -> None:
    stack.wp.down = True


def bridge_gone(stack: Any, _tmp_path: Path) -> None:
    stack.wp.bridge_installed = False


def paytabs_refusing(stack: Any, _tmp_path: Path) -> None:
    stack.sim.configure(fail_next_requests=1)


def database_down(stack: Any, _tmp_path: Path) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise DatabaseUnavailable("cannot connect to MySQL at db.internal:3306")

    stack.services.db.transaction = refuse


CASES: dict[str, tuple[Callable[[Any, Path], None], str]] = {
    "credentials missing": (credentials_missing, "credentials_unavailable"),
    "WordPress database gone": (wordpress_database_gone, "credentials_unavailable"),
    "WordPress down": (wordpress_down, "wordpress_unavailable"),
    "bridge gone": (bridge_gone, "fulfilment_unavailable"),
    "PayTabs refusing": (paytabs_refusing, "payment_provider_unavailable"),
    "database down": (database_down, "database_unavailable"),
}


def visible(page: str) -> str:
    """The page without HTML comments (what support may read in the source, not the buyer)."""
    return re.sub(r"<!--.*?-->", "", page, flags=re.S)


def assert_buyer_page(page: str, code: str) -> None:
    title, happened, next_step = messages.ERROR_PAGES[code]
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert re.search(r'<html lang="en" dir="ltr">', page)
    assert f"<h1>{title}</h1>" in page
    assert happened in page and next_step in page
    assert messages.NOT_CHARGED in page
    assert f'<a href="{FORM_URL}">{messages.BACK_TO_REGISTRATION}</a>' in page
    assert code not in page
    assert [word for word in FORBIDDEN if word in page] == []
    assert EXCEPTION_NAME.findall(page) == []


@pytest.mark.parametrize("case", list(CASES))
def test_a_checkout_error_page_speaks_to_the_buyer(stack: Any, tmp_path: Path, case: str) -> None:
    cause, code = CASES[case]
    cause(stack, tmp_path)
    response = stack.checkout(stack.form(form_url=FORM_URL + "&error=group_full&field=group_id"))
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert_buyer_page(response.get_data(as_text=True), code)


@pytest.mark.parametrize("case", list(CASES))
def test_the_json_answer_keeps_the_code(stack: Any, tmp_path: Path, case: str) -> None:
    cause, code = CASES[case]
    cause(stack, tmp_path)
    response = stack.checkout(stack.form(), headers=JSON)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]


def test_the_credentials_page_says_what_the_issue_asks(stack: Any, tmp_path: Path) -> None:
    wordpress_database_gone(stack, tmp_path)
    page = stack.checkout(stack.form()).get_data(as_text=True)
    text = " ".join(re.findall(r"<p[^>]*>([^<]+)</p>", page))
    assert text == (
        "Payments are not available right now. You have not been charged. Please try again later."
    )
    # The operator still learns which setting to look at, on /readyz.
    ready = stack.client.get("/readyz").get_json()["checks"]["paytabs_credentials"]
    assert "WP_DATABASE_URL" in ready


def test_without_a_form_url_the_way_back_is_the_sites_registration_page(
    stack: Any, tmp_path: Path
) -> None:
    wordpress_down(stack, tmp_path)
    page = stack.checkout(stack.form()).get_data(as_text=True)
    assert re.search(r'<a href="http://wp\.test/[^"]*">', page)


def test_an_address_off_the_site_is_no_way_back(stack: Any, tmp_path: Path) -> None:
    wordpress_down(stack, tmp_path)
    page = stack.checkout(stack.form(form_url="https://evil.example/x")).get_data(as_text=True)
    assert "evil.example" not in page


def test_an_error_after_checkout_does_not_claim_nothing_was_charged(stack: Any) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise DatabaseUnavailable("cannot connect to MySQL at db.internal:3306")

    stack.services.db.transaction = refuse
    response = stack.client.get("/paytabs/return?cartId=tp_x&tranRef=T1")
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert messages.ERROR_PAGES["database_unavailable"][1] in page
    assert "charged" not in page
    assert "db.internal" not in page and "database_unavailable" not in page
    assert '<a href="http://wp.test/">' in page


def test_the_not_found_page_has_a_way_back_to_the_site(stack: Any) -> None:
    response = stack.client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert '<meta name="viewport"' in page and '<a href="http://wp.test/">' in page


def test_the_pages_stylesheet_is_served_by_the_sidecar(stack: Any) -> None:
    response = stack.client.get("/therapy/page.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert "max-width" in response.get_data(as_text=True)


def test_the_demo_site_keeps_the_code_out_of_sight() -> None:
    page = wordpress_pages.registration_page(
        action="/therapy/checkout",
        form_token="t",
        idempotency_key="k",
        groups=[],
        selected=None,
        user=None,
        error="group_full",
        field=None,
    )
    assert messages.FORM_ERRORS["group_full"] in page
    assert "group_full" not in visible(page)
    assert "error code" not in visible(page)
