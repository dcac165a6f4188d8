"""``GET /therapy/groups/<id>/seats``: a group's places, for the registration form to show.

Public and read-only: counts only, nothing about who holds a place. The counts are those of
``sidecar.payments.seats`` (our seat-holding intents plus WordPress bookings none of them made),
read without the group lock: a display, never a decision (checkout counts again under the lock).
An answer is kept for a few seconds per group so that a busy form costs WordPress little.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Blueprint, current_app, jsonify
from werkzeug.wrappers import Response as BaseResponse

from sidecar.core.errors import WordPressUnavailable
from sidecar.domain import messages
from sidecar.payments.seats import count_seats, iso_utc
from sidecar.store import repository as repo
from sidecar.web.context import services
from sidecar.web.responses import error_json
from wp_bridge import errors as wp_errors

log = logging.getLogger(__name__)
bp = Blueprint("seats", __name__)

CACHE_SECONDS = 5.0
MAX_GROUP_ID = 2**31 - 1
_cache_lock = threading.Lock()


@bp.get("/therapy/groups/<int:group_id>/seats")
def seats(group_id: int) -> BaseResponse:
    """Return the group's capacity, places taken, held now, left, and when the first hold ends."""
    if not 0 < group_id <= MAX_GROUP_ID:
        return error_json(404, "group_not_found", messages.FORM_ERRORS["group_not_found"])
    found = group_seats(group_id)
    if found is None:
        return error_json(404, "group_not_found", messages.FORM_ERRORS["group_not_found"])
    response = jsonify(found)
    response.headers["Cache-Control"] = f"public, max-age={int(CACHE_SECONDS)}"
    return response


def group_seats(group_id: int) -> dict[str, Any] | None:
    """Return the group's seats answer (from the short cache when fresh), None for no such group."""
    svc = services()
    now = svc.clock()
    cache: dict[int, tuple[float, dict[str, Any]]] = current_app.extensions.setdefault(
        "sidecar_seats_cache", {}
    )
    with _cache_lock:
        cached = cache.get(group_id)
    if cached is not None and 0 <= now - cached[0] < CACHE_SECONDS:
        return cached[1]
    try:
        group = svc.wordpress.get_group(group_id)
        bookings = svc.wordpress.list_bookings(group_id)
    except wp_errors.GroupNotFound:
        return None
    except wp_errors.WPBridgeError as exc:
        log.warning("group seats unavailable: %s", type(exc).__name__)
        raise WordPressUnavailable(messages.GROUP_INFO_UNAVAILABLE) from exc
    with svc.db.transaction() as tx:
        holders = repo.list_seat_holders(tx, group_id)
    count = count_seats(holders, bookings, group.capacity, now)
    answer: dict[str, Any] = {
        "group_id": group.id,
        "capacity": count.capacity,
        "taken": count.taken,
        "held_now": count.held_now,
        "left": count.left,
        "next_release_at": (
            iso_utc(count.next_release_at) if count.next_release_at is not None else None
        ),
    }
    with _cache_lock:
        if len(cache) > 1000:
            cache.clear()
        cache[group_id] = (now, answer)
    return answer
