"""Every sentence a buyer reads on the Python side, in one place: pure data, no I/O.

Each sentence is whole (never glued from parts), keyed by a stable id or by the error code the
sidecar sends, so that it can later be wrapped for translation where it stands. Placeholders are
named ``str.format`` fields (``{label}``, ``{minutes}``, ``{limit}``).

Every sentence is an English msgid marked with ``N_`` (which returns it unchanged) so that Babel
extracts it into sidecar/translations (``python scripts/i18n.py extract``); it is translated where
it is shown, with ``sidecar.core.i18n.translate(messages.X, locale)``.

The bridge plugin (wp_bridge/wordpress/therapy-sidecar-bridge/form.php and status.php) holds its own copies
of the form's error sentences and of the status page's texts; tests/domain/test_messages.py checks
that they say the same as ``FORM_ERRORS``, ``FIELD_ERRORS``, ``ADDRESS_ERRORS``, ``STATUS_TEXTS`` and
``PAYMENT_FAILED``. The sandbox WordPress reads them from here.
"""

from __future__ import annotations

from typing import Final

from sidecar.core.i18n import DEFAULT_LOCALE, translate


def N_(text: str) -> str:  # the name gettext tools look for
    """Mark ``text`` as a sentence to translate (Babel extracts it); return it unchanged."""
    return text


# --- The registration status page, by the intent's state (``sidecar.domain.states.State``) ------

STATE_MESSAGES: Final[dict[str, str]] = {
    "awaiting_payment": N_("We are waiting for PayTabs to confirm your payment…"),
    "paid": N_("Payment received. You are being registered to your selected group…"),
    "fulfilling": N_("Payment received. You are being registered to your selected group…"),
    "fulfilled": N_("You are registered. Taking you to your group…"),
    "payment_failed": (
        N_(
            "Your payment did not go through and you have not been charged. "
            "You can try again from the registration page."
        )
    ),
    "expired": (
        N_(
            "Your seat reservation expired before the payment was completed. "
            "You can start again from the registration page."
        )
    ),
    "refunding": (
        N_(
            "Your payment was received but we could not register you (the group may be full). "
            "Your money is being refunded."
        )
    ),
    "refunded": (
        N_(
            "Your payment has been refunded in full because we could not register you. "
            "We are sorry; you will also receive an email."
        )
    ),
    "needs_attention": (
        N_(
            "Your payment was received. Your registration is taking longer than usual; "
            "our team has been alerted and will complete it."
        )
    ),
}

# A registration cancelled by the centre (sidecar cancel, the payments panel): said instead of the
# refund sentences above, which explain a registration that could not be made.
CANCELLED_MESSAGES: Final[dict[str, str]] = {
    "refunding": N_("Your registration has been cancelled. Your refund is on its way."),
    "refunded": N_(
        "Your registration has been cancelled and your payment refunded. "
        "You will also receive an email."
    ),
}

# --- The status page's own texts (the plugin's shortcode_status and the sidecar's no-JS page) ---

STATUS_PLACEHOLDER: Final = N_("You are being registered to your selected group…")
STATUS_DONE_TITLE: Final = N_("Your registration")
BACK_TO_REGISTRATION: Final = N_("Back to the registration page")
NO_REGISTRATION_ON_PAGE: Final = N_("We could not find a registration to follow on this page.")
# What the status page's script says, by the key it uses (c.texts.notFound, ...).
STATUS_TEXTS: Final[dict[str, str]] = {
    "notFound": N_("We could not find this registration. If you have paid, please contact us."),
    "retrying": N_("Still working on your registration…"),
    "timeout": (
        N_(
            "This is taking longer than expected. If you have paid, we will e-mail you "
            "as soon as your registration is complete."
        )
    ),
}
# The status page after PayTabs sent the buyer back with ?code=CODE (a payment that failed).
PAYMENT_FAILED: Final[dict[str, str]] = {
    "payment_declined": N_("Your payment was declined and you have not been charged."),
    "payment_cancelled": N_("The payment was cancelled and you have not been charged."),
    "payment_error": N_("The payment could not be completed."),
}

# --- The registration form: the sentence for ?error=CODE&field=FIELD ---------------------------

