"""Settings: read once from the environment (or a .env file), validated, secrets kept out of reprs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A setting is missing or malformed; the message names every such setting."""


class Secret:
    """A string that never shows itself in repr, str, logs or error pages."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret itself, for the one place that must use it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Settings:
    """Everything the sidecar needs to know about its surroundings."""

    database_url: str
    public_url: str
    shared_secret: Secret
    wp_base_url: str
    wp_api_user: str
    wp_api_app_password: Secret
    wp_database_url: str
    wp_table_prefix: str = "wp_"
    paytabs_base_url: str | None = None
    encryption_key: Secret | None = None
    # Also accepted when verifying the bridge's tokens (never used to sign): secret rotation.
    shared_secret_also_accepted: Secret | None = None
    paytabs_option_name: str = "retreat_paytabs_settings"
    paytabs_option_profile_id: str = "paytabs_profile_id"
    paytabs_option_server_key: str = "paytabs_server_key"
    paytabs_option_region: str = "paytabs_region"
    credentials_cache_seconds: float = 60.0
    hold_minutes: int = 30
    paypage_ttl_minutes: int = 20
    job_lease_seconds: float = 120.0  # longer than a WordPress call with all its retries
    fulfil_max_attempts: int = 8
    refund_max_attempts: int = 10
    retention_days: int = 30
    unfulfilled_alert_minutes: int = 10
    pending_query_after_seconds: float = 180.0
    sweep_interval_seconds: float = 30.0
    poll_interval_seconds: float = 0.5
    # The datagram socket the worker binds and the web pokes when it queues a job (None: off).
    wakeup_socket: str | None = None
    status_wait_slots: int = 2  # long-polled status requests waiting at once, per web process
    send_booking_email: bool = True
    alert_webhook_url: str | None = None
    alert_email: bool = True
    environment: str = "production"
    trusted_proxies: int = 0  # reverse proxies in front whose X-Forwarded-* headers are believed
    ratelimit_storage: str = "memory://"  # per process; sqlite:///path shares it between workers
    ratelimit_checkout: str = "10/minute"  # per client address
    ratelimit_status: str = "120/minute"  # per client address; the status page polls every 1.5 s
    ratelimit_operator: str = "60/minute"  # per client address; the operator API (/operator/v1)
    extra: Mapping[str, object] = field(default_factory=dict)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name != "extra"
        )
        return f"Settings({_strip_url_password_in(shown)})"


def _strip_url_password_in(text: str) -> str:
    """Hide passwords inside database URLs that a repr would otherwise show."""
    import re

    return re.sub(r"(://[^:/@]+):[^@/]+@", r"\1:********@", text)


REQUIRED = (
    "SIDECAR_PUBLIC_URL",
    "SIDECAR_SHARED_SECRET",
    "WP_BASE_URL",
    "WP_API_USER",
    "WP_API_APP_PASSWORD",
    "WP_DATABASE_URL",
)
INTEGERS = {
    "SIDECAR_HOLD_MINUTES": "hold_minutes",
    "SIDECAR_PAYPAGE_TTL_MINUTES": "paypage_ttl_minutes",
    "SIDECAR_FULFIL_MAX_ATTEMPTS": "fulfil_max_attempts",
    "SIDECAR_REFUND_MAX_ATTEMPTS": "refund_max_attempts",
    "SIDECAR_RETENTION_DAYS": "retention_days",
    "SIDECAR_UNFULFILLED_ALERT_MINUTES": "unfulfilled_alert_minutes",
    "SIDECAR_STATUS_WAIT_SLOTS": "status_wait_slots",
}
FLOATS = {
    "SIDECAR_JOB_LEASE_SECONDS": "job_lease_seconds",
    "SIDECAR_CREDENTIALS_CACHE_SECONDS": "credentials_cache_seconds",
    "SIDECAR_PENDING_QUERY_AFTER_SECONDS": "pending_query_after_seconds",
    "SIDECAR_SWEEP_INTERVAL_SECONDS": "sweep_interval_seconds",
    "SIDECAR_POLL_INTERVAL_SECONDS": "poll_interval_seconds",
}
STRINGS = {
    "WP_TABLE_PREFIX": "wp_table_prefix",
    "PAYTABS_OPTION_NAME": "paytabs_option_name",
    "PAYTABS_OPTION_PROFILE_ID": "paytabs_option_profile_id",
    "PAYTABS_OPTION_SERVER_KEY": "paytabs_option_server_key",
    "PAYTABS_OPTION_REGION": "paytabs_option_region",
    "SIDECAR_ENV": "environment",
    "SIDECAR_RATELIMIT_STORAGE": "ratelimit_storage",
    "SIDECAR_RATELIMIT_CHECKOUT": "ratelimit_checkout",
    "SIDECAR_RATELIMIT_STATUS": "ratelimit_status",
    "SIDECAR_RATELIMIT_OPERATOR": "ratelimit_operator",
}
BOOLEANS = {
    "SIDECAR_SEND_BOOKING_EMAIL": "send_booking_email",
    "SIDECAR_ALERT_EMAIL": "alert_email",
}
ENVIRONMENTS = ("production", "development", "test")
# The values .env.example and deploy/sidecar.env.example ship say one of these; none is a secret.
PLACEHOLDER_MARKERS = ("change-me", "changeme", "replace", "xxxx xxxx")
PLACEHOLDER_FIX = {
    "SIDECAR_SHARED_SECRET": "make one with python3 -c 'import secrets; "
    "print(secrets.token_urlsafe(48))' and put the same value in wp-config.php",
    "WP_API_APP_PASSWORD": "create an application password for WP_API_USER in WordPress "
    "(Users > Profile > Application Passwords)",
}


def is_placeholder(value: str) -> bool:
    """Return True when ``value`` is an example file's placeholder rather than a real secret."""
    lowered = value.strip().lower()
    return any(marker in lowered for marker in PLACEHOLDER_MARKERS)


