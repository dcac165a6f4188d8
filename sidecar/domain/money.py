"""Amounts as integer minor units; PayTabs' decimal strings parsed with Decimal, never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

THREE_DECIMALS = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})
ZERO_DECIMALS = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "XAF", "XOF"})


def exponent(currency: str) -> int:
    """Return how many decimals the currency's minor unit has."""
    code = currency.upper()
    if code in THREE_DECIMALS:
        return 3
    if code in ZERO_DECIMALS:
        return 0
    return 2


def to_minor(amount: Decimal | str, currency: str) -> int:
    """Convert a decimal amount to integer minor units (raises ValueError if it is not a number)."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ValueError(f"not an amount: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"not an amount: {amount!r}")
    scaled = (value * (10 ** exponent(currency))).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    """Convert integer minor units back to a Decimal with the currency's decimals."""
    places = exponent(currency)
    return (Decimal(minor) / Decimal(10**places)).quantize(Decimal(1).scaleb(-places))


def same_amount(minor: int, currency: str, paytabs_amount: Decimal) -> bool:
    """Tell whether PayTabs' amount equals ours (to within a thousandth, as PayTabs' plugins do)."""
    return abs(from_minor(minor, currency) - paytabs_amount) < Decimal("0.001")
