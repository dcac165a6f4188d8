"""The site's timezone, read from the WordPress options table as wp_timezone() reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import pytest

from sidecar.core.config import load_settings
from sidecar.store.site_time import CACHE_SECONDS, SiteTimeStore, zone_from_options
from tests.support.wp_options import write_sqlite_options

BASE_ENV = {
    "SIDECAR_PUBLIC_URL": "http://127.0.0.1:5000",
    "SIDECAR_SHARED_SECRET": "x" * 40,
    "WP_BASE_URL": "http://127.0.0.1:8080",
    "WP_API_USER": "admin",
    "WP_API_APP_PASSWORD": "app pass word",
}
NOON_UTC = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def store_for(tmp_path: Path, options: dict[str, str]) -> tuple[SiteTimeStore, Clock, Path]:
    path = tmp_path / "wp.sqlite3"
    url = write_sqlite_options(path, options)
    clock = Clock()
    return SiteTimeStore(load_settings({**BASE_ENV, "WP_DATABASE_URL": url}), clock), clock, path


def noon_utc_in(zone: tzinfo) -> str:
    return NOON_UTC.astimezone(zone).strftime("%H:%M")


def test_site_time_reads_the_timezone_string(tmp_path: Path) -> None:
    store, _, _ = store_for(tmp_path, {"timezone_string": "Asia/Riyadh", "gmt_offset": "0"})
    assert noon_utc_in(store.zone()) == "15:00"


@pytest.mark.parametrize(
    ("gmt_offset", "noon"),
    [("3", "15:00"), ("5.5", "17:30"), ("5.75", "17:45"), ("-4", "08:00"), ("-4.5", "07:30")],
)
def test_site_time_without_a_timezone_string_uses_gmt_offset(
    tmp_path: Path, gmt_offset: str, noon: str
) -> None:
    store, _, _ = store_for(tmp_path, {"timezone_string": "", "gmt_offset": gmt_offset})
    assert noon_utc_in(store.zone()) == noon


@pytest.mark.parametrize("options", [{"timezone_string": "", "gmt_offset": ""}, {}])
def test_site_time_empty_or_missing_options_are_utc(
    tmp_path: Path, options: dict[str, str]
) -> None:
    store, _, _ = store_for(tmp_path, options)
    assert store.zone().utcoffset(NOON_UTC) == timedelta(0)


def test_site_time_unknown_zone_name_falls_back_to_the_offset() -> None:
    zone = zone_from_options("Mars/Olympus_Mons", "3")
    assert zone.utcoffset(NOON_UTC) == timedelta(hours=3)
    assert zone_from_options("../../etc/passwd", "not a number").utcoffset(None) == timedelta(0)


def test_site_time_unreadable_database_is_utc_not_an_error() -> None:
    settings = load_settings({**BASE_ENV, "WP_DATABASE_URL": "mysql://u:p@127.0.0.1:1/wp"})
    assert SiteTimeStore(settings, Clock()).zone() is UTC


def test_site_time_missing_options_table_is_utc(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    store = SiteTimeStore(load_settings({**BASE_ENV, "WP_DATABASE_URL": url}), Clock())
    assert store.zone() is UTC


def test_site_time_is_cached_for_a_few_minutes(tmp_path: Path) -> None:
    store, clock, path = store_for(tmp_path, {"timezone_string": "Asia/Riyadh"})
    assert noon_utc_in(store.zone()) == "15:00"
    write_sqlite_options(path, {"timezone_string": "Asia/Kolkata"})
    clock.now += CACHE_SECONDS - 1
    assert noon_utc_in(store.zone()) == "15:00"
    clock.now += 1
    assert noon_utc_in(store.zone()) == "17:30"


def test_site_time_keeps_the_last_zone_read_while_the_table_is_unreadable(tmp_path: Path) -> None:
    store, clock, path = store_for(tmp_path, {"timezone_string": "Asia/Riyadh"})
    assert noon_utc_in(store.zone()) == "15:00"
    path.write_bytes(b"not a database")
    clock.now += CACHE_SECONDS
    assert noon_utc_in(store.zone()) == "15:00"
