"""The sandbox thank-you page's receipt: what the bridge's [therapy_sidecar_receipt] shows.

For the logged-in buyer, their latest booking (or the one of ?intent=REF, when it is theirs): group,
amount and currency, PayTabs reference, date of payment (the sandbox site runs on UTC), the session
and an "Add to calendar" link when the group has a schedule. Logged out with a booked ?intent=REF:
"You are registered" with the login and set-password links, nothing personal; otherwise nothing.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from markupsafe import Markup

from sidecar.domain import messages
from sidecar.sandbox.wordpress_i18n import _, visitor_locale
from wp_bridge.fake import FakeWordPress
from wp_bridge.fake.records import UserRecord
from wp_bridge.models import Booking, GroupInfo

LOGIN_FORM = "/wp-login.php"
# The sandbox site's date and time format (CLDR), its month names in the visitor's language.
DATE_FORMAT = "dd MMMM y HH:mm"


def _when(moment: datetime) -> str:
    """Return ``moment`` in the site's format, month names in the visitor's language."""
    return format_datetime(moment, DATE_FORMAT, locale=visitor_locale())


def receipt_box(fake: FakeWordPress, record: UserRecord | None, ref: str, here: str) -> Markup:
    """Return the receipt for ``record`` (or the logged-out sentence), or nothing."""
    bookings = fake.find_bookings(intent_ref=ref) if ref else []
    if record is None:
        return _logged_out(here) if bookings else Markup("")
    if not ref:
        bookings = [b for b in fake.find_bookings() if b.user_id == record.id][-1:]
    if not bookings or bookings[0].user_id != record.id:
        return Markup("")  # nothing, rather than someone else's receipt
    booking = bookings[0]
    group = next((g for g in fake.groups() if g.id == booking.group_id), None)
    return _receipt(booking, group)


def _receipt(booking: Booking, group: GroupInfo | None) -> Markup:
    name = group.name if group else str(booking.group_id)
    lines = [_(messages.RECEIPT_GROUP, group=name)]
    paid = booking.payment
    if paid is not None:
        lines.append(_(messages.RECEIPT_AMOUNT, amount=paid.amount, currency=paid.currency))
        lines.append(_(messages.RECEIPT_REFERENCE, tran_ref=paid.tran_ref))
        date = datetime.fromisoformat(paid.paid_at).astimezone(ZoneInfo("UTC"))
        lines.append(_(messages.RECEIPT_DATE, date=_when(date)))
    schedule = group.schedule if group else None
    if schedule is not None:
        when = _when(schedule.starts_at)
        where = f"{when} — {schedule.location}" if schedule.location else when
        lines.append(_(messages.RECEIPT_SESSION, when=where))
    items = Markup("").join(Markup("<li>{}</li>").format(line) for line in lines)
    box = Markup("<div class='therapy-sidecar-receipt'><h2>{}</h2><ul>{}</ul>").format(
        _(messages.RECEIPT_TITLE), items
    )
    if schedule is not None and paid is not None and paid.calendar_url.startswith("http"):
        box += Markup(
            "<p><a class='therapy-sidecar-receipt__calendar' href='{}' download>{}</a></p>"
        ).format(paid.calendar_url, _(messages.RECEIPT_ADD_TO_CALENDAR))
    return box + Markup("</div>")


def _logged_out(here: str) -> Markup:
    login = f"{LOGIN_FORM}?{urlencode({'redirect_to': here})}"
    password = f"{LOGIN_FORM}?{urlencode({'action': 'lostpassword'})}"
    return Markup(
        "<div class='therapy-sidecar-receipt therapy-sidecar-receipt--logged-out'>"
        "<div class='therapy-sidecar-notice therapy-sidecar-notice--info' role='status'><p>{}</p>"
        "</div><p class='therapy-sidecar-receipt__actions'><a class='therapy-sidecar-login' "
        "href='{}'>{}</a> · <a class='therapy-sidecar-lostpassword' href='{}'>{}</a></p></div>"
    ).format(
        _(messages.REGISTERED_LOG_IN),
        login,
        _(messages.REGISTERED_LOG_IN_LINK),
        password,
        _(messages.REGISTERED_SET_PASSWORD_LINK),
    )
