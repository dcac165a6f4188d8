"""Retry policy (pure) and the client's retry loop (sleep and jitter replaced, no real waiting)."""

from __future__ import annotations

import pytest
import requests
import responses

from wp_bridge import retry
from wp_bridge.client import WordPressClient
from wp_bridge.errors import (
    GroupFull,
    UserAlreadyExists,
    WPAuthError,
    WPBadRequest,
    WPConnectionError,
    WPNotFound,
    WPRateLimited,
    WPServerError,
)

BASE = "http://wp.test"
ME_URL = f"{BASE}/?rest_route=/wp/v2/users/me&context=edit"
USERS_URL = f"{BASE}/?rest_route=/wp/v2/users"
BOOKINGS_URL = f"{BASE}/?rest_route=/therapy-sidecar/v1/bookings"
ME = {"id": 1, "username": "admin", "email": "admin@example.test", "meta": []}


class TestShouldRetry:
    @pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 409])
    def test_should_retry_transient_statuses(self, status: int) -> None:
        assert retry.should_retry(status=status, error=None, attempt=1, max_attempts=4)

    @pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
    def test_should_not_retry_other_4xx(self, status: int) -> None:
        assert not retry.should_retry(status=status, error=None, attempt=1, max_attempts=4)

    @pytest.mark.parametrize(
        ("status", "code"),
        [
            (409, "therapy_group_full"),
            (409, "therapy_group_closed"),
            (500, "existing_user_login"),
            (500, "existing_user_email"),
            (500, "user_login_too_long"),
        ],
    )
    def test_should_not_retry_domain_answers(self, status: int, code: str) -> None:
        assert not retry.should_retry(
            status=status, error=None, attempt=1, max_attempts=4, code=code
        )

    def test_should_retry_500_with_other_code(self) -> None:
        assert retry.should_retry(
            status=500, error=None, attempt=1, max_attempts=4, code="internal_server_error"
        )

    @pytest.mark.parametrize(
        "error",
        [WPConnectionError("timed out"), ConnectionError("refused"), TimeoutError("slow")],
    )
    def test_should_retry_connection_errors(self, error: Exception) -> None:
        assert retry.should_retry(status=None, error=error, attempt=1, max_attempts=4)

    def test_should_not_retry_unhealable_connection_error(self) -> None:
        error = WPConnectionError("certificate verify failed", should_retry=False)
        assert not retry.should_retry(status=None, error=error, attempt=1, max_attempts=4)

    def test_should_not_retry_unknown_exception(self) -> None:
        assert not retry.should_retry(
            status=None, error=ValueError("bug"), attempt=1, max_attempts=4
        )

    def test_should_retry_stops_at_attempt_cap(self) -> None:
        assert retry.should_retry(status=503, error=None, attempt=3, max_attempts=4)
        assert not retry.should_retry(status=503, error=None, attempt=4, max_attempts=4)
        assert not retry.should_retry(status=503, error=None, attempt=1, max_attempts=1)


