"""HTTP client for WordPress core, BuddyPress REST (v1 or v2) and the therapy-sidecar bridge routes."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from decimal import InvalidOperation
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import requests
from requests.auth import HTTPBasicAuth

from wp_bridge import retry
from wp_bridge.errors import (
    UserNotFound,
    WPBridgeError,
    WPConnectionError,
    error_from_response,
    host_of,
    redact,
    transport_reason,
)
from wp_bridge.interface import WordPress
from wp_bridge.models import (
    INTENT_META_KEY,
    Booking,
    GroupInfo,
    PaymentDetails,
    RestIndex,
    WPUser,
)

BRIDGE = "/therapy-sidecar/v1"
PER_PAGE = 100
# A runaway X-WP-TotalPages must not turn one lookup into an endless crawl.
MAX_PAGES = 200
# The REST index is a few hundred kB on a BuddyPress site: read it once a minute, not per checkout.
INDEX_MAX_AGE = 60.0
_HEADERS = {"Accept": "application/json", "User-Agent": "therapy-pay-sidecar-wp-bridge/0.1"}

T = TypeVar("T")
Params = dict[str, str | int]


class WordPressClient(WordPress):
    """Talk to one WordPress site as an administrator with an application password."""

    def __init__(
        self,
        base_url: str,
        user: str,
        app_password: str,
        *,
        timeout: float | tuple[float, float] = (3.05, 10),
        max_attempts: int = 4,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        index_max_age: float = INDEX_MAX_AGE,
    ) -> None:
        if not base_url or not user or not app_password:
            raise ValueError("base_url, user and app_password are required")
        self.base_url = base_url.rstrip("/")
        self.user = user
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self._app_password = app_password
        # Auth goes on each request, so an injected session is never mutated.
        self._auth = HTTPBasicAuth(user, app_password)
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep
        self._clock = clock
        self.index_max_age = index_max_age
        self._index: tuple[float, RestIndex] | None = None

    def __repr__(self) -> str:
        return f"WordPressClient(base_url={self.base_url!r}, user={self.user!r})"

    # --- discovery --------------------------------------------------------------------------

    def rest_index(self, max_age: float | None = None) -> RestIndex:
        """Return the namespaces and routes the site serves, cached for max_age s (read-only)."""
        now = self._clock()
        limit = self.index_max_age if max_age is None else max_age
        if self._index is not None and now - self._index[0] < limit:
            return self._index[1]
        index = self._parse(RestIndex.from_json, self._json(self._request("GET", "/")))
        self._index = (now, index)
        return index

    # --- core users -------------------------------------------------------------------------

    def ping(self) -> WPUser:
        """Return the authenticated user, proving URL and credentials (read-only)."""
        data = self._json(self._request("GET", "/wp/v2/users/me", params={"context": "edit"}))
        return self._parse(WPUser.from_json, data)

    def find_user_by_email(self, email: str) -> WPUser | None:
        """Return the user with exactly this email (case-insensitive), or None (read-only)."""
        wanted = email.strip().lower()
        if not wanted:
            return None
        # Core search is a substring LIKE: bob@x.com also finds jimbob@x.com, so filter exactly.
        params: Params = {"search": wanted, "context": "edit", "per_page": PER_PAGE}
        for item in self._paginate("/wp/v2/users", params):
            if str(item.get("email", "")).strip().lower() == wanted:
                return self._parse(WPUser.from_json, item)
        return None

    def get_user(self, user_id: int) -> WPUser | None:
        """Return the user with this id, or None if WordPress has no such user (read-only)."""
        try:
            response = self._request("GET", f"/wp/v2/users/{int(user_id)}", {"context": "edit"})
        except UserNotFound:
            return None
        return self._parse(WPUser.from_json, self._json(response))

    def create_user(
        self,
        *,
        username: str,
        email: str,
        password: str,
        first_name: str,
        last_name: str,
        intent_ref: str,
    ) -> WPUser:
        """Create a subscriber stamped with intent_ref; raise UserAlreadyExists if taken.

        Not idempotent by itself: when a retried create answers UserAlreadyExists, look the
        user up by email and compare its intent_ref to tell "ours" from "someone else's".
        """
        body = {
            "username": username,
            "email": email,
            "password": password,
            "first_name": first_name,
            "last_name": last_name,
            "name": f"{first_name} {last_name}".strip(),
            "meta": {INTENT_META_KEY: intent_ref},
        }
        response = self._request("POST", "/wp/v2/users", body=body)
        return self._parse(WPUser.from_json, self._json(response))

    # --- bridge plugin ----------------------------------------------------------------------

    def get_group(self, group_id: int) -> GroupInfo:
        """Return the therapy group with seats and page URLs; raise GroupNotFound (read-only)."""
        response = self._request("GET", f"{BRIDGE}/groups/{int(group_id)}")
        return self._parse(GroupInfo.from_json, self._json(response))

    def book_session(
        self,
        *,
        intent_ref: str,
        group_id: int,
        user_id: int,
        payment: PaymentDetails | None = None,
    ) -> Booking:
        """Take a seat for user_id, stored with what was paid; idempotent by intent_ref.

        Raises GroupFull, GroupClosed, GroupNotFound, UserNotFound, or AlreadyBooked when the user
        already has a booking in the group for another intent (one place per person).
        """
        body: dict[str, Any] = {
            "intent_ref": intent_ref,
            "group_id": int(group_id),
            "user_id": int(user_id),
            **(payment.to_json() if payment else {}),
        }
        response = self._request("POST", f"{BRIDGE}/bookings", body=body)
        return self._parse(Booking.from_json, self._json(response))

    def find_booking(self, intent_ref: str) -> Booking | None:
        """Return the booking made for intent_ref, or None (read-only)."""
        bookings = self._bookings({"intent_ref": intent_ref})
        return bookings[0] if bookings else None

    def list_bookings(self, group_id: int | None = None) -> list[Booking]:
        """Return all bookings, or those of one group (read-only)."""
        return self._bookings({} if group_id is None else {"group_id": int(group_id)})

    def send_email(
        self,
        *,
        template: str,
        intent_ref: str,
        user_id: int | None = None,
        to: str | None = None,
        data: dict[str, Any] | None = None,
        locale: str | None = None,
    ) -> bool:
        """Ask WordPress to send a mail; idempotent per template+intent_ref (repeat -> False)."""
        body: dict[str, Any] = {"template": template, "intent_ref": intent_ref}
        optional = {"user_id": user_id, "to": to, "data": data, "locale": locale}
        body.update({key: value for key, value in optional.items() if value is not None})
        answer = self._json(self._request("POST", f"{BRIDGE}/emails", body=body))
        return isinstance(answer, dict) and answer.get("sent") is True

    def login_url(self, grant_token: str) -> str:
        """Return the browser URL that exchanges a login grant for a WordPress session (no HTTP)."""
        return f"{self._url(f'{BRIDGE}/login')}&grant={quote(grant_token, safe='')}"

    def cancel_booking(self, intent_ref: str) -> bool:
        """Remove the booking made for intent_ref; idempotent (already gone -> False).

        The bridge fires ``therapy_sidecar_booking_cancelled`` for the site's own cancellation code.
        """
        body = {"intent_ref": intent_ref}
        answer = self._json(self._request("POST", f"{BRIDGE}/bookings/cancel", body=body))
        return bool(isinstance(answer, dict) and answer.get("cancelled"))

    # --- BuddyPress -------------------------------------------------------------------------

    def join_group(self, bp_group_id: int, user_id: int) -> None:
        """Make user_id a member of the BuddyPress group; idempotent (context=view).

        context=view goes through groups_join_group(), which is a no-op for an existing member;
        the default context=edit would demote a group admin and fails on a same-second repeat.
        """
        route = self._bp_members_route(bp_group_id)
        body = {"user_id": int(user_id)}
        answer = self._json(self._request("POST", route, {"context": "view"}, body=body))
        # BP REST v1 wraps the member in a one-element array; v2 (BP 15) sends the object.
        member = answer[0] if isinstance(answer, list) and answer else answer
        if not isinstance(member, dict):
            raise WPBridgeError("unexpected BuddyPress answer", code="invalid_response")

    def is_group_member(self, bp_group_id: int, user_id: int) -> bool:
        """Return True if user_id is a confirmed member, admins included (read-only)."""
        return any(member_id == int(user_id) for member_id in self._members(bp_group_id))

    def list_group_members(self, bp_group_id: int) -> list[int]:
        """Return the user ids of all members, admins included, over all pages (read-only)."""
        return list(self._members(bp_group_id))

    # --- plumbing ---------------------------------------------------------------------------

    def leave_group(self, bp_group_id: int, user_id: int) -> bool:
        """Remove user_id from the BuddyPress group; idempotent (not a member -> False)."""
        # BuddyPress answers a second DELETE with a 500: ask first, as join_group's callers do.
        if not self.is_group_member(bp_group_id, user_id):
            return False
        self._request("DELETE", f"{self._bp_members_route(bp_group_id)}/{int(user_id)}")
        return True

    def _bp_members_route(self, bp_group_id: int) -> str:
        """Return the members route in the BuddyPress REST version the site serves."""
        try:
            version = self.rest_index().buddypress_version
        except WPBridgeError:
            version = None  # the members call itself will say what is wrong
        # BuddyPress 5-14 speak v1: the right guess when the index names neither.
        return f"/buddypress/{version or 'v1'}/groups/{int(bp_group_id)}/members"

    def _members(self, bp_group_id: int) -> Iterator[int]:
        # BuddyPress hides group admins unless told otherwise (exclude_admins defaults to true).
        route = self._bp_members_route(bp_group_id)
        params: Params = {"exclude_admins": "false", "per_page": PER_PAGE}
        for member in self._paginate(route, params):
            yield self._parse(lambda item: int(item["id"]), member)

    def _bookings(self, params: Params) -> list[Booking]:
        answer = self._json(self._request("GET", f"{BRIDGE}/bookings", params))
        if not isinstance(answer, list):
            raise WPBridgeError("bookings answer is not a list", code="invalid_response")
        return [self._parse(Booking.from_json, item) for item in answer]

    def _paginate(self, route: str, params: Params) -> Iterator[dict[str, Any]]:
        """Yield the objects of every page, following X-WP-TotalPages."""
        for page in range(1, MAX_PAGES + 1):
            response = self._request("GET", route, {**params, "page": page})
            items = self._json(response)
            if not isinstance(items, list):
                raise WPBridgeError("collection answer is not a list", code="invalid_response")
            yield from (item for item in items if isinstance(item, dict))
            total_pages = _int_header(response, "X-WP-TotalPages")
            last = len(items) < PER_PAGE if total_pages is None else page >= total_pages
            if last or not items:
                return

    def _url(self, route: str, params: Params | None = None) -> str:
        url = f"{self.base_url}/?rest_route={quote(route, safe='/')}"
        return f"{url}&{urlencode(params)}" if params else url

    def _request(
        self, method: str, route: str, params: Params | None = None, *, body: Any = None
    ) -> requests.Response:
        """Send one logical call, retrying transient failures per wp_bridge.retry."""
        url = self._url(route, params)
        for attempt in itertools.count(1):
            try:
                return self._send_once(method, url, body)
            except WPBridgeError as error:
                if not retry.should_retry(
                    status=error.http_status,
                    error=error,
                    attempt=attempt,
                    max_attempts=self.max_attempts,
                    code=error.code,
                ):
                    raise
                self._sleep(retry.delay_seconds(attempt, retry_after=error.retry_after))
        raise AssertionError("unreachable")  # pragma: no cover - count() never ends

    def _send_once(self, method: str, url: str, body: Any) -> requests.Response:
        try:
            response = self._session.request(
                method,
                url,
                json=body,
                auth=self._auth,
                headers=_HEADERS,
                timeout=self.timeout,
                # A redirect (http->https, moved site) would turn a POST into a GET: fail loudly.
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise self._translate_failure(exc=exc) from exc
        if response.status_code >= 300:
            raise self._translate_failure(response=response)
        return response

    def _translate_failure(
        self, *, response: requests.Response | None = None, exc: Exception | None = None
    ) -> WPBridgeError:
        """Turn a transport exception or a non-2xx answer into a WPBridgeError (one place)."""
        if response is None:
            # TLS failures will not heal by retrying; timeouts and refused connections may.
            transient = isinstance(exc, requests.ConnectionError | requests.Timeout) and not (
                isinstance(exc, requests.exceptions.SSLError)
            )
            # One line an operator can act on (which host, and why), not requests' nested repr.
            reason = transport_reason(exc) if exc is not None else "no answer"
            message = f"cannot reach WordPress{host_of(exc)}: {reason}"
            return WPConnectionError(redact(message, self._app_password), should_retry=transient)
        text = redact(response.text, self._app_password)
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        retry_after = retry.parse_retry_after(response.headers.get("Retry-After"))
        error = error_from_response(
            response.status_code, payload, body=text, retry_after=retry_after
        )
        if 300 <= response.status_code < 400:
            error.message = f"redirected to {response.headers.get('Location')}: check base_url"
        return error

    def _json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise WPBridgeError(
                "WordPress answered with something that is not JSON",
                http_status=response.status_code,
                code="invalid_json",
                body=redact(response.text, self._app_password),
            ) from None

    @staticmethod
    def _parse(build: Callable[[Any], T], data: Any) -> T:
        try:
            return build(data)
        except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as exc:
            raise WPBridgeError(
                f"unexpected answer shape: {type(exc).__name__}", code="invalid_response"
            ) from exc


def _int_header(response: requests.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None
