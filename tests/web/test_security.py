"""Abuse resistance and hardening: CSRF (the signed form token), rate limits, proxies, headers, sizes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from sidecar import create_app
from sidecar.core.config import ConfigError
from sidecar.web.security import JSON_CSP, PAGE_CSP, SQLiteStorage
from tests.support.stack import SHARED_SECRET, Stack
from wp_bridge.tokens import sign_token

JSON = {"Accept": "application/json"}


@pytest.fixture
def lone(tmp_path: Path) -> Iterator[Stack]:
    """The stack on SQLite only, for checks that never reach the store's dialect."""
    s = Stack(tmp_path, f"sqlite:///{tmp_path / 'sidecar.sqlite3'}")
    yield s
    s.close()


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[Stack]:
    """A stack behind one trusted reverse proxy with an https public URL, on SQLite."""
    s = Stack(
        tmp_path,
        f"sqlite:///{tmp_path / 'sidecar.sqlite3'}",
        SIDECAR_TRUSTED_PROXIES="1",
        SIDECAR_RATELIMIT_CHECKOUT="3/minute",
    )
    yield s
    s.close()


def form_token(stack: Any, **payload: Any) -> str:
    """Return a form token signed with the stack's secret (fields override a valid payload)."""
    body = {"typ": "form", "uid": 0, "email": "", "exp": int(stack.clock()) + 7200, "nonce": "n1"}
    body.update(payload)
    return sign_token(body, SHARED_SECRET)


def tamper(token: str) -> str:
    """Change one character of the signature (always to a different one)."""
    body, signature = token.rsplit(".", 1)
    flipped = "B" if signature[5] == "A" else "A"
    return f"{body}.{signature[:5]}{flipped}{signature[6:]}"


BAD_TOKENS = {
    "missing": lambda s: None,
    "empty": lambda s: "",
    "forged": lambda s: sign_token(
        {"typ": "form", "uid": 0, "email": "", "exp": int(s.clock()) + 7200}, "x" * 40
    ),
    "tampered": lambda s: tamper(form_token(s)),
    "expired": lambda s: form_token(s, exp=int(s.clock()) - 1),
    "wrong_typ": lambda s: form_token(s, typ="login"),
}


def bad_form(stack: Any, case: str) -> dict[str, str]:
    """Return an otherwise valid checkout form whose form token is bad in the way ``case`` says."""
    form = stack.form()
    token = BAD_TOKENS[case](stack)
    if token is None:
        del form["form_token"]
    else:
        form["form_token"] = token
    return form


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_csrf_bad_form_token_redirects_back_and_stores_nothing(stack: Any, case: str) -> None:
    response = stack.checkout(bad_form(stack, case))
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("http://wp.test/therapy-registration/?")
    assert "error=form_expired" in location or (
        case in ("missing", "empty") and "error=" in location
    )
    assert stack.count("intents") == 0


@pytest.mark.parametrize("case", ["forged", "tampered", "expired", "wrong_typ"])
def test_csrf_bad_form_token_answers_403_json_and_stores_nothing(stack: Any, case: str) -> None:
    response = stack.checkout(bad_form(stack, case), headers=JSON)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "form_expired"
    assert response.get_json()["error"]["field"] == "form_token"
    assert stack.count("intents") == 0


def test_csrf_missing_form_token_is_refused_as_json(stack: Any) -> None:
    response = stack.checkout(bad_form(stack, "missing"), headers=JSON)
    assert response.status_code in (403, 422)
    assert response.get_json()["error"]["field"] == "form_token"
    assert stack.count("intents") == 0


def test_csrf_token_for_another_secret_never_reaches_paytabs(stack: Any) -> None:
    stack.checkout(bad_form(stack, "forged"))
    assert stack.count("intents") == 0
    assert stack.count("transitions") == 0


def test_rate_limit_checkout_answers_429_json_after_ten_a_minute(lone: Stack) -> None:
    answers = [lone.client.post("/therapy/checkout", data={}, headers=JSON) for _ in range(11)]
    assert [a.status_code for a in answers[:10]] == [422] * 10
    over = answers[10]
    assert over.status_code == 429
    assert over.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert over.headers["Content-Security-Policy"] == JSON_CSP


def test_rate_limit_checkout_shows_a_page_to_a_browser(lone: Stack) -> None:
    for _ in range(10):
        lone.client.post("/therapy/checkout", data={})
    over = lone.client.post("/therapy/checkout", data={}, headers={"Accept": "text/html"})
    assert over.status_code == 429
    assert over.mimetype == "text/html"
    assert "wait" in over.get_data(as_text=True)
    assert int(over.headers["Retry-After"]) >= 1


