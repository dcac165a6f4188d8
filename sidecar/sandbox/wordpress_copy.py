"""The words and assets of the sandbox WordPress theme, copied from the bridge plugin.

Sentences, labels and the status page's poller come from
wp_bridge/wordpress/therapy-sidecar-bridge/shortcodes.php so that the demo reads like the real
site; wordpress_pages renders them.
"""

from __future__ import annotations

from markupsafe import Markup

STATUS_PLACEHOLDER = "You are being registered to your selected group…"
BACK_TEXT = "Back to the registration page"
FIELD_LABELS = {
    "first_name": "First name", "last_name": "Last name", "email": "E-mail address",
    "phone": "Phone number", "street1": "Street address", "city": "City", "country": "Country",
    "password": "Password", "group_id": "Group",
}  # fmt: skip
PERSON_INPUTS = (  # name, type, extra attributes: the plugin's fields, in its order
    ("first_name", "text", Markup(" required maxlength='100' autocomplete='given-name'")),
    ("last_name", "text", Markup(" required maxlength='100' autocomplete='family-name'")),
    ("email", "email", Markup(" required maxlength='100' autocomplete='email'")),
    ("phone", "tel", Markup(" required maxlength='32' autocomplete='tel'")),
    ("street1", "text", Markup(" required maxlength='200' autocomplete='address-line1'")),
    ("city", "text", Markup(" required maxlength='100' autocomplete='address-level2'")),
)
LONG_LABELS = {
    "password": "Password (optional: leave empty and we will e-mail you a link to set one)"
}
COUNTRIES = {
    "SA": "Saudi Arabia", "AE": "United Arab Emirates", "BH": "Bahrain", "KW": "Kuwait",
    "OM": "Oman", "QA": "Qatar", "EG": "Egypt", "JO": "Jordan", "GB": "United Kingdom",
    "US": "United States",
}  # fmt: skip
LABELLED_ERRORS = {  # code: (sentence naming the field, sentence without a field)
    "missing_field": ("Please fill in the field “{}”.", "Please fill in all required fields."),
    "field_too_long": ("The field “{}” is too long.", "One of the fields is too long."),
    "invalid_characters": (
        "The field “{}” contains characters we cannot accept.",
        "One of the fields contains characters we cannot accept.",
    ),
}
_UNAVAILABLE = "Online payment is temporarily unavailable. Please try again in a few minutes."
_REUSED = "This form was already used or is damaged. Please reload the page and try again."
ERROR_SENTENCES = {
    "invalid_group": "The selected group is not valid. Please reload the page.",
    "invalid_form": _REUSED,
    "idempotency_conflict": _REUSED,
    "invalid_email": "Please enter a valid e-mail address.",
    "invalid_phone": "Please enter a valid phone number, including the country code.",
    "invalid_country": "Please choose your country from the list.",
    "invalid_name": "Please enter your real first and last name (letters, at most 50 characters each).",
    "invalid_password": "Please choose a password of 8 to 128 characters without a backslash, "
    "or leave the field empty to set one later by e-mail.",
    "form_expired": "This form has expired. Please fill it in again.",
    "account_exists": "An account with this e-mail address already exists. "
    "Please log in first, then register for the group.",
    "group_full": "Sorry, this group is full.",
    "group_closed": "Registration for this group is closed.",
    "group_not_found": "This group could not be found.",
    "rate_limited": "Too many attempts. Please wait a minute and try again.",
    "credentials_unavailable": _UNAVAILABLE,
    "wordpress_unavailable": _UNAVAILABLE,
    "payment_provider_unavailable": _UNAVAILABLE,
    "payment_declined": "Your payment was declined and you have not been charged. "
    "Please try again or use another card.",
    "payment_cancelled": "The payment was cancelled and you have not been charged.",
    "payment_error": "The payment could not be completed. Please try again.",
}
PAYMENT_SENTENCES = {
    "payment_declined": "Your payment was declined and you have not been charged.",
    "payment_cancelled": "The payment was cancelled and you have not been charged.",
    "payment_error": "The payment could not be completed.",
}
STATUS_TEXTS = {
    "notFound": "We could not find this registration. If you have paid, please contact us.",
    "retrying": "Still working on your registration…",
    "timeout": "This is taking longer than expected. If you have paid, we will e-mail you "
    "as soon as your registration is complete.",
}
# "not_found" is the sandbox's own marker for a 404 from the sidecar (server-side view).
BAD_STATES = ("payment_failed", "expired", "refunding", "refunded", "needs_attention", "not_found")
STYLE = Markup(
    "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:0 auto;padding:1rem;color:#1d2327}"
    "header{border-bottom:1px solid #ddd;margin-bottom:1rem;display:flex;justify-content:space-between}"
    ".groups{list-style:none;padding:0}.groups li{border:1px solid #ddd;border-radius:6px;"
    "padding:.5rem 1rem;margin:.5rem 0}.groups li.chosen{border:2px solid #2271b1}.full{color:#a00}"
    "input,select{min-width:18rem;padding:.25rem}"
    ".therapy-sidecar-notice--error{background:#fcf0f1;border-left:4px solid #d63638;padding:0 1rem}"
    ".therapy-sidecar-notice--info{background:#f0f6fc;border-left:4px solid #72aee6;padding:0 1rem}"
    "label{display:inline-block;min-width:10rem}[aria-invalid=true]{outline:2px solid #d63638}"
    "button{background:#2271b1;color:#fff;border:0;border-radius:4px;padding:.6rem 1.2rem;font-size:1rem}"
)
# The status page's poller: the plugin's script, except that a ?code= sentence is not replaced
# by "waiting for PayTabs" while the worker has not yet recorded the failure.
STATUS_SCRIPT = Markup(
    "(function(){var c=JSON.parse(document.getElementById('tps-config').textContent);"
    "var box=document.getElementById('tps-status');if(!box||!window.fetch){return;}"
    "var msg=box.querySelector('.therapy-sidecar-status__message');"
    "var back=box.querySelector('.therapy-sidecar-status__back');"
    "var t0=Date.now(),stopped=false;"
    "function say(s){if(typeof s==='string'&&s){msg.textContent=s;}}"
    "function stop(showBack){stopped=true;box.setAttribute('data-done','1');"
    "if(showBack&&back){back.hidden=false;}}"
    "function later(){if(!stopped){setTimeout(poll,c.interval);}}"
    "function safe(u){return typeof u==='string'&&/^(https?:\\/\\/|\\/(?!\\/))/i.test(u);}"
    "function poll(){if(Date.now()-t0>c.maxWaitMs){say(c.texts.timeout);stop(true);return;}"
    "fetch(c.statusUrl,{credentials:'include',cache:'no-store',headers:{'Accept':'application/json'}})"
    ".then(function(r){if(r.status===404){say(c.texts.notFound);stop(true);return null;}"
    "if(!r.ok){throw new Error('HTTP '+r.status);}return r.json();})"
    ".then(function(d){if(!d||stopped){return;}box.setAttribute('data-state',d.state);"
    "if(!(c.failed&&(d.state==='awaiting_payment'||d.state==='payment_failed'))){say(d.message);}"
    "var ways=c.loggedIn?[d.redirect_url]:[d.login_url,d.login_page_url,d.redirect_url];"
    "var next=ways.filter(safe)[0]||null;"
    "if(next){stop(false);window.location.assign(next);return;}"
    "if(c.bad.indexOf(d.state)!==-1&&back){back.hidden=false;}"
    "if(d.done){stop(d.state!=='fulfilled');return;}later();})"
    ".catch(function(){if(!c.failed){say(c.texts.retrying);}later();});}"
    "window.addEventListener('pageshow',function(e){if(e.persisted){window.location.reload();}});"
    "poll();})();"
)
