"""The real form's "try again after" time is in the site's timezone (Settings > General).

The sidecar's seat count reaches the form through a 15-second transient; the test writes that
transient itself (all places being paid for, the first hold ending in ten minutes) so that the form
needs no running sidecar, and sets the site's timezone_string to Asia/Riyadh for the one test.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import phpserialize
import pytest

from tests.realwp.helpers import TIMEOUT, WPSite

pytestmark = pytest.mark.realwp
FORM_PAGE = "/therapy-registration/"


def set_option(wp: WPSite, name: str, value: str | None) -> None:
    """Write an option (None: remove it)."""
    table = f"{wp.prefix}options"
    wp.query(f"DELETE FROM {table} WHERE option_name = %s", (name,))
    if value is not None:
        wp.query(
            f"INSERT INTO {table} (option_name, option_value, autoload) VALUES (%s, %s, 'no')",
            (name, value),
        )


@pytest.fixture
def riyadh_site(wp: WPSite) -> Iterator[None]:
    """The site's timezone set to Asia/Riyadh for one test, then put back."""
    query = f"SELECT option_value FROM {wp.prefix}options WHERE option_name = 'timezone_string'"
    rows = wp.query(query)
    before = str(rows[0][0]) if rows else None
    set_option(wp, "timezone_string", "Asia/Riyadh")
    try:
        yield
    finally:
        set_option(wp, "timezone_string", before)


@pytest.fixture
def all_places_being_paid_for(wp: WPSite) -> Iterator[float]:
    """The form's cached seat count for the group: none left, two held, the first ends soon."""
    release = time.time() + 600
    seats = {"capacity": 2, "left": 0, "held_now": 2, "next_release_at": int(release)}
    name = f"therapy_sidecar_seats_{wp.group_id()}"
    set_option(wp, f"_transient_timeout_{name}", str(int(time.time()) + 300))
    set_option(wp, f"_transient_{name}", phpserialize.dumps(seats).decode("utf-8"))
    try:
        yield float(int(release))
    finally:
        set_option(wp, f"_transient_{name}", None)
        set_option(wp, f"_transient_timeout_{name}", None)


def test_realwp_form_try_again_after_is_in_the_sites_timezone(
    wp: WPSite, riyadh_site: None, all_places_being_paid_for: float
) -> None:
    response = wp.session.get(f"{wp.base_url}{FORM_PAGE}", timeout=TIMEOUT)
    assert response.status_code == 200
    minute = math.ceil(all_places_being_paid_for / 60) * 60  # rounded up: not before
    riyadh = datetime.fromtimestamp(minute, ZoneInfo("Asia/Riyadh")).strftime("%H:%M")
    utc = datetime.fromtimestamp(minute, UTC).strftime("%H:%M")
    assert f"All places are being paid for right now; try again after {riyadh}." in response.text
    assert f"try again after {utc}." not in response.text
