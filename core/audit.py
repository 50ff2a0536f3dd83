"""The append-only audit log: who did what to which object, before and after, when.

Rows are only ever inserted, through :func:`record` (or its variants here). The database refuses
UPDATE and DELETE on the table (triggers created by the migration).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from flask import has_request_context, request
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, event, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import Base, UTCDateTime, raw_write


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    # Who acted when there is no user: "cli", "system", a job's name.
    actor_label: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(80))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    remote_address: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id"),
        {"sqlite_autoincrement": True},
    )


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise PermissionError("audit events are append-only")


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str | int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Add one audit row to ``session`` (committed with the change it describes)."""
    event_row = AuditEvent(
        **_values(actor_id, action, object_type, object_id, before, after, actor_label)
    )
    session.add(event_row)
    return event_row


def record_straight(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str | int,
    after: dict[str, Any] | None = None,
) -> None:
    """The row :func:`record` adds, written straight to the driver in the session's
    transaction: for the exam's start, where building an ORM row and flushing it would
    cost more than the start's other writes together."""
    values = _values(actor_id, action, object_type, object_id, None, after, None)
    values["after"] = json.dumps(after) if after is not None else None
    raw_write(session, _insert_sql(session.get_bind().dialect.name), values)


def _values(
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str | int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    actor_label: str | None,
) -> dict[str, Any]:
    return {
        "occurred_at": clock.now(),
        "actor_id": actor_id,
        "actor_label": actor_label or (f"user:{actor_id}" if actor_id else "system"),
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "before": before,
        "after": after,
        "remote_address": request.remote_addr if has_request_context() else None,
    }


@cache
def _insert_sql(dialect: str) -> str:
    json_value = ":{}" if dialect == "sqlite" else "CAST(:{} AS JSON)"
    return (
        "INSERT INTO audit_event (occurred_at, actor_id, actor_label, action, object_type, "  # noqa: S608
        'object_id, "before", "after", remote_address) VALUES (:occurred_at, :actor_id, '
        ":actor_label, :action, :object_type, :object_id, "
        f"{json_value.format('before')}, {json_value.format('after')}, :remote_address)"
    )


def record_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """Many audit rows at once (bulk imports): each dict takes :func:`record`'s arguments."""
    if not rows:
        return
    now = clock.now()
    values = [
        {
            "occurred_at": now,
            "actor_id": row.get("actor_id"),
            "actor_label": row.get("actor_label") or "system",
            "action": row["action"],
            "object_type": row["object_type"],
            "object_id": str(row["object_id"]),
            "before": row.get("before"),
            "after": row.get("after"),
            "remote_address": request.remote_addr if has_request_context() else None,
        }
        for row in rows
    ]
    for start in range(0, len(values), 2000):
        session.execute(insert(AuditEvent), values[start : start + 2000])


def events_for(session: Session, object_type: str, object_id: str | int) -> list[AuditEvent]:
    """The audit trail of one object, oldest first."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
        .order_by(AuditEvent.id)
    )
    return list(session.scalars(query))


def last_event(
    session: Session, object_type: str, object_id: str | int, actions: Iterable[str]
) -> AuditEvent | None:
    """The most recent of ``actions`` on one object, whatever came after it."""
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.object_type == object_type,
            AuditEvent.object_id == str(object_id),
            AuditEvent.action.in_(list(actions)),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def describe_change(event_row: AuditEvent) -> list[str]:
    """The change as lines people read: "roles: candidate → candidate, proctor"."""
    before, after = event_row.before or {}, event_row.after or {}
    lines = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            lines.append(f"{key.replace('_', ' ')}: {_plain(old)} → {_plain(new)}")
    return lines


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
    return str(value)
