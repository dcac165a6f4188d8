"""The status long poll: ?wait=&since= holds a script's request until the state changes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from sidecar.web import status_routes
from tests.support.stack import SHARED_SECRET, Stack
from wp_bridge.tokens import verify_token

JSON = {"Accept": "application/json"}
NAVIGATE = {"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate"}


@pytest.fixture
def one_slot(tmp_path: Path, database_url: str) -> Iterator[Stack]:
    """The stack with one waiting slot per process."""
    s = Stack(tmp_path, database_url, SIDECAR_STATUS_WAIT_SLOTS="1")
    yield s
    s.close()


class Checks:
    """Counts the long poll's looks at the store; ``first`` is set once a request waits."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self.first = threading.Event()
        original = status_routes._current_state

        def counted(*args: Any) -> str | None:
            self.count += 1
            self.first.set()
            return original(*args)

        monkeypatch.setattr(status_routes, "_current_state", counted)


def long_poll(client: Any, ref: str, query: str) -> Any:
    return client.get(f"/therapy/status/{ref}?{query}", headers=JSON)


def test_status_long_poll_answers_at_once_when_the_state_differs(
    stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = Checks(monkeypatch)
    intent = stack.start()
    answer = long_poll(stack.client, intent.ref, "wait=25&since=paid")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["state"] == "awaiting_payment" and body["waited"] is True
    assert checks.count == 1  # one look at the store, no waiting


def test_status_long_poll_answers_when_another_thread_fulfils(
    stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = Checks(monkeypatch)
    intent = stack.start()
    answers: list[dict[str, Any]] = []

    def page() -> None:
        # As the status page's script: each answer's state is the next request's ``since``.
        seen = "awaiting_payment"
        while seen != "fulfilled" and len(answers) < 10:
            answers.append(long_poll(stack.client, intent.ref, f"wait=25&since={seen}").get_json())
            seen = answers[-1]["state"]

    waiting = threading.Thread(target=page)
    waiting.start()
    assert checks.first.wait(10)
    stack.pay(intent)
    stack.deliver_ipns()
    stack.drain()
    waiting.join(60)
    states = [a["state"] for a in answers]
    assert states[-1] == "fulfilled" and "awaiting_payment" not in states, states
    assert all(a["waited"] is True for a in answers)
    # The paying browser's cookie went with the held request: it gets the login link.
    token = parse_qs(urlsplit(answers[-1]["login_url"]).query)["grant"][0]
    jti = verify_token(token, SHARED_SECRET, typ="login", now=0)["jti"]
    assert checks.count > 1
    again = long_poll(stack.client, intent.ref, "wait=25&since=paid").get_json()
    token = parse_qs(urlsplit(again["login_url"]).query)["grant"][0]
    assert verify_token(token, SHARED_SECRET, typ="login", now=0)["jti"] == jti
    assert stack.intent(intent.ref).login_jti == jti  # minted once


def test_status_long_poll_ends_with_the_wait_and_the_same_state(stack: Any) -> None:
    intent = stack.start()
    body = long_poll(stack.client, intent.ref, "wait=0.2&since=awaiting_payment").get_json()
    assert body["state"] == "awaiting_payment" and body["waited"] is True


def test_status_long_poll_beyond_the_slots_answers_at_once(
    one_slot: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = Checks(monkeypatch)
    intent = one_slot.start()
    with one_slot.app.app_context():
        slots = status_routes._wait_slots(1)
    assert slots.acquire(blocking=False)  # another request holds the only slot
    try:
        body = long_poll(one_slot.client, intent.ref, "wait=25&since=awaiting_payment").get_json()
    finally:
        slots.release()
    assert body["state"] == "awaiting_payment" and body["waited"] is False
    assert checks.count == 0
    # The slot is free again: the next request is held (briefly here).
    body = long_poll(one_slot.client, intent.ref, "wait=0.1&since=awaiting_payment").get_json()
    assert body["waited"] is True


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("wait=26&since=paid", "bad_wait"),
        ("wait=-1&since=paid", "bad_wait"),
        ("wait=abc&since=paid", "bad_wait"),
        ("wait=1e3&since=paid", "bad_wait"),
        ("wait=nan&since=paid", "bad_wait"),
        ("wait=&since=paid", "bad_wait"),
        ("wait=5&since=bogus", "bad_since"),
        ("wait=5&since=", "bad_since"),
        ("since=%00", "bad_since"),
    ],
)
def test_status_long_poll_refuses_a_bad_query_with_400(stack: Any, query: str, code: str) -> None:
    intent = stack.start()
    for headers in (JSON, NAVIGATE):
        answer = stack.client.get(f"/therapy/status/{intent.ref}?{query}", headers=headers)
        assert answer.status_code == 400
        assert answer.get_json()["error"]["code"] == code


def test_status_long_poll_is_not_applied_to_the_no_javascript_page(
    stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = Checks(monkeypatch)
    intent = stack.start()
    page = stack.client.get(
        f"/therapy/status/{intent.ref}?wait=25&since=awaiting_payment", headers=NAVIGATE
    )
    assert page.status_code == 200 and 'http-equiv="refresh"' in page.get_data(as_text=True)
    assert checks.count == 0


def test_status_long_poll_of_an_unknown_ref_is_404(stack: Any) -> None:
    answer = long_poll(stack.client, "tps_unknown", "wait=1&since=awaiting_payment")
    assert answer.status_code == 404
