"""A PayTabs PT2 simulator speaking the real wire format.

Point a PayTabsClient (or anything else) at its base URL instead of a region host; nothing
else changes. It creates hosted pages, serves them (with test cards), posts signed returns,
sends signed IPNs, answers queries and refunds, and applies PayTabs' duplicate rule.
Run it alone with ``python -m sidecar.sandbox.paytabs_sim --port 8099`` (key from
``PAYTABS_SERVER_KEY``, profile from ``PAYTABS_PROFILE_ID`` or ``--profile-id``).

Test cards on the hosted page (or ``sim.pay(ref, card)``): 4111 1111 1111 1111 approves (A),
4000 0000 0000 0002 declines (D), 4000 0000 0000 0119 fraud hold (H), 4000 0000 0000 0259
pending (P); the Cancel button gives C. Switches (``configure()`` or ``POST /_sim/config``):
``ipn`` deliver|drop|duplicate|delay|reorder, ``ipn_delay_seconds``, ``ipn_retry_delays``
(up to five; used when the receiver does not answer 200), ``return_mode`` deliver|drop,
``refund_mode`` approve|pending|decline, ``fail_next_requests`` (API answers 500),
``timeout_next_requests`` with ``timeout_seconds`` (the work is done, the answer is late).
Ledger surprises for tests: ``pay(..., charge=(amount, currency))`` takes another amount or
currency than the cart's, ``open_second_page(tran_ref)`` gives a cart a second payable page,
``dashboard_refund(tran_ref, amount=None)`` refunds behind the sidecar's back (no IPN).

Decisions where PayTabs' behaviour is not documented:
- A page nobody has acted on is not listed by queries (by tran_ref or cart_id) until the
  buyer pays or cancels, or it expires. Expiry (status X, with an IPN) is noticed on the next
  request or ``expire_due_pages()``. A query that finds nothing answers the error shape (400).
- The duplicate rule (code 4) keys on tran_type, cart_id, amount and currency, 120 s.
- Follow-up IPNs go to the follow-up's own ``callback``; there is no dashboard IPN.
- Return and callback URLs may be plain HTTP and carry ports (real PayTabs refuses both for
  the callback and sends an empty GET for an HTTP return).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from werkzeug.serving import make_server

from sidecar.paytabs.signatures import sign_ipn

from . import paytabs_records as rec
from .paytabs_book import Book
from .paytabs_notifier import Notifier
from .paytabs_pages import close_window_page, invalid_page, payment_page
from .paytabs_pages import return_form as _return_form
from .paytabs_records import Record, SimError
from .paytabs_sim_app import make_app

__all__ = ["SWITCH_DEFAULTS", "TEST_CARDS", "PayTabsSimulator", "main", "run_simulator"]

TEST_CARDS = rec.TEST_CARDS
SWITCH_DEFAULTS: dict[str, Any] = {
    "ipn": "deliver",
    "ipn_delay_seconds": 1.0,
    "ipn_retry_delays": (0.1, 0.2, 0.4, 0.8, 1.6),
    "return_mode": "deliver",
    "refund_mode": "approve",
    "fail_next_requests": 0,
    "timeout_next_requests": 0,
    "timeout_seconds": 25.0,
}
_CHOICES = {
    "ipn": {"deliver", "drop", "duplicate", "delay", "reorder"},
    "return_mode": {"deliver", "drop"},
    "refund_mode": {"approve", "pending", "decline"},
}


def _check_switch(name: str, value: Any) -> Any:
    if name in _CHOICES:
        if value not in _CHOICES[name]:
            raise ValueError(f"{name} must be one of {sorted(_CHOICES[name])}")
        return value
    if name in ("fail_next_requests", "timeout_next_requests"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer")
        return value
    numbers = list(value) if name == "ipn_retry_delays" and not isinstance(value, str) else [value]
    if name not in SWITCH_DEFAULTS or (name == "ipn_retry_delays" and len(numbers) > 5):
        raise ValueError(f"unknown switch or bad value: {name}")
    if any(isinstance(n, bool) or not isinstance(n, int | float) or n < 0 for n in numbers):
        raise ValueError(f"{name} needs non-negative numbers")
    return tuple(float(n) for n in numbers) if name == "ipn_retry_delays" else float(value)


class PayTabsSimulator:
    """In-memory PayTabs profile with an HTTP face (``.app``); thread-safe."""

    merchant_id = 100000

    def __init__(
        self,
        *,
        server_key: str,
        profile_id: int,
        base_url: str,
        clock: Callable[[], float] = time.time,
        deliver_in_background: bool = True,
    ) -> None:
        self._server_key = server_key
        self.profile_id = profile_id
        self.base_url = base_url.rstrip("/")
        self._clock = clock
        self._lock = threading.RLock()
        self._switches = dict(SWITCH_DEFAULTS)
        self._notifier = Notifier(background=deliver_in_background)
        self._book = Book(
            profile_id=profile_id,
            merchant_id=self.merchant_id,
            server_key=server_key,
            clock=clock,
            notify=self._notify,
        )
        self.app = make_app(self)

    def __repr__(self) -> str:
        return f"PayTabsSimulator(base_url={self.base_url!r}, profile_id={self.profile_id!r})"

    def configure(self, **switches: Any) -> dict[str, Any]:
        """Change switches (see SWITCH_DEFAULTS); return them all. Unknown names raise."""
        clean = {name: _check_switch(name, value) for name, value in switches.items()}
        with self._lock:
            self._switches.update(clean)
            return dict(self._switches)

    def switches(self) -> dict[str, Any]:
        """Return the current switches."""
        with self._lock:
            return dict(self._switches)

    def handle_api(self, path: str, authorization: str | None, raw_body: bytes) -> tuple[int, Any]:
        """Answer ``/payment/request`` or ``/payment/query``: (HTTP status, JSON or None)."""
        with self._lock:
            fault = self._take_fault()
        if fault == "fail":
            return 500, None
        try:
            body = self._authenticate(authorization, raw_body)
            with self._lock:
                self._book.sweep_expired()
                answer: tuple[int, Any] = (200, self._dispatch(path, body))
        except SimError as e:
            answer = (e.http_status, e.body())
        if fault == "timeout":
            # The work is done but the answer comes too late: the client sees a timeout.
            time.sleep(self.switches()["timeout_seconds"])
        return answer

    def page_view(self, token: str) -> tuple[int, str]:
        """Render the hosted page for a token: (HTTP status, HTML)."""
        with self._lock:
            self._book.sweep_expired()
            record = self._book.by_token(token)
            if record is None or not record.is_open:
                return (404 if record is None else 410), invalid_page()
            return 200, self._render_page(record)

    def page_submit(self, token: str, form: dict[str, str]) -> tuple[int, str]:
        """Perform the buyer's action once and answer with the return form or an end page."""
        with self._lock:
            self._book.sweep_expired()
            record = self._book.by_token(token)
            if record is None or not record.is_open:
                return (404 if record is None else 410), invalid_page()
            card = None
            if form.get("action") != "cancel":
                card = _normalise_card(form.get("card_number", ""))
                if card not in TEST_CARDS:
                    return 400, self._render_page(record, "Unknown card: use a test card below")
            fields = self._book.complete(record, card)
            drop = self._switches["return_mode"] == "drop"
        if drop or not record.return_url:
            return 200, close_window_page(f"Payment finished: {record.response_message}")
        return 200, _return_form(record.return_url, fields, lang=record.paypage_lang)

    def pay(
        self,
        tran_ref_or_token: str,
        card: str = "4111111111111111",
        *,
        charge: tuple[Decimal, str] | None = None,
    ) -> dict[str, str]:
        """Pay without a browser; return the signed return fields and send the IPN.

        ``charge`` (amount, currency) makes PayTabs take another amount or currency than the
        cart's (a surcharge, a conversion, a misconfigured profile): ``tran_total`` and
        ``tran_currency`` then say what was taken.
        """
        normalised = _normalise_card(card)
        if normalised not in TEST_CARDS:
            raise ValueError(f"not a simulator test card: {card!r}")
        with self._lock:
            record = self._book.open_record(tran_ref_or_token)
            return self._book.complete(record, normalised, charge)

    def open_second_page(self, tran_ref: str) -> str:
        """Open a second hosted page for the cart of ``tran_ref`` and return its tran_ref.

        Two pages for one cart happen when a create answer was lost and the page made again;
        the buyer can pay both, so one cart ends with two sales.
        """
        with self._lock:
            return self._book.open_second_page(tran_ref).tran_ref

    def dashboard_refund(self, tran_ref: str, amount: Decimal | None = None) -> str:
        """Refund a sale (all that is left, or ``amount``) as the merchant's dashboard does.

        No IPN is sent (the dashboard IPN is not configured): only a query shows it.
        """
        with self._lock:
            return self._book.dashboard_refund(tran_ref, amount).tran_ref

    def cancel(self, tran_ref_or_token: str) -> dict[str, str]:
        """Press Cancel without a browser; return the signed return fields."""
        with self._lock:
            return self._book.complete(self._book.open_record(tran_ref_or_token), None)

    def tran_ref_for_page(self, page_url_or_token: str) -> str | None:
        """Return the tran_ref behind a hosted page URL (or its token), or None."""
        token = page_url_or_token.rstrip("/").rsplit("/", 1)[-1]
        with self._lock:
            record = self._book.by_token(token)
            return record.tran_ref if record else None

    @property
    def _tokens(self) -> dict[str, str]:
        # Kept for an early test helper that read this dict; use tran_ref_for_page instead.
        with self._lock:
            return self._book.tokens_snapshot()

    def expire_due_pages(self) -> None:
        """Mark pages whose paypage_ttl has passed on the clock as expired (X)."""
        with self._lock:
            self._book.sweep_expired()

    def ledger(self) -> list[dict[str, Any]]:
        """Return every transaction (sales and refunds) with status and amounts."""
        with self._lock:
            self._book.sweep_expired()
            return self._book.entries()

    def notifications_sent(self) -> list[dict[str, Any]]:
        """Return every IPN delivery attempt: url, status answered, body, signature, attempt."""
        return self._notifier.sent()

    def flush_notifications(self) -> int:
        """Release IPNs held by ``ipn="reorder"``, newest first; return how many."""
        return self._notifier.flush_held()

    def deliver_pending_notifications(self, *, wait: bool = True) -> int:
        """Deliver queued IPNs in this thread (for ``deliver_in_background=False``)."""
        return self._notifier.deliver_pending(wait=wait)

    def wait_for_notifications(self, timeout: float = 10.0) -> bool:
        """Wait until no IPN is queued or in flight (held ones excepted)."""
        return self._notifier.wait_idle(timeout)

    def close(self) -> None:
        """Stop the background IPN thread."""
        self._notifier.close()

    # -- internals (callers hold self._lock) -------------------------------------------

    def _take_fault(self) -> str | None:
        for name, fault in (("fail_next_requests", "fail"), ("timeout_next_requests", "timeout")):
            if self._switches[name] > 0:
                self._switches[name] -= 1
                return fault
        return None

    def _authenticate(self, authorization: str | None, raw_body: bytes) -> dict[str, Any]:
        if not authorization or not secrets.compare_digest(
            authorization.encode(), self._server_key.encode()
        ):
            raise SimError(401, rec.ERR_AUTH, "Authentication failed. Check authentication header.")
        try:
            body = json.loads(raw_body, parse_float=Decimal)
        except ValueError:
            raise SimError(400, rec.ERR_FIELD, "Invalid JSON body") from None
        if not isinstance(body, dict) or str(body.get("profile_id")) != str(self.profile_id):
            raise SimError(401, rec.ERR_AUTH, "Authentication failed. Check authentication header.")
        return body

    def _dispatch(self, path: str, body: dict[str, Any]) -> Any:
        if path == "query":
            return self._book.query(body)
        tran_type = str(body.get("tran_type", "")).lower()
        if str(body.get("tran_class", "")).lower() != "ecom":
            raise SimError(400, rec.ERR_FIELD, "Invalid tran_class")
        if tran_type == "sale":
            return self._book.create_sale(body, self.base_url)
        if tran_type == "refund":
            return self._book.refund(body, self._switches["refund_mode"])
        raise SimError(400, rec.ERR_FIELD, f"Unsupported tran_type {tran_type!r}")

    def _notify(self, record: Record) -> None:
        if not record.callback_url:
            return
        payload = {**self._book.as_json(record), "ipn_trace": _ipn_trace()}
        body = json.dumps(payload, separators=(",", ":"), default=str).encode("utf-8")
        self._notifier.submit(
            record.callback_url,
            body,
            sign_ipn(body, self._server_key),
            mode=self._switches["ipn"],
            delay=self._switches["ipn_delay_seconds"],
            retry_delays=self._switches["ipn_retry_delays"],
        )

    def _render_page(self, record: Record, error: str = "") -> str:
        amount = rec.format_money(record.amount, record.currency)
        return payment_page(
            amount=amount,
            currency=record.currency,
            description=record.description,
            error=error,
            lang=record.paypage_lang,
        )


