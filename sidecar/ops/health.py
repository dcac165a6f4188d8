"""Readiness: is the database reachable, are the credentials usable, can WordPress fulfil?"""

from __future__ import annotations

from dataclasses import dataclass

from sidecar.core.container import Services
from sidecar.core.errors import SidecarError
from sidecar.payments.readiness import fulfilment_checks
from sidecar.store import repository as repo
from wp_bridge.errors import WPBridgeError


@dataclass(frozen=True)
class Readiness:
    """One verdict per dependency; ready only when every one is ok."""

    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        """True when every check passed."""
        return all(v.startswith("ok") for v in self.checks.values())


def readiness(services: Services) -> Readiness:
    """Check each dependency and say, in words, what is wrong."""
    checks: dict[str, str] = {}
    try:
        with services.db.transaction() as tx:
            repo.count_migrations(tx)
        checks["database"] = "ok"
    except SidecarError as exc:
        checks["database"] = f"unavailable: {exc}"
    except Exception as exc:
        checks["database"] = (
            f"not migrated or unreadable ({type(exc).__name__}): run `sidecar migrate`"
        )
    try:
        creds = services.credentials.get()
        checks["paytabs_credentials"] = f"ok (profile {creds.profile_id}, {creds.base_url})"
    except SidecarError as exc:
        checks["paytabs_credentials"] = f"unavailable: {exc}"
    try:
        services.wordpress.ping()
        checks["wordpress"] = "ok"
    except WPBridgeError as exc:
        checks["wordpress"] = f"unreachable or refusing the application password: {exc}"
    # A site that answers without the bridge or BuddyPress's routes takes money it cannot honour.
    checks.update(fulfilment_checks(services))
    return Readiness(checks)
