"""The words and assets of the sandbox WordPress theme, copied from the bridge plugin.

Labels and the status page's poller come from
wp_bridge/wordpress/therapy-sidecar-bridge/form.php and status.php so that the demo reads like the real
site; the plugin's sentences are read from ``sidecar.domain.messages``, whose test checks them
against the plugin. wordpress_pages renders them.
"""

from __future__ import annotations

from markupsafe import Markup

from sidecar.domain import messages

STATUS_PLACEHOLDER = messages.STATUS_PLACEHOLDER
BACK_TEXT = messages.BACK_TO_REGISTRATION
FIELD_LABELS = messages.FIELD_LABELS
PERSON_INPUTS = (  # name, type, extra attributes: the plugin's fields, in its order
    ("first_name", "text", Markup(" required maxlength='100' autocomplete='given-name'")),
    ("last_name", "text", Markup(" required maxlength='100' autocomplete='family-name'")),
    # An e-mail address and a phone number read left to right on an Arabic page too.
    ("email", "email", Markup(" required maxlength='100' autocomplete='email' dir='ltr'")),
    ("phone", "tel", Markup(" required maxlength='32' autocomplete='tel' dir='ltr'")),
    ("street1", "text", Markup(" required maxlength='200' autocomplete='address-line1'")),
    ("city", "text", Markup(" required maxlength='100' autocomplete='address-level2'")),
)
LONG_LABELS = {"password": messages.DEMO_PASSWORD_OPTIONAL}
COUNTRIES = {
    "SA": "Saudi Arabia", "AE": "United Arab Emirates", "BH": "Bahrain", "KW": "Kuwait",
    "OM": "Oman", "QA": "Qatar", "EG": "Egypt", "JO": "Jordan", "GB": "United Kingdom",
    "US": "United States",
}  # fmt: skip
# code: (sentence naming the field, formatted positionally by wordpress_pages; sentence without one)
LABELLED_ERRORS = {
    code: (template.replace("{label}", "{}"), messages.FORM_ERRORS[code])
    for code, template in messages.FIELD_ERRORS.items()
}
ERROR_SENTENCES = messages.FORM_ERRORS
# The codes whose sentence is "an account with this e-mail exists": the plugin adds "Log in" (to
# the login form, back to the form with its group) and "Forgot your password?" under it. The
# sandbox has a login form but no password reset, so the second is plain text here.
KNOWN_EMAIL_CODES = (
    "email_exists", "email_taken", "account_exists", "existing_user_email", "login_required",
)  # fmt: skip
LOGIN_FORM_PATH = "/wp-login.php"
LOG_IN_TEXT = messages.KNOWN_EMAIL_LOG_IN
RESET_LINK_TEXT = messages.KNOWN_EMAIL_RESET_LINK
PAYMENT_SENTENCES = messages.PAYMENT_FAILED
STATUS_TEXTS = messages.STATUS_TEXTS
# "not_found" is the sandbox's own marker for a 404 from the sidecar (server-side view).
BAD_STATES = ("payment_failed", "expired", "refunding", "refunded", "needs_attention", "not_found")
STYLE = Markup(
    "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:0 auto;padding:1rem;color:#1d2327}"
    "header{border-bottom:1px solid #ddd;margin-bottom:1rem;display:flex;justify-content:space-between}"
    ".groups{list-style:none;padding:0}.groups li{border:1px solid #ddd;border-radius:6px;"
    "padding:.5rem 1rem;margin:.5rem 0}.groups li.chosen{border:2px solid #2271b1}.full{color:#a00}"
    "input,select{min-width:18rem;padding:.25rem}"
    # Logical properties: the notices' bar is on the reading side in Arabic (right) and English.
    ".therapy-sidecar-notice--error{background:#fcf0f1;border-inline-start:4px solid #d63638;"
    "padding:0 1rem}"
    ".therapy-sidecar-notice--info{background:#f0f6fc;border-inline-start:4px solid #72aee6;"
    "padding:0 1rem}"
    "header{flex-wrap:wrap;gap:0 1rem}.languages{margin:1rem 0}"
    "input,select{max-width:100%;box-sizing:border-box}"
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
    "var t0=Date.now(),stopped=false,seen=null;"
    "function say(s){if(typeof s==='string'&&s){msg.textContent=s;}}"
    "function stop(showBack){stopped=true;box.setAttribute('data-done','1');"
    "if(showBack&&back){back.hidden=false;}}"
    "function later(ms){if(!stopped){setTimeout(poll,ms);}}"
    "function address(){if(!seen||!c.wait){return c.statusUrl;}"
    "return c.statusUrl+(c.statusUrl.indexOf('?')===-1?'?':'&')+"
    "'wait='+c.wait+'&since='+encodeURIComponent(seen);}"
    "function offer(d){var p=document.createElement('p');p.className='therapy-sidecar-status__signin';"
    "[[d.sign_in_url,c.texts.signIn,'therapy-sidecar-login'],"
    "[d.password_url,c.texts.setPassword,'therapy-sidecar-lostpassword']].forEach(function(l,i){"
    "var a=document.createElement('a');a.href=l[0];a.textContent=l[1];a.className=l[2];"
    "if(i){p.appendChild(document.createTextNode(' · '));}p.appendChild(a);});"
    "box.insertBefore(p,back);}"
    "function safe(u){return typeof u==='string'&&/^(https?:\\/\\/|\\/(?!\\/))/i.test(u);}"
    # After a declined payment, to the paying browser: "Try again" or the form refilled.
    "function offerRetry(d){if(!(d.can_retry||d.can_restart)||!safe(d.retry_url)||"
    "box.querySelector('.therapy-sidecar-status__retry')){return;}"
    "var f=document.createElement('form');f.method='post';f.action=d.retry_url;"
    "f.className='therapy-sidecar-status__retry';"
    "if(d.can_retry&&typeof d.held_until_text==='string'){var p=document.createElement('p');"
    "p.textContent=c.texts.heldUntil.replace('%s',d.held_until_text);f.appendChild(p);}"
    "var b=document.createElement('button');b.type='submit';"
    "b.textContent=d.can_retry?c.texts.retry:c.texts.restart;"
    "var wait=typeof d.retry_after==='string'?Date.parse(d.retry_after)-Date.now():0;"
    "if(d.can_retry&&wait>0){b.disabled=true;setTimeout(function(){b.disabled=false;},wait);}"
    "f.appendChild(b);"
    "box.insertBefore(f,back);}"
    "function poll(){if(Date.now()-t0>c.maxWaitMs){say(c.texts.timeout);stop(true);return;}"
    "fetch(address(),{credentials:'include',cache:'no-store',headers:{'Accept':'application/json'}})"
    ".then(function(r){if(r.status===404){say(c.texts.notFound);stop(true);return null;}"
    "if(!r.ok){throw new Error('HTTP '+r.status);}return r.json();})"
    ".then(function(d){if(!d||stopped){return;}box.setAttribute('data-state',d.state);"
    "if(!(c.failed&&(d.state==='awaiting_payment'||d.state==='payment_failed'))){say(d.message);}"
    "var ways=c.loggedIn?[d.redirect_url]:[d.login_url,d.login_page_url];"
    "var next=ways.filter(safe)[0]||null;"
    "if(!next&&!c.loggedIn&&d.registered&&safe(d.sign_in_url)&&safe(d.password_url)){"
    "offer(d);stop(false);return;}"
    "next=next||(safe(d.redirect_url)?d.redirect_url:null);"
    "if(next){stop(false);window.location.assign(next);return;}"
    "if(c.bad.indexOf(d.state)!==-1&&back){back.hidden=false;}"
    "offerRetry(d);if(d.done){stop(d.state!=='fulfilled');return;}"
    "var changed=d.state!==seen;seen=typeof d.state==='string'?d.state:null;"
    "later(changed||d.waited?0:c.interval);})"
    ".catch(function(){if(!c.failed){say(c.texts.retrying);}"
    "later(Math.min(c.interval,c.retryMs||c.interval));});}"
    "window.addEventListener('pageshow',function(e){if(e.persisted){window.location.reload();}});"
    "poll();})();"
)