class TestBackoff:
    def test_backoff_seconds_doubles_from_base(self) -> None:
        assert [retry.backoff_seconds(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]

    def test_backoff_seconds_is_capped(self) -> None:
        assert retry.backoff_seconds(5) == 5.0
        assert retry.backoff_seconds(10_000) == 5.0
        assert retry.backoff_seconds(3, base=1.0, cap=3.0) == 3.0

    def test_add_jitter_stays_between_half_and_full(self) -> None:
        for _ in range(200):
            assert 1.0 <= retry.add_jitter(2.0) <= 2.0

    def test_delay_seconds_uses_the_jitter_seam(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(retry, "add_jitter", lambda seconds: seconds + 100)
        assert retry.delay_seconds(2) == 101.0

    def test_delay_seconds_honours_retry_after_capped(self) -> None:
        assert retry.delay_seconds(1, retry_after=2.0) == 2.0
        assert retry.delay_seconds(1, retry_after=120.0) == 5.0

    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            ("3", 3.0),
            (" 1.5 ", 1.5),
            (None, None),
            ("soon", None),
            ("-1", None),
            ("Wed, 21 Oct 2015 07:28:00 GMT", None),
        ],
    )
    def test_parse_retry_after(self, header: str | None, expected: float | None) -> None:
        assert retry.parse_retry_after(header) == expected


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Replace the jitter seam with identity and collect the requested sleeps."""
    monkeypatch.setattr(retry, "add_jitter", lambda seconds: seconds)
    return []


@pytest.fixture
def client(sleeps: list[float]) -> WordPressClient:
    return WordPressClient(BASE, "admin", "abcd EFGH 1234 ijkl", sleep=sleeps.append)


class TestClientRetryLoop:
    @responses.activate
    def test_client_retries_503_then_succeeds(
        self, client: WordPressClient, sleeps: list[float]
    ) -> None:
        responses.get(ME_URL, status=503, body="<h1>Service Unavailable</h1>")
        responses.get(ME_URL, status=503, body="<h1>Service Unavailable</h1>")
        responses.get(ME_URL, json=ME)
        assert client.ping().id == 1
        assert len(responses.calls) == 3
        assert sleeps == [0.5, 1.0]

    @responses.activate
    def test_client_gives_up_after_max_attempts(
        self, client: WordPressClient, sleeps: list[float]
    ) -> None:
        for _ in range(4):
            responses.get(ME_URL, status=502, body="Bad Gateway")
        with pytest.raises(WPServerError) as info:
            client.ping()
        assert info.value.http_status == 502
        assert len(responses.calls) == 4
        assert sleeps == [0.5, 1.0, 2.0]

    @responses.activate
    def test_client_honours_retry_after_on_429(
        self, client: WordPressClient, sleeps: list[float]
    ) -> None:
        responses.get(ME_URL, status=429, headers={"Retry-After": "2"}, json={})
        responses.get(ME_URL, status=429, headers={"Retry-After": "3600"}, json={})
        responses.get(ME_URL, json=ME)
        assert client.ping().username == "admin"
        assert sleeps == [2.0, 5.0]

    @responses.activate
    def test_client_raises_rate_limited_when_429_persists(self, sleeps: list[float]) -> None:
        client = WordPressClient(BASE, "admin", "pw pw", max_attempts=2, sleep=sleeps.append)
        responses.get(ME_URL, status=429, json={})
        responses.get(ME_URL, status=429, json={})
        with pytest.raises(WPRateLimited):
            client.ping()

    @pytest.mark.parametrize(
        "exc",
        [
            requests.exceptions.ConnectTimeout(),
            requests.exceptions.ReadTimeout(),
            requests.exceptions.ConnectionError("refused"),
        ],
    )
    @responses.activate
    def test_client_retries_timeouts_and_connection_errors(
        self, client: WordPressClient, sleeps: list[float], exc: Exception
    ) -> None:
        responses.get(ME_URL, body=exc)
        responses.get(ME_URL, json=ME)
        assert client.ping().id == 1
        assert sleeps == [0.5]

    @responses.activate
    def test_client_raises_connection_error_after_cap(
        self, client: WordPressClient, sleeps: list[float]
    ) -> None:
        for _ in range(4):
            responses.get(ME_URL, body=requests.exceptions.ReadTimeout("read timed out"))
        with pytest.raises(WPConnectionError) as info:
            client.ping()
        assert info.value.is_transient
        assert len(sleeps) == 3

    @responses.activate
    def test_client_does_not_retry_tls_errors(
        self, client: WordPressClient, sleeps: list[float]
    ) -> None:
        responses.get(ME_URL, body=requests.exceptions.SSLError("certificate verify failed"))
        with pytest.raises(WPConnectionError) as info:
            client.ping()
        assert not info.value.is_transient
        assert sleeps == []

    @pytest.mark.parametrize(
        ("status", "body", "error"),
        [
            (
                400,
                {
                    "code": "rest_invalid_param",
                    "message": "Invalid parameter(s): context",
                    "data": {"status": 400},
                },
                WPBadRequest,
            ),
            (
                401,
                {
                    "code": "rest_not_logged_in",
                    "message": "You are not currently logged in.",
                    "data": {"status": 401},
                },
                WPAuthError,
            ),
            (
                404,
                {
                    "code": "rest_no_route",
                    "message": "No route was found.",
                    "data": {"status": 404},
                },
                WPNotFound,
            ),
        ],
    )
    @responses.activate
    def test_client_does_not_retry_4xx(
        self,
        client: WordPressClient,
        sleeps: list[float],
        status: int,
        body: dict[str, object],
        error: type[Exception],
    ) -> None:
        responses.get(ME_URL, status=status, json=body)
        with pytest.raises(error):
            client.ping()
        assert len(responses.calls) == 1
        assert sleeps == []

    @responses.activate
    def test_client_does_not_retry_group_full(
        self, client: WordPressClient, sleeps: list[float]
    ) -> None:
        responses.post(
            BOOKINGS_URL,
            status=409,
            json={"code": "therapy_group_full", "message": "Full.", "data": {"status": 409}},
        )
        with pytest.raises(GroupFull):
            client.book_session(intent_ref="TP-1", group_id=3, user_id=9)
        assert len(responses.calls) == 1 and sleeps == []

    @responses.activate
    def test_client_retries_plain_409(self, client: WordPressClient, sleeps: list[float]) -> None:
        responses.post(
            BOOKINGS_URL,
            status=409,
            json={"code": "therapy_lock_busy", "message": "Busy.", "data": {"status": 409}},
        )
        booking = {"id": 5, "intent_ref": "TP-1", "group_id": 3, "user_id": 9, "created": True}
        responses.post(BOOKINGS_URL, status=201, json=booking)
        assert client.book_session(intent_ref="TP-1", group_id=3, user_id=9).created
        assert sleeps == [0.5]

    @responses.activate
    def test_client_does_not_retry_existing_user_500(
        self, client: WordPressClient, sleeps: list[float]
    ) -> None:
        responses.post(
            USERS_URL,
            status=500,
            json={
                "code": "existing_user_email",
                "message": "Sorry, that email address is already used!",
                "data": None,
            },
        )
        with pytest.raises(UserAlreadyExists):
            client.create_user(
                username="amira",
                email="amira@example.test",
                password="pw",
                first_name="Amira",
                last_name="K",
                intent_ref="TP-1",
            )
        assert len(responses.calls) == 1 and sleeps == []
