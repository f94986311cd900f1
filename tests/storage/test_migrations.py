"""Opening a store migrates it once; the fast path trusts ``HEAD`` only because this checks it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from taxgate.storage.db import HEAD, Store, current_revision, script_head


def test_head_constant_is_the_head_of_the_migration_scripts() -> None:
    assert script_head() == HEAD


def test_a_new_store_is_migrated_to_head_and_reopening_keeps_it(store_url: str) -> None:
    store = Store(store_url)
    assert current_revision(store.engine) == HEAD
    store.close()
    again = Store(store_url)
    assert current_revision(again.engine) == HEAD
    again.close()


def test_a_store_one_revision_behind_is_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    store = Store(url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0005_pages'"))
        conn.execute(text("ALTER TABLE privacy_spend DROP COLUMN document"))  # what 0006 adds
    store.close()
    reopened = Store(url)
    assert current_revision(reopened.engine) == HEAD
    reopened.close()


def test_a_store_before_the_partial_log_index_gets_it_with_its_entries(tmp_path: Path) -> None:
    """0007: the event-type index drops the decision and disclosure entries; the entries
    stay, and a query for the control events is served by the index."""
    from sqlalchemy import select

    from taxgate.storage import tables as m

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    store = Store(url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0006_crypto'"))
        conn.execute(text("DROP INDEX ix_audit_entries_event_type"))
        conn.execute(text("CREATE INDEX ix_audit_entries_event_type ON audit_entries (event_type)"))
        for i, kind in enumerate(["decision", "holdback_added", "disclosure", "key_registered"]):
            conn.execute(
                text("INSERT INTO audit_entries VALUES (:i, :k, :o, :e, :h)"),
                {"i": i, "k": kind, "o": f"R-{i}", "e": b"{}", "h": bytes(32)},
            )
    store.close()
    reopened = Store(url)
    assert current_revision(reopened.engine) == HEAD
    with reopened.engine.connect() as conn:
        sql = conn.execute(
            text("SELECT sql FROM sqlite_master WHERE name = 'ix_audit_entries_event_type'")
        ).scalar_one()
        assert "NOT IN ('decision', 'disclosure')" in sql
        q = select(m.AuditEntry.idx).where(m.of_events("holdback_added", "key_registered"))
        assert [r[0] for r in conn.execute(q.order_by(m.AuditEntry.idx))] == [1, 3]
        compiled = str(q.compile(conn, compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
        assert "ix_audit_entries_event_type" in plan
        every = select(m.AuditEntry.idx).where(m.of_events("decision", "key_registered"))
        assert sorted(r[0] for r in conn.execute(every)) == [0, 3]
    reopened.close()
