"""The retreat's PayTabs credentials, read from the WordPress options table."""

from __future__ import annotations

from pathlib import Path

import phpserialize
import pytest

from sidecar.core.config import load_settings
from sidecar.core.errors import CredentialsUnavailable
from sidecar.store.credentials import CredentialStore, decode_option, parse_credentials
from tests.support.wp_options import serialized_settings, write_sqlite_options

KEY = "SZJNTEST-REALSTACK-FAKE-SERVERKEY"
BASE_ENV = {
    "SIDECAR_PUBLIC_URL": "http://127.0.0.1:5000",
    "SIDECAR_SHARED_SECRET": "x" * 40,
    "WP_BASE_URL": "http://127.0.0.1:8080",
    "WP_API_USER": "admin",
    "WP_API_APP_PASSWORD": "app pass word",
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def store_for(tmp_path: Path, options: dict[str, str], **env: str) -> tuple[CredentialStore, Clock]:
    url = write_sqlite_options(tmp_path / "wp.sqlite3", options)
    clock = Clock()
    settings = load_settings({**BASE_ENV, "WP_DATABASE_URL": url, **env})
    return CredentialStore(settings, clock), clock


def test_credentials_read_from_serialized_array_option(tmp_path: Path) -> None:
    store, _ = store_for(
        tmp_path, {"retreat_paytabs_settings": serialized_settings(87654, KEY, "SAU")}
    )
    creds = store.get()
    assert (creds.profile_id, creds.server_key.reveal(), creds.base_url) == (
        87654,
        KEY,
        "https://secure.paytabs.sa",
    )
    assert KEY not in repr(creds)


def test_credentials_doc_sample_option_decodes() -> None:
    raw = b'a:4:{s:10:"profile_id";s:5:"87654";s:10:"server_key";s:33:"SZJNTEST-REALSTACK-FAKE-SERVERKEY";s:6:"region";s:3:"SAU";s:8:"currency";s:3:"SAR";}'
    assert decode_option(raw)["server_key"] == KEY


def test_credentials_read_from_separate_options(tmp_path: Path) -> None:
    store, _ = store_for(
        tmp_path, {"paytabs_profile_id": "123", "paytabs_server_key": KEY, "paytabs_region": "ARE"}
    )
    assert store.get().base_url == "https://secure.paytabs.com"


def test_credentials_option_names_are_configurable(tmp_path: Path) -> None:
    store, _ = store_for(
        tmp_path, {"my_pt": serialized_settings(5, KEY, "EGY")}, PAYTABS_OPTION_NAME="my_pt"
    )
    assert store.get().profile_id == 5


def test_credentials_base_url_override(tmp_path: Path) -> None:
    store, _ = store_for(
        tmp_path,
        {"retreat_paytabs_settings": serialized_settings(5, KEY, "SAU")},
        PAYTABS_BASE_URL="http://127.0.0.1:9999",
    )
    assert store.get().base_url == "http://127.0.0.1:9999"


def test_credentials_double_serialized_value_is_unwrapped() -> None:
    inner = serialized_settings(9, KEY, "SAU")
    outer = phpserialize.dumps(inner)
    assert decode_option(outer)["profile_id"] == "9"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "profile id and server key missing"),
        (
            {"retreat_paytabs_settings": serialized_settings(5, "CLIENTKEY-XXXXXXXX", "SAU")},
            "not a server key",
        ),
        (
            {"retreat_paytabs_settings": serialized_settings(5, KEY, "MARS")},
            "unknown PayTabs region",
        ),
        (
            {"paytabs_profile_id": "abc", "paytabs_server_key": KEY, "paytabs_region": "SAU"},
            "not a number",
        ),
    ],
)
def test_credentials_missing_or_invalid_say_why(
    tmp_path: Path, options: dict[str, str], message: str
) -> None:
    store, _ = store_for(tmp_path, options)
    with pytest.raises(CredentialsUnavailable, match=message):
        store.get()


def test_credentials_are_cached_briefly(tmp_path: Path) -> None:
    store, clock = store_for(
        tmp_path, {"retreat_paytabs_settings": serialized_settings(1, KEY, "SAU")}
    )
    assert store.get().profile_id == 1
    write_sqlite_options(
        tmp_path / "wp.sqlite3", {"retreat_paytabs_settings": serialized_settings(2, KEY, "SAU")}
    )
    assert store.get().profile_id == 1
    clock.now += 61
    assert store.get().profile_id == 2


def test_credentials_unreachable_wordpress_database(tmp_path: Path) -> None:
    settings = load_settings({**BASE_ENV, "WP_DATABASE_URL": "mysql://u:p@127.0.0.1:1/wp"})
    with pytest.raises(CredentialsUnavailable, match="unreachable"):
        CredentialStore(settings, Clock()).get()


def test_credentials_parse_prefers_the_array_option() -> None:
    creds = parse_credentials(
        {"profile_id": "7", "server_key": KEY, "region": "SAU"},
        {"profile_id": "8", "server_key": KEY, "region": "ARE"},
        None,
    )
    assert creds.profile_id == 7


def test_credentials_read_from_a_read_only_options_file(tmp_path: Path) -> None:
    import os
    import stat

    store, _ = store_for(tmp_path, {"retreat_paytabs_settings": serialized_settings(3, KEY, "SAU")})
    path = tmp_path / "wp.sqlite3"
    os.chmod(path, stat.S_IRUSR)
    os.chmod(tmp_path, stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert store.get().profile_id == 3
        assert not (tmp_path / "wp.sqlite3-wal").exists()
    finally:
        os.chmod(tmp_path, stat.S_IRWXU)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