def default_database_url(instance_path: str | os.PathLike[str]) -> str:
    """Return the SQLite URL used when SIDECAR_DATABASE_URL is not set."""
    return "sqlite:///" + str(Path(instance_path) / "sidecar.sqlite3")


def load_settings(env: Mapping[str, str], *, instance_path: str = "instance") -> Settings:
    """Build Settings from environment-style names; raise ConfigError naming every bad setting."""
    problems: list[str] = []
    values: dict[str, object] = {}
    for name in REQUIRED:
        if not str(env.get(name, "")).strip():
            problems.append(f"{name} is required but not set")
    for name in (
        "SIDECAR_PUBLIC_URL",
        "WP_BASE_URL",
        "PAYTABS_BASE_URL",
        "SIDECAR_ALERT_WEBHOOK_URL",
    ):
        value = str(env.get(name, "")).strip()
        if value and not _is_http_url(value):
            problems.append(f"{name} must be an http(s) URL, got {value!r}")
    secret = str(env.get("SIDECAR_SHARED_SECRET", ""))
    if secret and len(secret) < 32:
        problems.append("SIDECAR_SHARED_SECRET must be at least 32 characters (use a random value)")
    problems += [
        f"{name} is still the example's placeholder: {PLACEHOLDER_FIX[name]}"
        for name in PLACEHOLDER_FIX
        if is_placeholder(str(env.get(name, "")))
    ]
    other = str(env.get("SIDECAR_SHARED_SECRET_ALSO_ACCEPTED", ""))
    if other and len(other) < 32:
        problems.append("SIDECAR_SHARED_SECRET_ALSO_ACCEPTED must be at least 32 characters")
    database_url = str(env.get("SIDECAR_DATABASE_URL", "")).strip() or default_database_url(
        instance_path
    )
    for name, url in (
        ("SIDECAR_DATABASE_URL", database_url),
        ("WP_DATABASE_URL", env.get("WP_DATABASE_URL", "")),
    ):
        if url and urlsplit(str(url)).scheme not in ("sqlite", "mysql", "mysql+pymysql", "mariadb"):
            problems.append(f"{name} must start with sqlite:/// or mysql://")
    _coerce_all(env, values, problems)
    problems += _wakeup_socket_problems(env)
    if problems:
        raise ConfigError("Invalid configuration:\n  - " + "\n  - ".join(problems))
    prefix = str(env.get("WP_TABLE_PREFIX", "wp_"))
    if not prefix.replace("_", "").isalnum():
        raise ConfigError(
            "Invalid configuration:\n  - WP_TABLE_PREFIX may hold only letters, digits, _"
        )
    key = str(env.get("SIDECAR_ENCRYPTION_KEY", "")).strip()
    return Settings(
        database_url=database_url,
        public_url=str(env["SIDECAR_PUBLIC_URL"]).rstrip("/"),
        shared_secret=Secret(secret),
        wp_base_url=str(env["WP_BASE_URL"]).rstrip("/"),
        wp_api_user=str(env["WP_API_USER"]),
        wp_api_app_password=Secret(str(env["WP_API_APP_PASSWORD"])),
        wp_database_url=str(env["WP_DATABASE_URL"]),
        paytabs_base_url=(str(env.get("PAYTABS_BASE_URL", "")).rstrip("/") or None),
        encryption_key=Secret(key) if key else None,
        shared_secret_also_accepted=Secret(other) if other else None,
        alert_webhook_url=str(env.get("SIDECAR_ALERT_WEBHOOK_URL", "")).strip() or None,
        wakeup_socket=wakeup_socket_path(env),
        **values,  # type: ignore[arg-type]
    )


