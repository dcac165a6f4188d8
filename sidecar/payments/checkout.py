"""Checkout: validate, price from WordPress, hold a seat, store the intent, create the PayTabs page.

Nothing here creates anything in WordPress: it only reads the group and looks an email up.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sidecar.core.container import Services
from sidecar.core.errors import (
    CheckoutRejected,
    DuplicateRow,
    PaymentProviderUnavailable,
    WordPressUnavailable,
)
from sidecar.core.i18n import DEFAULT_LOCALE, normalize_locale, paypage_lang
from sidecar.core.secretbox import encrypt, hash_secret, new_secret
from sidecar.domain import messages
from sidecar.domain.messages import FORM_ERRORS
from sidecar.domain.money import from_minor, to_minor
from sidecar.domain.states import Event, is_payable
from sidecar.domain.validation import CheckoutForm
from sidecar.jobs.kinds import JobKind
from sidecar.jobs.outbox import enqueue
from sidecar.payments import readiness, seats
from sidecar.paytabs import (
    Customer,
    PageCreated,
    PageRequest,
    PayTabsAuthError,
    PayTabsDuplicateRequest,
    PayTabsError,
    create_page_or_recover,
)
from sidecar.store import repository as repo
from sidecar.store.repository import Intent
from sidecar.store.transitions import apply_event, start_intent
from wp_bridge import errors as wp_errors
from wp_bridge.models import Booking, GroupInfo
from wp_bridge.tokens import InvalidToken, verify_token

log = logging.getLogger(__name__)
MAX_BROWSER_SECRETS = 5


@dataclass(frozen=True)
class Buyer:
    """Who is buying: a logged-in WordPress user (from the signed form token) or a new one."""

    user_id: int
    email: str


@dataclass(frozen=True)
class CheckoutResult:
    """Where to send the browser, and the secret that binds the status page to it."""

    intent: Intent
    redirect_url: str
    browser_secret: str


def verify_form_token(services: Services, token: str) -> Buyer:
    """Return the buyer the bridge's signed form token names; reject forged or stale forms."""
    try:
        payload = _verify_with_any_secret(services, token)
    except InvalidToken:
        raise CheckoutRejected(
            "form_expired",
            FORM_ERRORS["form_expired"],
            "form_token",
            403,
        ) from None
    uid = payload.get("uid", 0)
    if not isinstance(uid, int) or uid < 0:
        raise CheckoutRejected("form_expired", FORM_ERRORS["form_expired"], "form_token", 403)
    return Buyer(user_id=uid, email=str(payload.get("email") or "").lower())


def _verify_with_any_secret(services: Services, token: str) -> dict[str, Any]:
    """Verify with the shared secret, then with the one also accepted during a rotation."""
    settings = services.settings
    secrets_in_use = [settings.shared_secret, settings.shared_secret_also_accepted]
    last: InvalidToken | None = None
    for secret in (s for s in secrets_in_use if s):
        try:
            return verify_token(token, secret.reveal(), typ="form", now=services.clock())
        except InvalidToken as exc:
            last = exc
    if last is None:
        raise AssertionError("no form-token secret to verify with")
    raise last


def start_checkout(
    services: Services, form: CheckoutForm, *, client_ip: str, locale: str = DEFAULT_LOCALE
) -> CheckoutResult:
    """Run the whole checkout for a validated form and return where the browser goes next.

    ``locale`` is the form's (WordPress's) locale: kept on the intent, it is the language of all
    the buyer reads from here on, the PayTabs page included; one we do not speak means English.
    """
    buyer = verify_form_token(services, form.form_token)
    secret = new_secret()
    existing = _replay_if_resubmitted(services, form, secret)
    if existing is not None:
        return existing
    services.credentials.get()  # fail fast (503) before holding a seat if PayTabs cannot be used
    readiness.require_fulfilment_ready(services)  # nobody pays while WordPress could not fulfil
    group = _load_group(services, form.group_id)
    email = buyer.email if buyer.user_id else form.email
    if not buyer.user_id:
        _refuse_existing_account(services, email)
    bookings = _load_bookings(services, group.id)
    seats.refuse_booked_member(buyer.user_id, bookings)
    values = _intent_values(services, form, group, buyer, email, secret, client_ip)
    values["locale"] = normalize_locale(locale)
    try:
        intent = _hold_seat_and_store(services, form, group, bookings, values, secret)
    except _Replayed as replayed:
        return replayed.result
    return _create_payment_page(services, intent, form, secret)


def _replay_if_resubmitted(
    services: Services, form: CheckoutForm, secret: str
) -> CheckoutResult | None:
    """A double submit (same idempotency key) leads to the same PayTabs page, never a second one."""
    deadline = time.monotonic() + 10.0
    while True:
        with services.db.transaction() as tx:
            intent = repo.find_intent_by_idempotency_key(tx, form.idempotency_key)
            if intent is None:
                return None
            if (
                intent.email != form.email and not intent.buyer_logged_in
            ) or intent.group_id != form.group_id:
                raise CheckoutRejected(
                    "idempotency_conflict",
                    FORM_ERRORS["idempotency_conflict"],
                    "idempotency_key",
                    409,
                )
            if intent.redirect_url or intent.tran_ref or not is_payable(intent.state):
                return _replay(services, tx, intent, secret)
        if time.monotonic() > deadline:
            raise PaymentProviderUnavailable(messages.FIRST_SUBMISSION_IN_PROGRESS)
        time.sleep(0.1)  # the first submission is still talking to PayTabs


