"""The REST side of the sandbox WordPress: index, core users, BuddyPress, bridge routes, login.

Statuses and error shapes follow WordPress 6.1 + BuddyPress 14 (REST v1) + the bridge plugin
(docs/contracts.md), so the real ``WordPressClient`` meets the same answers as in production.
"""

from __future__ import annotations

import hmac
import re
import threading
from collections.abc import Callable
from typing import Any, TypeGuard

from flask import Response, jsonify, request

from sidecar.sandbox import wordpress_pages as pages
from sidecar.sandbox.wordpress_login import spent_grant_redirect
from wp_bridge.errors import PERMANENT_SERVER_CODES, WPBridgeError, WPConnectionError
from wp_bridge.fake import FakeWordPress
from wp_bridge.fake.records import UserRecord
from wp_bridge.login_page import prefill_token
from wp_bridge.models import INTENT_META_KEY, PaymentDetails
from wp_bridge.tokens import InvalidToken, sign_token, verify_token

AUTH_COOKIE = "wordpress_logged_in_sandbox"
AUTH_COOKIE_SECONDS = 2 * 24 * 3600
MAX_LOGIN_TTL = 600
BRIDGE = "/therapy-sidecar/v1"
Handler = Callable[..., Response]

# Per route family: the code and message WordPress sends a caller it treats as anonymous.
_ANONYMOUS = {
    "users_me": ("rest_not_logged_in", "You are not currently logged in."),
    "users": ("rest_forbidden_context", "Sorry, you are not allowed to list users."),
    "user": ("rest_user_cannot_view", "Sorry, you are not allowed to list users."),
    "create_user": ("rest_cannot_create_user", "Sorry, you are not allowed to create new users."),
    "bp": ("bp_rest_authorization_required", "Sorry, you are not allowed to perform this action."),
    "bridge": ("rest_forbidden", "Sorry, you are not allowed to do that."),
}


def wp_error(code: str, message: str, status: int, extra: dict[str, Any] | None = None) -> Response:
    """Return a WordPress REST error response ({"code", "message", "data": {"status", ...}})."""
    return _error_response(pages.error_json(code, message, status, extra or {}), status)


def _error_response(body: dict[str, Any], status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def _from_error(error: WPBridgeError) -> Response:
    status = error.http_status or 500
    code = error.code or "unknown_error"
    # wp_insert_user() errors carry no status, so WordPress sends them as 500 with data null.
    data = None if code in PERMANENT_SERVER_CODES else dict(error.data or {})
    return _error_response(pages.error_json(code, error.message, status, data), status)


def _paged(items: list[Any], *, page: int, per_page: int) -> tuple[list[Any], dict[str, str]]:
    total = len(items)
    pages_total = max((total + per_page - 1) // per_page, 1) if total else 0
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages_total)}
    return items[(page - 1) * per_page : page * per_page], headers


