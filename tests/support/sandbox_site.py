"""The sandbox WordPress as the login and known-e-mail tests drive it: one secret, one fixed time."""

from __future__ import annotations

from flask.testing import FlaskClient

from sidecar.sandbox.wordpress import create_wordpress_app
from wp_bridge.fake import FakeWordPress

SECRET = "sandbox-test-shared-secret-0123456789"
NOW = 1_800_000_000.0


def sandbox_fake() -> FakeWordPress:
    """A fake WordPress whose clock stands at NOW."""
    return FakeWordPress(clock=lambda: NOW)


def sandbox_browser(fake: FakeWordPress) -> FlaskClient:
    """A browser on the sandbox WordPress serving ``fake``."""
    app = create_wordpress_app(
        fake, app_user="admin", app_password="pw", shared_secret=SECRET, sidecar_url="http://s"
    )
    return app.test_client()
