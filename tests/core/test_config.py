"""Settings: validated once, secrets never shown."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from dotenv import dotenv_values

from sidecar.core.config import ConfigError, load_settings

GOOD = {
    "SIDECAR_PUBLIC_URL": "https://site.example/sidecar",
    "SIDECAR_SHARED_SECRET": "s" * 40,
    "WP_BASE_URL": "https://site.example",
    "WP_API_USER": "sidecar",
    "WP_API_APP_PASSWORD": "abcd efgh ijkl mnop qrst uvwx",
    "WP_DATABASE_URL": "mysql://wp:dbpass-secret@127.0.0.1/wordpress",
}


def test_config_loads_good_settings() -> None:
    settings = load_settings(GOOD)
    assert settings.public_url == "https://site.example/sidecar"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.wp_table_prefix == "wp_"


@pytest.mark.parametrize("name", sorted(GOOD))
def test_config_missing_setting_is_named(name: str) -> None:
    env = {k: v for k, v in GOOD.items() if k != name}
    with pytest.raises(ConfigError, match=name):
        load_settings(env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIDECAR_PUBLIC_URL", "not a url"),
        ("SIDECAR_SHARED_SECRET", "short"),
        ("SIDECAR_HOLD_MINUTES", "ten"),
        ("SIDECAR_HOLD_MINUTES", "0"),
        ("SIDECAR_JOB_LEASE_SECONDS", "-1"),
        ("SIDECAR_DATABASE_URL", "postgres://x/y"),
        ("SIDECAR_SEND_BOOKING_EMAIL", "maybe"),
        ("SIDECAR_ENV", "staging-ish"),
    ],
)
def test_config_malformed_setting_is_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({**GOOD, name: value})


def test_config_page_must_expire_before_the_hold() -> None:
    with pytest.raises(ConfigError, match="SIDECAR_PAYPAGE_TTL_MINUTES"):
        load_settings({**GOOD, "SIDECAR_HOLD_MINUTES": "20", "SIDECAR_PAYPAGE_TTL_MINUTES": "20"})


def test_config_repr_hides_secrets() -> None:
    text = repr(load_settings(GOOD)) + str(load_settings(GOOD))
    assert "s" * 40 not in text
    assert "abcd efgh" not in text
    assert "dbpass-secret" not in text


def test_config_shared_secret_minimum_matches_the_bridge_and_its_admin_notice() -> None:
    # The bridge's admin notice once asked for 16 characters while both sides refuse fewer than 32.
    bridge = Path(__file__).resolve().parents[2] / "wp_bridge" / "wordpress"
    tokens = (bridge / "therapy-sidecar-bridge" / "tokens.php").read_text()
    found = re.search(r"const MIN_SECRET_LENGTH = (\d+);", tokens)
    assert found is not None
    minimum = int(found.group(1))
    with pytest.raises(ConfigError):
        load_settings({**GOOD, "SIDECAR_SHARED_SECRET": "s" * (minimum - 1)})
    assert load_settings({**GOOD, "SIDECAR_SHARED_SECRET": "s" * minimum})
    shortcodes = (bridge / "therapy-sidecar-bridge" / "form.php").read_text()
    notice = re.search(r"THERAPY_SIDECAR_SHARED_SECRET \(at least ([^)]*)\).*\n(.*)", shortcodes)
    assert notice is not None, "the admin notice about the shared secret is gone"
    assert notice.group(1) in (f"{minimum} characters", "%d characters")
    if notice.group(1) == "%d characters":
        assert "sprintf( $notice, MIN_SECRET_LENGTH )" in notice.group(2)
    php_files = sorted(bridge.rglob("*.php"))
    assert not [p.name for p in php_files if re.search(r"at least 16 char", p.read_text())]


@pytest.mark.parametrize("example", [".env.example", "deploy/sidecar.env.example"])
def test_load_settings_refuses_the_example_files_placeholder_secrets(example: str) -> None:
    values = dotenv_values(Path(__file__).resolve().parents[2] / example)
    env = {**GOOD, **{k: v for k, v in values.items() if v is not None}}
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    message = str(caught.value)
    assert "SIDECAR_SHARED_SECRET is still the example's placeholder" in message
    assert "WP_API_APP_PASSWORD is still the example's placeholder" in message
    assert "secrets.token_urlsafe" in message
    assert str(env["SIDECAR_SHARED_SECRET"]) not in message  # the message names, never echoes


def test_load_settings_accepts_random_secrets_that_are_not_placeholders() -> None:
    assert load_settings({**GOOD, "SIDECAR_SHARED_SECRET": secrets.token_urlsafe(48)})
