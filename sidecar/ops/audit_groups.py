"""The audit's WordPress-side checks of groups: capacity, one place per person, stray members."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from wp_bridge.models import Booking, GroupInfo


@dataclass(frozen=True)
class Discrepancy:
    """One thing that does not add up, with the intent ref and group it concerns."""

    kind: str
    ref: str | None
    group_id: int | None
    detail: str

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return asdict(self)


def check_groups(
    groups: Sequence[GroupInfo],
    bookings: Sequence[Booking],
    members: Mapping[int, Sequence[int]],
    rules: Any,  # audit.Rules: only its admin_user_ids are read
) -> list[Discrepancy]:
    """Report groups over capacity, a user booked twice in one group, and members without a booking.

    Two therapy groups may share one BuddyPress group: a member is fine with a booking in any of
    them, and is reported once for that BuddyPress group.
    """
    found = []
    booked_in_bp: dict[int, set[int]] = defaultdict(set)
    for g in groups:
        booked = [b for b in bookings if b.group_id == g.id]
        if len(booked) > g.capacity:
            detail = f"{len(booked)} bookings for a capacity of {g.capacity}"
            found.append(Discrepancy("over_capacity", None, g.id, detail))
        found += _duplicate_bookings(g, booked)
        booked_in_bp[g.bp_group_id] |= {b.user_id for b in booked}
    first_group: dict[int, int] = {}
    for g in groups:
        first_group.setdefault(g.bp_group_id, g.id)
    for bp_group_id, group_id in first_group.items():
        for user_id in members.get(bp_group_id, ()):
            if user_id not in booked_in_bp[bp_group_id] and user_id not in rules.admin_user_ids:
                detail = f"user {user_id} is in BuddyPress group {bp_group_id} without a booking"
                found.append(Discrepancy("membership_without_booking", None, group_id, detail))
    return found


def _duplicate_bookings(group: GroupInfo, booked: Sequence[Booking]) -> list[Discrepancy]:
    """Report each user holding more than one booking (one place per person per group)."""
    by_user: dict[int, list[Booking]] = defaultdict(list)
    for b in booked:
        by_user[b.user_id].append(b)
    return [
        Discrepancy(
            "duplicate_booking",
            twice[-1].intent_ref,
            group.id,
            f"user {user_id} has {len(twice)} bookings in group {group.id}: "
            + ", ".join(f"{b.id} ({b.intent_ref})" for b in twice),
        )
        for user_id, twice in sorted(by_user.items())
        if len(twice) > 1
    ]
