"""Stored rows and WordPress's input rules for the in-memory WordPress (wp_bridge.fake)."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from wp_bridge.errors import (
    GroupNotFound,
    UserAlreadyExists,
    UserNotFound,
    WPBadRequest,
    WPServerError,
)
from wp_bridge.models import GroupInfo, GroupSchedule, WPUser

EMAIL_TEMPLATES = frozenset({"new_user", "booking_confirmed", "refunded", "cancelled", "alert"})
# validate_username(): what sanitize_user(..., strict=true) leaves untouched.
_USERNAME = re.compile(r"^[A-Za-z0-9 _.@-]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class UserRecord:
    """A stored WordPress user (the password only as a salted hash)."""

    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    password_hash: str
    intent_ref: str | None
    roles: tuple[str, ...]
    registered: float

    def to_user(self) -> WPUser:
        """Return the public view of this user."""
        return WPUser(self.id, self.email, self.username, self.intent_ref)


@dataclass
class BPMember:
    """A BuddyPress group membership row."""

    user_id: int
    is_admin: bool
    modified: int


@dataclass
class GroupRecord:
    """A stored therapy group and the BuddyPress group it feeds."""

    id: int
    name: str
    price: Decimal
    currency: str
    capacity: int
    open: bool
    bp_group_id: int
    schedule: GroupSchedule | None = None

    def info(self, seats_taken: int, site_url: str) -> GroupInfo:
        """Return what the bridge's GET /groups/<id> says about this group."""
        return GroupInfo(
            id=self.id,
            name=self.name,
            price=self.price,
            currency=self.currency,
            capacity=self.capacity,
            seats_taken=seats_taken,
            open=self.open,
            bp_group_id=self.bp_group_id,
            registration_url=f"{site_url}/therapy-registration/?group={self.id}",
            status_url=f"{site_url}/therapy-registration-status/",
            thank_you_url=f"{site_url}/thank-you/",
            schedule=self.schedule,
        )


@dataclass(frozen=True)
class Call:
    """One write received by the fake (passwords are never logged)."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


def invalid_param(name: str, detail_code: str, message: str) -> WPBadRequest:
    """Return WordPress's 400 rest_invalid_param error for one field."""
    details = {name: {"code": detail_code, "message": message, "data": None}}
    return WPBadRequest(
        f"Invalid parameter(s): {name}",
        http_status=400,
        code="rest_invalid_param",
        data={"params": {name: message}, "details": details},
    )


def check_new_user(username: str | None, email: str | None, password: str | None) -> None:
    """Raise the error WordPress gives for invalid new-user input (400s, then too-long 500)."""
    if not _USERNAME.match(username or ""):
        raise invalid_param("username", "rest_user_invalid_username", "Invalid username.")
    if not _EMAIL.match(email or ""):
        raise invalid_param("email", "rest_invalid_email", "Invalid email address.")
    if not password or "\\" in password:
        message = "Passwords cannot be empty or contain a backslash."
        raise invalid_param("password", "rest_user_invalid_password", message)
    if len(username or "") > 60:
        message = "Username may not be longer than 60 characters."
        raise WPBadRequest(message, http_status=500, code="user_login_too_long")


def check_unique(users: Iterable[UserRecord], username: str, email: str) -> None:
    """Raise WordPress's status-less 500 for a taken login (checked first) or email."""
    existing = list(users)
    # MySQL's default collation makes both comparisons case-insensitive.
    if any(u.username.lower() == username.lower() for u in existing):
        message = "Sorry, that username already exists!"
        raise UserAlreadyExists(message, http_status=500, code="existing_user_login")
    if any(u.email.lower() == email.lower() for u in existing):
        message = "Sorry, that email address is already used!"
        raise UserAlreadyExists(message, http_status=500, code="existing_user_email")


def hash_password(password: str) -> str:
    """Return a salted hash; the fake never keeps plain passwords."""
    salt = secrets.token_hex(8)
    return f"{salt}${hashlib.sha256(f'{salt}:{password}'.encode()).hexdigest()}"


def mail_recipient(
    template: str, to: str | None, user: UserRecord | None, user_id: int | None, admin_email: str
) -> str:
    """Return who gets a bridge mail: ``to``, else the user, else the admin (alerts only)."""
    if template not in EMAIL_TEMPLATES:
        raise invalid_param("template", "rest_not_in_enum", "Unknown template.")
    if user_id is not None and user is None:
        raise UserNotFound("Unknown user.", http_status=404, code="therapy_user_not_found")
    fallback = admin_email if template == "alert" else None
    recipient = to or (user.email if user else None) or fallback
    if not recipient:
        raise invalid_param("to", "rest_invalid_param", "No recipient.")
    return recipient


def bp_members_of(groups: dict[int, dict[int, BPMember]], bp_group_id: int) -> dict[int, BPMember]:
    """Return a BuddyPress group's membership rows; raise 404 bp_rest_group_invalid_id."""
    members = groups.get(int(bp_group_id))
    if members is None:
        raise GroupNotFound("Invalid group ID.", http_status=404, code="bp_rest_group_invalid_id")
    return members


def bp_add_member(members: dict[int, BPMember], user_id: int, *, context: str, now: int) -> None:
    """Add a member as BP REST v1 does; context=view is a no-op for an existing member.

    context=edit re-saves the row: it demotes a group admin, and fails with a 500 when nothing
    changed because the previous save happened in the same second.
    """
    member = members.get(user_id)
    if member is None:
        members[user_id] = BPMember(user_id, is_admin=False, modified=now)
    elif context != "view":
        if member.modified == now:
            message = "Could not add member to the group."
            code = "bp_rest_group_member_failed_to_join"
            raise WPServerError(message, http_status=500, code=code)
        member.is_admin, member.modified = False, now
