"""Test-only crash switch: SIDECAR_CRASH_AT kills the process (SIGKILL) at a named point.

Used by the reliability tests to prove that a crash anywhere loses nothing and duplicates nothing.
It is refused when SIDECAR_ENV is production, so it cannot be left on by mistake.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping

from sidecar.config import ConfigError

POINTS = frozenset(
    {
        "after_notification_logged",
        "after_job_claimed",
        "after_paid_transition",
        "after_wp_user_returned",
        "after_wp_user_recorded",
        "after_wp_booking_returned",
        "after_wp_booking_recorded",
        "after_wp_membership_returned",
        "after_wp_membership_recorded",
        "before_refund_call",
        "after_refund_call",
    }
)


def crash_hook(env: Mapping[str, str], environment: str) -> Callable[[str], None] | None:
    """Return the hook for SIDECAR_CRASH_AT (``point`` or ``point:N`` for the N-th time), or None."""
    spec = env.get("SIDECAR_CRASH_AT", "").strip()
    if not spec:
        return None
    if environment == "production":
        raise ConfigError(
            "SIDECAR_CRASH_AT is a test-only switch and is refused when SIDECAR_ENV=production"
        )
    name, _, nth = spec.partition(":")
    if name not in POINTS:
        raise ConfigError(
            f"SIDECAR_CRASH_AT names an unknown point {name!r}; known: {', '.join(sorted(POINTS))}"
        )
    remaining = [int(nth) if nth.isdigit() else 1]

    def hook(point: str) -> None:
        if point != name:
            return
        remaining[0] -= 1
        if remaining[0] <= 0:
            os.kill(os.getpid(), signal.SIGKILL)

    return hook
