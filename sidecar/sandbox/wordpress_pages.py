"""What the sandbox WordPress renders: REST JSON shapes and the theme's pages.

The JSON shapes follow WordPress 6.1 (context=edit) and BuddyPress REST v1. The pages mirror the
bridge plugin's shortcodes (wp_bridge/wordpress/therapy-sidecar-bridge/form.php and status.php): the same
form fields, error sentences, status texts and polling, so the demo looks like the real site.
Every value that came from a request or a store is escaped (markupsafe).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from babel import Locale
from flask import has_request_context
from markupsafe import Markup

from sidecar.core.i18n import direction
from sidecar.domain import messages
from sidecar.domain.messages import form_error
from sidecar.sandbox.wordpress_copy import (
    BACK_TEXT,
    BAD_STATES,
    COUNTRIES,
    FIELD_LABELS,
    KNOWN_EMAIL_CODES,
    LOG_IN_TEXT,
    LOGIN_FORM_PATH,
    LONG_LABELS,
    PAYMENT_SENTENCES,
    PERSON_INPUTS,
    RESET_LINK_TEXT,
    STATUS_PLACEHOLDER,
    STATUS_SCRIPT,
    STATUS_TEXTS,
    STYLE,
)
from sidecar.sandbox.wordpress_i18n import WP_LOCALES, _, language_switch, visitor_locale
from wp_bridge.fake.records import BPMember, UserRecord
from wp_bridge.models import INTENT_META_KEY, GroupInfo


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


def page(title: str, body: Markup | str, *, head: Markup | None = None, who: str = "") -> str:
    """Wrap a body in the sandbox theme (site header, language switch, styles) in the visitor's
    language (``title``, a catalogue sentence, translated here); ``who`` is the logged-in email."""
    account = (
        Markup("{} · <a href='/demo-logout/'>{}</a>").format(
            _(messages.DEMO_LOGGED_IN_AS, email=who), _(messages.DEMO_LOG_OUT)
        )
        if who
        else Markup("<a href='/demo-login/'>{}</a>").format(_(messages.DEMO_LOG_IN_AS_MEMBER))
    )
    locale = visitor_locale()
    return str(
        Markup(
            "<!doctype html><html lang='{}' dir='{}'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>{}</title><style>{}</style>{}</head><body><header>"
            "<p><a href='/therapy-registration/'>{}</a></p>{}"
            "<p class='account'>{}</p></header><main><h1>{}</h1>{}</main></body></html>"
        ).format(
            locale,
            direction(locale),
            _(title),
            STYLE,
            head or "",
            _(messages.DEMO_SITE_NAME),
            language_switch() if has_request_context() else "",
            account,
            _(title),
            body,
        )
    )


def notice(text: str, kind: str = "info") -> Markup:
    """Return the plugin's notice box (role=alert for errors)."""
    role = "alert" if kind == "error" else "status"
    return Markup(
        "<div class='therapy-sidecar-notice therapy-sidecar-notice--{}' role='{}'><p>{}</p></div>"
    ).format(kind, role, text)


def error_message(code: str, field: str | None) -> str:
    """Return the sentence for the sidecar's ?error=CODE&field=F (the plugin's wording), in the
    visitor's language."""
    return form_error(code, field or "", visitor_locale())


def group_list(groups: list[GroupInfo], chosen: GroupInfo | None = None) -> Markup:
    """List the groups with price and seats left, each linking to its registration form."""
    items = []
    for g in groups:
        mark = Markup(" class='chosen'") if chosen and g.id == chosen.id else ""
        seats = Markup("{}").format(_(messages.SEATS_LEFT, left=g.seats_left, capacity=g.capacity))
        if not g.open or not g.seats_left:
            seats = Markup("<span class='full'>{}</span>").format(
                _(messages.DEMO_GROUP_CLOSED if not g.open else messages.DEMO_GROUP_FULL)
            )
        items.append(
            Markup(
                "<li data-group='{}'{}><a href='{}'><strong>{}</strong></a> · {} {} · {}</li>"
            ).format(g.id, mark, g.registration_url, g.name, f"{g.price:.2f}", g.currency, seats)
        )
    return Markup("<ul class='groups'>{}</ul>").format(Markup("").join(items))


def _input(name: str, kind: str, value: str, extra: Markup, field: str | None) -> Markup:
    invalid = Markup(" aria-invalid='true' autofocus") if name == field else Markup("")
    label = _(LONG_LABELS.get(name) or FIELD_LABELS[name])
    return Markup(
        "<p class='therapy-sidecar-field therapy-sidecar-field--{0}'><label for='tps-{0}'>{1}</label> "
        "<input type='{2}' id='tps-{0}' name='{0}' value='{3}'{4}{5}></p>"
    ).format(name, label, kind, value, extra, invalid)