def _replay(services: Services, tx: Any, intent: Intent, secret: str) -> CheckoutResult:
    """Send a re-posted form where its intent stands; only a payable intent binds a new browser.

    A double click may lose the first answer's cookie, so while the page can still be paid the
    second browser secret is added. Once the intent is paid or ended the form is only a form:
    whoever re-posts it gets the status page without a secret, never a login.
    """
    if not is_payable(intent.state):
        return CheckoutResult(intent, status_page_url(intent), "")
    hashes = intent.browser_secret_hash.split(",")[-(MAX_BROWSER_SECRETS - 1) :]
    repo.update_intent(
        tx,
        intent.id,
        services.clock(),
        browser_secret_hash=",".join([*hashes, hash_secret(secret)]),
    )
    return CheckoutResult(intent, intent.redirect_url or status_page_url(intent), secret)


def _load_bookings(services: Services, group_id: int) -> list[Booking]:
    """Return WordPress's bookings of the group (for seats and for one place per person)."""
    try:
        return services.wordpress.list_bookings(group_id)
    except wp_errors.WPBridgeError as exc:
        log.warning("group bookings unavailable: %s", type(exc).__name__)
        raise WordPressUnavailable(messages.GROUP_INFO_UNAVAILABLE) from exc


def _load_group(services: Services, group_id: int) -> GroupInfo:
    try:
        group = services.wordpress.get_group(group_id)
    except wp_errors.GroupNotFound:
        raise CheckoutRejected(
            "group_not_found", FORM_ERRORS["group_not_found"], "group_id"
        ) from None
    except wp_errors.WPBridgeError as exc:
        log.warning("group info unavailable: %s", type(exc).__name__)
        raise WordPressUnavailable(messages.GROUP_INFO_UNAVAILABLE) from exc
    if not group.open:
        raise CheckoutRejected("group_closed", FORM_ERRORS["group_closed"], "group_id")
    if group.price <= 0:
        raise CheckoutRejected("group_closed", messages.GROUP_NOT_BOOKABLE_ONLINE, "group_id")
    return group


def _refuse_existing_account(services: Services, email: str) -> None:
    try:
        user = services.wordpress.find_user_by_email(email)
    except wp_errors.WPBridgeError as exc:
        raise WordPressUnavailable(messages.EMAIL_CHECK_UNAVAILABLE) from exc
    if user is not None:
        raise CheckoutRejected(
            "account_exists",
            FORM_ERRORS["account_exists"],
            "email",
        )


def _intent_values(
    services: Services,
    form: CheckoutForm,
    group: GroupInfo,
    buyer: Buyer,
    email: str,
    secret: str,
    client_ip: str,
) -> dict[str, Any]:
    """Return the new intent's row: priced by WordPress, never by the form."""
    now = services.clock()
    settings = services.settings
    password = form.password if form.password and not buyer.user_id else None
    return {
        "ref": "tp_" + secrets.token_urlsafe(18),
        "group_id": group.id,
        "bp_group_id": group.bp_group_id,
        "group_name": group.name[:200],
        "amount_minor": to_minor(group.price, group.currency),
        "currency": group.currency.upper(),
        "email": email,
        "first_name": form.first_name,
        "last_name": form.last_name,
        "phone": form.phone,
        "street1": form.street1 or None,
        "city": form.city or None,
        "country": form.country or None,
        "client_ip": client_ip[:64],
        "password_enc": encrypt(settings, password) if password else None,
        "wp_user_id": buyer.user_id or None,
        "buyer_logged_in": bool(buyer.user_id),
        "idempotency_key": form.idempotency_key,
        "browser_secret_hash": hash_secret(secret),
        "registration_url": group.registration_url[:255],
        "status_url": group.status_url[:255],
        "thank_you_url": group.thank_you_url[:255],
        "hold_expires_at": now + settings.hold_minutes * 60,
        "created_at": now,
        "updated_at": now,
    }


class _AlreadySubmitted(Exception):
    """Under the group lock: this form's intent exists already (a double submit)."""


