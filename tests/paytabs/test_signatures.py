"""Return and IPN signatures against the worked vectors R1, R2, I1 and I2."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qsl

import pytest

from sidecar.paytabs.signatures import (
    php_urlencode,
    return_canonical_string,
    sign_ipn,
    sign_return,
    verify_ipn,
    verify_return,
)

# R1: PayTabs' own published example (documentation sample key, not a real key).
R1_KEY = "SGJNZ96JLG-JDMKHGRWT9-RWRK2KJNRJ"
R1_BODY = (
    "acquirerMessage=&acquirerRRN=&cartId=cart_11111&customerEmail=email%40domain.com"
    "&respCode=G84718&respMessage=Authorised&respStatus=A"
    "&signature=7a181a32c768621eb6966107752ee70205a01f1c4403a3d13c0ff604f591f988"
    "&token=&tranRef=TST2215201242166"
)
R1_CANONICAL = (
    "cartId=cart_11111&customerEmail=email%40domain.com&respCode=G84718"
    "&respMessage=Authorised&respStatus=A&tranRef=TST2215201242166"
)
R1_SIGNATURE = "7a181a32c768621eb6966107752ee70205a01f1c4403a3d13c0ff604f591f988"

# R2, I1, I2: made-up key.
KEY = "SZJN9TEST1-EXAMPLEKEY-NOTREALKEY"
R2_FIELDS = {
    "acquirerMessage": "00:Approved",
    "acquirerRRN": "",
    "cartId": "ORDER #1001",
    "customerEmail": "jane.doe+test@example.com",
    "respCode": "G12345",
    "respMessage": "Authorised",
    "respStatus": "A",
    "token": "",
    "tranRef": "TST2412345678901",
}
R2_CANONICAL = (
    "acquirerMessage=00%3AApproved&cartId=ORDER+%231001"
    "&customerEmail=jane.doe%2Btest%40example.com&respCode=G12345"
    "&respMessage=Authorised&respStatus=A&tranRef=TST2412345678901"
)
R2_SIGNATURE = "204f9fce2c29359b7b22d3157bda29fe44535cfb344fac2e52ef6ea8cfddb13c"
R2_BODY = (
    "acquirerMessage=00%3AApproved&acquirerRRN=&cartId=ORDER+%231001"
    "&customerEmail=jane.doe%2Btest%40example.com&respCode=G12345&respMessage=Authorised"
    "&respStatus=A&signature=204f9fce2c29359b7b22d3157bda29fe44535cfb344fac2e52ef6ea8cfddb13c"
    "&token=&tranRef=TST2412345678901"
)
R2_EMPTIES_KEPT_SIGNATURE = "7f009ea5996f9c17f587ae81973d399b9f651b74d22cc29476b21fa8acb0d846"

I2_BODY = b'{"tran_ref":"TST2412345678901","cart_id":"ORDER #1001"}'
I2_SIGNATURE = "014f54d6e0f05525c93be27a302ee718800fc798ccfa796418ac99211b46e687"

I1_BODY = (
    b'{"tran_ref":"TST2412345678901","merchant_id":100000,"profile_id":100001,'
    b'"cart_id":"ORDER #1001","cart_description":"Test order","cart_currency":"SAR",'
    b'"cart_amount":"150.00","tran_currency":"SAR","tran_total":"150.00","tran_type":"Sale",'
    b'"tran_class":"ECom","customer_details":{"name":"Jane Doe",'
    b'"email":"jane.doe+test@example.com","phone":"+966500000000","street1":"King Fahd Rd",'
    b'"city":"Riyadh","state":"01","country":"SA","ip":"203.0.113.10"},'
    b'"payment_result":{"response_status":"A","response_code":"G12345",'
    b'"response_message":"Authorised","acquirer_ref":"TRAN0001.00000000.00000001",'
    b'"cvv_result":" ","avs_result":" ","transaction_time":"2026-01-01T10:00:00Z"},'
    b'"payment_info":{"payment_method":"Visa","card_type":"Credit","card_scheme":"Visa",'
    b'"payment_description":"4111 11## #### 1111","expiryMonth":12,"expiryYear":2030},'
    b'"ipn_trace":"IPNS0001.00000000.00000001"}'
)
I1_SHA256 = "d4722b57d003f0fad4ea86d891c949529b4fcd0eb5baea3435cb86b4c41d4f1f"
I1_SIGNATURE = "71beb90f75ae0f3edc9570c030ef6c8a8665ec32f2e191085b8102561bc7ff78"
I1_INDENTED_SIGNATURE = "1aa28529527cf77d7138c5a13ddf41944aeb0d0e6ba63e4e5e69d3a8d33464d7"


def _form(body: str) -> dict[str, str | None]:
    return dict(parse_qsl(body, keep_blank_values=True, strict_parsing=True))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abcXYZ019-_.", "abcXYZ019-_."),
        ("a b", "a+b"),
        ("@#:+/", "%40%23%3A%2B%2F"),
        ("~", "%7E"),
        ("*", "%2A"),
        ("é", "%C3%A9"),
        ("", ""),
    ],
)
def test_php_urlencode_matches_php(value: str, expected: str) -> None:
    assert php_urlencode(value) == expected


@pytest.mark.parametrize(
    ("body", "canonical"),
    [(R1_BODY, R1_CANONICAL), (R2_BODY, R2_CANONICAL)],
    ids=["R1", "R2"],
)
def test_return_canonical_string_reproduces_vectors(body: str, canonical: str) -> None:
    assert return_canonical_string(_form(body)) == canonical


def test_return_canonical_string_drops_none_and_zero_only_when_asked() -> None:
    fields: dict[str, str | None] = {"b": "0", "a": None, "c": "x", "signature": "s"}
    assert return_canonical_string(fields) == "b=0&c=x"
    assert return_canonical_string(fields, drop_zero=True) == "c=x"


@pytest.mark.parametrize(
    ("fields", "key", "signature"),
    [
        (_form(R1_BODY), R1_KEY, R1_SIGNATURE),
        (R2_FIELDS, KEY, R2_SIGNATURE),
    ],
    ids=["R1", "R2"],
)
def test_sign_return_reproduces_vectors(
    fields: dict[str, str | None], key: str, signature: str
) -> None:
    assert sign_return(fields, key) == signature


@pytest.mark.parametrize(("body", "key"), [(R1_BODY, R1_KEY), (R2_BODY, KEY)], ids=["R1", "R2"])
def test_verify_return_accepts_vectors(body: str, key: str) -> None:
    assert verify_return(_form(body), key)


def _r2_with(**changes: str | None) -> dict[str, str | None]:
    fields: dict[str, str | None] = {**_form(R2_BODY)}
    fields.update(changes)
    return fields


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        (_r2_with(signature=R2_EMPTIES_KEPT_SIGNATURE), KEY),
        (_r2_with(signature=R2_SIGNATURE.upper()), KEY),
        (_r2_with(signature=None), KEY),
        (_r2_with(signature=""), KEY),
        ({k: v for k, v in _form(R2_BODY).items() if k != "signature"}, KEY),
        (_r2_with(respStatus="D"), KEY),
        (_r2_with(), R1_KEY),
        (_r2_with(), KEY + " "),
    ],
    ids=[
        "empties-kept",
        "uppercase",
        "none",
        "empty",
        "missing",
        "tampered-status",
        "wrong-key",
        "key-with-space",
    ],
)
def test_verify_return_rejects_negative_controls(fields: dict[str, str | None], key: str) -> None:
    assert not verify_return(fields, key)


def test_verify_return_empties_kept_digest_is_the_documented_one() -> None:
    # Guards the negative control: hashing with the empties really gives 7f009e...
    kept = "&".join(f"{k}={php_urlencode(v)}" for k, v in sorted(R2_FIELDS.items()))
    digest = hmac.new(KEY.encode(), kept.encode(), hashlib.sha256).hexdigest()
    assert digest == R2_EMPTIES_KEPT_SIGNATURE


def test_verify_return_accepts_classic_drop_zero_form() -> None:
    fields: dict[str, str | None] = {"cartId": "c1", "respCode": "0", "tranRef": "TST1"}
    classic = {"cartId": "c1", "tranRef": "TST1"}
    fields["signature"] = sign_return(classic, KEY)
    assert verify_return(fields, KEY)
    fields["signature"] = sign_return({k: v for k, v in fields.items() if k != "signature"}, KEY)
    assert verify_return(fields, KEY)


def test_verify_return_survives_non_ascii_signature() -> None:
    assert not verify_return(_r2_with(signature="é" * 64), KEY)


def test_sign_ipn_i1_body_is_the_documented_bytes() -> None:
    assert len(I1_BODY) == 865
    assert hashlib.sha256(I1_BODY).hexdigest() == I1_SHA256
    assert len(I2_BODY) == 55


@pytest.mark.parametrize(
    ("body", "signature"), [(I1_BODY, I1_SIGNATURE), (I2_BODY, I2_SIGNATURE)], ids=["I1", "I2"]
)
def test_sign_ipn_reproduces_vectors(body: bytes, signature: str) -> None:
    assert sign_ipn(body, KEY) == signature
    assert verify_ipn(body, signature, KEY)


def _flip_one_byte(body: bytes) -> bytes:
    index = body.index(b"150.00")
    return body[:index] + b"9" + body[index + 1 :]


@pytest.mark.parametrize(
    ("body", "header", "key"),
    [
        (_flip_one_byte(I1_BODY), I1_SIGNATURE, KEY),
        (I1_BODY, I1_SIGNATURE, R1_KEY),
        (json.dumps(json.loads(I1_BODY), indent=2).encode(), I1_SIGNATURE, KEY),
        (I1_BODY, I1_SIGNATURE.upper(), KEY),
        (I1_BODY, None, KEY),
        (I1_BODY, "", KEY),
        (I1_BODY + b"\n", I1_SIGNATURE, KEY),
        (I1_BODY, " " + I1_SIGNATURE, KEY),
        (I2_BODY, "é" * 64, KEY),
    ],
    ids=[
        "flipped-byte",
        "wrong-key",
        "reserialized",
        "uppercase",
        "missing",
        "empty",
        "trailing-newline",
        "padded-header",
        "non-ascii-header",
    ],
)
def test_verify_ipn_rejects_negative_controls(body: bytes, header: str | None, key: str) -> None:
    assert not verify_ipn(body, header, key)


def test_verify_ipn_reserialized_digest_is_the_documented_one() -> None:
    indented = json.dumps(json.loads(I1_BODY), indent=2).encode()
    assert sign_ipn(indented, KEY) == I1_INDENTED_SIGNATURE