def _person_fields(user: UserRecord | None, field: str | None, draft: dict[str, str]) -> Markup:
    values = dict(draft)  # what the buyer typed before the sidecar sent the form back
    if user is not None:  # the sidecar takes a logged-in buyer's e-mail from the form token
        account = {"first_name": user.first_name, "last_name": user.last_name}
        values = account | values | {"email": user.email}
    country = values.get("country") if values.get("country") in COUNTRIES else "SA"
    readonly = Markup(" readonly") if user else Markup("")
    parts = [
        _input(
            name, kind, values.get(name, ""), extra + (readonly if name == "email" else ""), field
        )
        for name, kind, extra in PERSON_INPUTS
    ]
    # Country names in the visitor's language from CLDR (Babel), as WordPress's own list would be.
    territories = Locale.parse(visitor_locale()).territories
    options = Markup("").join(
        Markup("<option value='{}'{}>{}</option>").format(
            code, Markup(" selected") if code == country else "", territories.get(code, name)
        )
        for code, name in COUNTRIES.items()
    )
    invalid = Markup(" aria-invalid='true' autofocus") if field == "country" else Markup("")
    parts.append(
        Markup(
            "<p class='therapy-sidecar-field--country'><label for='tps-country'>{}</label> "
            "<select id='tps-country' name='country' required{}>{}</select></p>"
        ).format(_(FIELD_LABELS["country"]), invalid, options)
    )
    if user is None:  # a logged-in buyer already has a password
        parts.append(_input("password", "password", "", Markup(" minlength='8'"), field))
    return Markup("").join(parts)


def _group_select(groups: list[GroupInfo], selected: GroupInfo | None, field: str | None) -> Markup:
    options = Markup("").join(
        Markup("<option value='{}'{}{}>{} — {} {}</option>").format(
            g.id,
            Markup(" selected") if selected and g.id == selected.id else "",
            Markup(" disabled") if not (g.open and g.seats_left) else "",
            g.name,
            f"{g.price:.2f}",
            g.currency,
        )
        for g in groups
    )
    invalid = Markup(" aria-invalid='true' autofocus") if field == "group_id" else Markup("")
    return Markup(
        "<p class='therapy-sidecar-form__group'><label for='tps-group'>{}</label> "
        "<select id='tps-group' name='group_id' required{}>{}</select></p>"
    ).format(_(FIELD_LABELS["group_id"]), invalid, options)


def registration_page(
    *,
    action: str,
    form_token: str,
    idempotency_key: str,
    groups: list[GroupInfo],
    selected: GroupInfo | None,
    user: UserRecord | None,
    error: str | None,
    field: str | None,
    draft: dict[str, str] | None = None,
) -> str:
    """Render the groups and the checkout form that posts to the sidecar (the shortcode form)."""
    top = notice(error_message(error, field), "error") if error else Markup("")
    if error in KNOWN_EMAIL_CODES and user is None:
        top += known_email_links(_form_url(groups, selected))
    if error:  # the sidecar's code, for support and the demo's curious: in the source, never shown
        top += Markup("<!-- sidecar error code: {} -->").format(error.replace("-", ""))
    form = Markup(
        "<h2>{}</h2><form class='therapy-sidecar-form' method='post' action='{}' "
        "accept-charset='UTF-8'>{}<input type='hidden' name='idempotency_key' value='{}'>"
        "<input type='hidden' name='form_token' value='{}'>"
        # The site's locale, as the plugin's form sends get_locale(): the buyer's language from
        # here on (the PayTabs page, the status page, the e-mails).
        "<input type='hidden' name='locale' value='{}'>"
        # Where the sidecar sends a refused form back (a cross-site Referer is only the origin).
        "<input type='hidden' name='form_url' value='{}'>{}"
        # The plugin's button names the price of its one group; here the select names each price.
        "<p class='therapy-sidecar-form__submit'><button type='submit'>{}</button>"
        "</p></form>"
    ).format(
        _(messages.DEMO_FORM_HEADING),
        action,
        _group_select(groups, selected, field),
        idempotency_key,
        form_token,
        WP_LOCALES[visitor_locale()],
        _form_url(groups, selected),
        _person_fields(user, field, draft or {}),
        _(messages.DEMO_CONTINUE_TO_PAYMENT),
    )
    groups_heading = Markup("<h2>{}</h2>").format(_(messages.DEMO_GROUPS_HEADING))
    body = top + groups_heading + group_list(groups, selected) + form
    return page(messages.DEMO_REGISTRATION_TITLE, body, who=user.email if user else "")


def _form_url(groups: list[GroupInfo], selected: GroupInfo | None) -> str:
    """Return this form's address with the chosen group (?group=ID), without any other query."""
    if selected is not None:
        return selected.registration_url
    return groups[0].registration_url.split("?")[0] if groups else "/therapy-registration/"


