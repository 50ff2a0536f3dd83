"""The audit log: one function records; nobody updates or deletes."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from core import audit
from core.audit import AuditEvent
from core.db import get_db


def test_record_writes_who_what_which_before_after_when(app: Flask, make_user, clock) -> None:
    actor = make_user("admin")
    with app.app_context(), get_db(app).write_sessions() as session:
        audit.record(
            session,
            actor_id=actor.id,
            action="thing.changed",
            object_type="thing",
            object_id=42,
            before={"state": "draft"},
            after={"state": "approved"},
        )
        session.commit()
        row = session.scalars(select(AuditEvent).where(AuditEvent.action == "thing.changed")).one()
    assert (row.actor_id, row.object_type, row.object_id) == (actor.id, "thing", "42")
    assert row.before == {"state": "draft"} and row.after == {"state": "approved"}
    assert row.occurred_at == clock.now()


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_event SET action = 'forged'", "DELETE FROM audit_event"],
)
def test_the_database_refuses_to_change_or_delete_audit_rows(
    app: Flask, make_user, statement: str
) -> None:
    make_user()  # writes a user.created event
    engine = get_db(app).engine
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AuditEvent)).scalar() == 1
        assert conn.execute(select(AuditEvent.action)).scalar() == "user.created"


def test_the_orm_refuses_to_change_audit_rows(app: Flask, make_user) -> None:
    make_user()
    with get_db(app).write_sessions() as session:
        row = session.scalars(select(AuditEvent)).one()
        row.action = "forged"
        with pytest.raises(PermissionError):
            session.flush()
