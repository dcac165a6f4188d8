"""The site's timezone (WordPress's Settings > General), read from the options table, for buyers' times.

WordPress's wp_timezone() takes ``timezone_string`` (an IANA name) when set, else ``gmt_offset``
(hours, possibly fractional like 5.5 or 5.75, possibly empty, which counts as 0). The sidecar reads
the same two options, read only, and falls back to UTC whenever they cannot be read: a buyer is
never shown an error because of a clock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pymysql

from sidecar.core.config import Settings
from sidecar.core.errors import DatabaseBusy, DatabaseUnavailable
from sidecar.store.credentials import decode_option
from sidecar.store.db import Database

# The timezone changes rarely; a few minutes' lag after the site's owner changes it is harmless.
CACHE_SECONDS = 300.0
# After a failed read: the last zone read (UTC if none) for a short while, then ask again.
RETRY_SECONDS = 30.0
OPTION_NAMES = ("timezone_string", "gmt_offset")


def zone_from_options(timezone_string: Any, gmt_offset: Any) -> tzinfo:
    """Return the zone wp_timezone() would: the IANA name if valid, else the offset, else UTC."""
    name = str(timezone_string or "").strip()
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass  # an unknown name: WordPress would fail here; the offset is the better guess
    try:
        hours = float(str(gmt_offset or "0").strip() or "0")
    except ValueError:
        return UTC  # PHP's (float) of a non-number is 0
    # As wp_timezone_string(): whole hours, then the fraction's minutes truncated.
    whole = int(hours)
    minutes = int(abs(hours - whole) * 60 + 1e-9)
    total = abs(whole) * 60 + minutes
    if total == 0 or total >= 24 * 60:
        return UTC
    return timezone(timedelta(minutes=-total if hours < 0 else total))


class SiteTimeStore:
    """Reads the site's timezone from the options table and caches it for a few minutes."""

    def __init__(self, settings: Settings, clock: Callable[[], float]) -> None:
        self._settings = settings
        self._clock = clock
        self._db = Database(settings.wp_database_url, read_only=True)
        self._lock = threading.Lock()
        self._cached: tuple[float, tzinfo] | None = None  # (until when, zone)

    def zone(self) -> tzinfo:
        """Return the site's timezone (the last one read, or UTC, when the options are unreadable)."""
        with self._lock:
            now = self._clock()
            if self._cached is None or now >= self._cached[0]:
                zone = self._load()
                if zone is None:
                    self._cached = (now + RETRY_SECONDS, self._cached[1] if self._cached else UTC)
                else:
                    self._cached = (now + CACHE_SECONDS, zone)
            return self._cached[1]

    def forget(self) -> None:
        """Drop the cache: the next call reads the options again."""
        with self._lock:
            self._cached = None

    def _load(self) -> tzinfo | None:
        table = f"{self._settings.wp_table_prefix}options"
        try:
            with self._db.transaction() as tx:
                rows = tx.all(
                    f"SELECT option_name, option_value FROM {table} WHERE option_name IN (?, ?)",
                    list(OPTION_NAMES),
                )
        except (sqlite3.Error, pymysql.err.Error, OSError, DatabaseBusy, DatabaseUnavailable):
            return None
        finally:
            self._db.close()  # read every few minutes: no connection worth keeping
        values = {r["option_name"]: decode_option(_as_bytes(r["option_value"])) for r in rows}
        return zone_from_options(values.get("timezone_string"), values.get("gmt_offset"))


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return str(value).encode("utf-8")
