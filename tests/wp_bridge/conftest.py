"""Fixtures: the sandbox WordPress on a real socket, and one harness per client implementation."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from sidecar.sandbox.wordpress import make_wordpress_server
from wp_bridge.client import WordPressClient
from wp_bridge.fake import FakeWordPress, FakeWordPressClient

APP_USER = "admin"
APP_PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678"
SHARED_SECRET = "contract-test-shared-secret-0123456789"


@dataclass
class Harness:
    """A client under test and the in-memory WordPress behind it."""

    kind: str
    client: WordPressClient | FakeWordPressClient
    fake: FakeWordPress
    new_client: Callable[[], WordPressClient | FakeWordPressClient]


@pytest.fixture
def sandbox_fake() -> Iterator[FakeWordPress]:
    """An in-memory WordPress served over HTTP on a free port for the length of one test."""
    fake = FakeWordPress()
    server = make_wordpress_server(
        "127.0.0.1",
        0,
        fake=fake,
        app_user=APP_USER,
        app_password=APP_PASSWORD,
        shared_secret=SHARED_SECRET,
        sidecar_url="http://sidecar.test",
    )
    # A short poll keeps shutdown() quick between tests.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(params=["real", "fake"])
def wp(request: pytest.FixtureRequest) -> Harness:
    """Each behavioural test runs twice: real client over HTTP, and the fake client directly."""
    if request.param == "real":
        fake = request.getfixturevalue("sandbox_fake")
        sandbox = fake

        def new_real() -> WordPressClient:
            return WordPressClient(sandbox.site_url, APP_USER, APP_PASSWORD, sleep=lambda s: None)

        return Harness("real", new_real(), fake, new_real)
    fake = FakeWordPress()
    return Harness("fake", FakeWordPressClient(fake), fake, lambda: FakeWordPressClient(fake))