def _int_arg(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(params.get(name, default))
    except (TypeError, ValueError):
        value = low - 1
    if not low <= value <= high:
        message = f"{name} must be between {low} and {high}"
        raise WPBridgeError(
            message, http_status=400, code="rest_invalid_param", data={"params": {name: message}}
        )
    return value


class RestApi:
    """Dispatch ``rest_route`` requests to handlers that call the FakeWordPress."""

    def __init__(self, fake: FakeWordPress, app_user: str, app_password: str, secret: str) -> None:
        self.fake = fake
        self.app_user = app_user
        self.app_password = app_password
        self.secret = secret
        self.used_jtis: set[str] = set()
        self.lock = threading.Lock()
        b = re.escape(BRIDGE)
        self.routes: list[tuple[str, re.Pattern[str], str | None, Handler]] = [
            ("GET", re.compile(r"/wp/v2/users/me"), "users_me", self.users_me),
            ("GET", re.compile(r"/wp/v2/users"), "users", self.users),
            ("POST", re.compile(r"/wp/v2/users"), "create_user", self.create_user),
            ("GET", re.compile(r"/wp/v2/users/(\d+)"), "user", self.user),
            ("GET", re.compile(r"/"), None, self.index),
            ("GET", re.compile(r"/buddypress/(v1|v2)/groups/(\d+)/members"), "bp", self.members),
            ("POST", re.compile(r"/buddypress/(v1|v2)/groups/(\d+)/members"), "bp", self.join),
            (
                "DELETE",
                re.compile(r"/buddypress/(v1|v2)/groups/(\d+)/members/(\d+)"),
                "bp",
                self.leave,
            ),
            ("GET", re.compile(rf"{b}/groups/(\d+)"), "bridge", self.group),
            ("POST", re.compile(rf"{b}/bookings"), "bridge", self.book),
            ("POST", re.compile(rf"{b}/bookings/cancel"), "bridge", self.cancel_booking),
            ("GET", re.compile(rf"{b}/bookings"), "bridge", self.bookings),
            ("POST", re.compile(rf"{b}/emails"), "bridge", self.email),
            ("GET", re.compile(rf"{b}/login"), None, self.login),
        ]

    def dispatch(self, method: str, route: str) -> Response:
        """Route one REST request, applying auth and turning errors into WordPress's shapes."""
        gone = self._not_served(route)
        if gone:
            return wp_error("rest_no_route", gone, 404)
        for verb, pattern, guard, handler in self.routes:
            match = pattern.fullmatch(route.rstrip("/") or "/")
            if verb != method or match is None:
                continue
            missing = self._missing_user_fields() if guard == "create_user" else []
            if missing:
                # WordPress validates required parameters before it checks permissions.
                message = f"Missing parameter(s): {', '.join(missing)}"
                return wp_error("rest_missing_callback_param", message, 400, {"params": missing})
            if guard is not None and not self._authorized():
                # Bad or missing credentials make WordPress treat the caller as anonymous.
                return wp_error(*_ANONYMOUS[guard], 401)
            try:
                return handler(*match.groups())
            except WPConnectionError:
                # What a browser gets from nginx when PHP-FPM is gone.
                return Response("<h1>502 Bad Gateway</h1>", status=502, mimetype="text/html")
            except WPBridgeError as error:
                return _from_error(error)
        return wp_error(
            "rest_no_route", "No route was found matching the URL and request method.", 404
        )

    def _not_served(self, route: str) -> str | None:
        """Say why a route of a removed plugin (or another BuddyPress version) does not exist."""
        if route.startswith(BRIDGE) and not self.fake.bridge_installed:
            return "No route was found matching the URL and request method."
        version = re.match(r"/buddypress/(v\d+)(?:/|$)", route)
        if version is None or version.group(1) == self.fake.buddypress_version:
            return None
        if (version.group(1), self.fake.buddypress_version) == ("v1", "v2"):
            # BuddyPress 15 without the BP-REST plugin answers v1 calls with this.
            return "The V1 of the BuddyPress REST API is no longer supported, use the V2 instead."
        return "No route was found matching the URL and request method."

    def _authorized(self) -> bool:
        auth = request.authorization
        if auth is None or auth.type != "basic" or auth.username != self.app_user:
            return False
        # WordPress strips everything but letters and digits before checking an app password.
        given = re.sub(r"[^A-Za-z0-9]", "", auth.password or "")
        wanted = re.sub(r"[^A-Za-z0-9]", "", self.app_password)
        return hmac.compare_digest(given.encode(), wanted.encode())

    def _missing_user_fields(self) -> list[str]:
        params = self._params()
        return [name for name in ("username", "email", "password") if name not in params]

    def _params(self) -> dict[str, Any]:
        body = request.get_json(silent=True)
        merged: dict[str, Any] = dict(request.args)
        merged.update(body if isinstance(body, dict) else request.form.to_dict())
        merged.pop("rest_route", None)
        return merged

    def index(self) -> Response:
        """GET / (the REST index): namespaces and routes of the plugins this site has."""
        return jsonify(self.fake.rest_index())

    # --- core users -------------------------------------------------------------------------

    def _user_response(self, user_id: int, status: int = 200) -> Response:
        record = self.fake.user_record(user_id)
        if record is None:
            return wp_error("rest_user_invalid_id", "Invalid user ID.", 404)
        response = jsonify(pages.user_json(record, site_url()))
        response.status_code = status
        return response

    def users_me(self) -> Response:
        """GET /wp/v2/users/me: the authenticated user."""
        return self._user_response(self.fake.me().id)

    def user(self, user_id: str) -> Response:
        """GET /wp/v2/users/<id>: one user, 404 rest_user_invalid_id."""
        found = self.fake.get_user(int(user_id))
        return self._user_response(found.id if found else 0)

    def users(self) -> Response:
        """GET /wp/v2/users: substring search with WordPress paging headers."""
        params = self._params()
        per_page = _int_arg(params, "per_page", 10, 1, 100)
        page = _int_arg(params, "page", 1, 1, 10**6)
        found = self.fake.search_users(str(params.get("search", "")))
        items, headers = _paged(found, page=page, per_page=per_page)
        if found and not items:
            message = "The page number requested is larger than the number of pages available."
            return wp_error("rest_user_invalid_page_number", message, 400)
        records = [self.fake.user_record(user.id) for user in items]
        body = [pages.user_json(record, site_url()) for record in records if record]
        return Response(jsonify(body).get_data(), 200, headers, mimetype="application/json")

    def create_user(self) -> Response:
        """POST /wp/v2/users: 201 with Location, or WordPress's errors."""
        params = self._params()
        meta = params.get("meta")
        intent = meta.get(INTENT_META_KEY) if isinstance(meta, dict) else None
        user = self.fake.create_user(
            username=str(params["username"]),
            email=str(params["email"]),
            password=str(params["password"]),
            first_name=str(params.get("first_name", "")),
            last_name=str(params.get("last_name", "")),
            intent_ref=str(intent) if intent else None,
        )
        response = self._user_response(user.id, status=201)
        response.headers["Location"] = f"{site_url()}/?rest_route=/wp/v2/users/{user.id}"
        return response

    # --- BuddyPress -------------------------------------------------------------------------

    def join(self, version: str, bp_group_id: str) -> Response:
        """POST BP members: a one-element array (v1) or the object (v2), with the context quirks."""
        params = self._params()
        user_id = _int_arg(params, "user_id", 0, 1, 2**31)
        # POST defaults to context=edit in BP v1; only context=view is an idempotent join.
        context = str(params.get("context", "edit"))
        self.fake.join_group(int(bp_group_id), user_id, context=context)
        record, member = self.fake.user_record(user_id), self.fake.member(int(bp_group_id), user_id)
        if record is None or member is None:  # join_group just checked both
            raise AssertionError("user or membership vanished after join_group")
        answer = pages.member_json(record, member, int(bp_group_id))
        return jsonify([answer] if version == "v1" else answer)

    def leave(self, _version: str, bp_group_id: str, user_id: str) -> Response:
        """DELETE a BP member: {removed: true}; a second removal is BuddyPress's 500."""
        self.fake.leave_group(int(bp_group_id), int(user_id))
        return jsonify({"removed": True, "previous": {"id": int(user_id)}})

    def members(self, _version: str, bp_group_id: str) -> Response:
        """GET BP members: admins hidden unless exclude_admins=false."""
        params = self._params()
        per_page = _int_arg(params, "per_page", 20, 1, 100)
        page = _int_arg(params, "page", 1, 1, 10**6)
        exclude_admins = str(params.get("exclude_admins", "true")).lower() not in ("false", "0")
        found = self.fake.group_members(int(bp_group_id), exclude_admins=exclude_admins)
        items, headers = _paged(found, page=page, per_page=per_page)
        body = []
        for member in items:
            record = self.fake.user_record(member.user_id)
            if record is not None:
                body.append(pages.member_json(record, member, int(bp_group_id)))
        return Response(jsonify(body).get_data(), 200, headers, mimetype="application/json")

    # --- bridge -----------------------------------------------------------------------------

    def group(self, group_id: str) -> Response:
        """GET bridge groups/<id>."""
        return jsonify(self.fake.get_group(int(group_id), site_url=site_url()).to_json())

    def book(self) -> Response:
        """POST bridge bookings: 201 new, 200 repeat, 409/404 refusals."""
        params = self._params()
        booking = self.fake.book_session(
            intent_ref=str(params.get("intent_ref") or ""),
            group_id=_int_arg(params, "group_id", 0, 1, 2**31),
            user_id=_int_arg(params, "user_id", 0, 1, 2**31),
            payment=PaymentDetails.from_json(params),
        )
        response = jsonify(booking.to_json())
        response.status_code = 201 if booking.created else 200
        return response

    def cancel_booking(self) -> Response:
        """POST bridge bookings/cancel: 200 whether removed now or already gone (idempotent)."""
        ref = str(self._params().get("intent_ref") or "")
        return jsonify({"cancelled": self.fake.cancel_booking(ref), "intent_ref": ref})

    def bookings(self) -> Response:
        """GET bridge bookings by intent_ref or group_id."""
        params = self._params()
        group_id = params.get("group_id")
        found = self.fake.find_bookings(
            intent_ref=params.get("intent_ref"),
            group_id=None if group_id is None else _int_arg(params, "group_id", 0, 1, 2**31),
        )
        return jsonify([booking.to_json() for booking in found])

    def email(self) -> Response:
        """POST bridge emails: 202 sent, 200 already sent."""
        params = self._params()
        user_id = params.get("user_id")
        sent = self.fake.send_email(
            template=str(params.get("template", "")),
            intent_ref=str(params.get("intent_ref", "")),
            user_id=None if user_id is None else _int_arg(params, "user_id", 0, 1, 2**31),
            to=params.get("to"),
            data=params.get("data") if isinstance(params.get("data"), dict) else None,
        )
        response = jsonify({"sent": sent})
        response.status_code = 202 if sent else 200
        return response

    # --- login ------------------------------------------------------------------------------

    def login(self) -> Response:
        """GET bridge login: exchange a single-use grant for the auth cookie.

        Only the user the grant's intent created; a spent (used or expired) grant sends the
        browser on instead of showing an error, as the bridge plugin does.
        """
        now = self.fake.clock()
        grant = request.args.get("grant", "")
        try:
            payload = verify_token(grant, self.secret, typ="login", now=now)
        except InvalidToken as exc:
            # A genuine grant past its expiry only chooses where the browser goes (now=0).
            expired = None
            if exc.reason == "expired":
                expired = self._grant_user(verify_token(grant, self.secret, typ="login", now=0))
            if expired is not None:
                return spent_grant_redirect(
                    site_url(), expired, self.logged_in_user_id(), self.prefill(expired)
                )
            return _refused(f"This login link is not valid ({exc.reason}).")
        jti = payload.get("jti")
        if payload["exp"] - now > MAX_LOGIN_TTL or not isinstance(jti, str) or not jti:
            return _refused("This login link is not valid.")
        record = self._grant_user(payload)
        if record is None:
            return _refused("This login link cannot be used for this account.")
        with self.lock:
            used = jti in self.used_jtis
            self.used_jtis.add(jti)
        if used:
            return spent_grant_redirect(
                site_url(), record, self.logged_in_user_id(), self.prefill(record)
            )
        response = Response(status=302, headers={"Location": f"{site_url()}/thank-you/"})
        cookie = {"typ": "sandbox_auth", "uid": record.id, "exp": int(now) + AUTH_COOKIE_SECONDS}
        response.set_cookie(AUTH_COOKIE, sign_token(cookie, self.secret), httponly=True)
        return response

    def _grant_user(self, payload: dict[str, Any]) -> UserRecord | None:
        """Return the user a grant names when the grant's intent created it (meta = ref)."""
        uid, ref = payload.get("uid"), payload.get("ref")
        record = self.fake.user_record(uid) if _is_id(uid) else None
        if record is None or not isinstance(ref, str) or not ref or record.intent_ref != ref:
            return None
        return record

    def prefill(self, record: UserRecord) -> str:
        """Return the signed token that fills ``record``'s e-mail into the login form."""
        return prefill_token(record.id, self.secret, self.fake.clock())

    def logged_in_user_id(self) -> int:
        """Return the user id of a valid sandbox auth cookie, or 0."""
        try:
            payload = verify_token(
                request.cookies.get(AUTH_COOKIE, ""),
                self.secret,
                typ="sandbox_auth",
                now=self.fake.clock(),
            )
        except InvalidToken:
            return 0
        uid = payload.get("uid")
        return uid if _is_id(uid) else 0


def site_url() -> str:
    """Return the address the current request reached the sandbox at (like home_url())."""
    return request.host_url.rstrip("/")


def _is_id(value: object) -> TypeGuard[int]:
    # bool is an int in Python; a payload saying "uid": true must not mean user 1.
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _refused(reason: str) -> Response:
    return Response(pages.login_refused_page(reason), status=403, mimetype="text/html")
