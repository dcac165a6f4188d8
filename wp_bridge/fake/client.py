"""``FakeWordPressClient``: the ``WordPress`` interface over an in-memory ``FakeWordPress``.

It has exactly the public methods of ``WordPressClient``, raises the same errors, and applies the
same retry policy (without sleeping).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from wp_bridge import retry
from wp_bridge.errors import WPBridgeError
from wp_bridge.fake.wordpress import FakeWordPress
from wp_bridge.interface import WordPress
from wp_bridge.models import Booking, GroupInfo, PaymentDetails, RestIndex, WPUser

T = TypeVar("T")


class FakeWordPressClient(WordPress):
    """Stand-in for WordPressClient backed by a FakeWordPress, with the same retry policy."""

    def __init__(self, fake: FakeWordPress, *, max_attempts: int = 4) -> None:
        self.fake = fake
        self.base_url = fake.site_url
        self.user = fake.admin.username
        self.max_attempts = max(1, max_attempts)

    def __repr__(self) -> str:
        return f"FakeWordPressClient(base_url={self.base_url!r}, user={self.user!r})"

    def _call(self, operation: Callable[[], T]) -> T:
        """Run an operation, retrying transient failures at once (the fake never sleeps)."""
        for attempt in itertools.count(1):
            try:
                return operation()
            except WPBridgeError as error:
                if not retry.should_retry(
                    status=error.http_status,
                    error=error,
                    attempt=attempt,
                    max_attempts=self.max_attempts,
                    code=error.code,
                ):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover - count() never ends

    def rest_index(self, max_age: float | None = None) -> RestIndex:
        """Return the namespaces and routes the site serves (the fake has nothing to cache)."""
        return RestIndex.from_json(self._call(self.fake.rest_index))

    def ping(self) -> WPUser:
        """Return the authenticated user, proving URL and credentials (read-only)."""
        return self._call(self.fake.me)

    def find_user_by_email(self, email: str) -> WPUser | None:
        """Return the user with exactly this email (case-insensitive), or None (read-only)."""
        wanted = email.strip().lower()
        if not wanted:
            return None
        users = self._call(lambda: self.fake.search_users(wanted))
        return next((user for user in users if user.email.lower() == wanted), None)

    def get_user(self, user_id: int) -> WPUser | None:
        """Return the user with this id, or None if WordPress has no such user (read-only)."""
        return self._call(lambda: self.fake.get_user(user_id))

    def create_user(
        self,
        *,
        username: str,
        email: str,
        password: str,
        first_name: str,
        last_name: str,
        intent_ref: str,
    ) -> WPUser:
        """Create a subscriber stamped with intent_ref; raise UserAlreadyExists if taken."""
        return self._call(
            lambda: self.fake.create_user(
                username=username,
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
                intent_ref=intent_ref,
            )
        )

    def get_group(self, group_id: int) -> GroupInfo:
        """Return the therapy group with seats and page URLs; raise GroupNotFound (read-only)."""
        return self._call(lambda: self.fake.get_group(group_id))

    def book_session(
        self,
        *,
        intent_ref: str,
        group_id: int,
        user_id: int,
        payment: PaymentDetails | None = None,
    ) -> Booking:
        """Take a seat for user_id, stored with what was paid; idempotent by intent_ref."""
        return self._call(
            lambda: self.fake.book_session(
                intent_ref=intent_ref, group_id=group_id, user_id=user_id, payment=payment
            )
        )

    def find_booking(self, intent_ref: str) -> Booking | None:
        """Return the booking made for intent_ref, or None (read-only)."""
        found = self._call(lambda: self.fake.find_bookings(intent_ref=intent_ref))
        return found[0] if found else None

    def list_bookings(self, group_id: int | None = None) -> list[Booking]:
        """Return all bookings, or those of one group (read-only)."""
        return self._call(lambda: self.fake.find_bookings(group_id=group_id))

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
        """Ask WordPress to send a mail; idempotent per template+intent_ref (repeat -> False)."""
        return self._call(
            lambda: self.fake.send_email(
                template=template,
                intent_ref=intent_ref,
                user_id=user_id,
                to=to,
                data=data,
                locale=locale,
            )
        )

    def login_url(self, grant_token: str) -> str:
        """Return the browser URL that exchanges a login grant for a WordPress session (no HTTP)."""
        route = "/?rest_route=/therapy-sidecar/v1/login"
        return f"{self.base_url}{route}&grant={quote(grant_token, safe='')}"

    def join_group(self, bp_group_id: int, user_id: int) -> None:
        """Make user_id a member of the BuddyPress group; idempotent (context=view)."""
        self._call(lambda: self.fake.join_group(bp_group_id, user_id, context="view"))

    def is_group_member(self, bp_group_id: int, user_id: int) -> bool:
        """Return True if user_id is a confirmed member, admins included (read-only)."""
        return int(user_id) in self.list_group_members(bp_group_id)

    def list_group_members(self, bp_group_id: int) -> list[int]:
        """Return the user ids of all members, admins included, over all pages (read-only)."""
        members = self._call(lambda: self.fake.group_members(bp_group_id, exclude_admins=False))
        return [member.user_id for member in members]

    def cancel_booking(self, intent_ref: str) -> bool:
        """Remove the booking made for intent_ref; idempotent (already gone -> False)."""
        return self._call(lambda: self.fake.cancel_booking(intent_ref))

    def leave_group(self, bp_group_id: int, user_id: int) -> bool:
        """Remove user_id from the BuddyPress group; idempotent (not a member -> False)."""
        if not self.is_group_member(bp_group_id, user_id):
            return False
        return self._call(lambda: self.fake.leave_group(bp_group_id, user_id))
