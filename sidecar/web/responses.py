"""How errors become HTTP answers: the error tree's codes, error pages and JSON, in one place.

Blueprints choose only their own success answers (303 to PayTabs, 200 for an IPN) and the 400 of a
refused notification; every error raised as a ``SidecarError`` gets its status here.
"""

from __future__ import annotations

import html
import logging
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from babel import negotiate_locale
from flask import Flask, Response, current_app, jsonify, redirect, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from sidecar.core.errors import CheckoutRejected, SidecarError
from sidecar.core.i18n import DEFAULT_LOCALE, LOCALES, direction, normalize_locale, translate
from sidecar.domain import messages
from sidecar.web.context import services

log = logging.getLogger(__name__)


def wants_json() -> bool:
    """Tell whether the client asked for JSON rather than a page."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes["application/json"] > request.accept_mimetypes["text/html"]
    )


def request_locale() -> str:
    """Return the language of a page shown before any intent exists: the form's posted ``locale``
    (WordPress's), else the browser's Accept-Language; English when neither names one we speak."""
    try:
        posted = request.form.get("locale") if request.method == "POST" else None
    except HTTPException:  # a body too large or unreadable: its own error is being answered
        posted = None
    if posted:
        return normalize_locale(posted[:32])
    preferred = [value.replace("-", "_") for value in request.accept_languages.values()]
    return negotiate_locale(preferred, list(LOCALES)) or DEFAULT_LOCALE


def refusal_message(exc: CheckoutRejected, locale: str) -> str:
    """Return a refusal's sentence in ``locale``: its own when the catalogue has it, else the form's
    sentence for its code and field (a sentence with its figures filled in is no msgid)."""
    translated = translate(exc.message, locale)
    if normalize_locale(locale) == DEFAULT_LOCALE or translated != exc.message:
        return translated
    return messages.form_error(exc.code, exc.field or "", locale)


def json_message(exc: SidecarError, message: str) -> str:
    """Return an error's JSON ``message`` in the request's language: its own text in English (the
    operator's detail), elsewhere its own when the catalogue has it, else the page's sentence for
    its code (an operator's detail has no translation and is no sentence for a buyer)."""
    locale = request_locale()
    translated = translate(message, locale)
    if locale == DEFAULT_LOCALE or translated != message:
        return translated
    if exc.code in messages.ERROR_PAGES:
        return translate(messages.ERROR_PAGES[exc.code][1], locale)
    if exc.code in messages.FORM_ERRORS:
        return messages.form_error(exc.code, "", locale)
    return translate(messages.ERROR_PAGE_FALLBACK[1], locale)


def error_json(status: int, code: str, message: str, field: str | None = None) -> Response:
    """Return ``{error:{code,message,field}}`` with ``status`` (a catalogue sentence translated)."""
    message = translate(message, request_locale())
    response = jsonify({"error": {"code": code, "message": message, "field": field}})
    response.status_code = status
    return response


# The pages' look: the site's theme is not available here, so a neutral one close to WordPress's
# defaults (system font, readable width, large tap targets). Served from the sidecar itself because
# the page CSP allows no inline style; logical properties keep it right for RTL pages.
PAGE_CSS = """\
html{color-scheme:light}
body{margin:0;background:#f6f7f7;color:#1d2327;line-height:1.6;
font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic",
"Helvetica Neue",Arial,sans-serif;font-size:1.0625rem}
main{box-sizing:border-box;max-width:36rem;margin:2.5rem auto;padding:1.5rem 1.25rem;background:#fff;
border:1px solid #dcdcde;border-radius:.5rem}
h1{font-size:1.5rem;line-height:1.3;margin:0 0 1rem}
p{margin:0 0 1rem}
.tps-not-charged{font-weight:600}
.tps-back a{display:inline-block;padding:.625rem 1rem;border-radius:.25rem;background:#2271b1;
color:#fff;text-decoration:none}
.tps-back a:focus,.tps-back a:hover{background:#135e96;outline:2px solid #135e96;outline-offset:2px}
@media (max-width:40rem){main{margin:0;border:0;border-radius:0;min-height:100vh}}
"""
PAGE_CSS_PATH = "/therapy/page.css"


def message_page(
    status: int,
    title: str,
    message: str,
    link: str | None = None,
    *,
    not_charged: bool = False,
    next_step: str = "",
    link_text: str = "",
    lang: str | None = None,
) -> Response:
    """Return a small HTML page for a person: what happened, whether they were charged, what next.

    Every text comes from the catalogue (translated into ``lang``, the intent's locale when there
    is one, else the request's, and escaped here); no code, setting or exception text.
    """
    lang = normalize_locale(lang) if lang else request_locale()

    def text(sentence: str) -> str:
        return html.escape(translate(sentence, lang))

    paragraphs = [f"<p>{text(message)}</p>"]
    if not_charged:
        paragraphs.append(f'<p class="tps-not-charged">{text(messages.NOT_CHARGED)}</p>')
    if next_step:
        paragraphs.append(f"<p>{text(next_step)}</p>")
    if link:
        paragraphs.append(
            f'<p class="tps-back"><a href="{html.escape(link, quote=True)}">'
            f"{text(link_text or messages.GO_BACK)}</a></p>"
        )
    css = html.escape(request.script_root + PAGE_CSS_PATH, quote=True)
    body = (
        f'<!doctype html><html lang="{lang}" dir="{direction(lang)}">'
        "<meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="stylesheet" href="{css}">'
        f"<title>{text(title)}</title>"
        f"<main><h1>{text(title)}</h1>{''.join(paragraphs)}</main></html>"
    )
    return Response(body, status=status, mimetype="text/html")


def error_page(exc: SidecarError) -> Response:
    """Return the buyer's page for ``exc``: the catalogue's sentences for its code, a way back.

    At checkout every error comes before any payment, so the page says the buyer was not charged;
    elsewhere (the PayTabs return) it cannot know and does not say.
    """
    title, happened, next_step = messages.ERROR_PAGES.get(exc.code, messages.ERROR_PAGE_FALLBACK)
    if exc.code not in messages.ERROR_PAGES and exc.code in messages.FORM_ERRORS:
        title, happened, next_step = (messages.ERROR_PAGE_TITLE, messages.FORM_ERRORS[exc.code], "")
    at_checkout = request.path.startswith("/therapy/checkout")
    link, link_text = way_back(at_checkout)
    return message_page(
        exc.http_status,
        title,
        happened,
        link,
        not_charged=at_checkout,
        next_step=next_step,
        link_text=link_text,
    )


def way_back(at_checkout: bool) -> tuple[str, str]:
    """Return the link (and its words) out of an error page: the form the buyer came from, when it
    is on the site (as ``checkout_routes.form_url_for_errors`` accepts it), else the site's home."""
    try:
        site = services().settings.wp_base_url
    except (KeyError, RuntimeError):
        return "/", messages.BACK_TO_SITE
    candidates = [request.referrer or ""]
    if at_checkout:
        candidates.insert(0, request.form.get("form_url", ""))
    for candidate in candidates:
        if candidate.startswith(site + "/") and len(candidate) <= 2000:
            parts = urlsplit(candidate)
            kept = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("error", "field")]
            url = urlunsplit(parts._replace(query=urlencode(kept), fragment=""))
            text = messages.BACK_TO_REGISTRATION if at_checkout else messages.BACK_TO_SITE
            return url, text
    if at_checkout:
        form_url = current_app.config.get("FORM_URL")
        if isinstance(form_url, str) and form_url.startswith(site + "/"):
            return form_url, messages.BACK_TO_REGISTRATION
    return site + "/", messages.BACK_TO_SITE


def back_to_form(form_url: str, exc: CheckoutRejected) -> BaseResponse:
    """Send the browser back to the registration form with the error code (303)."""
    parts = urlsplit(form_url)
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("error", "field")]
    kept.append(("error", exc.code))
    if exc.field:
        kept.append(("field", exc.field))
    return redirect(urlunsplit(parts._replace(query=urlencode(kept), fragment="")), code=303)


def register_error_handlers(app: Flask) -> None:
    """Translate the sidecar's errors at the boundary; nothing else picks status codes."""

    @app.errorhandler(SidecarError)
    def _sidecar_error(exc: SidecarError) -> Response:
        message = str(exc) or exc.code.replace("_", " ")
        if wants_json() or request.path.startswith(("/paytabs/ipn", "/therapy/status")):
            return error_json(exc.http_status, exc.code, json_message(exc, message))
        # The operator's detail (setting names, hosts) goes to the log; the buyer reads sentences.
        log.warning("%s %s answered %s: %s", request.method, request.path, exc.code, message)
        return error_page(exc)

    @app.get(PAGE_CSS_PATH)
    def _page_css() -> Response:
        response = Response(PAGE_CSS, mimetype="text/css")
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    @app.errorhandler(404)
    def _not_found(_exc: Exception) -> Response:
        if wants_json():
            return error_json(404, "not_found", "no such page")
        link, link_text = way_back(at_checkout=False)
        return message_page(
            404, messages.NOT_FOUND_TITLE, messages.NOT_FOUND_PAGE, link, link_text=link_text
        )

    @app.errorhandler(405)
    def _bad_method(_exc: Exception) -> Response:
        return error_json(405, "method_not_allowed", "this address does not accept that method")

    @app.errorhandler(413)
    def _too_large(_exc: Exception) -> Response:
        return error_json(413, "request_too_large", "the request body is too large")

    @app.errorhandler(400)
    def _bad_request(_exc: Exception) -> Response:
        return error_json(400, "bad_request", "the request could not be read")
