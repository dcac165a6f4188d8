"""Test-only switches: SIDECAR_CRASH_AT kills the process (SIGKILL) at a named point, and
SIDECAR_TEST_UNSAFE turns protections off so race tests can show their negative control.

Used by the reliability tests to prove that a crash anywhere loses nothing and duplicates nothing.
It is refused when SIDECAR_ENV is production, so it cannot be left on by mistake.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping

from sidecar.core.config import ConfigError

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
    once_file = env.get("SIDECAR_CRASH_ONCE_FILE", "").strip()

    def hook(point: str) -> None:
        if point != name:
            return
        remaining[0] -= 1
        if remaining[0] > 0:
            return
        if once_file:
            # Only the first process to get here dies; restarted processes run on (the marker file
            # survives the SIGKILL, a counter in memory would not).
            try:
                os.close(os.open(once_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return
        os.kill(os.getpid(), signal.SIGKILL)

    return hook


UNSAFE_SWITCHES = frozenset({"skip_locks", "widen_races"})


def unsafe_test_switches(env: Mapping[str, str], environment: str) -> dict[str, object]:
    """Return the protections SIDECAR_TEST_UNSAFE switches off (negative controls only)."""
    names = {n.strip() for n in env.get("SIDECAR_TEST_UNSAFE", "").split(",") if n.strip()}
    if not names:
        return {}
    if environment == "production":
        raise ConfigError(
            "SIDECAR_TEST_UNSAFE is a test-only switch and is refused when SIDECAR_ENV=production"
        )
    unknown = names - UNSAFE_SWITCHES
    if unknown:
        raise ConfigError(
            f"SIDECAR_TEST_UNSAFE names unknown switches: {', '.join(sorted(unknown))}"
        )
    return {
        "skip_locks": "skip_locks" in names,
        "race_pause": 0.3 if "widen_races" in names else 0.0,
    }