def test_rate_limit_checkout_page_in_the_posted_locale(lone: Stack) -> None:
    for _ in range(10):
        lone.client.post("/therapy/checkout", data={"locale": "ar"})
    over = lone.client.post(
        "/therapy/checkout", data={"locale": "ar"}, headers={"Accept": "text/html"}
    )
    assert over.status_code == 429
    page = over.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "محاولات كثيرة جدًا من عنوانك" in page and "يُرجى الانتظار لحظة" in page


def test_rate_limit_status_allows_polling_then_answers_429(lone: Stack) -> None:
    codes = [lone.client.get("/therapy/status/tp_unknown").status_code for _ in range(121)]
    assert codes[:120] == [404] * 120
    assert codes[120] == 429
    again = lone.client.get("/therapy/status/tp_unknown")
    assert again.get_json()["error"]["code"] == "rate_limited"


def test_rate_limit_is_counted_per_client_address(lone: Stack) -> None:
    for _ in range(10):
        lone.client.post("/therapy/checkout", data={}, headers=JSON)
    other = lone.client.post(
        "/therapy/checkout", data={}, headers=JSON, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert other.status_code == 422


def test_rate_limit_never_applies_to_ipn_or_return(lone: Stack) -> None:
    for _ in range(130):
        ipn = lone.client.post("/paytabs/ipn", data=b"{}", headers={"Signature": "00"})
        assert ipn.status_code == 400
    for _ in range(15):
        assert lone.client.post("/paytabs/return", data={"cartId": "x"}).status_code != 429


def test_proxy_headers_ignored_without_trusted_proxies(lone: Stack) -> None:
    for n in range(10):
        lone.client.post(
            "/therapy/checkout", data={}, headers={**JSON, "X-Forwarded-For": f"198.51.100.{n}"}
        )
    spoofed = lone.client.post(
        "/therapy/checkout", data={}, headers={**JSON, "X-Forwarded-For": "198.51.100.99"}
    )
    assert spoofed.status_code == 429


def test_proxy_trusted_one_hop_limits_each_forwarded_client(proxied: Stack) -> None:
    headers = {**JSON, "X-Forwarded-For": "203.0.113.5"}
    codes = [
        proxied.client.post("/therapy/checkout", data={}, headers=headers).status_code
        for _ in range(4)
    ]
    assert codes == [422, 422, 422, 429]
    other = {**JSON, "X-Forwarded-For": "203.0.113.6"}
    assert proxied.client.post("/therapy/checkout", data={}, headers=other).status_code == 422


def test_proxy_trusted_prefix_and_proto_shape_the_status_cookie(proxied: Stack) -> None:
    headers = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Prefix": "/sidecar",
        "X-Forwarded-For": "203.0.113.9",
    }
    response = proxied.checkout(proxied.form(), headers=headers)
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "Path=/sidecar/therapy/;" in cookie
    assert "HttpOnly" in cookie
    with proxied.services.db.transaction() as tx:
        ip = tx.scalar("SELECT client_ip FROM intents")
    assert ip == "203.0.113.9"


def test_headers_on_json_answers(lone: Stack) -> None:
    response = lone.client.get("/therapy/status/tp_unknown")
    assert response.status_code == 404
    assert response.headers["Content-Security-Policy"] == JSON_CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # public URL is http here


def test_headers_on_html_pages_and_redirects(lone: Stack) -> None:
    page = lone.client.post("/paytabs/return", data={"cartId": "nope"})
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert page.headers["Content-Security-Policy"] == PAGE_CSP
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    redirect = lone.checkout()
    assert redirect.status_code == 303
    for name in (
        "Content-Security-Policy",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "X-Frame-Options",
    ):
        assert name in redirect.headers
    assert redirect.headers["Cache-Control"] == "no-store"


def test_headers_hsts_only_when_public_url_is_https(proxied: Stack, tmp_path: Path) -> None:
    assert "Strict-Transport-Security" not in proxied.client.get("/healthz").headers
    app = create_app({**stack_config(proxied), "SIDECAR_PUBLIC_URL": "https://example.org/sidecar"})
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    app.extensions["sidecar"].db.close()


