"""The form draft cookie: sealed with the shared secret, opened only whole, current and ours."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sidecar.payments.drafts import (
    DRAFT_AAD,
    DRAFT_FIELDS,
    DRAFT_SECONDS,
    MAX_DRAFT_CHARS,
    Draft,
    draft_from_form,
    draft_key,
    open_draft,
    seal_draft,
)

SECRET = "s" * 40
OTHER = "o" * 40
NOW = 1_800_000_000.0
FORM = {
    "group_id": "7",
    "first_name": "Amal",
    "last_name": "Haddad",
    "email": "amal@example.com",
    "phone": "12",
    "street1": "King Fahd Rd",
    "city": "Riyadh",
    "country": "SA",
    "password": "correct horse battery",
    "form_token": "t.t",
}


def sealed(form: dict[str, str] | None = None) -> str:
    draft = draft_from_form(form or FORM, "http://wp.test/therapy-registration/")
    assert draft is not None
    return seal_draft(draft, SECRET, NOW)


def test_draft_round_trip_keeps_fields_group_and_page() -> None:
    draft = open_draft(sealed(), [SECRET], NOW + 10)
    assert draft == Draft(
        group_id=7,
        page="http://wp.test/therapy-registration/",
        fields={k: FORM[k] for k in DRAFT_FIELDS},
    )


def test_draft_never_carries_the_password_or_the_token() -> None:
    key = draft_key(SECRET)
    blob = base64.urlsafe_b64decode(sealed()[3:] + "==")
    plaintext = AESGCM(key).decrypt(blob[:12], blob[12:], DRAFT_AAD).decode()
    assert "correct horse" not in plaintext and "password" not in plaintext
    assert "form_token" not in plaintext
    assert set(json.loads(plaintext)["fields"]) == set(DRAFT_FIELDS)


def test_draft_is_not_readable_without_the_key() -> None:
    value = sealed()
    assert "Amal" not in value and "amal" not in value.lower()
    assert open_draft(value, [OTHER], NOW) is None


def test_draft_opens_with_the_secret_also_accepted_during_rotation() -> None:
    assert open_draft(sealed(), [OTHER, SECRET], NOW) is not None


def test_draft_tampered_is_ignored() -> None:
    value = sealed()
    for i in (5, len(value) // 2, len(value) - 2):
        flipped = value[:i] + ("A" if value[i] != "A" else "B") + value[i + 1 :]
        assert open_draft(flipped, [SECRET], NOW) is None
    assert open_draft(value[:-4], [SECRET], NOW) is None
    assert open_draft("v1.", [SECRET], NOW) is None
    assert open_draft("v1.!!!", [SECRET], NOW) is None
    assert open_draft("v2." + value[3:], [SECRET], NOW) is None


def test_draft_expires_after_its_lifetime() -> None:
    value = sealed()
    assert open_draft(value, [SECRET], NOW + DRAFT_SECONDS - 1) is not None
    assert open_draft(value, [SECRET], NOW + DRAFT_SECONDS) is None


def test_draft_size_is_bounded_whatever_the_form_holds() -> None:
    huge = {name: "ي" * 5000 for name in FORM} | {"group_id": "7", "extra": "x" * 10000}
    value = sealed(huge)
    assert len(value) < MAX_DRAFT_CHARS
    draft = open_draft(value, [SECRET], NOW)
    assert draft is not None
    assert all(len(draft.fields[k]) == limit for k, limit in DRAFT_FIELDS.items())


def test_draft_without_a_valid_group_is_not_made() -> None:
    assert draft_from_form(FORM | {"group_id": "x"}, "p") is None
    assert draft_from_form(FORM | {"group_id": "0"}, "p") is None


def test_draft_repr_shows_no_personal_data() -> None:
    draft = draft_from_form(FORM, "p")
    assert "Amal" not in repr(draft) and "example.com" not in repr(draft)
