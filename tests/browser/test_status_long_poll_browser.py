"""The status page is told "fulfilled" by its long poll, not by its ordinary polling."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from sidecar.jobs import runner
from sidecar.sandbox import wordpress_pages
from sidecar.sandbox.demo import DemoStack
from sidecar.web import status_routes
from tests.browser.flows import Buyer, only_intent

pytestmark = pytest.mark.browser
EMAIL = "amal@example.com"


def test_browser_status_page_long_poll_goes_to_thank_you(
    demo: DemoStack, buyer: Buyer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page's ordinary polling every 10 minutes: only a held request can bring the news.
    slow = {**wordpress_pages.STATUS_TIMING, "interval": 600_000, "retryMs": 600_000}
    monkeypatch.setattr(wordpress_pages, "STATUS_TIMING", slow)
    held = threading.Event()
    check, run_job = status_routes._current_state, runner.run_job

    def checking(*args: Any) -> str | None:
        held.set()  # a long poll is waiting on the store
        return check(*args)

    def after_the_page_waits(services: Any, job: Any) -> str:
        # The worker confirms nothing before the status page's long poll is held, so its first
        # (ordinary) poll cannot have seen "fulfilled".
        assert held.wait(30)
        return run_job(services, job)

    monkeypatch.setattr(status_routes, "_current_state", checking)
    monkeypatch.setattr(runner, "run_job", after_the_page_waits)
    asked: list[str] = []
    buyer.page.on("request", lambda r: asked.append(r.url) if "/therapy/status/" in r.url else None)

    buyer.register(demo.groups[0], EMAIL)
    buyer.pay()
    buyer.wait_for_thank_you()

    assert buyer.text(".who") == f"Logged in as {EMAIL}"
    assert only_intent(demo).state.value == "fulfilled"
    # The first ask learns the state; every later one is a long poll since the state it saw.
    assert asked and "wait=" not in asked[0]
    assert len(asked) >= 2 and all("wait=25&since=" in url for url in asked[1:])
