"""Region code -> host table and currency precision."""

from __future__ import annotations

import pytest

from sidecar.paytabs.regions import (
    REGION_BASE_URLS,
    SUPPORTED_CURRENCIES,
    UnknownRegion,
    base_url_for_region,
    currency_exponent,
)


@pytest.mark.parametrize(
    ("code", "url"),
    [
        ("ARE", "https://secure.paytabs.com"),
        ("SAU", "https://secure.paytabs.sa"),
        ("EGY", "https://secure-egypt.paytabs.com"),
        ("OMN", "https://secure-oman.paytabs.com"),
        ("JOR", "https://secure-jordan.paytabs.com"),
        ("KWT", "https://secure-kuwait.paytabs.com"),
        ("IRQ", "https://secure-iraq.paytabs.com"),
        ("QAT", "https://secure-doha.paytabs.com"),
        ("MAR", "https://secure-morocco.paytabs.com"),
        ("GLOBAL", "https://secure-global.paytabs.com"),
        ("MADFOAT", "https://madfoat-secure.paytabs.com"),
        ("CUZDAN", "https://secure.cuzdan.az"),
    ],
)
def test_base_url_for_region_matches_documented_hosts(code: str, url: str) -> None:
    assert base_url_for_region(code) == url


def test_base_url_for_region_covers_every_documented_region() -> None:
    assert len(REGION_BASE_URLS) == 12


@pytest.mark.parametrize(
    ("alias", "code"),
    [("sau", "SAU"), (" Are ", "ARE"), ("UAE", "ARE"), ("ksa", "SAU"), ("Egypt", "EGY")],
)
def test_base_url_for_region_accepts_case_and_aliases(alias: str, code: str) -> None:
    assert base_url_for_region(alias) == REGION_BASE_URLS[code]


@pytest.mark.parametrize("code", ["", "XYZ", "SA", "demo", "https://secure.paytabs.sa"])
def test_base_url_for_region_rejects_unknown(code: str) -> None:
    with pytest.raises(UnknownRegion):
        base_url_for_region(code)


def test_unknown_region_is_a_value_error() -> None:
    assert issubclass(UnknownRegion, ValueError)


@pytest.mark.parametrize(("currency", "exponent"), [("SAR", 2), ("kwd", 3), ("JPY", 0)])
def test_currency_exponent_follows_iso(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


def test_supported_currencies_lists_the_documented_eighteen() -> None:
    assert len(SUPPORTED_CURRENCIES) == 18
    assert {"SAR", "AED", "USD"} <= SUPPORTED_CURRENCIES
