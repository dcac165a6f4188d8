"""The payments panel of the bridge plugin (panel.php) on the real WordPress.

The panel is the shortcode [therapy_sidecar_payments] on a page the test publishes, and the
dashboard widget; it reads and acts through the sidecar's operator API (operator-client.php). The
test site's wp-config names no reachable sidecar, so each test points the plugin at its own with the
local-only option `therapy_sidecar_local_operator_url` and removes it afterwards.

- an administrator, in Chromium: finds a registration by e-mail, opens its timeline, cancels and
  refunds it through the confirmation page (booking and membership gone, one refund at the PayTabs
  simulator);
- the requests the plugin signs, against a stand-in operator API that checks every token;
- a subscriber and a logged-out visitor: no panel content, no widget, 403 on both actions, and the
  operator API never called.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from werkzeug.wrappers import Request, Response

from sidecar.domain.states import State
from tests.realwp.helpers import TIMEOUT, WPSite
from tests.support.stack import Served, Stack
from wp_bridge.tokens import verify_token

pytestmark = pytest.mark.realwp

OPTION = "therapy_sidecar_local_operator_url"
NOT_AVAILABLE = "This page is not available."


# --- fixtures and helpers ---------------------------------------------------------------------


def set_operator_url(wp: WPSite, url: str | None) -> None:
    """Point the plugin at an operator API (None: remove the option)."""
    table = f"{wp.prefix}options"
    if url is None:
        wp.query(f"DELETE FROM {table} WHERE option_name = %s", (OPTION,))
        return
    wp.query(
        f"INSERT INTO {table} (option_name, option_value, autoload) VALUES (%s, %s, 'no') "
        "ON DUPLICATE KEY UPDATE option_value = VALUES(option_value)",
        (OPTION, url),
    )


@pytest.fixture
def panel_page(wp: WPSite) -> Iterator[str]:
    """A published page carrying the panel's shortcode; its URL."""
    response = wp.rest(
        "POST",
        "/wp/v2/pages",
        json={
            "title": f"Payments {uuid.uuid4().hex[:8]}",
            "content": "[therapy_sidecar_payments]",
            "status": "publish",
        },
    )
    assert response.status_code == 201, response.text
    page = response.json()
    yield str(page["link"])
    wp.rest("DELETE", f"/wp/v2/pages/{page['id']}", params={"force": "true"})


