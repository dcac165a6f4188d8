"""Everything the sidecar needs to talk to WordPress: interface, client, fake, errors, values, tokens."""

from wp_bridge.client import WordPressClient
from wp_bridge.errors import (
    AlreadyBooked,
    GroupClosed,
    GroupFull,
    GroupNotFound,
    UserAlreadyExists,
    UserNotFound,
    WPAuthError,
    WPBadRequest,
    WPBridgeError,
    WPConflict,
    WPConnectionError,
    WPNotFound,
    WPRateLimited,
    WPServerError,
)
from wp_bridge.fake import FakeWordPress, FakeWordPressClient
from wp_bridge.interface import WordPress
from wp_bridge.models import Booking, GroupInfo, WPUser
from wp_bridge.tokens import InvalidToken

__all__ = [
    "AlreadyBooked",
    "Booking",
    "FakeWordPress",
    "FakeWordPressClient",
    "GroupClosed",
    "GroupFull",
    "GroupInfo",
    "GroupNotFound",
    "InvalidToken",
    "UserAlreadyExists",
    "UserNotFound",
    "WPAuthError",
    "WPBadRequest",
    "WPBridgeError",
    "WPConflict",
    "WPConnectionError",
    "WPNotFound",
    "WPRateLimited",
    "WPServerError",
    "WPUser",
    "WordPress",
    "WordPressClient",
]
