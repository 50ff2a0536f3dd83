"""Drift alerts to the exam administrators, by email through the outbox, audited.

Each alerted item version gets an audit row; an alert whose item version, blueprint and
signal already has a row since the latest period began is not sent again (monthly: once
a month; recent: once per window of ``days``), so a command run every night does not
repeat itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User, UserRole
from core import audit, mail
from core.audit import AuditEvent
from exam.psychometrics.drift import SIGNAL_TEXT, DriftReport, ItemDrift

ALERT_ACTION = "item.drift_alerted"


@dataclass(frozen=True)
class Notice:
    alerts: list[ItemDrift]  # those sent now
    already_sent: list[ItemDrift]  # alerted before in this period
    recipients: list[str]


def exam_admin_emails(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(User.email)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == "exam_admin", User.active.is_(True))
            .order_by(User.email)
        )
    )


def _sent_before(session: Session, report: DriftReport) -> set[tuple[str, str]]:
    """(item version id, signal) of this blueprint's alerts since the latest period began."""
    latest = report.latest
    if latest is None:
        return set()
    rows = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == ALERT_ACTION,
            AuditEvent.object_type == "item_version",
            AuditEvent.occurred_at >= latest.starts,
        )
    )
    return {
        (row.object_id, str(row.after.get("signal")))
        for row in rows
        if row.after and row.after.get("blueprint") == report.request.blueprint
    }


def _line(item: ItemDrift) -> str:
    assert item.signal is not None and item.drift is not None
    test = item.drift
    return (
        f"- {item.label} ({item.code}): {SIGNAL_TEXT[item.signal]}; p-value "
        f"{test.baseline_p:.2f} (n {test.baseline_n}) -> {test.latest_p:.2f} "
        f"(n {test.latest_n}), test p {test.p_value:.2g}, Cohen's h {test.cohens_h:+.2f}"
    )


def _body(report: DriftReport, alerts: list[ItemDrift], page_url: str) -> str:
    latest = report.latest
    assert latest is not None
    lines = "\n".join(_line(item) for item in alerts)
    return (
        f"Item drift on blueprint {report.request.blueprint}, period {latest.label} "
        f"against the periods before it:\n\n{lines}\n\n"
        "An item that became markedly easier may have leaked: review it and consider "
        f"retiring it.\n\n{page_url}\n"
    )


def notify(
    session: Session, report: DriftReport, page_url: str, actor_label: str = "command line"
) -> Notice:
    """Email the new alerts to every exam administrator and audit each; commits."""
    sent = _sent_before(session, report)
    new: list[ItemDrift] = []
    repeated: list[ItemDrift] = []
    for item in report.alerts:
        key = (str(item.version_id), str(item.signal))
        (repeated if key in sent else new).append(item)
    recipients = exam_admin_emails(session) if new else []
    if new:
        subject = (
            f"Item drift: {len(new)} alert{'s' if len(new) != 1 else ''} "
            f"on {report.request.blueprint}"
        )
        body = _body(report, new, page_url)
        for recipient in recipients:
            mail.enqueue(session, recipient, subject, body)
    for item in new:
        assert item.drift is not None and report.latest is not None
        audit.record(
            session,
            actor_id=None,
            actor_label=actor_label,
            action=ALERT_ACTION,
            object_type="item_version",
            object_id=item.version_id,
            after={
                "blueprint": report.request.blueprint,
                "item": item.label,
                "signal": str(item.signal),
                "period": report.latest.label,
                "baseline_p": item.drift.baseline_p,
                "latest_p": item.drift.latest_p,
                "test_p": item.drift.p_value,
                "recipients": len(recipients),
            },
        )
    session.commit()
    return Notice(new, repeated, recipients)
