"""Signed tokens shared with the bridge plugin (docs/contracts.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from wp_bridge.tokens import (
    InvalidToken,
    issue_form_token,
    issue_login_grant,
    sign_token,
    verify_token,
)

SECRET = "sandbox-shared-secret-0123456789abcdef"
NOW = 1_700_000_000.0

# Fixed vector for the PHP side (json_encode + base64 + hash_hmac must give the same string):
#   secret  = "sandbox-shared-secret-0123456789abcdef"
#   payload = {"typ":"login","uid":42,"ref":"TP-2024-0001",
#              "jti":"0123456789abcdef0123456789abcdef","exp":1700000300}
#   token   = (one line, split here for width)
#     eyJ0eXAiOiJsb2dpbiIsInVpZCI6NDIsInJlZiI6IlRQLTIwMjQtMDAwMSIsImp0aSI6IjAxMjM0NTY3ODlhYmNk
#     ZWYwMTIzNDU2Nzg5YWJjZGVmIiwiZXhwIjoxNzAwMDAwMzAwfQ
#     .AWppPzCiz4vmUV57B0Sw3VQsuXanUFIvY05iWFdMB0c
# PHP: $b = rtrim(strtr(base64_encode(json_encode($p)), '+/', '-_'), '=');
#      $t = $b . '.' . rtrim(strtr(base64_encode(hash_hmac('sha256', $b, $secret, true)),
#           '+/', '-_'), '=');
VECTOR_EXP = 1700000300
VECTOR_PAYLOAD: dict[str, object] = {
    "typ": "login",
    "uid": 42,
    "ref": "TP-2024-0001",
    "jti": "0123456789abcdef0123456789abcdef",
    "exp": 1700000300,
}
VECTOR_TOKEN = (
    "eyJ0eXAiOiJsb2dpbiIsInVpZCI6NDIsInJlZiI6IlRQLTIwMjQtMDAwMSIsImp0aSI6IjAxMjM0NTY3ODlhYmNk"
    "ZWYwMTIzNDU2Nzg5YWJjZGVmIiwiZXhwIjoxNzAwMDAwMzAwfQ"
    ".AWppPzCiz4vmUV57B0Sw3VQsuXanUFIvY05iWFdMB0c"
)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _forge(payload_json: str, secret: str = SECRET) -> str:
    """Sign arbitrary JSON text, for payloads sign_token would never produce."""
    body = _b64(payload_json.encode())
    signature = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(signature)}"


def test_sign_token_matches_fixed_vector() -> None:
    assert sign_token(VECTOR_PAYLOAD, SECRET) == VECTOR_TOKEN


def test_verify_token_accepts_fixed_vector() -> None:
    assert verify_token(VECTOR_TOKEN, SECRET, typ="login", now=NOW) == VECTOR_PAYLOAD


def test_sign_token_has_no_padding_and_is_url_safe() -> None:
    token = sign_token({"typ": "form", "exp": 1, "email": "a+b/c?d@example.test"}, SECRET)
    assert "=" not in token
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_verify_token_round_trip_keeps_payload() -> None:
    payload = {"typ": "form", "uid": 0, "email": "", "exp": NOW + 60, "nonce": "n1"}
    assert verify_token(sign_token(payload, SECRET), SECRET, typ="form", now=NOW) == payload


@pytest.mark.parametrize(
    "token",
    ["", "no-dot", ".sig", "body.", "é.é", "!!!.AAAA", None, 12],
)
def test_verify_token_rejects_malformed(token: object) -> None:
    with pytest.raises(InvalidToken, match=r"malformed|bad signature") as info:
        verify_token(token, SECRET, typ="login", now=NOW)  # type: ignore[arg-type]
    assert info.value.reason in {"malformed", "bad signature"}


def test_verify_token_rejects_other_secret() -> None:
    with pytest.raises(InvalidToken, match="bad signature"):
        verify_token(VECTOR_TOKEN, SECRET + "x", typ="login", now=NOW)


def test_verify_token_rejects_tampered_payload() -> None:
    _, _, signature = VECTOR_TOKEN.partition(".")
    tampered = _b64(json.dumps({**VECTOR_PAYLOAD, "uid": 1}).encode())
    with pytest.raises(InvalidToken, match="bad signature"):
        verify_token(f"{tampered}.{signature}", SECRET, typ="login", now=NOW)


def test_verify_token_rejects_wrong_typ() -> None:
    with pytest.raises(InvalidToken) as info:
        verify_token(VECTOR_TOKEN, SECRET, typ="form", now=NOW)
    assert info.value.reason == "wrong typ"


def test_verify_token_rejects_expired_at_exact_exp() -> None:
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(VECTOR_TOKEN, SECRET, typ="login", now=VECTOR_EXP)


@pytest.mark.parametrize(
    "payload_json",
    [
        '["typ","login"]',
        '"login"',
        '{"typ":"login"}',
        '{"typ":"login","exp":"soon"}',
        '{"typ":"login","exp":true}',
        "not json",
    ],
)
def test_verify_token_rejects_signed_but_malformed_payload(payload_json: str) -> None:
    with pytest.raises(InvalidToken, match=r"malformed|wrong typ"):
        verify_token(_forge(payload_json), SECRET, typ="login", now=NOW)


def test_invalid_token_message_never_contains_token_or_secret() -> None:
    with pytest.raises(InvalidToken) as info:
        verify_token(VECTOR_TOKEN, "another-secret", typ="login", now=NOW)
    assert VECTOR_TOKEN not in str(info.value)
    assert "another-secret" not in repr(info.value)


def test_sign_token_requires_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        sign_token({"typ": "login", "exp": 1}, "")


def test_issue_login_grant_follows_contract() -> None:
    token = issue_login_grant(uid=7, ref="TP-1", secret=SECRET, now=NOW)
    payload = verify_token(token, SECRET, typ="login", now=NOW)
    assert list(payload) == ["typ", "uid", "ref", "jti", "exp"]
    assert payload["uid"] == 7 and payload["ref"] == "TP-1"
    assert payload["exp"] == int(NOW) + 300
    assert len(payload["jti"]) == 32 and int(payload["jti"], 16) >= 0


def test_issue_login_grant_jti_is_unique() -> None:
    first = verify_token(
        issue_login_grant(uid=7, ref="r", secret=SECRET, now=NOW), SECRET, typ="login", now=NOW
    )
    second = verify_token(
        issue_login_grant(uid=7, ref="r", secret=SECRET, now=NOW), SECRET, typ="login", now=NOW
    )
    assert first["jti"] != second["jti"]


def test_issue_form_token_lasts_two_hours() -> None:
    token = issue_form_token(uid=0, email="", secret=SECRET, now=NOW)
    payload = verify_token(token, SECRET, typ="form", now=NOW + 7199)
    assert payload["uid"] == 0 and payload["email"] == ""
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(token, SECRET, typ="form", now=NOW + 7200)