def _coerce_all(env: Mapping[str, str], values: dict[str, object], problems: list[str]) -> None:
    """Convert the optional typed settings, collecting a message for each one that is malformed."""
    for name, attr in INTEGERS.items():
        if str(env.get(name, "")).strip():
            try:
                number = int(str(env[name]))
                if number < 1:
                    raise ValueError
                values[attr] = number
            except ValueError:
                problems.append(f"{name} must be a whole number of at least 1, got {env[name]!r}")
    for name, attr in FLOATS.items():
        if str(env.get(name, "")).strip():
            try:
                real = float(str(env[name]))
                if real <= 0:
                    raise ValueError
                values[attr] = real
            except ValueError:
                problems.append(f"{name} must be a positive number, got {env[name]!r}")
    for name, attr in STRINGS.items():
        if str(env.get(name, "")).strip():
            values[attr] = str(env[name]).strip()
    for name, attr in BOOLEANS.items():
        raw = str(env.get(name, "")).strip().lower()
        if raw:
            if raw not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                problems.append(f"{name} must be true or false, got {env[name]!r}")
            values[attr] = raw in ("1", "true", "yes", "on")
    proxies = str(env.get("SIDECAR_TRUSTED_PROXIES", "")).strip()
    if proxies:  # unlike INTEGERS, 0 is allowed (and the default): no forwarded header trusted
        if proxies.isdigit() and int(proxies) <= 5:
            values["trusted_proxies"] = int(proxies)
        else:
            problems.append(f"SIDECAR_TRUSTED_PROXIES must be 0 to 5, got {proxies!r}")
    if values.get("environment", "production") not in ENVIRONMENTS:
        problems.append(f"SIDECAR_ENV must be one of {', '.join(ENVIRONMENTS)}")
    hold = int(str(values.get("hold_minutes", 30)))
    ttl = int(str(values.get("paypage_ttl_minutes", 20)))
    if ttl + 5 > hold:
        problems.append(
            "SIDECAR_PAYPAGE_TTL_MINUTES must be at least 5 minutes shorter than "
            f"SIDECAR_HOLD_MINUTES (got {ttl} and {hold}) so a seat outlives its payment page"
        )


# Unix socket paths are limited to 107 bytes (sun_path); keep a margin.
MAX_SOCKET_PATH = 100


def wakeup_socket_path(env: Mapping[str, str]) -> str | None:
    """Return the worker's wake-up socket: the setting, else in systemd's runtime directory."""
    raw = str(env.get("SIDECAR_WAKEUP_SOCKET", "")).strip()
    if raw.lower() == "off":
        return None
    if raw:
        return raw
    runtime = str(env.get("RUNTIME_DIRECTORY", "")).strip().split(":")[0]
    return str(Path(runtime) / "wakeup.sock") if runtime else None


def _wakeup_socket_problems(env: Mapping[str, str]) -> list[str]:
    path = wakeup_socket_path(env)
    if path is None:
        return []
    if not Path(path).is_absolute():
        return [f"SIDECAR_WAKEUP_SOCKET must be an absolute path (or off), got {path!r}"]
    if len(path.encode()) > MAX_SOCKET_PATH:
        return [f"SIDECAR_WAKEUP_SOCKET must be at most {MAX_SOCKET_PATH} bytes long"]
    return []


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
