"""Pure retry policy for calls to WordPress: when to retry and how long to wait.

No I/O here. Randomness lives only in ``add_jitter`` so that tests can replace it.
"""

from __future__ import annotations

import random

from wp_bridge.errors import DOMAIN_CONFLICT_CODES, PERMANENT_SERVER_CODES, WPConnectionError

DEFAULT_BASE = 0.5
DEFAULT_CAP = 5.0


def should_retry(
    *,
    status: int | None,
    error: Exception | None,
    attempt: int,
    max_attempts: int,
    code: str | None = None,
) -> bool:
    """Return True when attempt number ``attempt`` (1-based) failed in a retryable way."""
    if attempt >= max_attempts:
        return False
    if status is None:
        return _is_retryable_transport_error(error)
    if status == 429:
        return True
    if status == 409:
        # A plain 409 is a race inside WordPress; "full" and "closed" will not change on retry.
        return code not in DOMAIN_CONFLICT_CODES
    if status >= 500:
        # WordPress sends "user exists" as a status-less 500: an answer, not a crash.
        return code not in PERMANENT_SERVER_CODES
    return False


def _is_retryable_transport_error(error: Exception | None) -> bool:
    """Return True for connection failures and timeouts that may heal by themselves."""
    if isinstance(error, WPConnectionError):
        return error.should_retry
    return isinstance(error, ConnectionError | TimeoutError)


def backoff_seconds(attempt: int, *, base: float = DEFAULT_BASE, cap: float = DEFAULT_CAP) -> float:
    """Return the capped exponential delay after failed attempt ``attempt`` (1-based)."""
    # Bounding the exponent keeps absurd attempt numbers from overflowing a float.
    exponent = min(max(attempt - 1, 0), 32)
    return float(min(cap, base * (2**exponent)))


def add_jitter(seconds: float) -> float:
    """Return ``seconds`` with equal jitter: half fixed, half random (the test seam)."""
    half = seconds / 2
    return half + random.uniform(0, half)


def parse_retry_after(value: str | None) -> float | None:
    """Return the delay of a ``Retry-After: <seconds>`` header, or None (dates are ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def delay_seconds(
    attempt: int,
    *,
    retry_after: float | None = None,
    base: float = DEFAULT_BASE,
    cap: float = DEFAULT_CAP,
) -> float:
    """Return how long to sleep before the next attempt, honouring Retry-After up to ``cap``."""
    if retry_after is not None:
        return min(retry_after, cap)
    return add_jitter(backoff_seconds(attempt, base=base, cap=cap))
