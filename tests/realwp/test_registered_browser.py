"""The real plugin's status page for a paid buyer on another device (Chromium through Playwright).

The sidecar is not running here: Playwright answers the status poll as the sidecar answers a browser
without the paying cookie (registered, the login and set-password links with a prefill token, made
by the sidecar's own functions). The real wp-login.php must then show the buyer's e-mail.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.realwp.grants import intent_buyer
from tests.realwp.helpers import WPSite
from wp_bridge.login_page import password_url, prefill_token, sign_in_url

pytestmark = [pytest.mark.realwp, pytest.mark.browser]
REGISTERED = "You are registered. Log in to see your receipt and your group."


def test_status_page_logged_out_paid_buyer_gets_the_prefilled_login_and_password_forms(
    wp: WPSite, browser_page: Any
) -> None:
    buyer = intent_buyer(wp)
    ref = buyer["ref"]
    booked = wp.rest(
        "POST",
        "/therapy-sidecar/v1/bookings",
        json={"intent_ref": ref, "group_id": wp.group_id(), "user_id": buyer["id"]},
    )
    assert booked.status_code == 201
    token = prefill_token(buyer["id"], wp.secret, time.time())
    back = f"{wp.base_url}/thank-you/?intent={ref}"
    body = {
        "ref": ref,
        "state": "fulfilled",
        "message": REGISTERED,
        "done": True,
        "registered": True,
        "redirect_url": f"{wp.base_url}/thank-you/",
        "sign_in_url": sign_in_url(wp.base_url, token, back),
        "password_url": password_url(wp.base_url, token),
    }
    sidecar = wp.sidecar_url
    page = browser_page
    page.route(
        f"{sidecar}/therapy/status/**",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(body)
        ),
    )
    page.goto(f"{wp.base_url}/therapy-registration-status/?intent={ref}")
    login = page.locator(".therapy-sidecar-status__signin a.therapy-sidecar-login")
    login.wait_for(timeout=10_000)
    assert page.locator(".therapy-sidecar-status__message").text_content() == REGISTERED
    assert page.url.startswith(f"{wp.base_url}/therapy-registration-status/")  # it stays
    password = page.locator(".therapy-sidecar-status__signin a.therapy-sidecar-lostpassword")
    assert password.text_content() == "Set or reset your password"
    password_href = password.get_attribute("href")
    login.click()
    page.wait_for_url(f"{wp.base_url}/wp-login.php?**", timeout=10_000)
    assert page.input_value("#user_login") == buyer["email"]
    page.goto(password_href)
    assert page.input_value("#lostpasswordform #user_login") == buyer["email"]
    page.goto(back)
    assert REGISTERED in page.locator(".therapy-sidecar-receipt--logged-out").text_content()
