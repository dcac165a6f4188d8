"""Plain values returned by the WordPress clients, and their parsing from REST JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

INTENT_META_KEY = "therapy_sidecar_intent"


@dataclass(frozen=True)
class WPUser:
    """A WordPress user as seen with context=edit."""

    id: int
    email: str
    username: str
    intent_ref: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WPUser:
        """Build from a core /wp/v2/users object."""
        meta = data.get("meta")
        # WordPress sends "meta": [] (a PHP empty array) when no meta key is registered.
        intent = meta.get(INTENT_META_KEY) if isinstance(meta, dict) else None
        return cls(
            id=int(data["id"]),
            email=str(data.get("email") or ""),
            username=str(data.get("username") or ""),
            intent_ref=str(intent) if intent else None,
        )


@dataclass(frozen=True)
class GroupSchedule:
    """When and where a group's session takes place (optional on a group)."""

    starts_at: datetime  # aware, in ``timezone``
    timezone: str  # IANA name, e.g. "Asia/Riyadh"
    duration_minutes: int
    location: str

    @property
    def ends_at(self) -> datetime:
        """Return the end of the session."""
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @classmethod
    def from_json(cls, data: Any) -> GroupSchedule | None:
        """Build from the bridge's "schedule" object; None when absent (a group without one)."""
        if not data:
            return None
        zone = str(data.get("timezone") or "UTC")
        starts = datetime.fromisoformat(str(data["starts_at"]))
        try:
            tz: tzinfo = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            # A site set to a manual UTC offset says "+03:00": keep the start's own offset.
            if starts.tzinfo is None:
                raise ValueError("a schedule needs a timezone or an offset") from None
            tz = starts.tzinfo
        starts = starts.replace(tzinfo=tz) if starts.tzinfo is None else starts.astimezone(tz)
        minutes = int(data.get("duration_minutes") or 60)
        if minutes <= 0:
            raise ValueError("duration_minutes must be positive")
        return cls(starts, zone, minutes, str(data.get("location") or ""))

    def to_json(self) -> dict[str, Any]:
        """Return the bridge JSON shape (starts_at ISO 8601 with its offset)."""
        return {
            "starts_at": self.starts_at.isoformat(),
            "timezone": self.timezone,
            "duration_minutes": self.duration_minutes,
            "location": self.location,
        }


@dataclass(frozen=True)
class GroupInfo:
    """A bookable therapy group as described by the bridge plugin."""

    id: int
    name: str
    price: Decimal
    currency: str
    capacity: int
    seats_taken: int
    open: bool
    bp_group_id: int
    registration_url: str
    status_url: str
    thank_you_url: str
    schedule: GroupSchedule | None = None

    @property
    def seats_left(self) -> int:
        """Return the number of free seats (never negative)."""
        return max(self.capacity - self.seats_taken, 0)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroupInfo:
        """Build from a bridge GET /groups/<id> answer."""
        return cls(
            id=int(data["id"]),
            name=str(data["name"]),
            # str() first: a JSON number would otherwise carry binary float noise into Decimal.
            price=Decimal(str(data["price"])),
            currency=str(data["currency"]),
            capacity=int(data["capacity"]),
            seats_taken=int(data["seats_taken"]),
            open=bool(data["open"]),
            bp_group_id=int(data["bp_group_id"]),
            registration_url=str(data["registration_url"]),
            status_url=str(data["status_url"]),
            thank_you_url=str(data["thank_you_url"]),
            schedule=GroupSchedule.from_json(data.get("schedule")),
        )

    def to_json(self) -> dict[str, Any]:
        """Return the bridge JSON shape (price as a two-decimal string)."""
        return {
            "id": self.id,
            "name": self.name,
            "price": f"{self.price:.2f}",
            "currency": self.currency,
            "capacity": self.capacity,
            "seats_taken": self.seats_taken,
            "open": self.open,
            "bp_group_id": self.bp_group_id,
            "registration_url": self.registration_url,
            "status_url": self.status_url,
            "thank_you_url": self.thank_you_url,
            "schedule": self.schedule.to_json() if self.schedule else None,
        }


