"""The retreat's PayTabs credentials, read (never written) from the WordPress options table."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import phpserialize
import pymysql

from sidecar.core.config import Secret, Settings
from sidecar.core.errors import CredentialsUnavailable, DatabaseUnavailable
from sidecar.paytabs.regions import UnknownRegion, base_url_for_region
from sidecar.store.db import Database, DatabaseURL


@dataclass(frozen=True)
class PayTabsCredentials:
    """Profile id, server key and the base URL of the profile's region."""

    profile_id: int
    server_key: Secret
    region: str
    base_url: str


def is_php_serialized(raw: bytes) -> bool:
    """Tell whether an option value looks like PHP serialize() output (WordPress's is_serialized)."""
    text = raw.strip()
    if text == b"N;":
        return True
    if len(text) < 4 or text[1:2] != b":":
        return False
    return text[:1] in b"aOsbidE" and text[-1:] in b";}"


def decode_option(raw: bytes) -> Any:
    """Decode an option value the way WordPress's maybe_unserialize does (twice if double-serialized)."""
    value: Any = raw.decode("utf-8")
    for _ in range(2):
        if not isinstance(value, str | bytes):
            break
        data = value.encode("utf-8") if isinstance(value, str) else value
        if not is_php_serialized(data):
            break
        try:
            value = phpserialize.loads(data, decode_strings=True)
        except ValueError:
            break
    return value


def parse_credentials(
    array_option: Any, separate: dict[str, Any], base_url_override: str | None
) -> PayTabsCredentials:
    """Turn the option values into credentials; raise CredentialsUnavailable saying what is wrong."""
    source = "the separate options"
    values = dict(separate)
    if isinstance(array_option, dict) and array_option:
        values = {k: array_option.get(k) for k in ("profile_id", "server_key", "region")}
        source = "the serialized settings option"
    profile = str(values.get("profile_id") or "").strip()
    key = str(values.get("server_key") or "").strip()
    region = str(values.get("region") or "").strip()
    missing = [name for name, v in (("profile id", profile), ("server key", key)) if not v]
    if missing:
        raise CredentialsUnavailable(f"PayTabs {' and '.join(missing)} missing in {source}")
    if not (profile.isascii() and profile.isdigit()):
        raise CredentialsUnavailable(f"PayTabs profile id in {source} is not a number")
    if not key.startswith("S") or len(key) < 10:
        raise CredentialsUnavailable(f"the PayTabs key in {source} is not a server key (S...)")
    if base_url_override:
        base_url = base_url_override
    else:
        try:
            base_url = base_url_for_region(region)
        except UnknownRegion:
            raise CredentialsUnavailable(f"unknown PayTabs region {region!r} in {source}") from None
    return PayTabsCredentials(int(profile), Secret(key), region.upper(), base_url.rstrip("/"))


class CredentialStore:
    """Reads the credentials from the options table and caches them briefly."""

    def __init__(self, settings: Settings, clock: Callable[[], float]) -> None:
        self._settings = settings
        self._clock = clock
        # Read only: the sidecar never writes WordPress's options (a SELECT-only user is enough).
        self._db = Database(settings.wp_database_url, read_only=True)
        self._lock = threading.Lock()
        self._cached: tuple[float, PayTabsCredentials | CredentialsUnavailable] | None = None

    def get(self) -> PayTabsCredentials:
        """Return the current credentials or raise CredentialsUnavailable (cached both ways)."""
        with self._lock:
            now = self._clock()
            if (
                self._cached is None
                or now - self._cached[0] >= self._settings.credentials_cache_seconds
            ):
                self._cached = (now, self._load())
            result = self._cached[1]
        if isinstance(result, CredentialsUnavailable):
            raise result
        return result

    def forget(self) -> None:
        """Drop the cache, e.g. after PayTabs rejected the key."""
        with self._lock:
            self._cached = None

    def _load(self) -> PayTabsCredentials | CredentialsUnavailable:
        s = self._settings
        names = [
            s.paytabs_option_name,
            s.paytabs_option_profile_id,
            s.paytabs_option_server_key,
            s.paytabs_option_region,
        ]
        try:
            rows = self._read_options(names)
        except DatabaseUnavailable as exc:
            # Operator detail (the setting, the cause) for the log, /readyz and scripts' JSON; the
            # buyer's page says only that payments are not available (the catalogue's sentence).
            return CredentialsUnavailable(
                f"the WordPress database (WP_DATABASE_URL) is unreachable: {exc}"
            )
        array_option = (
            decode_option(rows[s.paytabs_option_name]) if s.paytabs_option_name in rows else None
        )
        separate = {
            "profile_id": decode_option(rows.get(s.paytabs_option_profile_id, b"")),
            "server_key": decode_option(rows.get(s.paytabs_option_server_key, b"")),
            "region": decode_option(rows.get(s.paytabs_option_region, b"")),
        }
        try:
            return parse_credentials(array_option, separate, s.paytabs_base_url)
        except CredentialsUnavailable as exc:
            return exc

    def _read_options(self, names: list[str]) -> dict[str, bytes]:
        table = f"{self._settings.wp_table_prefix}options"
        marks = ", ".join("?" for _ in names)
        try:
            with self._db.transaction() as tx:
                rows = tx.all(
                    f"SELECT option_name, option_value FROM {table} WHERE option_name IN ({marks})",
                    names,
                )
        except (sqlite3.Error, pymysql.err.Error) as exc:
            raise DatabaseUnavailable(f"cannot read {table}: {type(exc).__name__}") from exc
        finally:
            # Read once a minute at most: no connection is worth keeping (and a server that starts
            # a thread per request would leak one per refresh).
            self._db.close()
        return {r["option_name"]: _as_bytes(r["option_value"]) for r in rows}


def wp_database_url(settings: Settings) -> DatabaseURL:
    """Return the parsed WP_DATABASE_URL."""
    return DatabaseURL.parse(settings.wp_database_url)


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return str(value).encode("utf-8")
