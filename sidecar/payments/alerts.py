"""Operator alerts: a webhook URL, or an email to the site's admin through the bridge."""

from __future__ import annotations

import json
import logging
import urllib.request

from sidecar.core.container import Services

log = logging.getLogger(__name__)


def alert(services: Services, kind: str, intent_ref: str, message: str) -> None:
    """Tell the operator about ``kind`` for an intent.

    Kinds: needs_attention, refunded, unfulfilled, payment_mismatch (PayTabs took another amount
    or currency: refunding it), refunded_at_paytabs (the sale was refunded in PayTabs' dashboard
    before the sidecar confirmed it), extra_sale_refunded (a cart's second sale was given back).

    Alerts never raise: a failing alert channel must not stop a refund or a fulfilment. It is
    logged at ERROR so the journal still carries it.
    """
    log.error("ALERT %s %s: %s", kind, intent_ref, message)
    sink = services.extras.get("alert_sink")
    if sink is not None:
        sink(kind, intent_ref, message)
    settings = services.settings
    if settings.alert_webhook_url:
        _post_webhook(
            settings.alert_webhook_url, {"kind": kind, "intent": intent_ref, "message": message}
        )
    if settings.alert_email:
        try:
            services.wordpress.send_email(
                template="alert",
                intent_ref=f"{intent_ref}:{kind}",
                data={"kind": kind, "intent": intent_ref, "message": message},
            )
        except Exception as exc:
            log.warning("alert email failed: %s", type(exc).__name__)


def _post_webhook(url: str, payload: dict[str, str]) -> None:
    request = urllib.request.Request(  # noqa: S310 - the operator configures an http(s) URL
        url, data=json.dumps(payload).encode("utf-8"), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310
            pass
    except OSError as exc:
        log.warning("alert webhook failed: %s", type(exc).__name__)
