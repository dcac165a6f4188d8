"""Migrations and transactions, on SQLite and on MariaDB."""

from __future__ import annotations

import pytest

from sidecar.store.db import Database, migrate, migration_files


def test_db_migrate_is_idempotent(database_url: str) -> None:
    db = Database(database_url)
    first = migrate(db)
    assert first == [version for version, _ in migration_files(db.dialect)]
    assert first[:2] == ["0001_initial", "0002_purge_index"]
    assert migrate(db) == []
    with db.transaction() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM schema_migrations") == len(first)
        assert tx.scalar("SELECT COUNT(*) FROM intents") == 0
    db.close()


def test_db_transaction_rolls_back_on_error(database_url: str) -> None:
    db = Database(database_url)
    migrate(db)
    with pytest.raises(RuntimeError), db.transaction() as tx:
        tx.execute("INSERT INTO worker_marks (name, at) VALUES (?, ?)", ("x", 1.0))
        raise RuntimeError("boom")
    with db.transaction() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM worker_marks") == 0
    db.close()


def test_db_repr_hides_password() -> None:
    assert "hunter2" not in repr(Database("mysql://u:hunter2@127.0.0.1/db"))