@dataclass(frozen=True)
class PaymentDetails:
    """What the buyer paid, stored with the booking for the receipt (shortcode and e-mail)."""

    amount: str  # major units as the bridge prints them, e.g. "150.00"
    currency: str
    tran_ref: str
    paid_at: str  # ISO 8601 UTC
    # The sidecar's signed .ics address; WordPress shows it only when the group has a schedule.
    calendar_url: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PaymentDetails | None:
        """Build from a booking object's payment fields; None when the booking has none."""
        if not data.get("tran_ref"):
            return None
        return cls(
            amount=str(data.get("amount") or ""),
            currency=str(data.get("currency") or ""),
            tran_ref=str(data["tran_ref"]),
            paid_at=str(data.get("paid_at") or ""),
            calendar_url=str(data.get("calendar_url") or ""),
        )

    def to_json(self) -> dict[str, Any]:
        """Return the flat fields of the booking object and of POST /bookings."""
        return {
            "amount": self.amount,
            "currency": self.currency,
            "tran_ref": self.tran_ref,
            "paid_at": self.paid_at,
            "calendar_url": self.calendar_url,
        }


@dataclass(frozen=True)
class Booking:
    """A seat in a therapy group, keyed by the sidecar's intent reference."""

    id: int
    intent_ref: str
    group_id: int
    user_id: int
    created: bool
    payment: PaymentDetails | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Booking:
        """Build from a bridge booking object."""
        return cls(
            id=int(data["id"]),
            intent_ref=str(data["intent_ref"]),
            group_id=int(data["group_id"]),
            user_id=int(data["user_id"]),
            created=bool(data.get("created", False)),
            payment=PaymentDetails.from_json(data),
        )

    def to_json(self) -> dict[str, Any]:
        """Return the bridge JSON shape."""
        return {
            "id": self.id,
            "intent_ref": self.intent_ref,
            "group_id": self.group_id,
            "user_id": self.user_id,
            "created": self.created,
            **(self.payment.to_json() if self.payment else {}),
        }


BRIDGE_NAMESPACE = "therapy-sidecar/v1"
# What fulfilment calls on the bridge; "(?P<...>)" parts of a route are matched by their prefix.
BRIDGE_ROUTES = ("/groups/(?P<", "/bookings", "/emails", "/login")
# BuddyPress <= 14 (or 15 with the BP-REST plugin) serves v1; BuddyPress 15 alone serves v2.
BUDDYPRESS_VERSIONS = ("v1", "v2")
_BP_MEMBERS = re.compile(r"/buddypress/(v\d+)/groups/\(\?P<\w+>[^/]+\)/members")


@dataclass(frozen=True)
class RestIndex:
    """The namespaces and routes a site's REST index (``/?rest_route=/``) lists."""

    namespaces: frozenset[str]
    routes: frozenset[str]

    @classmethod
    def from_json(cls, data: Any) -> RestIndex:
        """Build from the REST index object (``namespaces`` list, ``routes`` map)."""
        namespaces, routes = data["namespaces"], data.get("routes") or {}
        if not isinstance(namespaces, list) or not isinstance(routes, dict):
            raise TypeError("namespaces must be a list and routes a map")
        return cls(frozenset(map(str, namespaces)), frozenset(map(str, routes)))

    @property
    def buddypress_version(self) -> str | None:
        """Return the BuddyPress REST version serving group members (v1 first), or None."""
        served = {m.group(1) for m in map(_BP_MEMBERS.fullmatch, self.routes) if m}
        return next((v for v in BUDDYPRESS_VERSIONS if v in served), None)

    def missing(self) -> list[str]:
        """Say, in words, what fulfilment needs that the site does not serve (empty: all there)."""
        return [p for p in (self.bridge_problem(), self.buddypress_problem()) if p is not None]

    def bridge_problem(self) -> str | None:
        """Say what of the bridge plugin's routes is missing, or None when all are served."""
        if BRIDGE_NAMESPACE not in self.namespaces:
            return (
                f"the bridge plugin's REST namespace {BRIDGE_NAMESPACE} is missing: "
                "is the therapy-sidecar-bridge mu-plugin installed?"
            )
        prefix = f"/{BRIDGE_NAMESPACE}"
        gone = [
            prefix + route
            for route in BRIDGE_ROUTES
            if not any(served.startswith(prefix + route) for served in self.routes)
        ]
        return f"the bridge plugin does not serve {', '.join(gone)}: update it" if gone else None

    def buddypress_problem(self) -> str | None:
        """Say what of BuddyPress's group-membership routes is missing, or None when served."""
        if self.buddypress_version is not None:
            return None
        present = [f"buddypress/{v}" for v in BUDDYPRESS_VERSIONS]
        present = [namespace for namespace in present if namespace in self.namespaces]
        if present:
            return (
                f"BuddyPress's groups routes (/{present[0]}/groups/<id>/members) are missing: "
                "is the BuddyPress Groups component active?"
            )
        return (
            "BuddyPress's REST API (buddypress/v1 or buddypress/v2) is missing: is BuddyPress "
            "active (BuddyPress 15 serves v2; v1 needs the BP-REST plugin)?"
        )
