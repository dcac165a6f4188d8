"""The demo's settings file: what points the ``sidecar`` CLI at a running demo."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FILE_NAME = "sidecar.env"
# What the CLI needs to reach the demo's database, WordPress and PayTabs simulator.
NAMES = (
    "SIDECAR_ENV",
    "SIDECAR_DATABASE_URL",
    "SIDECAR_PUBLIC_URL",
    "SIDECAR_SHARED_SECRET",
    "WP_BASE_URL",
    "WP_API_USER",
    "WP_API_APP_PASSWORD",
    "WP_DATABASE_URL",
    "PAYTABS_BASE_URL",
)
# The sandbox WordPress's seed bookings ("seed-<group>-<n>") stand for the site's bookings made
# before the sidecar: not intents. `sidecar audit` reads this like its --ignore-ref-prefix.
AUDIT_PREFIXES = ("SIDECAR_AUDIT_IGNORE_REF_PREFIXES", "seed-")


def write_env_file(data_dir: Path, config: Mapping[str, Any]) -> Path:
    """Write the demo's settings (python-dotenv format, mode 0600) and return the file's path."""
    path = data_dir / FILE_NAME
    lines = [
        "# Written by `sidecar demo`: the settings of the running demo (secrets inside: 0600).",
        *(f'{name}="{config[name]}"' for name in NAMES if config.get(name)),
        f'{AUDIT_PREFIXES[0]}="{AUDIT_PREFIXES[1]}"',
    ]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an older file keeps its mode through O_TRUNC
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return path


def cli_command(path: Path) -> str:
    """Return the one shell command that points the ``sidecar`` CLI at the demo's settings."""
    return f"export SIDECAR_ENV_FILE={shlex.quote(str(path.resolve()))}"
