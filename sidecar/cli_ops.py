"""Operator commands (intents, redrive, refund, reconcile, audit); registered on the CLI group."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add the operator commands to ``group``."""
