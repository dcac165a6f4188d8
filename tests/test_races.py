"""Races with real concurrency (threads) on a real MariaDB: exactly one winner every time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import requests

from sidecar import confirmation
from sidecar import repository as repo
from sidecar.jobs import drain
from sidecar.states import State


def run_together(*actions: Callable[[], Any]) -> list[Any]:
    """Start every action at the same instant (a barrier) and return their results or errors."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def runner(i: int, action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = action()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=runner, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def job_for(stack: Any, intent_id: int, kind: str) -> Any:
    with stack.services.db.transaction() as tx:
        return repo.find_job(tx, intent_id, kind)


def test_races_two_workers_confirming_one_payment_make_one_transition(maria_stack: Any) -> None:
    stack = maria_stack
    intent = stack.start()
    stack.pay(intent)
    stack.deliver_ipns()
    job = job_for(stack, intent.id, "confirm")

    # Both run the confirmation itself at once (no claim in between): the row lock decides.
    def confirm() -> str:
        try:
            return confirmation.run_confirmation(stack.services, job)
        finally:
            stack.services.db.close()

    outcomes = run_together(confirm, confirm, confirm, confirm)
    assert sorted(outcomes).count("paid") == 1, outcomes
    assert stack.count("transitions", "intent_id = ? AND to_state = 'paid'", (intent.id,)) == 1
    assert stack.count("jobs", "intent_id = ? AND kind = 'fulfil'", (intent.id,)) == 1


def test_races_three_workers_draining_one_queue_claim_each_job_once(maria_stack: Any) -> None:
    stack = maria_stack
    intents = [stack.start() for _ in range(4)]
    for intent in intents:
        stack.pay(intent)
    stack.deliver_ipns()

    def worker() -> int:
        try:
            return drain(stack.services, kinds=["confirm"])
        finally:
            stack.services.db.close()

    ran = run_together(worker, worker, worker)
    assert sum(ran) == 4, ran
    assert stack.count("job_attempts", "kind = 'confirm'") == 4
    assert stack.count("transitions", "to_state = 'paid'") == 4
    assert stack.count("jobs", "kind = 'fulfil'") == 4


def test_races_ipn_and_return_at_the_same_instant(maria_stack: Any) -> None:
    stack = maria_stack
    intent = stack.start()
    stack.sim.configure(ipn="drop")
    fields = stack.pay(intent)
    url = stack.server.url
    body = None
    for sent in stack.sim.notifications_sent():
        body = sent
    stack.sim.configure(ipn="deliver")
    results = run_together(
        lambda: (
            requests.post(
                f"{url}/paytabs/return", data=fields, allow_redirects=False, timeout=30
            ).status_code
        ),
        lambda: (
            requests.post(
                f"{url}/paytabs/return", data=fields, allow_redirects=False, timeout=30
            ).status_code
        ),
        lambda: stack.deliver_ipns(),
    )
    assert results[0] == 303 and results[1] == 303, results
    assert body is None  # the IPN was dropped; the returns alone trigger the confirmation

    def worker() -> int:
        try:
            return drain(stack.services)
        finally:
            stack.services.db.close()

    ran = run_together(worker, worker)
    assert sum(ran) >= 1
    assert stack.count("transitions", "intent_id = ? AND to_state = 'paid'", (intent.id,)) == 1
    assert stack.count("jobs", "intent_id = ? AND kind = 'fulfil'", (intent.id,)) == 1


def test_races_two_buyers_for_the_last_seat(maria_stack: Any) -> None:
    stack = maria_stack
    url = stack.server.url
    forms = [stack.form(stack.small_group.id) for _ in range(6)]

    def buy(form: dict[str, str]) -> int:
        return requests.post(
            f"{url}/therapy/checkout",
            data=form,
            allow_redirects=False,
            timeout=30,
            headers={"Accept": "application/json"},
        ).status_code

    statuses = run_together(*[lambda f=f: buy(f) for f in forms])
    assert sorted(statuses) == [200, 409, 409, 409, 409, 409], statuses
    assert (
        stack.count(
            "intents",
            "group_id = ? AND state = ?",
            (stack.small_group.id, State.AWAITING_PAYMENT.value),
        )
        == 1
    )


def race_two_confirmations(stack: Any) -> int:
    intent = stack.start()
    stack.pay(intent)
    stack.deliver_ipns()
    job = job_for(stack, intent.id, "confirm")

    def confirm() -> str:
        try:
            return confirmation.run_confirmation(stack.services, job)
        finally:
            stack.services.db.close()

    run_together(confirm, confirm)
    return stack.count("transitions", "intent_id = ? AND to_state = 'paid'", (intent.id,))


def race_last_seat(stack: Any) -> int:
    url = stack.server.url
    forms = [stack.form(stack.small_group.id) for _ in range(2)]

    def buy(form: dict[str, str]) -> int:
        return requests.post(
            f"{url}/therapy/checkout", data=form, allow_redirects=False, timeout=30
        ).status_code

    run_together(*[lambda f=f: buy(f) for f in forms])
    return stack.count(
        "intents", "group_id = ? AND state = 'awaiting_payment'", (stack.small_group.id,)
    )


def test_races_negative_control_confirmation_without_locks_transitions_twice(
    unsafe_stack: Any,
) -> None:
    """With the row lock off, the same race really does move the intent twice."""
    assert race_two_confirmations(unsafe_stack) == 2


def test_races_confirmation_with_locks_holds_in_the_same_window(widened_stack: Any) -> None:
    assert race_two_confirmations(widened_stack) == 1


def test_races_negative_control_last_seat_without_locks_is_sold_twice(unsafe_stack: Any) -> None:
    """With the group lock off, two buyers both get the last seat."""
    assert race_last_seat(unsafe_stack) == 2


def test_races_last_seat_with_locks_holds_in_the_same_window(widened_stack: Any) -> None:
    assert race_last_seat(widened_stack) == 1