def _hold_seat_and_store(
    services: Services,
    form: CheckoutForm,
    group: GroupInfo,
    bookings: list[Booking],
    values: dict[str, Any],
    secret: str,
) -> Intent:
    """Under the group's lock: replay a double submit, else count seats and store, or refuse."""
    buyer = (int(values["wp_user_id"] or 0), str(values["email"]))
    zone = services.site_time.zone()  # read before the lock: the "free up at" time, if full
    try:
        with services.db.transaction() as tx:
            repo.lock_group(tx, group.id)
            # The replay comes first: the buyer's own first submission must not count as the
            # seat that makes the group full for their second.
            if repo.find_intent_by_idempotency_key(tx, form.idempotency_key) is not None:
                raise _AlreadySubmitted
            seats.hold_seat_or_refuse(
                tx, group.id, group.capacity, bookings, buyer, values["created_at"], zone
            )
            intent = start_intent(
                tx, values, Event.CHECKOUT, source="checkout", now=values["created_at"]
            )
    except (DuplicateRow, _AlreadySubmitted):
        # The same form arrived twice at once and the other submission stored it first.
        replay = _replay_if_resubmitted(services, form, secret)
        if replay is None:
            raise
        raise _Replayed(replay) from None
    if intent is None:
        raise AssertionError("checkout made no intent")
    return intent


class _Replayed(Exception):
    """A double submit found its first submission's intent: answer as the replay does."""

    def __init__(self, result: CheckoutResult) -> None:
        super().__init__("replayed")
        self.result = result


def _page_request(services: Services, intent: Intent, form: CheckoutForm) -> PageRequest:
    """Describe the hosted page: the intent's ref as cart id, our return and callback URLs."""
    settings = services.settings
    return PageRequest(
        cart_id=intent.ref,
        description=f"Therapy group: {intent.group_name}"[:128],
        amount=from_minor(intent.amount_minor, intent.currency),
        currency=intent.currency,
        customer=Customer(
            name=form.full_name,
            email=intent.email or form.email,
            phone=form.phone,
            street1=form.street1,
            city=form.city,
            country=form.country,
            ip=intent.client_ip or "",
        ),
        return_url=f"{settings.public_url}/paytabs/return",
        callback_url=f"{settings.public_url}/paytabs/ipn",
        paypage_ttl_minutes=settings.paypage_ttl_minutes,
        lang=paypage_lang(intent.locale),
    )


def _create_payment_page(
    services: Services, intent: Intent, form: CheckoutForm, secret: str
) -> CheckoutResult:
    """Create the PayTabs page (or adopt the transaction PayTabs already has for this cart)."""
    try:
        outcome = create_page_or_recover(services.paytabs(), _page_request(services, intent, form))
    except PayTabsError as exc:
        _fail_intent(services, intent, "paytabs_page_failed", detail=type(exc).__name__)
        if isinstance(exc, PayTabsAuthError):
            services.credentials.forget()
        if isinstance(exc, PayTabsDuplicateRequest):
            raise PaymentProviderUnavailable(
                "PayTabs is still processing an earlier attempt; please try again in two minutes"
            ) from exc
        raise PaymentProviderUnavailable(_NOTHING_CHARGED) from exc
    if not isinstance(outcome, PageCreated) and not outcome.is_approved:
        # PayTabs made a page whose address we never received: nobody can pay it. Release the
        # seat now and say so, rather than hold it for a page that does not exist for the buyer.
        _fail_intent(
            services, intent, "paytabs_page_lost", detail=outcome.status, tran_ref=outcome.tran_ref
        )
        raise PaymentProviderUnavailable(_NOTHING_CHARGED)
    now = services.clock()
    with services.db.transaction() as tx:
        if isinstance(outcome, PageCreated):
            repo.update_intent(
                tx, intent.id, now, tran_ref=outcome.tran_ref, redirect_url=outcome.redirect_url
            )
            target = outcome.redirect_url
        else:  # PayTabs already has an approved sale for this cart: confirm it, never pay twice
            repo.update_intent(tx, intent.id, now, tran_ref=outcome.tran_ref)
            enqueue(services, tx, intent.id, JobKind.CONFIRM)  # the worker is woken at once
            target = status_page_url(intent)
        fresh = repo.get_intent(tx, intent.id)
    if fresh is None:
        raise AssertionError(f"intent {intent.ref} vanished")
    return CheckoutResult(fresh, target, secret)


_NOTHING_CHARGED = messages.PAYMENT_PAGE_NOT_OPENED


def _fail_intent(
    services: Services,
    intent: Intent,
    reason: str,
    *,
    detail: str = "",
    tran_ref: str | None = None,
) -> None:
    """Release the seat of an intent whose payment page could not be made (or reached).

    The form's idempotency key is freed too, so the buyer's next submission of the same form
    starts a fresh registration instead of finding this dead one. A late A for the lost page
    still reaches the intent by its cart (payment_failed -> paid, or a refund).
    """
    log.warning("PayTabs page unusable for %s: %s", intent.ref, reason)
    with services.db.transaction() as tx:
        apply_event(
            tx,
            intent.id,
            Event.PAYMENT_FAILED,
            source="checkout",
            now=services.clock(),
            detail=f"payment page unusable: {reason} {detail}".strip(),
            state_reason=reason,
            idempotency_key=None,
            **({"tran_ref": tran_ref} if tran_ref else {}),
        )


def status_page_url(intent: Intent, code: str | None = None) -> str:
    """Return the WordPress registration status page for the intent (and an optional code)."""
    sep = "&" if "?" in intent.status_url else "?"
    url = f"{intent.status_url}{sep}intent={intent.ref}"
    return f"{url}&code={code}" if code else url
