"""The plugin's status page after a declined payment, in a real browser: the paying browser gets
"Try again" (a form POSTing to the sidecar's retry address), waiting until PayTabs accepts a new
page, with the time the place is held until; once the hold is over, "Fill in the form again".
The sidecar is not running: Playwright answers the status polls and the retry POST itself."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.realwp.helpers import WPSite

pytestmark = [pytest.mark.realwp, pytest.mark.browser]


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def declined(ref: str, retry_url: str, **fields: Any) -> dict[str, Any]:
    body = {
        "ref": ref,
        "state": "payment_failed",
        "message": "Your payment was declined and you have not been charged.",
        "done": True,
        "retry_url": retry_url,
    }
    return body | fields


def test_realwp_status_page_try_again_posts_to_the_sidecar(wp: WPSite, browser_page: Any) -> None:
    ref = "rwp-retry-in-browser"
    retry_url = f"{wp.sidecar_url}/therapy/retry/{ref}"
    held_until = time.time() + 20 * 60
    body = declined(
        ref,
        retry_url,
        can_retry=True,
        can_restart=False,
        held_until=iso(held_until),
        held_until_text="18:42",  # the sidecar's HH:MM in the site's timezone, said as given
        retry_after=iso(time.time() + 2),
    )
    posted: list[str] = []

    def retry(route: Any) -> None:
        posted.append(route.request.method)
        route.fulfill(status=303, headers={"Location": f"{wp.base_url}/thank-you/"})

    page = browser_page
    page.route(
        f"{wp.sidecar_url}/therapy/status/**",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(body)
        ),
    )
    page.route(retry_url, retry)
    page.goto(f"{wp.base_url}/therapy-registration-status/?intent={ref}&code=payment_declined")
    button = page.locator(".therapy-sidecar-status__retry button")
    button.wait_for(state="visible", timeout=10_000)
    assert button.inner_text() == "Try again"
    assert button.is_disabled()  # PayTabs takes no second page for the cart yet
    held = page.locator(".therapy-sidecar-status__retry p").inner_text()
    assert held == "Your place is held for you until 18:42."
    assert page.locator(".therapy-sidecar-status__retry").get_attribute("action") == retry_url
    page.wait_for_function(
        "!document.querySelector('.therapy-sidecar-status__retry button').disabled",
        timeout=10_000,
    )
    button.click()
    page.wait_for_url(f"{wp.base_url}/thank-you/", timeout=10_000)
    assert posted == ["POST"]


def test_realwp_status_page_after_the_hold_offers_the_form_again(
    wp: WPSite, browser_page: Any
) -> None:
    ref = "rwp-restart-in-browser"
    retry_url = f"{wp.sidecar_url}/therapy/retry/{ref}"
    body = declined(ref, retry_url, can_retry=False, can_restart=True, held_until=None)
    page = browser_page
    page.route(
        f"{wp.sidecar_url}/therapy/status/**",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(body)
        ),
    )
    page.goto(f"{wp.base_url}/therapy-registration-status/?intent={ref}&code=payment_declined")
    button = page.locator(".therapy-sidecar-status__retry button")
    button.wait_for(state="visible", timeout=10_000)
    assert button.inner_text() == "Fill in the form again" and button.is_enabled()
    assert page.locator(".therapy-sidecar-status__retry p").count() == 0


def test_realwp_status_page_offers_no_retry_to_another_browser(
    wp: WPSite, browser_page: Any
) -> None:
    ref = "rwp-no-retry-in-browser"
    body = {"ref": ref, "state": "payment_failed", "message": "Declined.", "done": True}
    body |= {"can_retry": False, "held_until": None}
    page = browser_page
    page.route(
        f"{wp.sidecar_url}/therapy/status/**",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(body)
        ),
    )
    page.goto(f"{wp.base_url}/therapy-registration-status/?intent={ref}")
    page.wait_for_selector(".therapy-sidecar-status[data-done='1']", timeout=10_000)
    assert page.locator(".therapy-sidecar-status__retry").count() == 0