def _ipn_trace() -> str:
    return f"IPNS{secrets.token_hex(2)}.{secrets.token_hex(4)}.{secrets.token_hex(4)}".upper()


def _normalise_card(card: str) -> str:
    return re.sub(r"[\s-]", "", card)


def run_simulator(host: str, port: int, *, server_key: str, profile_id: int) -> None:
    """Serve a simulator with werkzeug (threaded) until interrupted."""
    sim = PayTabsSimulator(server_key=server_key, profile_id=profile_id, base_url="http://x")
    server = make_server(host, port, sim.app, threaded=True)
    sim.base_url = f"http://{host}:{server.server_port}"
    print(f"PayTabs simulator on {sim.base_url} (profile {profile_id})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sim.close()


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``python -m sidecar.sandbox.paytabs_sim --port 8099``."""
    parser = argparse.ArgumentParser(description="PayTabs PT2 simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    profile_default = int(os.environ.get("PAYTABS_PROFILE_ID", "100001"))
    parser.add_argument("--profile-id", type=int, default=profile_default)
    args = parser.parse_args(argv)
    # The key comes from the environment so it does not show in the process list.
    server_key = os.environ.get("PAYTABS_SERVER_KEY", "SSIMULATOR-TESTKEY000-NOTAREALKEY")
    run_simulator(args.host, args.port, server_key=server_key, profile_id=args.profile_id)


if __name__ == "__main__":
    main()
