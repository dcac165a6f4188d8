"""PayTabs region hosts and the currencies the PT2 API documents.

A server key only works on its own region's host, so the region must come from the same
place as the key (for example the WordPress plugin's settings).
"""

from __future__ import annotations

__all__ = [
    "REGION_ALIASES",
    "REGION_BASE_URLS",
    "SUPPORTED_CURRENCIES",
    "UnknownRegion",
    "base_url_for_region",
    "currency_exponent",
]

# Region code (as the official SDKs spell it) -> base URL, from the SDK endpoint classes.
REGION_BASE_URLS: dict[str, str] = {
    "ARE": "https://secure.paytabs.com",
    "SAU": "https://secure.paytabs.sa",
    "EGY": "https://secure-egypt.paytabs.com",
    "OMN": "https://secure-oman.paytabs.com",
    "JOR": "https://secure-jordan.paytabs.com",
    "KWT": "https://secure-kuwait.paytabs.com",
    "IRQ": "https://secure-iraq.paytabs.com",
    "QAT": "https://secure-doha.paytabs.com",
    "MAR": "https://secure-morocco.paytabs.com",
    "GLOBAL": "https://secure-global.paytabs.com",
    "MADFOAT": "https://madfoat-secure.paytabs.com",
    "CUZDAN": "https://secure.cuzdan.az",
}

# Spellings people type into plugin settings for the same regions. Deliberately short:
# the common abbreviations (UAE, KSA) and the English country names.
REGION_ALIASES: dict[str, str] = {
    "UAE": "ARE",
    "KSA": "SAU",
    "EGYPT": "EGY",
    "OMAN": "OMN",
    "JORDAN": "JOR",
    "KUWAIT": "KWT",
    "IRAQ": "IRQ",
    "QATAR": "QAT",
    "MOROCCO": "MAR",
}

# The currencies the PayTabs docs list for cart_currency; others answer code 206.
SUPPORTED_CURRENCIES: frozenset[str] = frozenset(
    {"SAR", "AED", "BHD", "EGP", "EUR", "GBP", "HKD", "IDR", "INR"}
    | {"IQD", "JOD", "JPY", "KWD", "MAD", "OMR", "PKR", "QAR", "USD"}
)

# ISO 4217 minor units where they are not 2. PayTabs does not document per-currency
# precision, so we send what ISO says the currency can carry.
_EXPONENTS = {"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "JPY": 0}


class UnknownRegion(ValueError):
    """The region code is neither a PayTabs region code nor a known alias."""


def base_url_for_region(code: str) -> str:
    """Return the base URL for a region code or alias, case-insensitively."""
    key = code.strip().upper()
    key = REGION_ALIASES.get(key, key)
    try:
        return REGION_BASE_URLS[key]
    except KeyError:
        raise UnknownRegion(f"unknown PayTabs region {code!r}") from None


def currency_exponent(currency: str) -> int:
    """Return the number of decimals an amount in ``currency`` is sent with."""
    return _EXPONENTS.get(currency.upper(), 2)
