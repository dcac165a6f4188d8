"""A worker killed with SIGKILL at a named point, then started again: the work completes once."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
import requests

from sidecar.domain.states import State
from tests.support.mariadb import free_port
from tests.support.processes import answers, start_web, start_worker, stop, wait_for

CONFIRMATION_POINTS = ["after_job_claimed", "after_paid_transition"]
FULFILMENT_POINTS = [
    "after_wp_user_returned",
    "after_wp_user_recorded",
    "after_wp_booking_returned",
    "after_wp_booking_recorded",
    "after_wp_membership_returned",
    "after_wp_membership_recorded",
]


def crash_then_recover(stack: Any, tmp_path: Path, point: str, done: Any) -> str:
    log = tmp_path / "worker.log"
    first = start_worker(stack.process_env(SIDECAR_CRASH_AT=point), log)
    first.wait(60)
    stop(first)
    assert first.returncode == -signal.SIGKILL, log.read_text()[-3000:]
    second = start_worker(stack.process_env(), log)
    try:
        assert wait_for(done, 60, second), log.read_text()[-3000:]
    finally:
        stop(second)
    return log.read_text()


@pytest.mark.parametrize("point", CONFIRMATION_POINTS)
def test_crash_during_confirmation_completes_after_restart(
    maria_stack: Any, tmp_path: Path, point: str
) -> None:
    stack = maria_stack
    intent = stack.paid_intent()
    crash_then_recover(
        stack, tmp_path, point, lambda: stack.intent(intent.ref).state == State.FULFILLED
    )
    assert stack.count("transitions", "intent_id = ? AND to_state = 'paid'", (intent.id,)) == 1
    assert stack.count("jobs", "intent_id = ? AND kind = 'fulfil'", (intent.id,)) == 1


@pytest.mark.parametrize("point", FULFILMENT_POINTS)
def test_crash_during_fulfilment_fulfils_exactly_once(
    maria_stack: Any, tmp_path: Path, point: str
) -> None:
    stack = maria_stack
    intent = stack.paid_intent()
    crash_then_recover(
        stack, tmp_path, point, lambda: stack.intent(intent.ref).state == State.FULFILLED
    )
    done = stack.intent(intent.ref)
    assert done.wp_user_id is not None and done.booking_id is not None and done.member_joined
    creates = [c for c in stack.wp.calls if c.name == "create_user"]
    users = [u for u in stack.wp.search_users(intent.email or "") if u.email == intent.email]
    assert len(users) == 1, (creates, users)
    assert len(stack.wp.find_bookings(intent_ref=intent.ref)) == 1
    assert stack.wp.member(intent.bp_group_id, done.wp_user_id) is not None


@pytest.mark.parametrize("point", ["before_refund_call", "after_refund_call"])
def test_crash_around_the_refund_call_refunds_exactly_once(
    maria_stack: Any, tmp_path: Path, point: str
) -> None:
    stack = maria_stack
    intent = stack.paid_intent()
    stack.wp.set_group_open(stack.group.id, False)  # fulfilment will be impossible: refund
    crash_then_recover(
        stack, tmp_path, point, lambda: stack.intent(intent.ref).state == State.REFUNDED
    )
    refunds = [
        t
        for t in stack.sim.ledger()
        if t["tran_type"].lower() == "refund" and t["previous_tran_ref"] == intent.tran_ref
    ]
    assert len(refunds) == 1, refunds
    assert refunds[0]["status"] == "A"


def test_crash_of_the_web_process_after_logging_an_ipn_loses_nothing(
    maria_stack: Any, tmp_path: Path
) -> None:
    """gunicorn's worker is killed right after the IPN is logged; PayTabs' retry and the worker
    finish the job once."""
    stack = maria_stack
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = stack.process_env(
        SIDECAR_PUBLIC_URL=url,
        SIDECAR_CRASH_AT="after_notification_logged",
        SIDECAR_CRASH_ONCE_FILE=str(tmp_path / "crashed-once"),
    )
    stack.sim.configure(ipn_retry_delays=(0.5, 1.0, 2.0, 2.0, 2.0))
    web = start_web(env, port, tmp_path / "gunicorn.log")
    try:
        assert wait_for(lambda: answers(url), 30, web)
        form = stack.form()
        response = requests.post(
            f"{url}/therapy/checkout", data=form, allow_redirects=False, timeout=30
        )
        assert response.status_code == 303
        intent = stack.intent_by_key(form["idempotency_key"])
        stack.pay(intent)
        stack.deliver_ipns()
        assert (tmp_path / "crashed-once").exists()
        stack.clock.advance(3600)  # the web process stamps jobs with the real time
        stack.drain()
        assert stack.intent(intent.ref).state == State.FULFILLED
        assert stack.count("notifications", "intent_id = ? AND channel = 'ipn'", (intent.id,)) >= 2
        assert stack.count("transitions", "intent_id = ? AND to_state = 'paid'", (intent.id,)) == 1
    finally:
        stop(web)
