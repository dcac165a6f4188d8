"""A warning that an attacker can trigger at will, written at most once per key and interval.

A flood of forged notifications must show in ``journalctl -p warning`` without the log becoming the
next disk filler: the first occurrence is written at once, later ones within the interval are only
counted, and the next line written says how many were held back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class _Window:
    last_written: float
    held_back: int = 0


class Throttle:
    """Admits at most one line per key every ``interval`` seconds (per process)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def admit(self, key: str, now: float) -> int | None:
        """Return how many lines were held back since the last one written, or None to hold this."""
        with self._lock:
            window = self._windows.get(key)
            if window is None or now - window.last_written >= self.interval:
                held_back = window.held_back if window is not None else 0
                self._windows[key] = _Window(last_written=now)
                return held_back
            window.held_back += 1
            return None
