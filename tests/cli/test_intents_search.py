"""`intents list` search and columns, `intents show` words and folding, `reconcile` with no target."""

from __future__ import annotations

from typing import Any

from click.testing import Result

from sidecar.cli import ops as cli_ops
from sidecar.cli.main import cli
from sidecar.cli.render import fold_repeats
from sidecar.ops.reasons import reason_words

cli_ops.register(cli)


def run(stack: Any, *args: str) -> Result:
    """Invoke `sidecar ARGS...` against the stack's app."""
    return stack.app.test_cli_runner().invoke(cli, list(args))


def test_intents_list_searches_by_email_and_name_any_case(stack: Any) -> None:
    amal = stack.start(email="Amal.Search@Example.com", first_name="Amal", last_name="Haddad")
    other = stack.start(email="omar@example.com", first_name="Omar", last_name="Zaki")
    by_email = run(stack, "intents", "list", "--email", "amal.search@EXAMPLE")
    assert by_email.exit_code == 0, by_email.output
    assert amal.ref in by_email.output and other.ref not in by_email.output
    assert "amal.search@example.com" in by_email.output  # the e-mail column (stored lower-case)
    by_name = run(stack, "intents", "list", "--name", "omar zak", "--state", "awaiting_payment")
    assert other.ref in by_name.output and amal.ref not in by_name.output
    assert "seat held until" in by_name.output  # the hold's expiry
    assert "0 intent(s)" in run(stack, "intents", "list", "--email", "%").output  # LIKE escaped


def test_intents_show_gives_the_hold_expiry(stack: Any) -> None:
    intent = stack.start()
    result = run(stack, "intents", "show", intent.ref)
    assert result.exit_code == 0, result.output
    assert "hold     " in result.output and "(holding a seat)" in result.output


def test_reason_words_puts_the_paytabs_code_beside_the_words() -> None:
    assert reason_words("paytabs_C") == "cancelled by the buyer (C)"
    assert reason_words("paytabs_D") == "declined by the bank (D)"
    assert reason_words("hold_expired") == "the seat's hold expired unpaid"
    assert reason_words("something_new") == "something new"
    assert reason_words(None) == "-"


def test_fold_repeats_folds_repeated_sweep_queries_into_one_line_with_a_count() -> None:
    rows = [("10:00:00", "transition", "new -> awaiting_payment")] + [
        (f"10:0{n}:30", "job", f"confirm #1  pending in 0.0{n}s") for n in range(1, 10)
    ]
    folded = fold_repeats(rows)
    assert len(folded) == 2
    assert folded[1][2] == "confirm #1  pending in 0.01s  (9 times, last 10:09:30)"


def test_reconcile_without_a_target_says_what_to_give(stack: Any) -> None:
    result = run(stack, "reconcile")
    assert result.exit_code == 2
    assert "an intent REF" in result.output and "--all" in result.output
    assert "not both" not in result.output
