"""Checkout form validation: pure, one precise error per field, PayTabs' length limits."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from sidecar.core.errors import CheckoutRejected
from sidecar.domain import messages
from sidecar.domain.messages import form_error

EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()-]{4,24}$")
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_FIELD = 1000
# WordPress stores user_email in varchar(100): a longer address would be charged, then never created.
MAX_WP_EMAIL = 100


@dataclass(frozen=True)
class CheckoutForm:
    """A validated checkout submission."""

    group_id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    street1: str
    city: str
    country: str
    password: str | None
    idempotency_key: str
    form_token: str

    def __repr__(self) -> str:
        return f"CheckoutForm(group_id={self.group_id}, idempotency_key={self.idempotency_key!r})"

    @property
    def full_name(self) -> str:
        """First and last name as PayTabs shows them."""
        return f"{self.first_name} {self.last_name}".strip()


def _reject(code: str, field: str, message: str | None = None) -> CheckoutRejected:
    """Refuse ``field`` with ``code`` and the form's sentence for them (or a more precise one)."""
    return CheckoutRejected(code, message or form_error(code, field), field)


def _text(form: Mapping[str, str], name: str, *, required: bool = True) -> str:
    raw = form.get(name)
    if raw is None or not str(raw).strip():
        if required:
            raise _reject("missing_field", name)
        return ""
    value = str(raw)
    if len(value) > MAX_FIELD:
        raise _reject("field_too_long", name)
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in value):
        raise _reject("invalid_characters", name)
    return unicodedata.normalize("NFC", value.strip())


def _name(form: Mapping[str, str], name: str) -> str:
    value = _text(form, name)
    if len(value) > 50 or not any(ch.isalpha() for ch in value) or "<" in value or ">" in value:
        raise _reject("invalid_name", name)
    return value


def validate_checkout(form: Mapping[str, str]) -> CheckoutForm:
    """Check every field of the checkout form; raise CheckoutRejected for the first bad one."""
    raw_group = _text(form, "group_id")
    if not (raw_group.isascii() and raw_group.isdigit()) or not 0 < int(raw_group) < 10**12:
        raise _reject("invalid_group", "group_id")
    first, last = _name(form, "first_name"), _name(form, "last_name")
    if len(f"{first} {last}") < 4:
        raise _reject("invalid_name", "last_name", messages.NAME_TOO_SHORT)
    email = _text(form, "email")
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise _reject("invalid_email", "email")
    if len(email) > MAX_WP_EMAIL:
        too_long = messages.EMAIL_TOO_LONG.format(limit=MAX_WP_EMAIL)
        raise _reject("field_too_long", "email", too_long)
    phone = _phone(form)
    street, city, country = _address(form)
    password = str(form.get("password") or "") or None
    if password is not None:
        _check_password(password)
    key = _text(form, "idempotency_key")
    if not KEY_RE.match(key):
        raise _reject("invalid_form", "idempotency_key")
    token = _text(form, "form_token")
    return CheckoutForm(
        group_id=int(raw_group),
        first_name=first,
        last_name=last,
        email=email.lower(),
        phone=phone,
        street1=street,
        city=city,
        country=country,
        password=password,
        idempotency_key=key,
        form_token=token,
    )


def _phone(form: Mapping[str, str]) -> str:
    """Return the phone number as digits, keeping a leading + (PayTabs wants the country code)."""
    phone = _text(form, "phone")
    digits = re.sub(r"\D", "", phone)
    if not PHONE_RE.match(phone) or not 6 <= len(digits) <= 15:
        raise _reject("invalid_phone", "phone")
    return "+" + digits if phone.startswith("+") else digits


def _address(form: Mapping[str, str]) -> tuple[str, str, str]:
    """Return (street, city, country), each optional but within PayTabs' limits when given."""
    street = _text(form, "street1", required=False)
    if street and not 4 <= len(street) <= 128:
        raise _reject("invalid_address", "street1")
    city = _text(form, "city", required=False)
    if city and not 2 <= len(city) <= 128:
        raise _reject("invalid_address", "city")
    country = _text(form, "country", required=False).upper()
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        raise _reject("invalid_country", "country")
    return street, city, country


def _check_password(password: str) -> None:
    if not 8 <= len(password) <= 128:
        raise _reject("invalid_password", "password")
    # WordPress refuses backslashes in passwords; control characters never belong in one.
    if "\\" in password or any(unicodedata.category(ch) == "Cc" for ch in password):
        raise _reject("invalid_password", "password")
