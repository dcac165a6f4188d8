"""In-memory WordPress + BuddyPress + bridge plugin, with WordPress's error codes and statuses.

The sandbox serves it over HTTP; ``wp_bridge.fake.FakeWordPressClient`` calls it directly.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from wp_bridge.errors import (
    AlreadyBooked,
    GroupClosed,
    GroupFull,
    GroupNotFound,
    UserNotFound,
    WPConnectionError,
    WPServerError,
    error_class_for,
)
from wp_bridge.fake.index import rest_index_json
from wp_bridge.fake.records import (
    BPMember,
    Call,
    GroupRecord,
    UserRecord,
    bp_add_member,
    bp_members_of,
    check_new_user,
    check_unique,
    hash_password,
    invalid_param,
    mail_recipient,
)
from wp_bridge.models import Booking, GroupInfo, GroupSchedule, PaymentDetails, WPUser


class FakeWordPress:
    """WordPress state in memory, thread-safe, with failure injection for tests."""

    def __init__(
        self,
        *,
        site_url: str = "http://wordpress.test",
        admin_username: str = "admin",
        admin_email: str = "admin@example.test",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.site_url = site_url.rstrip("/")
        self.clock = clock
        self.down = False
        self.latency_seconds = 0.0
        self.calls: list[Call] = []
        self.emails: list[dict[str, Any]] = []
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._failures: list[int] = []
        self._users: dict[int, UserRecord] = {}
        self._groups: dict[int, GroupRecord] = {}
        self._bookings: dict[str, Booking] = {}
        self._bp_groups: dict[int, dict[int, BPMember]] = {}
        self._emailed: set[tuple[str, str]] = set()
        # What the bridge's therapy_sidecar_booking_cancelled action was given, in order.
        self.cancelled_bookings: list[Booking] = []
        # What the REST index lists: tests remove the bridge or switch BuddyPress's REST version.
        self.bridge_installed = True
        self.buddypress_version: str | None = "v1"
        self.admin = self._insert_user(admin_username, admin_email, secrets.token_hex(8))
        self._users[self.admin.id].roles = ("administrator",)

    # --- failure injection ------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Make the next n calls fail with this HTTP status."""
        with self._lock:
            self._failures.extend([status] * n)

    def _gate(self) -> None:
        """Apply latency, outage and injected failures before touching state."""
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
        if self.down:
            raise WPConnectionError("WordPress is down (injected)")
        with self._lock:
            status = self._failures.pop(0) if self._failures else None
        if status is not None:
            # WordPress's fatal-error handler answers REST calls with this code.
            code = "internal_server_error" if status == 500 else f"injected_{status}"
            raise error_class_for(status, None)("Injected failure.", http_status=status, code=code)

    def _log(self, name: str, **args: Any) -> None:
        with self._lock:
            self.calls.append(Call(name, args))

    def rest_index(self) -> dict[str, Any]:
        """Return the REST index: core, the bridge unless removed, BuddyPress in its version."""
        self._gate()
        return rest_index_json(
            self.site_url,
            bridge_installed=self.bridge_installed,
            buddypress_version=self.buddypress_version,
        )

    # --- users ------------------------------------------------------------------------------

    def me(self) -> WPUser:
        """Return the administrator the application password belongs to."""
        self._gate()
        return self.admin

    def user_record(self, user_id: int) -> UserRecord | None:
        """Return the stored user (no failure injection: for the sandbox's rendering)."""
        with self._lock:
            return self._users.get(int(user_id))

    def get_user(self, user_id: int) -> WPUser | None:
        """Return the user with this id, or None."""
        self._gate()
        record = self.user_record(user_id)
        return record.to_user() if record else None

    def search_users(self, term: str) -> list[WPUser]:
        """Return users matching like WP_User_Query search: a case-insensitive substring."""
        self._gate()
        needle = term.strip().lower()
        with self._lock:
            records = sorted(self._users.values(), key=lambda record: record.id)
        # With an "@" in the term WordPress searches the email column alone.
        columns = ("email",) if "@" in needle else ("email", "username", "first_name")
        return [
            record.to_user()
            for record in records
            if any(needle in getattr(record, column).lower() for column in columns)
        ]

    def create_user(
        self,
        *,
        username: str,
        email: str,
        password: str,
        first_name: str = "",
        last_name: str = "",
        intent_ref: str | None = None,
    ) -> WPUser:
        """Create a subscriber with WordPress's validation order and error codes."""
        self._gate()
        self._log("create_user", username=username, email=email, intent_ref=intent_ref)
        check_new_user(username, email, password)
        with self._lock:
            return self._insert_user(username, email, password, first_name, last_name, intent_ref)

    def add_user(
        self,
        *,
        username: str,
        email: str,
        password: str | None = None,
        intent_ref: str | None = None,
    ) -> WPUser:
        """Seed a user directly (no failure injection, not logged); duplicates still raise."""
        with self._lock:
            secret = password or secrets.token_hex(8)
            return self._insert_user(username, email, secret, intent_ref=intent_ref)

    def _insert_user(
        self,
        username: str,
        email: str,
        password: str,
        first_name: str = "",
        last_name: str = "",
        intent_ref: str | None = None,
    ) -> WPUser:
        check_unique(self._users.values(), username, email)
        record = UserRecord(
            id=next(self._ids),
            username=username,
            email=email,
            first_name=first_name,
            last_name=last_name,
            password_hash=hash_password(password),
            intent_ref=intent_ref or None,
            roles=("subscriber",),
            registered=self.clock(),
        )
        self._users[record.id] = record
        return record.to_user()

    # --- therapy groups and bookings ---------------------------------------------------------

    def add_group(
        self,
        *,
        name: str,
        price: Decimal | str,
        capacity: int,
        currency: str = "SAR",
        open: bool = True,
        seats_taken: int = 0,
        schedule: GroupSchedule | None = None,
    ) -> GroupInfo:
        """Create a therapy group and its BuddyPress group (the admin is its group admin).

        ``seats_taken`` pre-books that many seats (for the admin, intent refs "seed-...").
        """
        with self._lock:
            # One id sequence for everything: passing a group id where a BP group id belongs
            # then fails loudly instead of hitting another object by accident.
            group_id, bp_group_id = next(self._ids), next(self._ids)
            self._groups[group_id] = GroupRecord(
                group_id, name, Decimal(price), currency, capacity, open, bp_group_id, schedule
            )
            admin = BPMember(self.admin.id, is_admin=True, modified=int(self.clock()))
            self._bp_groups[bp_group_id] = {self.admin.id: admin}
            for n in range(seats_taken):
                ref = f"seed-{group_id}-{n + 1}"
                self._bookings[ref] = Booking(next(self._ids), ref, group_id, self.admin.id, True)
        return self._group_info(group_id, self.site_url)

    def groups(self, *, site_url: str | None = None) -> list[GroupInfo]:
        """Return every therapy group (no failure injection: for pages and seeding)."""
        with self._lock:
            ids = sorted(self._groups)
        return [self._group_info(gid, (site_url or self.site_url).rstrip("/")) for gid in ids]

    def set_group_schedule(self, group_id: int, schedule: GroupSchedule | None) -> None:
        """Give a group a session time and place (None: no schedule)."""
        with self._lock:
            self._groups[int(group_id)].schedule = schedule

    def set_group_open(self, group_id: int, is_open: bool) -> None:
        """Open or close registrations for a group."""
        with self._lock:
            self._groups[int(group_id)].open = is_open

    def get_group(self, group_id: int, *, site_url: str | None = None) -> GroupInfo:
        """Return the group with its seats and page URLs; raise GroupNotFound."""
        self._gate()
        return self._group_info(int(group_id), (site_url or self.site_url).rstrip("/"))

    def _group_info(self, group_id: int, site_url: str) -> GroupInfo:
        with self._lock:
            group = self._groups.get(group_id)
            if group is None:
                raise GroupNotFound(
                    "Unknown therapy group.", http_status=404, code="therapy_group_not_found"
                )
            taken = sum(1 for b in self._bookings.values() if b.group_id == group_id)
        return group.info(taken, site_url)

    def book_session(
        self,
        *,
        intent_ref: str,
        group_id: int,
        user_id: int,
        payment: PaymentDetails | None = None,
    ) -> Booking:
        """Take a seat, stored with what was paid; idempotent by intent_ref; capacity locked."""
        self._gate()
        paid = payment.to_json() if payment else {}
        self._log("book_session", intent_ref=intent_ref, group_id=group_id, user_id=user_id, **paid)
        if not intent_ref:
            raise invalid_param(
                "intent_ref", "rest_invalid_param", "An intent reference is needed."
            )
        with self._lock:
            existing = self._bookings.get(intent_ref)
            if existing is not None:
                return replace(existing, created=False)
            info = self._group_info(int(group_id), self.site_url)
            if int(user_id) not in self._users:
                message = "Unknown user."
                raise UserNotFound(message, http_status=404, code="therapy_user_not_found")
            if not info.open:
                message = "This group is closed."
                raise GroupClosed(message, http_status=409, code="therapy_group_closed")
            if any(
                b.group_id == info.id and b.user_id == int(user_id) for b in self._bookings.values()
            ):
                message = "This member already has a place in this group."
                raise AlreadyBooked(message, http_status=409, code="therapy_already_booked")
            if info.seats_taken >= info.capacity:
                message = "This group is full."
                raise GroupFull(message, http_status=409, code="therapy_group_full")
            booking = Booking(next(self._ids), intent_ref, info.id, int(user_id), True, payment)
            self._bookings[intent_ref] = booking
            return booking

    def find_bookings(
        self, *, intent_ref: str | None = None, group_id: int | None = None
    ) -> list[Booking]:
        """Return bookings filtered by intent_ref and/or group id, oldest first."""
        self._gate()
        with self._lock:
            found = sorted(self._bookings.values(), key=lambda booking: booking.id)
        return [
            b
            for b in found
            if (intent_ref is None or b.intent_ref == intent_ref)
            and (group_id is None or b.group_id == int(group_id))
        ]

    def cancel_booking(self, intent_ref: str) -> bool:
        """Remove a booking by intent_ref and fire the cancellation hook; False if already gone."""
        self._gate()
        self._log("cancel_booking", intent_ref=intent_ref)
        if not intent_ref:
            raise invalid_param(
                "intent_ref", "rest_invalid_param", "An intent reference is needed."
            )
        with self._lock:
            booking = self._bookings.pop(intent_ref, None)
            if booking is not None:
                self.cancelled_bookings.append(booking)
        return booking is not None

    # --- BuddyPress -------------------------------------------------------------------------

    def join_group(self, bp_group_id: int, user_id: int, *, context: str = "view") -> None:
        """Add a member like BP REST v1 (context=edit keeps its same-second and demotion quirks)."""
        self._gate()
        self._log("join_group", bp_group_id=bp_group_id, user_id=user_id, context=context)
        now = int(self.clock())
        with self._lock:
            members = bp_members_of(self._bp_groups, bp_group_id)
            if int(user_id) not in self._users:
                message = "Invalid group member ID."
                raise UserNotFound(message, http_status=404, code="bp_rest_group_member_invalid_id")
            bp_add_member(members, int(user_id), context=context, now=now)

    def leave_group(self, bp_group_id: int, user_id: int) -> bool:
        """Remove a member like BP REST's DELETE: a second removal fails with a 500, as in BP."""
        self._gate()
        self._log("leave_group", bp_group_id=bp_group_id, user_id=user_id)
        with self._lock:
            members = bp_members_of(self._bp_groups, bp_group_id)
            if members.pop(int(user_id), None) is None:
                message = "Could not remove member from this group."
                code = "bp_rest_group_member_failed_to_remove"
                raise WPServerError(message, http_status=500, code=code)
        return True

    def group_members(self, bp_group_id: int, *, exclude_admins: bool = True) -> list[BPMember]:
        """Return the members of a BP group, newest first; admins hidden by default, as in BP."""
        self._gate()
        with self._lock:
            members = list(bp_members_of(self._bp_groups, bp_group_id).values())
        members.sort(key=lambda member: member.modified, reverse=True)
        return [m for m in members if not (exclude_admins and m.is_admin)]

    def member(self, bp_group_id: int, user_id: int) -> BPMember | None:
        """Return one membership row (no failure injection: for the sandbox's rendering)."""
        with self._lock:
            return self._bp_groups.get(int(bp_group_id), {}).get(int(user_id))

    # --- mail -------------------------------------------------------------------------------

    def send_email(
        self,
        *,
        template: str,
        intent_ref: str,
        user_id: int | None = None,
        to: str | None = None,
        data: dict[str, Any] | None = None,
        locale: str | None = None,
    ) -> bool:
        """Record a mail; idempotent per template+intent_ref (a repeat returns False)."""
        self._gate()
        self._log("send_email", template=template, intent_ref=intent_ref, user_id=user_id, to=to)
        user = self.user_record(user_id) if user_id is not None else None
        recipient = mail_recipient(template, to, user, user_id, self.admin.email)
        with self._lock:
            if (template, intent_ref) in self._emailed:
                return False
            self._emailed.add((template, intent_ref))
            mail = {"template": template, "intent_ref": intent_ref, "to": recipient}
            self.emails.append(
                {**mail, "user_id": user_id, "data": data or {}, "locale": locale or "en"}
            )
        return True
