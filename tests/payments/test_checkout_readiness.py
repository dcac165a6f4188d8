"""Checkout refuses, before any payment, while WordPress could not fulfil the registration.

With the bridge plugin or BuddyPress's groups routes gone, a buyer who pays ends in
needs_attention two minutes later; so checkout answers 503 "nothing was charged" and stores
nothing. ``sidecar.payments.readiness.require_fulfilment_ready`` is the check checkout calls.
"""

from __future__ import annotations

from typing import Any

import pytest

JSON = {"Accept": "application/json"}


def remove(stack: Any, what: str) -> None:
    """Take the bridge plugin, or BuddyPress's REST routes, away from the fake WordPress."""
    if what == "bridge":
        stack.wp.bridge_installed = False
    else:
        stack.wp.buddypress_version = None


@pytest.mark.parametrize("gone", ["bridge", "buddypress"])
def test_checkout_readiness_refuses_with_503_and_stores_nothing(stack: Any, gone: str) -> None:
    remove(stack, gone)
    response = stack.checkout(stack.form(), headers=JSON)
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "fulfilment_unavailable"
    assert "nothing was charged" in error["message"]
    assert stack.count("intents") == 0
    assert stack.sim.ledger() == []  # no hosted page was asked for


def test_checkout_readiness_tells_a_browser_in_words(stack: Any) -> None:
    remove(stack, "bridge")
    response = stack.checkout(stack.form())
    assert response.status_code == 503
    assert "You have not been charged." in response.get_data(as_text=True)
    assert stack.count("intents") == 0


def test_checkout_readiness_lets_buyers_pay_once_wordpress_can_fulfil(stack: Any) -> None:
    remove(stack, "buddypress")
    assert stack.checkout(stack.form(), headers=JSON).status_code == 503
    stack.wp.buddypress_version = "v2"  # BuddyPress 15 without the BP-REST plugin is enough
    stack.start()
    assert stack.count("intents") == 1
