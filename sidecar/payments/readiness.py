"""Can WordPress fulfil a paid registration right now? Asked before a buyer is sent to pay.

Fulfilment needs the bridge plugin's routes (``therapy-sidecar/v1``) and BuddyPress's group
membership routes (REST v1 or v2). Both are read from WordPress's REST index, which the client
caches for a minute, so checkout pays one GET a minute, not one per buyer.
"""

from __future__ import annotations

import logging

from sidecar.core.container import Services
from sidecar.core.errors import FulfilmentUnavailable, WordPressUnavailable
from wp_bridge.errors import WPBridgeError
from wp_bridge.models import RestIndex

log = logging.getLogger(__name__)


def fulfilment_checks(services: Services) -> dict[str, str]:
    """Return a verdict ("ok ..." or what is missing) for the bridge and for BuddyPress."""
    try:
        index = services.wordpress.rest_index()
    except WPBridgeError as exc:
        unknown = f"unknown: WordPress's REST index could not be read: {exc}"
        return {"wordpress_bridge": unknown, "buddypress": unknown}
    return verdicts(index)


def verdicts(index: RestIndex) -> dict[str, str]:
    """Say, for the bridge and for BuddyPress, "ok ..." or what the REST index lacks."""
    return {
        "wordpress_bridge": index.bridge_problem() or "ok (therapy-sidecar/v1 routes)",
        "buddypress": index.buddypress_problem()
        or f"ok (groups routes, REST {index.buddypress_version})",
    }


def require_fulfilment_ready(services: Services) -> None:
    """Raise FulfilmentUnavailable (503, nothing charged) while WordPress could not fulfil."""
    try:
        index = services.wordpress.rest_index()
    except WPBridgeError as exc:
        # WordPress does not answer at all: the same 503 as when it cannot price the group.
        raise WordPressUnavailable(
            "the site is not answering right now; nothing was charged, please try again shortly"
        ) from exc
    problems = [v for v in verdicts(index).values() if not v.startswith("ok")]
    if problems:
        # Once per refused checkout; the operator's /readyz says the same.
        log.warning("checkout refused before payment: %s", "; ".join(dict.fromkeys(problems)))
        raise FulfilmentUnavailable()