# The form fields' labels, as error sentences name them.
FIELD_LABELS: Final[dict[str, str]] = {
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "email": N_("E-mail address"),
    "phone": N_("Phone number"),
    "street1": N_("Street address"),
    "city": N_("City"),
    "country": N_("Country"),
    "password": N_("Password"),
    "group_id": N_("Group"),
    "form_token": N_("Form"),
    "idempotency_key": N_("Form"),
}
# Codes whose sentence names the field (``{label}``), when the field has a label.
FIELD_ERRORS: Final[dict[str, str]] = {
    "missing_field": N_("Please fill in the field “{label}”."),
    "field_too_long": N_("The field “{label}” is too long."),
    "invalid_characters": N_("The field “{label}” contains characters we cannot accept."),
}
# ``invalid_address`` says which part of the address, by field.
ADDRESS_ERRORS: Final[dict[str, str]] = {
    "street1": N_("Please enter your street address (4 to 128 characters)."),
    "city": N_("Please enter your city (2 to 128 characters)."),
}
_UNAVAILABLE = N_("Online payment is temporarily unavailable. Please try again in a few minutes.")
_FORM_REUSED = N_("This form was already used or is damaged. Please reload the page and try again.")
# Every code's sentence when no field (or no known field) is named.
FORM_ERRORS: Final[dict[str, str]] = {
    "missing_field": N_("Please fill in all required fields."),
    "field_too_long": N_("One of the fields is too long."),
    "invalid_characters": N_("One of the fields contains characters we cannot accept."),
    "invalid_address": N_("Please check your address."),
    "invalid_group": N_("The selected group is not valid. Please reload the page."),
    "invalid_form": _FORM_REUSED,
    "idempotency_conflict": _FORM_REUSED,
    "invalid_email": N_("Please enter a valid e-mail address."),
    "invalid_phone": N_("Please enter a valid phone number, including the country code."),
    "invalid_country": N_("Please choose your country from the list."),
    "invalid_name": (
        N_("Please enter your real first and last name (letters, at most 50 characters each).")
    ),
    "invalid_password": (
        N_(
            "Please choose a password of 8 to 128 characters without a backslash, "
            "or leave the field empty to set one later by e-mail."
        )
    ),
    "form_expired": N_("This form has expired. Please fill it in again."),
    "account_exists": (
        N_(
            "An account with this e-mail address already exists. "
            "Please log in first, then register for the group."
        )
    ),
    "already_registered": N_("You are already registered for this group."),
    "registration_in_progress": (
        N_(
            "You already started a registration for this group. Finish paying in the window where "
            "you started it, or try again in about half an hour."
        )
    ),
    "group_full": N_("Sorry, this group is full."),
    "group_closed": N_("Registration for this group is closed."),
    "group_not_found": N_("This group could not be found."),
    "rate_limited": N_("Too many attempts. Please wait a minute and try again."),
    "credentials_unavailable": _UNAVAILABLE,
    "wordpress_unavailable": _UNAVAILABLE,
    "payment_provider_unavailable": _UNAVAILABLE,
    "payment_declined": (
        N_(
            "Your payment was declined and you have not been charged. "
            "Please try again or use another card."
        )
    ),
    "payment_cancelled": N_("The payment was cancelled and you have not been charged."),
    "payment_error": N_("The payment could not be completed. Please try again."),
    # "Try again" after the place held for a declined payment was released: the form, refilled.
    "retry_hold_ended": (
        N_(
            "The place held for you was released because the payment did not go through in "
            "time. Your details are filled in: please check them and continue to payment again."
        )
    ),
}
# Under the "account_exists" sentence: links to the login form and to the password reset, both
# coming back to the form with the same group.
KNOWN_EMAIL_LOG_IN: Final = N_("Log in")
KNOWN_EMAIL_RESET_LINK: Final = N_("Forgot your password?")
# Any other code.
FORM_ERROR_FALLBACK: Final = N_(
    "Something went wrong with your registration. Please check the form and try again."
)
FORM_NOT_AVAILABLE: Final = N_(
    "Online registration is not available right now. Please try again later."
)

# Where the sidecar knows more than the form can say, its answer is more precise than the form's
# sentence for the same code (the form shows FORM_ERRORS; these reach scripts asking for JSON).
NAME_TOO_SHORT: Final = N_("Your full name must be at least 4 characters.")
EMAIL_TOO_LONG: Final = N_("Your e-mail address is too long: at most {limit} characters.")
GROUP_NOT_BOOKABLE_ONLINE: Final = N_("This group cannot be booked online.")
REGISTRATION_IN_PROGRESS_MINUTES: Final = N_(
    "You already started a registration for this group. Finish paying in the window where "
    "you started it, or try again in about {minutes} minutes."
)


