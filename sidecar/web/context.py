"""Access to the app's shared services from inside a request."""

from __future__ import annotations

from flask import current_app

from sidecar.core.container import Services


def services() -> Services:
    """Return the Services the app was created with."""
    return current_app.extensions["sidecar"]  # type: ignore[no-any-return,unused-ignore]
