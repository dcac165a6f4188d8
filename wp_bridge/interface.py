"""What the sidecar may ask of WordPress: the one Protocol the real client and the fake implement.

``wp_bridge.client.WordPressClient`` (REST over HTTP) and ``wp_bridge.fake.FakeWordPressClient``
(in memory) both subclass it, so mypy checks their signatures against it; the sidecar's container
holds a ``WordPress`` and knows nothing else. tests/wp_bridge/test_interface.py checks both at run
time as well (same methods, same parameters, isinstance).

Every call raises a ``wp_bridge.errors.WPBridgeError`` subclass when WordPress refuses or cannot be
reached; transient failures are retried inside the call first (``wp_bridge.retry``).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from wp_bridge.models import Booking, GroupInfo, PaymentDetails, RestIndex, WPUser


@runtime_checkable
class WordPress(Protocol):
    """The WordPress boundary: core users, the bridge plugin's routes and BuddyPress groups."""

    # --- discovery --------------------------------------------------------------------------

    def rest_index(self, max_age: float | None = None) -> RestIndex:
        """Return the namespaces and routes the site serves, cached for max_age s (read-only)."""
        ...

    # --- core users -------------------------------------------------------------------------

    def ping(self) -> WPUser:
        """Return the authenticated user, proving URL and credentials (read-only)."""
        ...

    def find_user_by_email(self, email: str) -> WPUser | None:
        """Return the user with exactly this email (case-insensitive), or None (read-only)."""
        ...

    def get_user(self, user_id: int) -> WPUser | None:
        """Return the user with this id, or None if WordPress has no such user (read-only)."""
        ...

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
        ...

    # --- bridge plugin ----------------------------------------------------------------------

    def get_group(self, group_id: int) -> GroupInfo:
        """Return the therapy group with seats and page URLs; raise GroupNotFound (read-only)."""
        ...

    def book_session(
        self,
        *,
        intent_ref: str,
        group_id: int,
        user_id: int,
        payment: PaymentDetails | None = None,
    ) -> Booking:
        """Take a seat for user_id, stored with what was paid; idempotent by intent_ref."""
        ...

    def find_booking(self, intent_ref: str) -> Booking | None:
        """Return the booking made for intent_ref, or None (read-only)."""
        ...

    def list_bookings(self, group_id: int | None = None) -> list[Booking]:
        """Return all bookings, or those of one group (read-only)."""
        ...

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
        """Ask WordPress to send a mail; idempotent per template+intent_ref (repeat -> False).

        ``data`` is the template's JSON object, passed through as it is (any JSON values);
        ``locale`` ("en" or "ar") is the buyer's language, the mail's language.
        """
        ...

    def login_url(self, grant_token: str) -> str:
        """Return the browser URL that exchanges a login grant for a WordPress session (no HTTP)."""
        ...

    # --- BuddyPress -------------------------------------------------------------------------

    def join_group(self, bp_group_id: int, user_id: int) -> None:
        """Make user_id a member of the BuddyPress group; idempotent."""
        ...

    def is_group_member(self, bp_group_id: int, user_id: int) -> bool:
        """Return True if user_id is a confirmed member, admins included (read-only)."""
        ...

    def list_group_members(self, bp_group_id: int) -> list[int]:
        """Return the user ids of all members, admins included, over all pages (read-only)."""
        ...

    # --- cancellation -----------------------------------------------------------------------

    def cancel_booking(self, intent_ref: str) -> bool:
        """Remove the booking made for intent_ref; idempotent (already gone -> False)."""
        ...

    def leave_group(self, bp_group_id: int, user_id: int) -> bool:
        """Remove user_id from the BuddyPress group; idempotent (not a member -> False)."""
        ...