def form_error(code: str, field: str = "", locale: str = DEFAULT_LOCALE) -> str:
    """Return the sentence the form shows for ``?error=code&field=field`` (the plugin's choice)."""
    label = FIELD_LABELS.get(field, "")
    if code in FIELD_ERRORS and label:
        return translate(FIELD_ERRORS[code], locale, label=translate(label, locale))
    if code == "invalid_address" and field in ADDRESS_ERRORS:
        return translate(ADDRESS_ERRORS[field], locale)
    return translate(FORM_ERRORS.get(code, FORM_ERROR_FALLBACK), locale)


# --- The sidecar's own pages (a browser that reached the sidecar and cannot go on) --------------

ERROR_PAGE_TITLE: Final = N_("Sorry, something is not available")
NOT_FOUND_TITLE: Final = N_("Not found")
NOT_FOUND_PAGE: Final = N_("There is no page here.")
GO_BACK: Final = N_("Go back")
PAYMENT_PAGE_NOT_OPENED: Final = N_(
    "The payment page could not be opened. Nothing was charged; please try again in a few minutes."
)
GROUP_INFO_UNAVAILABLE: Final = N_(
    "the site could not tell us about this group; please try again shortly"
)
EMAIL_CHECK_UNAVAILABLE: Final = N_("the site could not check your email; please try again shortly")
# The PayTabs return that names no registration we know; too many requests from one address.
RETURN_NOT_RECOGNISED_TITLE: Final = N_("We could not recognise this payment")
RETURN_NOT_RECOGNISED: Final = N_(
    "If you paid, you will receive an email once your registration is complete."
)
RATE_LIMITED_TITLE: Final = N_("Please wait a moment")
RATE_LIMITED: Final = N_("Too many attempts from your address; please wait a minute and try again.")
FIRST_SUBMISSION_IN_PROGRESS: Final = N_(
    "the first submission of this form is still being processed"
)

# --- Seats you can see (item 3): held places, and until when ("HH:MM" in the site's timezone) ---

# The checkout's group_full refusal when some of the places are held by buyers paying right now.
GROUP_FULL_HELD: Final = N_(
    "All places are taken or being paid for right now. "
    "A place may free up at {time}; please try again then."
)
# The status page while the buyer's own place is held for the PayTabs page.
AWAITING_PAYMENT_HELD_UNTIL: Final = N_(
    "We are waiting for PayTabs to confirm your payment… Your place is held for you until {time}."
)
# The registration form's line about the group's places (the plugin's copies say the same).
SEATS_LEFT: Final = N_("{left} of {capacity} seats left")
SEATS_BEING_PAID_FOR: Final = N_("All places are being paid for right now; try again after {time}.")

# --- The sidecar's error pages, by the error code it logs and sends to scripts ------------------
# A page says what happened, then (only when the error came before any payment, i.e. at checkout)
# NOT_CHARGED, then what to do next, then a link back. The code itself never reaches the page: it
# stays in the log and in the JSON answer.

NOT_CHARGED: Final = N_("You have not been charged.")
BACK_TO_SITE: Final = N_("Back to the website")
# code -> (title, what happened, what to do next)
ERROR_PAGES: Final[dict[str, tuple[str, str, str]]] = {
    "credentials_unavailable": (
        N_("Payments are not available"),
        N_("Payments are not available right now."),
        N_("Please try again later."),
    ),
    "database_unavailable": (
        N_("Payments are not available"),
        N_("Payments are not available right now."),
        N_("Please try again later."),
    ),
    "database_busy": (
        N_("Please try again in a moment"),
        N_("We are handling many registrations right now."),
        N_("Please try again in a minute."),
    ),
    "wordpress_unavailable": (
        N_("Registration is not available"),
        N_("Our website is not answering right now, so we cannot register you at the moment."),
        N_("Please try again in a few minutes."),
    ),
    "fulfilment_unavailable": (
        N_("Registration is not available"),
        N_("Registration is not possible right now."),
        N_("Please try again later."),
    ),
    "payment_provider_unavailable": (
        N_("The payment page could not be opened"),
        N_("The payment page could not be opened."),
        N_("Please try again in a few minutes."),
    ),
    "duplicate": (
        N_("This was already sent"),
        N_("This registration was already sent once."),
        N_("Please go back to the registration page and reload it."),
    ),
    "intent_not_found": (
        N_("Registration not found"),
        N_("We could not find this registration."),
        N_("If you have paid, please contact us."),
    ),
    "retry_forbidden": (
        N_("This payment cannot be restarted here"),
        N_("Only the browser in which you started this registration can try the payment again."),
        N_("Please fill in the registration form again."),
    ),
    "retry_too_soon": (
        N_("Please wait a moment"),
        N_("The payment service needs a short pause before it opens a new payment page."),
        N_("Your place is still held. Please wait a minute, then press “Try again” again."),
    ),
    "cross_site_request": (
        N_("This request was refused"),
        N_("This request did not come from our registration pages."),
        N_("Please go back to the registration page and try again there."),
    ),
}
# Any other code.
ERROR_PAGE_FALLBACK: Final[tuple[str, str, str]] = (
    N_("Sorry, something went wrong"),
    N_("Something went wrong on our side."),
    N_("Please try again later."),
)