def wp_login(wp: WPSite, session: requests.Session, username: str, password: str) -> None:
    """Log a requests session in through wp-login.php, as a browser does."""
    login_url = f"{wp.base_url}/wp-login.php"
    session.get(login_url, timeout=TIMEOUT)  # sets WordPress's test cookie
    response = session.post(
        login_url,
        data={
            "log": username,
            "pwd": password,
            "wp-submit": "Log In",
            "redirect_to": f"{wp.base_url}/wp-admin/",
            "testcookie": "1",
        },
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 302, response.text[:500]
    assert any(c.name.startswith("wordpress_logged_in_") for c in session.cookies)


def admin_post(session: requests.Session, wp: WPSite, **fields: str) -> requests.Response:
    return session.post(
        f"{wp.base_url}/wp-admin/admin-post.php",
        data=fields,
        allow_redirects=False,
        timeout=TIMEOUT,
    )


@dataclass
class StubOperatorAPI:
    """A stand-in operator API: checks each request's token, answers canned JSON, records calls."""

    secret: str
    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        body = request.get_data()
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        payload = verify_token(token, self.secret, typ="operator", now=time.time())
        self.calls.append(
            {
                "method": request.method,
                "path": request.path,
                "query": parse_qs(request.query_string.decode()),
                "scheme": scheme,
                "payload": payload,
                "body": body,
            }
        )
        status, answer = self.answers.get(request.path, (404, {"error": {"code": "not_found"}}))
        response = Response(json.dumps(answer), status=status, content_type="application/json")
        return response(environ, start_response)


@pytest.fixture
def stub_api(wp: WPSite) -> Iterator[StubOperatorAPI]:
    api = StubOperatorAPI(wp.secret)
    served = Served(api)
    set_operator_url(wp, f"{served.url}/operator/v1")
    try:
        yield api
    finally:
        set_operator_url(wp, None)
        served.stop()


def registration_row(ref: str, email: str) -> dict[str, Any]:
    return {
        "ref": ref,
        "state": "needs_attention",
        "reason": "fulfilment gave up",
        "group": {"id": 101, "name": "Tuesday <b>group</b>"},
        "amount": "150.00",
        "currency": "SAR",
        "email": email,
        "name": "Test Buyer",
        "tran_ref": "TST000123",
        "created_at": "2025-01-01T10:00:00Z",
        "updated_at": "2025-01-01T10:05:00Z",
        "hold_expires_at": None,
    }


# --- a subscriber and a logged-out visitor can do none of it ----------------------------------


def test_logged_out_visitor_sees_nothing_and_cannot_act(
    wp: WPSite, panel_page: str, stub_api: StubOperatorAPI, fresh_session: requests.Session
) -> None:
    page = fresh_session.get(panel_page, params={"tsp_q": "a@example.com"}, timeout=TIMEOUT)
    assert page.status_code == 200
    assert NOT_AVAILABLE in page.text
    assert "therapy-sidecar-panel__search" not in page.text
    for action in ("therapy_sidecar_redrive", "therapy_sidecar_cancel"):
        refused = admin_post(
            fresh_session,
            wp,
            action=action,
            ref="tp_anything",
            confirmed="1",
            reason="x",
            _wpnonce="0123456789",
        )
        assert refused.status_code == 403, (action, refused.status_code)
    assert stub_api.calls == []


def test_subscriber_sees_nothing_gets_no_widget_and_cannot_act(
    wp: WPSite,
    panel_page: str,
    stub_api: StubOperatorAPI,
    buyer: dict[str, Any],
    fresh_session: requests.Session,
) -> None:
    stub_api.answers["/operator/v1/attention"] = (
        200,
        {"registrations": [registration_row("tp_secret", "secret@example.com")]},
    )
    wp_login(wp, fresh_session, buyer["username"], buyer["password"])
    page = fresh_session.get(panel_page, params={"tsp_ref": "tp_secret"}, timeout=TIMEOUT)
    assert page.status_code == 200
    assert NOT_AVAILABLE in page.text
    assert "therapy-sidecar-panel__timeline" not in page.text
    dashboard = fresh_session.get(f"{wp.base_url}/wp-admin/index.php", timeout=TIMEOUT)
    assert dashboard.status_code == 200
    assert "therapy_sidecar_attention" not in dashboard.text
    assert "secret@example.com" not in dashboard.text
    for action in ("therapy_sidecar_redrive", "therapy_sidecar_cancel"):
        refused = admin_post(
            fresh_session,
            wp,
            action=action,
            ref="tp_secret",
            confirmed="1",
            reason="x",
            _wpnonce="0123456789",
        )
        assert refused.status_code == 403, (action, refused.status_code)
    assert stub_api.calls == []


# --- what the administrator's panel sends and shows (stand-in operator API) -------------------


@pytest.fixture
def admin_session(wp: WPSite) -> Iterator[requests.Session]:
    session = requests.Session()
    wp_login(wp, session, wp.env["WP_ADMIN_USER"], wp.env["WP_ADMIN_PASSWORD"])
    yield session
    session.close()


def test_admin_search_signs_each_request_and_escapes_what_it_shows(
    wp: WPSite, panel_page: str, stub_api: StubOperatorAPI, admin_session: requests.Session
) -> None:
    email = "someone+tag@example.com"
    stub_api.answers["/operator/v1/registrations"] = (
        200,
        {"registrations": [registration_row("tp_found", email)]},
    )
    page = admin_session.get(panel_page, params={"tsp_q": email}, timeout=TIMEOUT)
    assert page.status_code == 200
    assert NOT_AVAILABLE not in page.text
    assert "tp_found" in page.text and "150.00 SAR" in page.text and email in page.text
    assert "Tuesday &lt;b&gt;group&lt;/b&gt;" in page.text  # escaped
    [call] = stub_api.calls
    assert call["method"] == "GET" and call["path"] == "/operator/v1/registrations"
    assert call["query"] == {"q": [email], "limit": ["50"]}
    assert call["scheme"] == "TherapySidecar"
    payload = call["payload"]
    assert payload["actor"] == f"wp:{wp.env['WP_ADMIN_USER']}"
    assert payload["method"] == "GET" and payload["path"] == "/operator/v1/registrations"
    assert payload["body_sha256"] == hashlib.sha256(b"").hexdigest()
    assert len(payload["jti"]) == 32 and 0 < payload["exp"] - time.time() <= 61


def test_admin_sees_the_api_error_as_a_notice(
    wp: WPSite, panel_page: str, stub_api: StubOperatorAPI, admin_session: requests.Session
) -> None:
    stub_api.answers["/operator/v1/registrations/tp_gone"] = (
        404,
        {"error": {"code": "not_found", "message": "No registration tp_gone."}},
    )
    page = admin_session.get(panel_page, params={"tsp_ref": "tp_gone"}, timeout=TIMEOUT)
    assert page.status_code == 200
    assert "therapy-sidecar-panel__notice--error" in page.text
    assert "No registration tp_gone." in page.text


def test_admin_redrive_posts_the_signed_body_after_confirmation_and_shows_the_outcome(
    wp: WPSite, panel_page: str, stub_api: StubOperatorAPI, admin_session: requests.Session
) -> None:
    ref = "tp_redrive_me"
    stub_api.answers[f"/operator/v1/registrations/{ref}/redrive"] = (
        200,
        {
            "outcome": {
                "ref": ref,
                "before": "needs_attention",
                "after": "paid",
                "message": "requeued",
            }
        },
    )
    confirm = admin_session.get(
        panel_page, params={"tsp_ref": ref, "tsp_confirm": "redrive"}, timeout=TIMEOUT
    )
    assert f"Really redrive {ref}?" in confirm.text
    assert stub_api.calls == []  # the confirmation page asks the API nothing
    nonce = confirm.text.split('name="_wpnonce" value="', 1)[1].split('"', 1)[0]
    # Without the nonce: refused, nothing sent.
    forged = admin_post(
        admin_session, wp, action="therapy_sidecar_redrive", ref=ref, confirmed="1", _wpnonce="x"
    )
    assert forged.status_code == 403
    assert stub_api.calls == []
    done = admin_post(
        admin_session,
        wp,
        action="therapy_sidecar_redrive",
        ref=ref,
        confirmed="1",
        _wpnonce=nonce,
        _wp_http_referer="/",
        return_to=panel_page.removeprefix(wp.base_url),
    )
    assert done.status_code == 303, done.text[:300]
    [call] = stub_api.calls
    assert call["method"] == "POST" and call["body"] == b"{}"
    assert call["payload"]["path"] == f"/operator/v1/registrations/{ref}/redrive"
    assert call["payload"]["body_sha256"] == hashlib.sha256(b"{}").hexdigest()
    stub_api.answers[f"/operator/v1/registrations/{ref}"] = (
        200,
        {"registration": registration_row(ref, "r@example.com"), "timeline": []},
    )
    back = admin_session.get(done.headers["Location"], timeout=TIMEOUT)
    assert "Redrive requested. requeued (state: needs_attention → paid)" in back.text
    # The notice is shown once.
    again = admin_session.get(done.headers["Location"], timeout=TIMEOUT)
    assert "Redrive requested." not in again.text


def test_admin_dashboard_widget_lists_registrations_needing_attention(
    wp: WPSite, stub_api: StubOperatorAPI, admin_session: requests.Session
) -> None:
    stub_api.answers["/operator/v1/attention"] = (
        200,
        {"registrations": [registration_row("tp_attention", "att@example.com")]},
    )
    dashboard = admin_session.get(f"{wp.base_url}/wp-admin/index.php", timeout=TIMEOUT)
    assert dashboard.status_code == 200
    assert 'id="therapy_sidecar_attention"' in dashboard.text
    assert "Registrations needing attention" in dashboard.text
    assert "tp_attention" in dashboard.text and "att@example.com" in dashboard.text
    assert [c["path"] for c in stub_api.calls] == ["/operator/v1/attention"]


# --- the administrator's journey in Chromium, against the sidecar's real operator API ---------


@pytest.fixture
def real_stack(tmp_path: Path, wp: WPSite) -> Iterator[Stack]:
    """Sidecar (SQLite) + PayTabs simulator + the real WordPress; the plugin pointed at it."""
    stack = Stack(tmp_path, f"sqlite:///{tmp_path / 'sidecar.sqlite3'}", real_wp=wp.env)
    set_operator_url(wp, f"{stack.server.url}/operator/v1")
    try:
        yield stack
    finally:
        set_operator_url(wp, None)
        stack.close()


@pytest.mark.browser
def test_admin_finds_by_email_sees_the_timeline_and_cancels_and_refunds(
    wp: WPSite, real_stack: Stack, panel_page: str, browser_page: Any
) -> None:
    email = f"rwp.{secrets.token_hex(4)}@example.com"
    intent = real_stack.paid_intent(email=email)
    real_stack.drain()
    done = real_stack.intent(intent.ref)
    assert done.state == State.FULFILLED, done
    assert done.wp_user_id is not None
    wp.created_user_ids.append(done.wp_user_id)
    assert real_stack.wordpress.find_booking(intent.ref) is not None
    assert real_stack.wordpress.is_group_member(done.bp_group_id, done.wp_user_id)

    page = browser_page
    page.goto(f"{wp.base_url}/wp-login.php")
    page.fill("#user_login", wp.env["WP_ADMIN_USER"])
    page.fill("#user_pass", wp.env["WP_ADMIN_PASSWORD"])
    page.click("#wp-submit")
    page.wait_for_url("**/wp-admin/**", timeout=15_000)

    # Search by e-mail.
    page.goto(panel_page)
    page.fill("#tsp_q", email)
    page.click(".therapy-sidecar-panel__search button[type=submit]")
    row = page.locator(f"tr[data-ref='{intent.ref}']")
    row.wait_for(timeout=15_000)
    assert email in row.inner_text() and "fulfilled" in row.inner_text()

    # Its timeline.
    row.locator("a").click()
    page.locator(".therapy-sidecar-panel__timeline").wait_for(timeout=15_000)
    assert page.locator(".therapy-sidecar-panel__timeline tbody tr").count() >= 1

    # Cancel and refund, confirmed on the second page.
    page.fill("#tsp_reason", "buyer cancelled within the policy")
    page.click(".therapy-sidecar-panel__cancel button[type=submit]")
    question = page.locator(".therapy-sidecar-panel__question")
    question.wait_for(timeout=15_000)
    assert f"Really cancel and refund {intent.ref}" in question.inner_text()
    page.click(".therapy-sidecar-panel__confirm button[type=submit]")
    notice = page.locator(".therapy-sidecar-panel__notice")
    notice.wait_for(timeout=15_000)
    assert "therapy-sidecar-panel__notice--success" in (notice.get_attribute("class") or "")
    assert "Cancellation and refund requested." in notice.inner_text()

    real_stack.drain()
    after = real_stack.intent(intent.ref)
    assert after.state == State.REFUNDED, after
    assert real_stack.wordpress.find_booking(intent.ref) is None
    assert not real_stack.wordpress.is_group_member(done.bp_group_id, done.wp_user_id)
    refunds = [
        t
        for t in real_stack.sim.ledger()
        if t["tran_type"].lower() == "refund" and t["previous_tran_ref"] == done.tran_ref
    ]
    assert len(refunds) == 1, refunds
    assert Decimal(str(refunds[0]["amount"])) == Decimal(real_stack.group.price)
    # The sidecar recorded who acted.
    page.goto(f"{panel_page}?tsp_ref={intent.ref}")
    page.locator(".therapy-sidecar-panel__timeline").wait_for(timeout=15_000)
    assert f"wp:{wp.env['WP_ADMIN_USER']}" in page.locator(".therapy-sidecar-panel").inner_text()