def stack_config(stack: Stack) -> dict[str, Any]:
    """Return environment-style settings equivalent to the stack's (no live services)."""
    s = stack.services.settings
    return {
        "SIDECAR_IGNORE_DOTENV": "1",
        "SIDECAR_IGNORE_ENVIRON": "1",
        "SIDECAR_ENV": "test",
        "SIDECAR_DATABASE_URL": s.database_url,
        "SIDECAR_PUBLIC_URL": s.public_url,
        "SIDECAR_SHARED_SECRET": SHARED_SECRET,
        "WP_BASE_URL": s.wp_base_url,
        "WP_API_USER": s.wp_api_user,
        "WP_API_APP_PASSWORD": s.wp_api_app_password.reveal(),
        "WP_DATABASE_URL": s.wp_database_url,
        "wordpress": stack.services.wordpress,
    }


def test_size_oversized_ipn_answers_413_json(lone: Stack) -> None:
    body = json.dumps({"tran_ref": "T" * (70 * 1024)}).encode()
    response = lone.client.post(
        "/paytabs/ipn", data=body, headers={"Signature": "00", "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_too_large"
    assert lone.count("notifications") == 0


def test_size_oversized_checkout_answers_413_json(lone: Stack) -> None:
    form = lone.form(first_name="A" * (70 * 1024))
    response = lone.checkout(form)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_too_large"
    assert lone.count("intents") == 0


def test_config_trusted_proxies_accepts_zero_and_refuses_junk(lone: Stack) -> None:
    base = stack_config(lone)
    for good, expected in (("0", 0), ("2", 2)):
        app = create_app({**base, "SIDECAR_TRUSTED_PROXIES": good})
        assert app.config["SETTINGS"].trusted_proxies == expected
        app.extensions["sidecar"].db.close()
    for bad in ("-1", "yes", "9"):
        with pytest.raises(ConfigError, match="SIDECAR_TRUSTED_PROXIES"):
            create_app({**base, "SIDECAR_TRUSTED_PROXIES": bad})


def test_config_bad_rate_limit_is_named(lone: Stack) -> None:
    with pytest.raises(ConfigError, match="SIDECAR_RATELIMIT_STATUS"):
        create_app({**stack_config(lone), "SIDECAR_RATELIMIT_STATUS": "lots"})


def test_storage_sqlite_counts_are_shared_between_workers(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'rl' / 'ratelimit.sqlite3'}"
    first, second = SQLiteStorage(uri), SQLiteStorage(uri)  # two gunicorn workers
    limit = parse("3/minute")
    try:
        a, b = FixedWindowRateLimiter(first), FixedWindowRateLimiter(second)
        assert [a.hit(limit, "1.2.3.4"), b.hit(limit, "1.2.3.4"), a.hit(limit, "1.2.3.4")] == [
            True
        ] * 3
        assert b.hit(limit, "1.2.3.4") is False
        assert a.hit(limit, "5.6.7.8") is True
        assert first.check() and second.get_expiry("missing") <= time.time() + 1
    finally:
        first.close()
        second.close()


def test_storage_sqlite_window_ends_and_keys_clear(tmp_path: Path) -> None:
    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'ratelimit.sqlite3'}")
    try:
        assert storage.incr("k", 1) == 1
        assert storage.incr("k", 1, amount=2) == 3
        assert storage.get("k") == 3
        assert time.time() < storage.get_expiry("k") <= time.time() + 1
        time.sleep(1.05)
        assert storage.get("k") == 0
        assert storage.incr("k", 60) == 1  # a new window
        storage.clear("k")
        assert storage.get("k") == 0
        storage.incr("j", 60)
        assert storage.reset() == 1
    finally:
        storage.close()


def test_storage_sqlite_limits_two_apps_together(lone: Stack, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'shared-ratelimit.sqlite3'}"
    config = {
        **stack_config(lone),
        "SIDECAR_RATELIMIT_STORAGE": uri,
        "SIDECAR_RATELIMIT_CHECKOUT": "4/minute",
    }
    apps = [create_app(config), create_app(config)]
    try:
        clients = [app.test_client() for app in apps]
        codes = [
            clients[n % 2].post("/therapy/checkout", data={}, headers=JSON).status_code
            for n in range(5)
        ]
        assert codes == [422, 422, 422, 422, 429]
    finally:
        for app in apps:
            app.extensions["sidecar"].db.close()
            storage = app.extensions["sidecar_limiter"].storage
            storage.close()


def test_storage_sqlite_needs_an_absolute_path() -> None:
    with pytest.raises(ConfigError):
        SQLiteStorage("sqlite://")
