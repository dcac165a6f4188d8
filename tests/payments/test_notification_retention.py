"""The notification log: migration 0004, and the retention sweep deleting what matched no intent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sidecar.payments import sweeps
from sidecar.store import repository as repo
from sidecar.store.db import Database, migrate, migration_files, split_statements


def post_junk_ipn(stack: Any) -> None:
    response = stack.client.post("/paytabs/ipn", data=b"junk", headers={"Signature": "0" * 64})
    assert response.status_code == 400


def test_sweep_retention_deletes_unmatched_notifications_past_retention(stack: Any) -> None:
    """Fails on the previous main: notifications that matched no intent were never purged."""
    retention = stack.services.settings.retention_days * 86400
    intent = stack.paid_intent()
    stack.drain()
    matched = stack.count("notifications", "intent_id = ?", (intent.id,))
    for _ in range(3):
        post_junk_ipn(stack)
    stack.post_return({"cartId": "tp_unknown", "signature": "0"})
    stack.clock.advance(retention - 60)
    post_junk_ipn(stack)  # younger than the retention period when the sweep runs
    stack.clock.advance(61)
    sweeps.run_all(stack.services)
    assert stack.count("notifications", "intent_id IS NULL") == 1
    # The matched ones keep their facts (only personal data goes, with the intent's purge).
    assert stack.count("notifications", "intent_id = ?", (intent.id,)) == matched
    with stack.services.db.transaction() as tx:
        facts = repo.list_notifications(tx, intent.id)
    assert {(n["channel"], n["tran_ref"], n["signature_ok"]) for n in facts} == {
        ("ipn", intent.tran_ref, 1)
    }
    stack.clock.advance(retention)
    sweeps.run_all(stack.services)
    assert stack.count("notifications", "intent_id IS NULL") == 0


def test_sweep_retention_deletes_a_flood_in_batches(
    stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweeps, "NOTIFICATION_PURGE_BATCH", 4)
    monkeypatch.setattr(sweeps, "NOTIFICATION_PURGE_BATCHES", 2)
    for _ in range(11):
        post_junk_ipn(stack)
    stack.clock.advance(stack.services.settings.retention_days * 86400 + 1)
    assert sweeps.sweep_retention(stack.services) == 8  # two batches a sweep: bounded work
    assert sweeps.sweep_retention(stack.services) == 3
    assert stack.count("notifications") == 0


def test_sweep_retention_finds_unmatched_notifications_through_the_index(tmp_path: Path) -> None:

    db = Database(f"sqlite:///{tmp_path / 'plan.sqlite3'}")
    migrate(db)
    with db.transaction() as tx:
        plan = tx.all(
            "EXPLAIN QUERY PLAN SELECT id FROM notifications WHERE intent_id IS NULL"
            " AND received_at < ? ORDER BY received_at LIMIT ?",
            (1.0, 10),
        )
    db.close()
    details = " ".join(str(row["detail"]) for row in plan)
    assert "ix_notifications_intent_received" in details and "TEMP B-TREE" not in details


def test_db_migration_0004_keeps_notifications_logged_before_it(database_url: str) -> None:
    db = Database(database_url)
    with db.transaction() as tx:
        tx.execute(
            "CREATE TABLE schema_migrations ("
            " version VARCHAR(64) NOT NULL PRIMARY KEY, applied_at DOUBLE NOT NULL)"
        )
    for version, path in migration_files(db.dialect):  # a store from before 0004, as migrated
        if version >= "0004":
            break
        with db.transaction() as tx:
            for statement in split_statements(path.read_text(encoding="utf-8")):
                tx.execute(statement)
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", (version, 0.0)
            )
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO notifications (intent_id, channel, signature_ok, outcome, body, headers,"
            " received_at) VALUES (NULL, 'ipn', 0, 'invalid_signature', ?, '{}', 1.0)",
            ("x" * 40_000,),
        )
    assert "0004_notification_digest" in migrate(db)
    with db.transaction() as tx:
        row = tx.one("SELECT * FROM notifications")
    db.close()
    assert row is not None and len(row["body"]) == 40_000
    assert row["body_sha256"] is None and row["body_length"] is None


def test_sweep_retention_query_uses_the_index_on_mariadb(mariadb_url: str) -> None:
    db = Database(mariadb_url)
    migrate(db)
    rows = [(i if i % 4 else None, float(i)) for i in range(1, 4001)]  # history, mostly matched
    with db.transaction() as tx:
        tx.conn.cursor().executemany(
            "INSERT INTO notifications (intent_id, channel, signature_ok, outcome, received_at)"
            " VALUES (%s, 'ipn', 1, 'queued', %s)",
            rows,
        )
        tx.all("ANALYZE TABLE notifications")
        plan = tx.all(
            "EXPLAIN SELECT id FROM notifications WHERE intent_id IS NULL"
            " AND received_at < ? ORDER BY received_at LIMIT ?",
            (100.0, 10),
        )
    db.close()
    assert [row["key"] for row in plan] == ["ix_notifications_intent_received"]
    assert "filesort" not in str(plan[0]["Extra"]).lower()
