"""The email job: the buyer's mails go out through the bridge, each at most once per intent."""

from __future__ import annotations

from sidecar.core.container import Services
from sidecar.domain.money import from_minor
from sidecar.domain.states import State
from sidecar.payments.receipt import receipt_data
from sidecar.store import repository as repo
from sidecar.store.repository import Job


def run_emails(services: Services, job: Job) -> str:
    """Send the mails the intent's state calls for (set-password, confirmation, refund or cancellation)."""
    with services.db.transaction() as tx:
        intent = repo.get_intent(tx, job.intent_id)
    if intent is None:
        return "no_intent"
    wp = services.wordpress
    data = {"group_name": intent.group_name, "thank_you_url": intent.thank_you_url}
    if intent.state == State.FULFILLED:
        if intent.user_created and intent.wp_user_id is not None:
            # Core REST user creation sends no mail; WordPress's own set-password mail does.
            wp.send_email(
                template="new_user",
                intent_ref=intent.ref,
                user_id=intent.wp_user_id,
                locale=intent.locale,
            )
        if services.settings.send_booking_email:
            wp.send_email(
                template="booking_confirmed",
                intent_ref=intent.ref,
                user_id=intent.wp_user_id,
                locale=intent.locale,  # the mail is written in the buyer's language
                # The receipt: amount, currency, PayTabs reference, paid_at and the calendar link.
                data={**data, **receipt_data(services.settings, intent)},
            )
        sent = "fulfilled_mails"
    elif intent.state == State.REFUNDED and intent.cancel_refund_minor is not None:
        amount = from_minor(intent.cancel_refund_minor, intent.currency)
        cancelled = {**data, "amount": str(amount), "currency": intent.currency}
        wp.send_email(
            template="cancelled",
            intent_ref=intent.ref,
            user_id=intent.wp_user_id,
            to=intent.email,
            locale=intent.locale,
            data=cancelled,
        )
        sent = "cancellation_mail"
    elif intent.state == State.REFUNDED:
        wp.send_email(
            template="refunded",
            intent_ref=intent.ref,
            user_id=intent.wp_user_id,
            to=intent.email,
            locale=intent.locale,
            data=data,
        )
        sent = "refund_mail"
    else:
        return "nothing_to_send"
    with services.db.transaction() as tx:
        repo.update_intent(tx, intent.id, services.clock(), confirmation_sent=True)
    return sent
