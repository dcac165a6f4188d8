"""The whole payment stack in one process for tests: sidecar, PayTabs simulator, fake WordPress.

The sidecar and the simulator are served over real loopback HTTP (the simulator posts IPNs to the
sidecar, the sidecar's PayTabs client calls the simulator); WordPress is the in-memory fake.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import make_server

from sidecar import create_app
from sidecar.core.container import Services
from sidecar.jobs.runner import drain
from sidecar.sandbox.paytabs_sim import PayTabsSimulator
from sidecar.store import repository as repo
from sidecar.store.db import migrate
from sidecar.store.repository import Intent
from tests.support.mariadb import free_port
from tests.support.wp_options import serialized_settings, write_sqlite_options
from wp_bridge.client import WordPressClient
from wp_bridge.fake import FakeWordPress, FakeWordPressClient
from wp_bridge.tokens import sign_token

SERVER_KEY = "STESTSTACK0-SIDECARTEST-SERVERKEY01"
PROFILE_ID = 100001
SHARED_SECRET = "test-shared-secret-" + "z" * 32


class Clock:
    """A clock tests can move forward (starts at the real time)."""

    def __init__(self) -> None:
        self.now = time.time()
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        with self._lock:
            self.now += seconds


class Served:
    """A WSGI app on a loopback port, in a thread."""

    def __init__(self, app: Any, port: int = 0) -> None:
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


class Stack:
    """Sidecar + simulator + fake WordPress, with helpers that act as the buyer and PayTabs."""

    def __init__(
        self,
        tmp_path: Path,
        database_url: str,
        *,
        real_wp: dict[str, str] | None = None,
        **settings: Any,
    ) -> None:
        self.clock = Clock()
        self.real_wp = real_wp
        server_key = real_wp["PAYTABS_SERVER_KEY"] if real_wp else SERVER_KEY
        profile_id = int(real_wp["PAYTABS_PROFILE_ID"]) if real_wp else PROFILE_ID
        self.shared_secret = real_wp["SIDECAR_SHARED_SECRET"] if real_wp else SHARED_SECRET
        self.sim = PayTabsSimulator(
            server_key=server_key,
            profile_id=profile_id,
            base_url="http://placeholder",
            clock=self.clock,
            deliver_in_background=False,
        )
        self.sim_server = Served(self.sim.app)
        self.sim.base_url = self.sim_server.url
        self.sim.configure(ipn_delay_seconds=0, ipn_retry_delays=(0.05, 0.05, 0.05, 0.05, 0.05))
        self.alerts: list[tuple[str, str, str]] = []
        if real_wp:
            self.wp_session = requests.Session()
            wordpress: Any = WordPressClient(
                real_wp["WP_BASE_URL"],
                real_wp["WP_API_USER"],
                real_wp["WP_API_APP_PASSWORD"],
                session=self.wp_session,
            )
            wp_settings = {
                "WP_BASE_URL": real_wp["WP_BASE_URL"],
                "WP_API_USER": real_wp["WP_API_USER"],
                "WP_API_APP_PASSWORD": real_wp["WP_API_APP_PASSWORD"],
                "WP_DATABASE_URL": real_wp["WP_DATABASE_URL"],
                "WP_TABLE_PREFIX": real_wp.get("WP_TABLE_PREFIX", "wp_"),
            }
            self.wp: Any = None
            self.group = wordpress.get_group(int(real_wp["THERAPY_GROUP_ID"]))
            self.small_group = wordpress.get_group(int(real_wp["THERAPY_SMALL_GROUP_ID"]))
        else:
            self.wp_options_path = tmp_path / "wp-options.sqlite3"
            wp_db = write_sqlite_options(
                self.wp_options_path,
                {"retreat_paytabs_settings": serialized_settings(PROFILE_ID, SERVER_KEY, "SAU")},
            )
            self.wp = FakeWordPress(site_url="http://wp.test", clock=self.clock)
            self.group = self.wp.add_group(name="Anxiety circle", price="150.00", capacity=5)
            self.small_group = self.wp.add_group(name="Grief group", price="200.00", capacity=1)
            wordpress = FakeWordPressClient(self.wp)
            wp_settings = {
                "WP_BASE_URL": "http://wp.test",
                "WP_API_USER": "admin",
                "WP_API_APP_PASSWORD": "fake app password",
                "WP_DATABASE_URL": wp_db,
            }
        self.wordpress = wordpress
        port = free_port()
        self.app = create_app(
            {
                "SIDECAR_IGNORE_DOTENV": "1",
                "SIDECAR_IGNORE_ENVIRON": "1",
                "SIDECAR_ENV": "test",
                "SIDECAR_DATABASE_URL": database_url,
                "SIDECAR_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "SIDECAR_SHARED_SECRET": self.shared_secret,
                "PAYTABS_BASE_URL": self.sim_server.url,
                "SIDECAR_ALERT_EMAIL": "false",
                "CLOSE_DB_AFTER_REQUEST": True,
                "clock": self.clock,
                "wordpress": wordpress,
                "alert_sink": lambda *a: self.alerts.append(a),
                **wp_settings,
                **settings,
            }
        )
        self.services: Services = self.app.extensions["sidecar"]
        migrate(self.services.db)
        self.server = Served(self.app, port)
        self.client = self.app.test_client()
        self.wp_server: Served | None = None

    def set_site_options(self, **options: str) -> None:
        """Set WordPress options (e.g. timezone_string) and drop the sidecar's cached site time."""
        write_sqlite_options(self.wp_options_path, options)
        self.services.site_time.forget()

    # --- the buyer -----------------------------------------------------------------------------

    def form(
        self, group_id: int | None = None, *, user_id: int = 0, user_email: str = "", **fields: str
    ) -> dict[str, str]:
        """Return a filled-in checkout form with a valid signed form token."""
        token = sign_token(
            {
                "typ": "form",
                "uid": user_id,
                "email": user_email,
                "exp": int(self.clock()) + 7200,
                "nonce": secrets.token_hex(8),
            },
            self.shared_secret,
        )
        base = {
            "group_id": str(group_id or self.group.id),
            "first_name": "Amal",
            "last_name": "Haddad",
            "email": f"amal.{secrets.token_hex(3)}@example.com",
            "phone": "+966500000000",
            "street1": "King Fahd Rd",
            "city": "Riyadh",
            "country": "SA",
            "idempotency_key": secrets.token_urlsafe(18),
            "form_token": token,
        }
        base.update(fields)
        return base

    def checkout(self, form: dict[str, str] | None = None, **kwargs: Any) -> Any:
        """POST the form to the sidecar as a browser would."""
        return self.client.post("/therapy/checkout", data=form or self.form(), **kwargs)

    def start(self, **form_fields: Any) -> Intent:
        """Check out and return the new intent (asserting the 303 to PayTabs)."""
        form = self.form(**form_fields)
        response = self.checkout(form)
        assert response.status_code == 303, response.get_data(as_text=True)
        assert response.headers["Location"].startswith(self.sim_server.url + "/payment/page/")
        return self.intent_by_key(form["idempotency_key"])

    def paid_intent(self, **form_fields: Any) -> Intent:
        """Check out, pay with the approving card and deliver the IPN (nothing drained yet)."""
        intent = self.start(**form_fields)
        self.pay(intent)
        self.deliver_ipns()
        return intent

    def intent_by_key(self, idempotency_key: str) -> Intent:
        """Return the intent a form submission created."""
        with self.services.db.transaction() as tx:
            found = repo.find_intent_by_idempotency_key(tx, idempotency_key)
        assert found is not None
        return found

    # --- PayTabs -------------------------------------------------------------------------------

    def pay(self, intent: Intent, card: str = "4111111111111111") -> dict[str, str]:
        """Pay on the hosted page; return the signed return fields (the IPN is queued at the sim)."""
        assert intent.tran_ref
        return self.sim.pay(intent.tran_ref, card)

    def post_return(self, fields: dict[str, str]) -> Any:
        """The browser comes back from PayTabs with a form POST."""
        return self.client.post("/paytabs/return", data=fields)

    def deliver_ipns(self) -> int:
        """Deliver the IPNs the simulator has queued (over HTTP, to the sidecar)."""
        return self.sim.deliver_pending_notifications()

    # --- the worker and the store --------------------------------------------------------------

    def drain(self) -> int:
        """Run every due job, as the worker would."""
        return drain(self.services)

    def intent(self, ref: str) -> Intent:
        """Return the intent with this reference."""
        with self.services.db.transaction() as tx:
            found = repo.find_intent_by_ref(tx, ref)
        assert found is not None
        return found

    def intent_by_tran_ref(self, tran_ref: str) -> Intent:
        """Return the intent PayTabs knows by ``tran_ref``."""
        with self.services.db.transaction() as tx:
            found = repo.find_intent_by_tran_ref(tx, tran_ref)
        assert found is not None
        return found

    def count(self, table: str, where: str = "1 = 1", params: tuple[Any, ...] = ()) -> int:
        """Count rows of a table."""
        with self.services.db.transaction() as tx:
            return int(tx.scalar(f"SELECT COUNT(*) FROM {table} WHERE {where}", params))

    # --- other processes -----------------------------------------------------------------------

    def serve_wordpress(self) -> str:
        """Serve the fake WordPress over HTTP (for worker processes) and return its URL."""
        from sidecar.sandbox.wordpress import create_wordpress_app

        if self.wp_server is None:
            app = create_wordpress_app(
                self.wp,
                app_user="admin",
                app_password="fake app password",
                shared_secret=SHARED_SECRET,
                sidecar_url=self.server.url,
            )
            self.wp_server = Served(app)
        return self.wp_server.url

    def process_env(self, **extra: str) -> dict[str, str]:
        """Return the environment a `sidecar` process needs to join this stack."""
        s = self.services.settings
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("SIDECAR_", "WP_", "PAYTABS_"))
        }
        env.update(
            {
                "SIDECAR_ENV": "test",
                "SIDECAR_DATABASE_URL": s.database_url,
                "SIDECAR_PUBLIC_URL": s.public_url,
                "SIDECAR_SHARED_SECRET": SHARED_SECRET,
                "WP_BASE_URL": self.serve_wordpress(),
                "WP_API_USER": "admin",
                "WP_API_APP_PASSWORD": "fake app password",
                "WP_DATABASE_URL": s.wp_database_url,
                "PAYTABS_BASE_URL": self.sim_server.url,
                "SIDECAR_ALERT_EMAIL": "false",
                "SIDECAR_POLL_INTERVAL_SECONDS": "0.05",
                "SIDECAR_JOB_LEASE_SECONDS": "1",
                "SIDECAR_SWEEP_INTERVAL_SECONDS": "3600",
            }
        )
        env.update(extra)
        return env

    def close(self) -> None:
        """Stop the servers and close the store."""
        if self.wp_server is not None:
            self.wp_server.stop()
        self.server.stop()
        self.sim_server.stop()
        self.sim.close()
        self.services.db.close()
        if self.real_wp:
            self.wp_session.close()
