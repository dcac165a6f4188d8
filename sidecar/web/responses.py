"""How errors become HTTP answers: the error tree's codes, error pages and JSON, in one place.

Blueprints choose only their own success answers (303 to PayTabs, 200 for an IPN) and the 400 of a
refused notification; every error raised as a ``SidecarError`` gets its status here.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Flask, Response, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from sidecar.core.errors import CheckoutRejected, SidecarError
from sidecar.domain import messages


def wants_json() -> bool:
    """Tell whether the client asked for JSON rather than a page."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes["application/json"] > request.accept_mimetypes["text/html"]
    )


def error_json(status: int, code: str, message: str, field: str | None = None) -> Response:
    """Return ``{error:{code,message,field}}`` with ``status``."""
    response = jsonify({"error": {"code": code, "message": message, "field": field}})
    response.status_code = status
    return response


def message_page(status: int, title: str, message: str, link: str | None = None) -> Response:
    """Return a small HTML page for a person (escaped; no detail that could leak secrets)."""
    href = html.escape(link, quote=True) if link else ""
    back = f'<p><a href="{href}">{html.escape(messages.GO_BACK)}</a></p>' if link else ""
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><main><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(message)}</p>{back}</main></html>"
    )
    return Response(body, status=status, mimetype="text/html")


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
            return error_json(exc.http_status, exc.code, message)
        return message_page(exc.http_status, messages.ERROR_PAGE_TITLE, message)

    @app.errorhandler(404)
    def _not_found(_exc: Exception) -> Response:
        return (
            error_json(404, "not_found", "no such page")
            if wants_json()
            else message_page(404, messages.NOT_FOUND_TITLE, messages.NOT_FOUND_PAGE)
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
