"""The ``sidecar`` command: a click group whose commands load the app only when they need it."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import click
from dotenv import load_dotenv
from flask import current_app
from flask.cli import ScriptInfo, with_appcontext

from sidecar import create_app
from sidecar.cli.errors import explain
from sidecar.core.container import Services

ENV_FILE_HELP = (
    "Read the settings from this file (python-dotenv format; also SIDECAR_ENV_FILE). Without it, "
    "./.env is read. Variables already set in the environment win over the file."
)


class SidecarGroup(click.Group):
    """A click group that turns settings and connection failures into one line, no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; an expected failure becomes a message with its exit code."""
        try:
            return super().invoke(ctx)
        except click.ClickException:
            raise
        except Exception as exc:
            message = explain(exc)
            if message is None:
                raise
            raise message from None


@click.group(cls=SidecarGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--env-file",
    envvar="SIDECAR_ENV_FILE",
    type=click.Path(exists=True, dir_okay=False),
    help=ENV_FILE_HELP,
)
@click.pass_context
def cli(ctx: click.Context, env_file: str | None) -> None:
    """Therapy Pay Sidecar: payment-first PayTabs checkout for a WordPress therapy registration.

    Settings come from the environment and a .env file (see .env.example). To point the CLI at a
    running `sidecar demo`, run the `export SIDECAR_ENV_FILE=...` line the demo prints.
    """
    if env_file:
        os.environ["SIDECAR_ENV_FILE"] = os.path.abspath(env_file)
        # Also into os.environ, so that options read from it (audit's prefixes) see the file.
        load_dotenv(env_file, override=False)
    # Warnings only: the commands print tables on stdout, and INFO lines would mix into them.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    info = ctx.ensure_object(ScriptInfo)
    info.create_app = info.create_app or create_app


def app_services() -> Services:
    """Return the services of the current app."""
    return current_app.extensions["sidecar"]  # type: ignore[no-any-return,unused-ignore]


@cli.command()
@with_appcontext
def migrate() -> None:
    """Apply the database migrations that are not applied yet (safe to run again)."""
    from sidecar.store.db import migrate as apply_migrations

    applied = apply_migrations(app_services().db)
    click.echo(f"applied: {', '.join(applied)}" if applied else "database is up to date")


@cli.command()
@with_appcontext
def worker() -> None:
    """Run the worker: the job queue (confirm, fulfil, refund, email) and the sweeps."""
    from sidecar.core.logs import configure_logging, remember_server_key
    from sidecar.jobs.worker import run_worker

    configure_logging("worker", app_services().settings)  # JSON lines, secrets redacted
    remember_server_key(app_services())
    run_worker(app_services())


@cli.command()
@with_appcontext
def check() -> None:
    """Check the database, PayTabs, WordPress, its bridge and BuddyPress; exit 1 naming what fails."""
    from sidecar.ops.health import readiness

    report = readiness(app_services())
    for name, verdict in report.checks.items():
        click.echo(f"{'ok ' if verdict.startswith('ok') else 'BAD'} {name}: {verdict}")
    sys.exit(0 if report.ready else 1)


@cli.command()  # the simulator needs none of the sidecar's settings
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=int)
@click.option(
    "--server-key",
    envvar="SIM_SERVER_KEY",
    default="STESTSIMUL-ATORKEY000-0000000000",
    show_default=True,
)
@click.option("--profile-id", envvar="SIM_PROFILE_ID", default=100001, show_default=True, type=int)
def sim(host: str, port: int, server_key: str, profile_id: int) -> None:
    """Run the PayTabs simulator (point PAYTABS_BASE_URL at it)."""
    from sidecar.sandbox.paytabs_sim import run_simulator

    click.echo(f"PayTabs simulator on http://{host}:{port} (profile {profile_id}); Ctrl-C stops it")
    run_simulator(host, port, server_key=server_key, profile_id=profile_id)


@cli.command()  # builds its own app: no settings to load
@click.option(
    "--port-base",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65533),
    help="Sidecar on this port, the PayTabs simulator on +1, WordPress on +2 (0: free ports).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Keep the SQLite files here (default: a temporary folder removed on exit).",
)
def demo(port_base: int, data_dir: str | None) -> None:
    """Run sidecar, worker, PayTabs simulator and WordPress here, unconfigured; Ctrl-C stops."""
    from sidecar.sandbox.demo import run_demo

    run_demo(port_base=port_base, data_dir=data_dir)


@cli.command()  # needs no settings: it brings its own stack
@click.option("--quick", is_flag=True, help="Tiny sizes and short runs (a smoke test).")
@click.option("--ipn-seconds", type=float, help="Seconds per IPN concurrency level [10].")
@click.option("--checkout-seconds", type=float, help="Seconds of checkouts [10].")
@click.option("--fulfil-samples", type=int, help="Payments per WordPress delay [20].")
@click.option("--sweep-sizes", help="Stored intents per sweep run [10000,100000,1000000].")
def bench(
    quick: bool,
    ipn_seconds: float | None,
    checkout_seconds: float | None,
    fulfil_samples: int | None,
    sweep_sizes: str | None,
) -> None:
    """Measure the speed on loopback (MariaDB, PayTabs simulator, sandbox WordPress); print a table."""
    import shlex

    from sidecar.bench import command as benchmark

    try:
        text = benchmark.main(
            quick,
            shlex.join(["sidecar", *sys.argv[1:]]),
            ipn_seconds=ipn_seconds,
            checkout_seconds=checkout_seconds,
            fulfil_samples=fulfil_samples,
            sweep_sizes=benchmark.parse_sizes(sweep_sizes) if sweep_sizes else None,
        )
    except benchmark.BenchSetupError as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:
        click.echo("interrupted: everything the benchmark started is stopped and removed", err=True)
        sys.exit(130)
    click.echo(text)


def main() -> None:
    """Entry point of the ``sidecar`` console script."""
    from sidecar.cli import cancel as cli_cancel
    from sidecar.cli import ops as cli_ops

    cli_ops.register(cli)
    cli.add_command(cli_cancel.cancel)
    cli()
