"""Checkout form validation."""

from __future__ import annotations

import pytest

from sidecar.core.errors import CheckoutRejected
from sidecar.domain.validation import validate_checkout

GOOD = {
    "group_id": "3",
    "first_name": "Amal",
    "last_name": "Haddad",
    "email": "Amal.Haddad@Example.com",
    "phone": "+966 500 000 000",
    "street1": "King Fahd Rd",
    "city": "Riyadh",
    "country": "sa",
    "idempotency_key": "k" * 24,
    "form_token": "t.t",
}


def test_validation_accepts_a_good_form() -> None:
    form = validate_checkout(GOOD)
    assert form.email == "amal.haddad@example.com"
    assert form.phone == "+966500000000"
    assert form.country == "SA"
    assert form.password is None


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("group_id", "", "missing_field"),
        ("group_id", "abc", "invalid_group"),
        ("group_id", "-1", "invalid_group"),
        ("group_id", "99999999999999999999", "invalid_group"),
        ("first_name", "", "missing_field"),
        ("first_name", "1234", "invalid_name"),
        ("first_name", "A" * 51, "invalid_name"),
        ("first_name", "<script>", "invalid_name"),
        ("first_name", "Ann\x00", "invalid_characters"),
        ("email", "not-an-email", "invalid_email"),
        ("email", "a@b", "invalid_email"),
        ("email", "x" * 250 + "@example.com", "invalid_email"),
        ("phone", "call me", "invalid_phone"),
        ("phone", "+1 23", "invalid_phone"),
        ("street1", "ab", "invalid_address"),
        ("city", "x", "invalid_address"),
        ("country", "Saudi", "invalid_country"),
        ("password", "short", "invalid_password"),
        ("password", "back\\slash-password", "invalid_password"),
        ("idempotency_key", "short", "invalid_form"),
        ("idempotency_key", "k" * 20 + "!!!!", "invalid_form"),
        ("form_token", "", "missing_field"),
        ("email", "y" * 2000, "field_too_long"),
    ],
)
def test_validation_rejects_each_bad_field(field: str, value: str, code: str) -> None:
    with pytest.raises(CheckoutRejected) as info:
        validate_checkout({**GOOD, field: value})
    assert info.value.code == code
    assert info.value.field == field


def test_validation_name_too_short_in_total() -> None:
    with pytest.raises(CheckoutRejected) as info:
        validate_checkout({**GOOD, "first_name": "A", "last_name": "B"})
    assert info.value.code == "invalid_name"


def test_validation_repr_hides_personal_data() -> None:
    form = validate_checkout({**GOOD, "password": "correct horse battery"})
    assert "correct horse" not in repr(form)
    assert "haddad" not in repr(form).lower()


def test_validation_refuses_an_email_wordpress_cannot_store() -> None:
    # WordPress keeps user_email in varchar(100); 127 characters were once charged, then failed.
    local = "x" * (127 - len("@example.com"))
    with pytest.raises(CheckoutRejected) as info:
        validate_checkout({**GOOD, "email": f"{local}@example.com"})
    assert (info.value.code, info.value.field) == ("field_too_long", "email")
    assert "100" in info.value.message


def test_validation_accepts_an_email_of_exactly_100_characters() -> None:
    email = "x" * (100 - len("@example.com")) + "@example.com"
    assert validate_checkout({**GOOD, "email": email}).email == email
