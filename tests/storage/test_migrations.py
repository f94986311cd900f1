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
