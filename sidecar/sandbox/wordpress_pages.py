"""What the sandbox WordPress renders: REST JSON shapes and minimal HTML pages.

The HTML pages are deliberately plain placeholders; the sandbox front-end work extends them.
The JSON shapes follow WordPress 6.1 (context=edit) and BuddyPress REST v1.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup, escape

from wp_bridge.fake_records import BPMember, UserRecord
from wp_bridge.models import INTENT_META_KEY, GroupInfo

STATUS_PLACEHOLDER = "You are being registered to your selected group…"


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def user_json(record: UserRecord, site_url: str) -> dict[str, Any]:
    """Return a core /wp/v2/users object in context=edit."""
    slug = record.username.lower().replace(" ", "-")
    return {
        "id": record.id,
        "username": record.username,
        "name": f"{record.first_name} {record.last_name}".strip() or record.username,
        "first_name": record.first_name,
        "last_name": record.last_name,
        "email": record.email,
        "url": "",
        "description": "",
        "link": f"{site_url}/author/{slug}/",
        "locale": "en_US",
        "nickname": record.username,
        "slug": slug,
        "roles": list(record.roles),
        "registered_date": _iso(record.registered) + "+00:00",
        "capabilities": {role: True for role in record.roles},
        "extra_capabilities": {role: True for role in record.roles},
        "avatar_urls": {},
        "meta": {INTENT_META_KEY: record.intent_ref or ""},
        "_links": {"self": [{"href": f"{site_url}/?rest_route=/wp/v2/users/{record.id}"}]},
    }


def member_json(record: UserRecord, member: BPMember, bp_group_id: int) -> dict[str, Any]:
    """Return a BuddyPress v1 group-member object."""
    return {
        "id": record.id,
        "name": f"{record.first_name} {record.last_name}".strip() or record.username,
        "user_login": record.username,
        "member_types": [],
        "roles": list(record.roles),
        "group": bp_group_id,
        "is_mod": False,
        "is_admin": member.is_admin,
        "is_banned": False,
        "is_confirmed": True,
        "date_modified": _iso(member.modified),
        "date_modified_gmt": _iso(member.modified),
        "avatar_urls": {},
        "_links": {},
    }


def error_json(code: str, message: str, status: int, data: dict[str, Any] | None) -> dict[str, Any]:
    """Return WordPress's error shape; data None reproduces a status-less WP_Error (a 500)."""
    return {
        "code": code,
        "message": message,
        "data": None if data is None else {**data, "status": status},
    }


def page(title: str, body: Markup | str) -> str:
    """Wrap a body in a minimal HTML document."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head><body>"
        f"<h1>{escape(title)}</h1>{escape(body)}</body></html>"
    )


def home_page(groups: list[GroupInfo]) -> str:
    """List the therapy groups with links to their registration forms."""
    items = Markup("").join(
        Markup("<li><a href='{}'>{}</a> ({} {}, {}/{} seats taken)</li>").format(
            g.registration_url, g.name, f"{g.price:.2f}", g.currency, g.seats_taken, g.capacity
        )
        for g in groups
    )
    return page("Sandbox WordPress", Markup("<ul>{}</ul>").format(items))


def registration_page(
    *, action: str, form_token: str, group: GroupInfo | None, error: str | None, field: str | None
) -> str:
    """Render the checkout form that posts to the sidecar."""
    heading = Markup("<p>Unknown group.</p>")
    if group is not None:
        heading = Markup("<p class='group'>{} — {} {} ({} of {} seats left)</p>").format(
            group.name, f"{group.price:.2f}", group.currency, group.seats_left, group.capacity
        )
    notice = Markup("")
    if error:
        notice = Markup("<p class='error' role='alert'>Error: {} (field: {})</p>").format(
            error, field or "-"
        )
    inputs = Markup("").join(
        Markup("<label>{} <input name='{}' type='{}'{}></label><br>").format(
            label, name, kind, Markup(" required") if required else ""
        )
        for label, name, kind, required in (
            ("First name", "first_name", "text", True),
            ("Last name", "last_name", "text", True),
            ("Email", "email", "email", True),
            ("Phone", "phone", "tel", False),
            ("Password (optional)", "password", "password", False),
        )
    )
    form = Markup(
        "<form method='post' action='{}'>"
        "<input type='hidden' name='form_token' value='{}'>"
        "<input type='hidden' name='group_id' value='{}'>{}"
        "<button type='submit'>Pay and register</button></form>"
    ).format(action, form_token, group.id if group else "", inputs)
    return page("Therapy group registration", heading + notice + form)


def status_page(ref: str) -> str:
    """Render the placeholder page the buyer waits on after paying."""
    body = Markup("<p class='status' data-intent='{}'>{}</p>").format(ref, STATUS_PLACEHOLDER)
    return page("Registration status", body)


def thank_you_page(email: str | None) -> str:
    """Render the thank-you page, saying who is logged in."""
    text = f"Logged in as {email}" if email else "Not logged in"
    return page("Thank you", Markup("<p class='who'>{}</p>").format(text))


def login_refused_page(reason: str) -> str:
    """Render the 403 page of a login link that cannot be used."""
    return page("Login link refused", Markup("<p>{}</p>").format(reason))
