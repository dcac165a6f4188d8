"""The sidecar's error hierarchy; ``sidecar.web.responses`` translates it to HTTP at the boundary."""

from __future__ import annotations


class SidecarError(Exception):
    """Base of every error the sidecar raises on purpose."""

    http_status = 500
    code = "internal_error"


class DatabaseUnavailable(SidecarError):
    """The store cannot be reached; callers answer 503 so the sender retries."""

    http_status = 503
    code = "database_unavailable"


class DatabaseBusy(SidecarError):
    """Lock contention (deadlock, lock wait timeout); the work is retried, never lost."""

    http_status = 503
    code = "database_busy"


class DuplicateRow(SidecarError):
    """A UNIQUE key refused a row; usually means "someone already did this"."""

    http_status = 409
    code = "duplicate"


class CredentialsUnavailable(SidecarError):
    """The retreat's PayTabs credentials are missing or invalid in the WordPress options table."""

    http_status = 503
    code = "credentials_unavailable"


class WordPressUnavailable(SidecarError):
    """WordPress did not answer; checkout cannot price the group right now."""

    http_status = 503
    code = "wordpress_unavailable"


class PaymentProviderUnavailable(SidecarError):
    """PayTabs refused or did not answer the hosted-page request."""

    http_status = 503
    code = "payment_provider_unavailable"


class FulfilmentUnavailable(SidecarError):
    """WordPress cannot register a buyer now (bridge or BuddyPress routes gone): refuse to charge."""

    http_status = 503
    code = "fulfilment_unavailable"

    def __init__(
        self,
        message: str = (
            "Registration is not possible right now, so nothing was charged. "
            "Please try again later."
        ),
    ) -> None:
        super().__init__(message)


class CheckoutRejected(SidecarError):
    """The checkout form cannot be accepted; ``code`` and ``field`` tell the buyer why."""

    http_status = 422

    def __init__(self, code: str, message: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.http_status = status


class IntentNotFound(SidecarError):
    """No intent has that reference."""

    http_status = 404
    code = "intent_not_found"