# --- The receipt (thank-you page, e-mail, calendar link) and the paid buyer who is not logged in --

CALENDAR_NOT_FOUND: Final = N_("We could not find this calendar entry.")
RECEIPT_TITLE: Final = N_("Your receipt")
RECEIPT_GROUP: Final = N_("Group: {group}")
RECEIPT_AMOUNT: Final = N_("Amount paid: {amount} {currency}")
RECEIPT_REFERENCE: Final = N_("PayTabs reference: {tran_ref}")
RECEIPT_DATE: Final = N_("Date of payment: {date}")
RECEIPT_SESSION: Final = N_("Session: {when}")
RECEIPT_ADD_TO_CALENDAR: Final = N_("Add to calendar")
# The status page and the thank-you page, to a paid buyer whose browser is not logged in (another
# device, or the one-time login link spent): no personal data, two ways in.
REGISTERED_LOG_IN: Final = N_("You are registered. Log in to see your receipt and your group.")
REGISTERED_LOG_IN_LINK: Final = N_("Log in")
REGISTERED_SET_PASSWORD_LINK: Final = N_("Set or reset your password")

# --- The demo site (sidecar/sandbox): the sandbox WordPress's own theme, in the visitor's language -
# (the bridge plugin's pages have their own sentences, translated by WordPress)

DEMO_SITE_NAME: Final = N_("Sandbox WordPress · Therapy groups")
DEMO_LOG_IN_AS_MEMBER: Final = N_("Log in as a demo member")
DEMO_LOGGED_IN_AS: Final = N_("Logged in as {email}")
DEMO_LOG_OUT: Final = N_("Log out")
DEMO_NOT_LOGGED_IN: Final = N_("Not logged in")
DEMO_LANGUAGE: Final = N_("Language")
DEMO_REGISTRATION_TITLE: Final = N_("Therapy group registration")
DEMO_STATUS_TITLE: Final = N_("Registration status")
DEMO_THANK_YOU_TITLE: Final = N_("Thank you")
DEMO_FORM_HEADING: Final = N_("Register")
DEMO_GROUPS_HEADING: Final = N_("Groups")
DEMO_CONTINUE_TO_PAYMENT: Final = N_("Continue to payment")
DEMO_PASSWORD_OPTIONAL: Final = N_(
    "Password (optional: leave empty and we will e-mail you a link to set one)"
)
DEMO_GROUP_CLOSED: Final = N_("closed")
DEMO_GROUP_FULL: Final = N_("full")
DEMO_STATUS_NOSCRIPT: Final = N_(
    "This page will take you to your registration status in a few seconds."
)
DEMO_CHECK_STATUS_NOW: Final = N_("Check your registration now")
DEMO_REGISTRATION_COMPLETE: Final = N_("Your registration is complete. Your groups:")
DEMO_LOGIN_TITLE: Final = N_("Log in")
DEMO_LOGIN_FAILED: Final = N_("The e-mail address or password is not right.")
DEMO_LOGIN_LINK_REFUSED: Final = N_("Login link refused")

# --- "Try again" on the status page after a declined or cancelled payment ----------------------

RETRY_BUTTON: Final = N_("Try again")
RESTART_BUTTON: Final = N_("Fill in the form again")
RETRY_HELD_UNTIL: Final = N_("Your place is held for you until {time}.")
RETRY_FORBIDDEN: Final = ERROR_PAGES["retry_forbidden"][1]
RETRY_TOO_SOON: Final = ERROR_PAGES["retry_too_soon"][1]
