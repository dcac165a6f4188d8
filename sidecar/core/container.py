"""The objects every entry point (web, worker, CLI) shares, built once from Settings."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sidecar.core.config import Settings
from sidecar.paytabs.client import PayTabsClient
from sidecar.store.credentials import CredentialStore, PayTabsCredentials
from sidecar.store.db import Database
from sidecar.store.site_time import SiteTimeStore
from wp_bridge.interface import WordPress


@dataclass
class Services:
    """Settings plus the clients and store built from them."""

    settings: Settings
    db: Database
    credentials: CredentialStore
    wordpress: WordPress
    site_time: SiteTimeStore
    clock: Callable[[], float] = time.time
    paytabs_factory: Callable[[PayTabsCredentials], PayTabsClient] | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    _paytabs_clients: threading.local = field(default_factory=threading.local, repr=False)

    def paytabs(self) -> PayTabsClient:
        """Return a PayTabs client for the current credentials (raises CredentialsUnavailable)."""
        creds = self.credentials.get()
        if self.paytabs_factory is not None:
            return self.paytabs_factory(creds)
        # One client (one connection pool) per thread and credentials: no TLS handshake per call,
        # and a rotated key gets a fresh client.
        cached = getattr(self._paytabs_clients, "entry", None)
        if cached is not None and cached[0] == creds:
            return cached[1]  # type: ignore[no-any-return,unused-ignore]
        if cached is not None:
            cached[1].close()
        client = PayTabsClient(creds.base_url, creds.profile_id, creds.server_key.reveal())
        self._paytabs_clients.entry = (creds, client)
        return client


def build_services(settings: Settings, overrides: dict[str, Any] | None = None) -> Services:
    """Build the shared objects; tests and the demo pass ``overrides`` (clock, wordpress, ...)."""
    overrides = dict(overrides or {})
    clock = overrides.pop("clock", time.time)
    wordpress: WordPress | None = overrides.pop("wordpress", None)
    if wordpress is None:
        from wp_bridge.client import WordPressClient

        wordpress = WordPressClient(
            settings.wp_base_url, settings.wp_api_user, settings.wp_api_app_password.reveal()
        )
    return Services(
        settings=settings,
        db=overrides.pop("db", None)
        or Database(
            settings.database_url,
            skip_locks=bool(overrides.pop("skip_locks", False)),
            race_pause=float(overrides.pop("race_pause", 0.0)),
        ),
        credentials=overrides.pop("credentials", None) or CredentialStore(settings, clock),
        wordpress=wordpress,
        site_time=overrides.pop("site_time", None) or SiteTimeStore(settings, clock),
        clock=clock,
        paytabs_factory=overrides.pop("paytabs_factory", None),
        extras=overrides,
    )
