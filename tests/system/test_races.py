"""Races with real concurrency (threads) on a real MariaDB: exactly one winner every time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import requests

from sidecar.domain.states import State
from sidecar.jobs.runner import drain
from sidecar.payments import confirmation
from sidecar.store import repository as repo


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


def confirmer(stack: Any, job: Any) -> Callable[[], str]:
    """Return a racer that runs the confirmation job itself (closing its thread's connection)."""

    def confirm() -> str:
        try:
            return confirmation.run_confirmation(stack.services, job)
        finally:
            stack.services.db.close()

    return confirm


def job_for(stack: Any, intent_id: int, kind: str) -> Any:
    with stack.services.db.transaction() as tx:
        return repo.find_job(tx, intent_id, kind)


def test_races_two_workers_confirming_one_payment_make_one_transition(maria_stack: Any) -> None:
    stack = maria_stack
    intent = stack.paid_intent()
    confirm = confirmer(stack, job_for(stack, intent.id, "confirm"))
    # All run the confirmation itself at once (no claim in between): the row lock decides.
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
    intent = stack.paid_intent()
    confirm = confirmer(stack, job_for(stack, intent.id, "confirm"))
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


def race_three_workers(stack: Any) -> int:
    intents = [stack.start() for _ in range(3)]
    for intent in intents:
        stack.pay(intent)
    stack.deliver_ipns()

    def worker() -> int:
        try:
            return drain(stack.services, kinds=["confirm"])
        finally:
            stack.services.db.close()

    run_together(worker, worker, worker)
    return stack.count("job_attempts", "kind = 'confirm'")


def test_races_negative_control_three_workers_without_skip_locked_run_jobs_twice(
    unsafe_stack: Any,
) -> None:
    assert race_three_workers(unsafe_stack) > 3


def test_races_three_workers_with_skip_locked_run_each_job_once(widened_stack: Any) -> None:
    assert race_three_workers(widened_stack) == 3


def race_every_trigger_at_once(stack: Any) -> int:
    """IPN, return, sweep and an operator's reconcile for one tran_ref at the same instant."""
    from sidecar.jobs.outbox import enqueue
    from sidecar.payments import sweeps

    intent = stack.start()
    stack.sim.configure(ipn="drop")
    fields = stack.pay(intent)
    sent = stack.sim.notifications_sent()
    assert sent == []
    stack.clock.advance(stack.services.settings.pending_query_after_seconds + 1)
    url = stack.server.url
    from sidecar.paytabs import sign_ipn

    body = (
        f'{{"tran_ref":"{intent.tran_ref}","cart_id":"{intent.ref}",'
        f'"payment_result":{{"response_status":"A"}}}}'
    ).encode()
    signature = sign_ipn(body, stack.services.credentials.get().server_key.reveal())

    def ipn() -> int:
        headers = {"Signature": signature, "Content-Type": "application/json"}
        return requests.post(
            f"{url}/paytabs/ipn", data=body, headers=headers, timeout=30
        ).status_code

    def browser_return() -> int:
        return requests.post(
            f"{url}/paytabs/return", data=fields, allow_redirects=False, timeout=30
        ).status_code

    def sweep_then_work() -> int:
        try:
            sweeps.sweep_pending_payments(stack.services)
            return confirmation.run_confirmation(stack.services, _confirm_job(stack, intent.id))
        finally:
            stack.services.db.close()

    def operator_reconcile() -> str:
        try:
            with stack.services.db.transaction() as tx:
                enqueue(stack.services, tx, intent.id, "confirm")
            return confirmation.run_confirmation(stack.services, _confirm_job(stack, intent.id))
        finally:
            stack.services.db.close()

    run_together(ipn, browser_return, sweep_then_work, operator_reconcile)
    return stack.count("transitions", "intent_id = ? AND to_state = 'paid'", (intent.id,))


def _confirm_job(stack: Any, intent_id: int) -> Any:
    from sidecar.jobs.outbox import enqueue

    with stack.services.db.transaction() as tx:
        enqueue(stack.services, tx, intent_id, "confirm")
        return repo.find_job(tx, intent_id, "confirm")


def test_races_negative_control_every_trigger_at_once_without_locks_pays_twice(
    unsafe_stack: Any,
) -> None:
    assert race_every_trigger_at_once(unsafe_stack) >= 2


def test_races_every_trigger_at_once_makes_one_transition(widened_stack: Any) -> None:
    assert race_every_trigger_at_once(widened_stack) == 1
    widened_stack.drain()
    assert widened_stack.count("jobs", "kind = 'fulfil'") == 1


def race_two_web_processes(stack: Any, tmp_path: Any, unsafe: str) -> int:
    """Two gunicorn processes, one buyer each, the last seat."""
    from tests.support.mariadb import free_port
    from tests.support.processes import answers, start_web, stop, wait_for

    extra = {"SIDECAR_TEST_UNSAFE": unsafe} if unsafe else {}
    ports = [free_port(), free_port()]
    procs = [
        start_web(
            stack.process_env(SIDECAR_PUBLIC_URL=f"http://127.0.0.1:{p}", **extra),
            p,
            tmp_path / f"web{p}.log",
        )
        for p in ports
    ]
    try:
        for port, proc in zip(ports, procs, strict=True):
            assert wait_for(lambda port=port: answers(f"http://127.0.0.1:{port}"), 30, proc)
        forms = [stack.form(stack.small_group.id) for _ in ports]

        def buy(port: int, form: dict[str, str]) -> int:
            return requests.post(
                f"http://127.0.0.1:{port}/therapy/checkout",
                data=form,
                allow_redirects=False,
                timeout=30,
            ).status_code

        run_together(*[lambda p=p, f=f: buy(p, f) for p, f in zip(ports, forms, strict=True)])
    finally:
        for proc in procs:
            stop(proc)
    return stack.count(
        "intents", "group_id = ? AND state = 'awaiting_payment'", (stack.small_group.id,)
    )


def test_races_negative_control_two_web_processes_without_locks_oversell(
    maria_stack: Any, tmp_path: Any
) -> None:
    assert race_two_web_processes(maria_stack, tmp_path, "skip_locks,widen_races") == 2


def test_races_two_web_processes_sell_the_last_seat_once(maria_stack: Any, tmp_path: Any) -> None:
    assert race_two_web_processes(maria_stack, tmp_path, "widen_races") == 1
