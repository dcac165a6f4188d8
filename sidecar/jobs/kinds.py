"""The kinds of job the outbox holds (stored by value in the jobs table)."""

from __future__ import annotations

from enum import StrEnum


class JobKind(StrEnum):
    """What a queued job does for its intent."""

    CONFIRM = "confirm"  # ask PayTabs and move the intent (paid, failed, refunded at PayTabs)
    FULFIL = "fulfil"  # create the user, book the session, join the group
    REFUND = "refund"  # give back what PayTabs took (the sale, or a cart's extra sales)
    EMAIL = "email"  # tell the buyer (confirmation or refund e-mail)
