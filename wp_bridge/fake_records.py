"""Stored rows and WordPress's input rules for the in-memory WordPress (wp_bridge.fake)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from wp_bridge.errors import WPBadRequest
from wp_bridge.models import WPUser

EMAIL_TEMPLATES = frozenset({"new_user", "booking_confirmed", "refunded", "alert"})
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


def hash_password(password: str) -> str:
    """Return a salted hash; the fake never keeps plain passwords."""
    salt = secrets.token_hex(8)
    return f"{salt}${hashlib.sha256(f'{salt}:{password}'.encode()).hexdigest()}"
