"""PayTabs PT2 integration: signatures, region hosts, errors and the HTTP client."""

from .client import (
    Customer,
    PageCreated,
    PageRequest,
    PayTabsClient,
    Transaction,
    create_page_or_recover,
    format_amount,
)
from .errors import (
    PayTabsAuthError,
    PayTabsDuplicateRequest,
    PayTabsError,
    PayTabsInvalidRequest,
    PayTabsProtocolError,
    PayTabsServerError,
    PayTabsTransportError,
)
from .regions import (
    REGION_BASE_URLS,
    SUPPORTED_CURRENCIES,
    UnknownRegion,
    base_url_for_region,
    currency_exponent,
)
from .signatures import (
    php_urlencode,
    return_canonical_string,
    sign_ipn,
    sign_return,
    verify_ipn,
    verify_return,
)

__all__ = [
    "REGION_BASE_URLS",
    "SUPPORTED_CURRENCIES",
    "Customer",
    "PageCreated",
    "PageRequest",
    "PayTabsAuthError",
    "PayTabsClient",
    "PayTabsDuplicateRequest",
    "PayTabsError",
    "PayTabsInvalidRequest",
    "PayTabsProtocolError",
    "PayTabsServerError",
    "PayTabsTransportError",
    "Transaction",
    "UnknownRegion",
    "base_url_for_region",
    "create_page_or_recover",
    "currency_exponent",
    "format_amount",
    "php_urlencode",
    "return_canonical_string",
    "sign_ipn",
    "sign_return",
    "verify_ipn",
    "verify_return",
]
