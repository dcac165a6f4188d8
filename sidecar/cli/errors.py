"""Turn what stops a CLI command (settings, an unreachable database or WordPress) into one line."""

from __future__ import annotations

import click
import requests

from sidecar.core.config import ConfigError
from sidecar.core.errors import SidecarError
from sidecar.paytabs import PayTabsError
from wp_bridge.errors import (
    WPAuthError,
    WPBridgeError,
    WPConnectionError,
    host_of,
    transport_reason,
)

SETTINGS_HINT = (
    "Set these in the environment, in a .env file, or in the file given by --env-file or "
    "SIDECAR_ENV_FILE (see .env.example; `sidecar demo` prints the command for its own)."
)


class CommandFailed(click.ClickException):
    """A message for the operator (exit 1, no usage banner)."""


class SettingsInvalid(CommandFailed):
    """The settings are missing or malformed (exit 2, no usage banner)."""

    exit_code = 2


def explain(exc: BaseException) -> CommandFailed | None:
    """Return the operator's message for ``exc``, or None when it is not one we expect."""
    if isinstance(exc, ConfigError):
        return SettingsInvalid(f"{exc}\n{SETTINGS_HINT}")
    if isinstance(exc, WPBridgeError):
        return CommandFailed(wordpress_reason(exc))
    if isinstance(exc, SidecarError):
        return CommandFailed(f"{exc}{cause_of(exc)}")
    if isinstance(exc, PayTabsError):
        return CommandFailed(f"PayTabs: {exc}")
    return None


def cause_of(exc: BaseException) -> str:
    """Return ": why" from the low-level error under ``exc`` (a driver's own words), or ""."""
    cause = exc.__cause__
    if cause is None:
        return ""
    args: tuple[object, ...] = tuple(getattr(cause, "args", ()))
    # pymysql: (2003, "Can't connect to MySQL server on 'db' ([Errno 111] Connection refused)")
    text = str(args[1]) if len(args) > 1 and isinstance(args[0], int) else str(cause)
    return f": {text.splitlines()[0]}" if text else ""


def wordpress_reason(exc: WPBridgeError) -> str:
    """Return one line saying why WordPress did not do what was asked."""
    if isinstance(exc, WPConnectionError):
        cause = exc.__cause__
        if isinstance(cause, requests.RequestException):
            return f"cannot reach WordPress{host_of(cause)}: {transport_reason(cause)}"
        return (
            f"cannot reach WordPress: {exc.message.splitlines()[0] if exc.message else 'no answer'}"
        )
    if isinstance(exc, WPAuthError):
        return (
            f"WordPress refused the application password ({exc.http_status}): check WP_API_USER "
            "and WP_API_APP_PASSWORD"
        )
    return f"WordPress answered with an error: {exc}"
