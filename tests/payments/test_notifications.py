"""Forged, replayed, tampered and duplicate notifications change nothing."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from sidecar.domain.states import State
from sidecar.paytabs import sign_ipn, sign_return
from tests.support.stack import SERVER_KEY


def ipn_body(intent: Any, **overrides: Any) -> bytes:
    payload = {
        "tran_ref": intent.tran_ref,
        "cart_id": intent.ref,
        "cart_currency": "SAR",
        "cart_amount": "150.00",
        "tran_type": "Sale",
        "payment_result": {"response_status": "A", "response_code": "G1"},
    }
    payload.update(overrides)
    return json.dumps(payload, separators=(",", ":")).encode()


def post_ipn(stack: Any, body: bytes, signature: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Signature"] = signature
    return stack.client.post("/paytabs/ipn", data=body, headers=headers)


def test_ipn_forged_signature_is_400_and_changes_nothing(stack: Any) -> None:
    intent = stack.start()
    response = post_ipn(
        stack, ipn_body(intent), sign_ipn(ipn_body(intent), "SWRONGKEY0-0000000000-0000000000")
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_signature"
    assert stack.count("jobs") == 0
    assert stack.count("notifications", "signature_ok = 0 AND outcome = 'invalid_signature'") == 1
    stack.drain()
    assert stack.intent(intent.ref).state == State.AWAITING_PAYMENT


def test_ipn_missing_signature_is_400(stack: Any) -> None:
    intent = stack.start()
    assert post_ipn(stack, ipn_body(intent), None).status_code == 400
    assert stack.count("jobs") == 0


@pytest.mark.parametrize("field", ["cart_amount", "cart_currency", "cart_id"])
def test_ipn_tampered_body_fails_the_signature(stack: Any, field: str) -> None:
    intent = stack.start()
    good = ipn_body(intent)
    tampered = ipn_body(
        intent,
        **{field: {"cart_amount": "1.00", "cart_currency": "USD", "cart_id": "tp_other"}[field]},
    )
    assert post_ipn(stack, tampered, sign_ipn(good, SERVER_KEY)).status_code == 400
    assert stack.count("jobs") == 0


def test_ipn_claiming_payment_that_paytabs_does_not_confirm_changes_nothing(stack: Any) -> None:
    """A genuinely signed IPN is only a trigger: the confirmation asks PayTabs, which says unpaid."""
    intent = stack.start()
    body = ipn_body(intent)
    assert post_ipn(stack, body, sign_ipn(body, SERVER_KEY)).status_code == 200
    stack.drain()
    assert stack.intent(intent.ref).state == State.AWAITING_PAYMENT
    assert stack.count("jobs", "kind = 'fulfil'") == 0


def test_ipn_duplicates_give_one_transition_and_one_fulfilment_job(stack: Any) -> None:
    intent = stack.start()
    stack.sim.configure(ipn="duplicate")
    stack.pay(intent)
    stack.deliver_ipns()
    for sent in stack.sim.notifications_sent():
        body = sent["body"].encode() if isinstance(sent["body"], str) else sent["body"]
        assert post_ipn(stack, body, sent["signature"]).status_code == 200
    stack.drain()
    stack.deliver_ipns()
    stack.drain()
    assert stack.count("transitions", "intent_id = ? AND to_state = 'paid'", (intent.id,)) == 1
    assert stack.count("jobs", "intent_id = ? AND kind = 'fulfil'", (intent.id,)) == 1
    assert stack.count("notifications", "intent_id = ? AND channel = 'ipn'", (intent.id,)) >= 3


def test_ipn_replayed_from_another_intent_does_not_pay_this_one(stack: Any) -> None:
    first, second = stack.start(), stack.start()
    stack.pay(first)
    stack.deliver_ipns()
    sent = stack.sim.notifications_sent()[-1]
    body = sent["body"].encode() if isinstance(sent["body"], str) else sent["body"]
    replay = body.replace(first.ref.encode(), second.ref.encode())
    assert post_ipn(stack, replay, sent.get("signature")).status_code == 400
    stack.drain()
    assert stack.intent(first.ref).state != State.AWAITING_PAYMENT
    assert stack.intent(second.ref).state == State.AWAITING_PAYMENT


def test_ipn_unknown_cart_is_acknowledged_and_ignored(stack: Any) -> None:
    body = json.dumps({"tran_ref": "TST1", "cart_id": "someone-else"}).encode()
    response = post_ipn(stack, body, sign_ipn(body, SERVER_KEY))
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "unknown_cart"
    assert stack.count("jobs") == 0


@pytest.mark.parametrize(
    "body", [b"", b"not json", b"[]", b'{"tran_ref": 5, "cart_id": "x"}', b"\xff\xfe"]
)
def test_ipn_malformed_but_signed_body_is_400(stack: Any, body: bytes) -> None:
    response = post_ipn(stack, body, sign_ipn(body, SERVER_KEY))
    assert response.status_code == 400
    assert stack.count("jobs") == 0


def test_return_with_bad_signature_changes_nothing_but_shows_the_status_page(stack: Any) -> None:
    intent = stack.start()
    fields = stack.pay(intent)
    fields["respStatus"] = "D"  # tampered after signing
    response = stack.post_return(fields)
    assert response.status_code == 303
    assert "code=" not in response.headers["Location"]
    assert stack.count("jobs") == 0


def test_return_for_unknown_cart_is_400_page(stack: Any) -> None:
    fields = {
        "cartId": "nope",
        "tranRef": "TST9",
        "respStatus": "A",
        "respCode": "G",
        "respMessage": "ok",
    }
    fields["signature"] = sign_return(fields, SERVER_KEY)
    response = stack.post_return(fields)
    assert response.status_code == 400
    assert "could not recognise" in response.get_data(as_text=True)


def test_return_racing_ipn_gives_one_transition(stack: Any) -> None:
    intent = stack.start()
    fields = stack.pay(intent)
    stack.post_return(fields)
    stack.deliver_ipns()
    stack.post_return(fields)
    stack.drain()
    assert stack.count("transitions", "intent_id = ? AND to_state = 'paid'", (intent.id,)) == 1
    assert stack.count("jobs", "intent_id = ? AND kind = 'fulfil'", (intent.id,)) == 1


def test_ipn_answers_503_when_the_database_is_down(
    stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sidecar.core.errors import DatabaseUnavailable

    intent = stack.start()
    body = ipn_body(intent)

    def down(*_a: Any, **_k: Any) -> Any:
        raise DatabaseUnavailable("the database is unavailable")

    monkeypatch.setattr(stack.services.db, "transaction", down)
    response = post_ipn(stack, body, sign_ipn(body, SERVER_KEY))
    assert response.status_code == 503
    assert SERVER_KEY not in response.get_data(as_text=True)


# --- the notification log as a disk filler (issue 10, item 7) ------------------------------

JUNK_SIZE = 44_000  # what an outside review posted: about 44 kB a request
ROW_BOUND = 1024  # bytes a rejected notification may keep (body prefix, headers, digest)


def junk_ipn(number: int) -> bytes:
    """A 44 kB body that no signature covers: JSON-shaped, with bytes that decode badly."""
    pad = (b"\xff\xfe" + b"A" * 98) * (JUNK_SIZE // 100)
    return b'{"cart_id": "tp_junk%d", "tran_ref": "TST%d", "pad": "' % (number, number) + pad


def junk_return(number: int) -> dict[str, str]:
    """Forty 1.1 kB form fields, wrongly signed (about 44 kB form-encoded)."""
    fields = {f"f{i}": f"{number}-" + "a" * 1100 for i in range(40)}
    return {"cartId": f"tp_junk{number}", "tranRef": "TST1", "signature": "0" * 64, **fields}


def rows_stored(stack: Any) -> list[dict[str, Any]]:
    """Every logged notification, oldest first."""
    with stack.services.db.transaction() as tx:
        return tx.all("SELECT * FROM notifications ORDER BY id")


def row_bytes(row: dict[str, Any]) -> int:
    """The bytes a row keeps of what the sender chose: body and headers."""
    return sum(len((row[column] or "").encode()) for column in ("body", "headers"))


def test_notifications_junk_flood_keeps_a_bounded_prefix_and_a_digest(stack: Any) -> None:
    """Fails on the previous main: each 44 kB junk request was stored whole (32 kB, 20+ kB)."""
    count = 12
    for number in range(count):
        body = junk_ipn(number)
        assert len(body) > 40_000
        assert post_ipn(stack, body, "0" * 64).status_code == 400
        assert stack.post_return(junk_return(number)).status_code == 400
    rows = rows_stored(stack)
    assert len(rows) == 2 * count
    for row in rows:
        assert row_bytes(row) < ROW_BOUND, (row["channel"], row_bytes(row))
        assert row["signature_ok"] == 0 and row["intent_id"] is None
        assert len(row["body_sha256"]) == 64
    ipns = [row for row in rows if row["channel"] == "ipn"]
    for number, row in enumerate(ipns):
        body = junk_ipn(number)
        assert row["body_sha256"] == hashlib.sha256(body).hexdigest()
        assert row["body_length"] == len(body)
        assert row["body"].startswith('{"cart_id": "tp_junk')
    digests = {row["body_sha256"] for row in rows if row["channel"] == "return"}
    assert len(digests) == count  # the whole form is hashed, not only the kept prefix
    assert sum(row_bytes(row) for row in rows) < 2 * count * ROW_BOUND


def test_notifications_genuine_ipn_keeps_its_whole_body(stack: Any) -> None:
    intent = stack.start()
    body = ipn_body(intent, pad="x" * 20_000)
    assert post_ipn(stack, body, sign_ipn(body, SERVER_KEY)).status_code == 200
    (row,) = rows_stored(stack)
    assert row["signature_ok"] == 1 and row["body"] == body.decode()
    assert row["body_sha256"] is None
