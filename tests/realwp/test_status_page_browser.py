"""The registration status page in a real browser (Debian's Chromium through Playwright).

The sidecar is not running here: Playwright answers the page's status polls itself, first "still
working", then "fulfilled" with a real login grant. The browser must follow the grant, receive the
WordPress auth cookie and land on the thank-you page, logged in.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.realwp.grants import intent_buyer
from tests.realwp.helpers import WPSite
from wp_bridge.tokens import issue_login_grant

pytestmark = [pytest.mark.realwp, pytest.mark.browser]


def test_status_page_polls_then_follows_the_login_grant_and_back_shows_no_error(
    wp: WPSite, browser_page: Any
) -> None:
    buyer = intent_buyer(wp)  # the user the intent created: the bridge logs in no other
    ref = buyer["ref"]
    booked = wp.rest(
        "POST",
        "/therapy-sidecar/v1/bookings",
        json={"intent_ref": ref, "group_id": wp.group_id(), "user_id": buyer["id"]},
    )
    assert booked.status_code == 201
    polls: list[dict[str, Any]] = []
    # Like the sidecar: one grant for the intent, handed out again on every poll.
    grant = issue_login_grant(uid=buyer["id"], ref=ref, secret=wp.secret, now=time.time())
    login_url = wp.url("/therapy-sidecar/v1/login", {"grant": grant})

    def answer(route: Any) -> None:
        request = route.request
        polls.append({"url": request.url, "headers": request.headers})
        if len(polls) < 3:
            body = {
                "ref": ref,
                "state": "fulfilling",
                "message": "Creating your account…",
                "done": False,
            }
        else:
            body = {
                "ref": ref,
                "state": "fulfilled",
                "message": "Done!",
                "done": True,
                "login_url": login_url,
                "redirect_url": f"{wp.base_url}/thank-you/",
            }
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page = browser_page
    page.route(f"{wp.sidecar_url}/therapy/status/**", answer)
    page.goto(f"{wp.base_url}/therapy-registration-status/?intent={ref}")
    message = page.locator(".therapy-sidecar-status__message")
    page.wait_for_function(
        "document.querySelector('.therapy-sidecar-status__message').textContent.includes('Creating your account')",
        timeout=10_000,
    )
    assert "Creating your account" in message.text_content()
    page.wait_for_url(f"{wp.base_url}/thank-you/", timeout=15_000)

    assert polls[0]["url"] == f"{wp.sidecar_url}/therapy/status/{ref}"
    assert polls[0]["headers"].get("accept") == "application/json"
    # After the first answer the page long-polls from the state it saw.
    assert polls[1]["url"] == f"{wp.sidecar_url}/therapy/status/{ref}?wait=25&since=fulfilling"
    cookies = {cookie["name"] for cookie in page.context.cookies()}
    assert any(name.startswith("wordpress_logged_in_") for name in cookies)
    page.goto(f"{wp.base_url}/wp-admin/profile.php")
    assert "/wp-admin/profile.php" in page.url  # not bounced to wp-login.php
    assert buyer["username"] in page.content()
    # Back to the status page and refresh: the logged-in buyer goes on to the thank-you page (the
    # used grant is never followed again), and nothing says "refused" or "already used".
    polled = len(polls)
    page.go_back()
    page.go_back()
    page.wait_for_url(f"{wp.base_url}/thank-you/", timeout=15_000)
    assert len(polls) > polled  # the status page ran again and sent the buyer on
    page.reload()
    page.wait_for_url(f"{wp.base_url}/thank-you/", timeout=15_000)
    assert "already used" not in page.content() and "refused" not in page.content()


def test_status_page_shows_a_failure_with_a_way_back(wp: WPSite, browser_page: Any) -> None:
    ref = "rwp-failed-in-browser"

    def answer(route: Any) -> None:
        body = {
            "ref": ref,
            "state": "payment_failed",
            "message": "Your payment was declined.",
            "done": True,
        }
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page = browser_page
    page.route(f"{wp.sidecar_url}/therapy/status/**", answer)
    page.goto(f"{wp.base_url}/therapy-registration-status/?intent={ref}")
    page.wait_for_selector(".therapy-sidecar-status[data-done='1']", timeout=10_000)
    assert (
        page.locator(".therapy-sidecar-status__message").text_content()
        == "Your payment was declined."
    )
    back = page.locator(".therapy-sidecar-status__back a")
    assert back.is_visible()
    assert back.get_attribute("href") == f"{wp.base_url}/therapy-registration/"


def test_unknown_intent_stops_polling(wp: WPSite, browser_page: Any) -> None:
    page = browser_page
    page.route(
        f"{wp.sidecar_url}/therapy/status/**",
        lambda route: route.fulfill(status=404, content_type="application/json", body="{}"),
    )
    page.goto(f"{wp.base_url}/therapy-registration-status/?intent=rwp-unknown")
    page.wait_for_selector(".therapy-sidecar-status[data-done='1']", timeout=10_000)
    assert (
        "could not find this registration"
        in page.locator(".therapy-sidecar-status__message").text_content()
    )
