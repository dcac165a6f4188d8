"""A WordPress options table with the retreat's PayTabs settings, as WordPress stores them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import phpserialize


def serialized_settings(
    profile_id: int, server_key: str, region: str, currency: str = "SAR"
) -> str:
    """Return the option value a plugin's update_option() writes for its settings array."""
    value = {
        "profile_id": str(profile_id),
        "server_key": server_key,
        "region": region,
        "currency": currency,
    }
    return phpserialize.dumps(value).decode("utf-8")


def write_sqlite_options(path: Path, options: dict[str, str], prefix: str = "wp_") -> str:
    """Create ``{prefix}options`` in an SQLite file with ``options``; return its URL."""
    conn = sqlite3.connect(path)
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {prefix}options (option_id INTEGER PRIMARY KEY, "
        "option_name VARCHAR(191) UNIQUE, option_value TEXT NOT NULL, autoload VARCHAR(20) DEFAULT 'yes')"
    )
    for name, value in options.items():
        conn.execute(
            f"INSERT OR REPLACE INTO {prefix}options (option_name, option_value) VALUES (?, ?)",
            (name, value),
        )
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"
