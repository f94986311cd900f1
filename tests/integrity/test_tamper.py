"""The log commits to content (issue 13, item 1): a one-character change to any field of
any row the log covers is caught by verification, naming the row and the field, on both
stores; nothing is answered, approved or signed from a changed row.

Each case failed before: only the existence of rows and a decision's status were checked.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, select, update

from taxgate import pipeline
from taxgate.audit.content import (
    BATCH_COLUMNS,
    DECISION_COLUMNS,
    DISCLOSURE_COLUMNS,
    REQUEST_COLUMNS,
    REVIEW_COLUMNS,
)
from taxgate.errors import AuditError
from taxgate.services.review import decide_review, pending
from taxgate.storage import tables as m
from taxgate.storage.audit_log import verify_log
from taxgate.workspace import Workspace
from tests.conftest import statute_review_config
from tests.integrity.conftest import Site


def mutate(value: Any, rng: random.Random) -> Any:
    """The value with one character (or one unit) changed somewhere inside it."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value ^ 1
    if isinstance(value, float):
        return value + 1e-6
    if isinstance(value, str):
        if not value:
            return "x"
        i = rng.randrange(len(value))
        c = value[i]
        return value[:i] + (chr(ord(c) ^ 1) if ord(c) > 1 else "x") + value[i + 1 :]
    if isinstance(value, list):
        if not value:
            return ["x"]
        i = rng.randrange(len(value))
        return [*value[:i], mutate(value[i], rng), *value[i + 1 :]]
    if isinstance(value, dict):
        if not value:
            return {"x": "x"}
        k = rng.choice(sorted(value))
        return {**value, k: mutate(value[k], rng)}
    return "x"


@dataclass(frozen=True)
class Target:
    table: Any
    key: dict[str, Any]
    column: str
    inner: str | None  # a key of a JSON column

    @property
    def field(self) -> str:
        return f"{self.column}.{self.inner}" if self.inner else self.column


_TABLES = (
    (m.RequestRow, REQUEST_COLUMNS, ("agency_code", "request_id")),
    (m.Decision, DECISION_COLUMNS, ("agency_code", "request_id")),
    (m.Disclosure, DISCLOSURE_COLUMNS, ("id",)),
    (m.Review, REVIEW_COLUMNS, ("id",)),
    (m.Batch, BATCH_COLUMNS, ("batch_id",)),
)


@contextmanager
def no_foreign_keys(conn: Connection) -> Iterator[None]:
    """An insider's session: foreign keys do not stop the change."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            yield
        finally:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
    else:
        conn.exec_driver_sql("SET session_replication_role = replica")
        try:
            yield
        finally:
            conn.exec_driver_sql("SET session_replication_role = DEFAULT")


@pytest.fixture
def decided(site: Site) -> Workspace:
    """A store with requests, decisions (some disclosed), a batch and two reviews."""
    config = statute_review_config(site.root)
    rb = config / "rulebook.yaml"  # R-OFFICER too: two requests wait for a person
    text = rb.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.strip().startswith("R-OFFICER:"))
    rb.write_text(text.replace(line, line.replace('"on"', '"review"')), encoding="utf-8")
    ws = Workspace.open(site.workdir, user="processor", config=config)
    site.opened.append(ws)
    pipeline.process(ws, site.world.batch, site.root / "out")
    waiting = pending(ws)
    assert len(waiting) >= 2
    decide_review(ws, waiting[0].request_id, approve=True, note="checked", user="second")
    decide_review(ws, waiting[1].request_id, approve=False, note="no case", user="second")
    return ws


def _targets(ws: Workspace) -> list[Target]:
    out: list[Target] = []
    with ws.transaction() as (s, _):
        for table, columns, key in _TABLES:
            q = select(table)
            if table is m.Decision:  # a disclosed one: every body key is filled
                q = q.where(m.Decision.status == "DISCLOSED")
            row = s.scalars(q.limit(1)).first()
            assert row is not None, table
            ident = {k: getattr(row, k) for k in key}
            for col in columns:
                value = getattr(row, col)
                if isinstance(value, dict) and col in ("payload", "body"):
                    out.extend(
                        Target(table, ident, col, k) for k in sorted(value) if k != "audit_index"
                    )
                else:
                    out.append(Target(table, ident, col, None))
    return out


def _apply(ws: Workspace, t: Target, new: Any) -> tuple[Any, Any]:
    """Store ``new(old)`` in the target field; the old and the new value."""
    with ws.store.engine.begin() as conn, no_foreign_keys(conn):
        where = [getattr(t.table, k) == v for k, v in t.key.items()]
        col = getattr(t.table, t.column)
        old = conn.execute(select(col).where(*where)).scalar_one()
        value = new(old)
        conn.execute(update(t.table).where(*where).values({t.column: value}))
        return old, value


def _verify(ws: Workspace) -> None:
    with ws.transaction() as (s, _):
        verify_log(s, ws.agency_key().public_key())


def test_every_covered_field_is_committed(decided: Workspace) -> None:
    rng = random.Random(13)
    targets = _targets(decided)
    _verify(decided)
    assert len(targets) > 40
    missed: list[str] = []
    for t in targets:

        def change(old: Any, t: Target = t) -> Any:
            if t.column in t.key:  # a key: one character that no other key ends with
                return str(old)[:-1] + "~"
            if t.inner is None:
                return mutate(old, rng)
            return {**old, t.inner: mutate(old[t.inner], rng)}

        old, new = _apply(decided, t, change)
        try:
            _verify(decided)
        except AuditError as e:
            text = str(e)
            moved = t.column in t.key  # the row lost its link
            named = f"`{t.field}`" in text or (moved and ("missing" in text or "no " in text))
            if not named:
                missed.append(f"{t.table.__tablename__}.{t.field}: {text[:300]}")
        else:
            missed.append(f"{t.table.__tablename__}.{t.field}: not caught")
        finally:
            key = {**t.key, t.column: new} if t.column in t.key else t.key
            _apply(decided, Target(t.table, key, t.column, None), lambda _o, v=old: v)
    assert missed == []
    _verify(decided)


def test_a_changed_disclosure_is_never_answered_again(decided: Workspace, site: Site) -> None:
    with decided.transaction() as (s, _):
        x = s.scalars(select(m.Disclosure).limit(1)).first()
        assert x is not None
        key = {"id": x.id}
    t = Target(m.Disclosure, key, "payload", "fields")
    _apply(decided, t, lambda old: {**old, "fields": mutate(old["fields"], random.Random(1))})
    with pytest.raises(AuditError, match=r"field `payload.fields`"):
        pipeline.process(decided, site.world.batch, site.root / "out-again")
    assert not (site.root / "out-again" / "response.jsonl").exists()


def test_a_pending_request_with_an_edited_tin_is_not_approved(decided: Workspace) -> None:
    with decided.transaction() as (s, _):  # the check comes before any other
        d = s.scalars(select(m.Decision).where(m.Decision.matched_tin != "").limit(1)).first()
        assert d is not None
        rid, agency = d.request_id, d.agency_code
    t = Target(m.Decision, {"agency_code": agency, "request_id": rid}, "matched_tin", None)
    _apply(decided, t, lambda old: "900000000" if old != "900000000" else "900000001")
    with pytest.raises(AuditError, match=r"field `matched_tin`"):
        decide_review(decided, rid, approve=True, note="looks fine", user="second")
    with decided.transaction() as (s, _):
        assert s.scalar(select(m.Review).where(m.Review.request_id == rid)) is None