def known_email_links(back: str) -> Markup:
    """Return "Log in" (the login form, then back to ``back``) and "Forgot your password?".

    The e-mail the buyer typed is not put in the link: personal data stays out of URLs.
    """
    login = f"{LOGIN_FORM_PATH}?{urlencode({'redirect_to': back})}"
    return Markup(
        "<p class='therapy-sidecar-notice__actions'><a class='therapy-sidecar-login' href='{}'>{}</a>"
        " · <span class='therapy-sidecar-lostpassword'>{}</span></p>"
    ).format(login, _(LOG_IN_TEXT), _(RESET_LINK_TEXT))


# The status page's long poll (wait, s) and its fallbacks (ms): as the plugin's, but the demo
# polls a little faster when the sidecar cannot hold a request. Tests may slow the fallback down.
STATUS_TIMING: dict[str, int] = {"wait": 25, "interval": 1000, "retryMs": 1000}


def status_page(
    *,
    ref: str,
    code: str,
    status_url: str,
    back_url: str,
    status: dict[str, Any] | None,
    who: str = "",
) -> str:
    """Render the "you are being registered" page: polls the sidecar, works without JS too."""
    # status: the sidecar's answer fetched while rendering (None when unknown). Without
    # JavaScript the page moves on to the sidecar's own status page, as the plugin's does.
    failed = code in PAYMENT_SENTENCES
    state = str((status or {}).get("state", ""))
    # The sidecar's message is in the intent's language already; a catalogue sentence is translated.
    message = PAYMENT_SENTENCES[code] if failed else str((status or {}).get("message") or "")
    message = _(message or STATUS_PLACEHOLDER)
    stopped = failed or state in BAD_STATES
    body = Markup(
        "<div class='therapy-sidecar-status' id='tps-status' data-intent='{}'>"
        "<p class='therapy-sidecar-status__message' role='status' aria-live='polite'>{}</p>"
        "<p class='therapy-sidecar-status__back'{}><a href='{}'>{}</a></p></div>"
    ).format(
        ref,
        message,
        "" if stopped else Markup(" hidden"),
        back_url,
        _(BACK_TEXT),
    )
    config: dict[str, Any] = {"statusUrl": status_url, **STATUS_TIMING, "maxWaitMs": 15 * 60 * 1000}
    # A buyer logged in already goes to the thank-you page, never through a spent login link.
    texts = {key: _(sentence) for key, sentence in STATUS_TEXTS.items()}
    # A paid buyer whose browser is not logged in: the two ways in under the sidecar's sentence.
    texts.update(
        signIn=_(messages.REGISTERED_LOG_IN_LINK),
        setPassword=_(messages.REGISTERED_SET_PASSWORD_LINK),
        retry=_(messages.RETRY_BUTTON),
        restart=_(messages.RESTART_BUTTON),
        heldUntil=_(messages.RETRY_HELD_UNTIL).replace("{time}", "%s"),
    )
    config.update(failed=failed, texts=texts, bad=list(BAD_STATES), loggedIn=bool(who))
    body += _script(config)
    refresh = Markup("")
    if not stopped:
        refresh = Markup("<noscript><meta http-equiv='refresh' content='3;url={}'></noscript>")
        refresh = refresh.format(status_url)
        body += Markup("<noscript><p>{} <a href='{}'>{}</a></p></noscript>").format(
            _(messages.DEMO_STATUS_NOSCRIPT), status_url, _(messages.DEMO_CHECK_STATUS_NOW)
        )
    return page(messages.DEMO_STATUS_TITLE, body, head=refresh, who=who)


def _script(config: dict[str, Any]) -> Markup:
    """Return the poller with its configuration (JSON in a data block, never in the code)."""
    return Markup(
        "<script type='application/json' id='tps-config'>{}</script><script>{}</script>"
    ).format(_json_for_script(config), STATUS_SCRIPT)


def _json_for_script(value: Any) -> Markup:
    """Return JSON that is safe inside a <script> element."""
    text = json.dumps(value, ensure_ascii=True)
    safe = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(safe)  # noqa: S704 - JSON with <, > and & escaped cannot end the element


def thank_you_page(
    email: str | None, group_names: list[str] | None = None, receipt: Markup | None = None
) -> str:
    """Render the thank-you page: who is logged in, their groups, and the receipt shortcode's box."""
    text = _(messages.DEMO_LOGGED_IN_AS, email=email) if email else _(messages.DEMO_NOT_LOGGED_IN)
    body = Markup("<p class='who'>{}</p>").format(text) + (receipt or Markup(""))
    if group_names:
        items = Markup("").join(Markup("<li>{}</li>").format(n) for n in group_names)
        body += Markup("<p>{}</p><ul class='mine'>{}</ul>").format(
            _(messages.DEMO_REGISTRATION_COMPLETE), items
        )
    return page(messages.DEMO_THANK_YOU_TITLE, body, who=email or "")


def login_refused_page(reason: str) -> str:
    """Render the 403 page of a login link that cannot be used."""
    return page(messages.DEMO_LOGIN_LINK_REFUSED, Markup("<p>{}</p>").format(reason))
