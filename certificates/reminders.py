"""Recertification reminders: 90 and 30 days before a certificate expires, each once."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accounts.models import User
from certificates.models import Certificate
from core import clock, mail


@dataclass
class ReminderSummary:
    sent_90: int = 0
    sent_30: int = 0


def due(session: Session) -> list[Certificate]:
    """Certificates in force (not revoked, suspended or superseded, not yet expired)
    within 90 days of expiry that still owe a reminder."""
    now = clock.now()
    query = select(Certificate).where(
        Certificate.revoked_at.is_(None),
        Certificate.suspended_at.is_(None),
        Certificate.superseded_by_id.is_(None),
        Certificate.expires_at > now,
        Certificate.expires_at <= now + timedelta(days=90),
        Certificate.reminded_30_at.is_(None),
    )
    return list(session.scalars(query.order_by(Certificate.expires_at)))


def days_left(expires_at: datetime, now: datetime) -> int:
    """Whole days still to run, counting a part day: 29.5 days left is "30 days"."""
    return math.ceil((expires_at - now).total_seconds() / 86_400)


def send_reminders(app: Flask, session: Session) -> ReminderSummary:
    """One message per certificate per window; a certificate first seen inside 30 days
    gets the 30-day message only. Each message is queued in the same transaction that
    claims it with a conditional update, so two runs at once never both send it."""
    summary = ReminderSummary()
    now = clock.now()
    for certificate in due(session):
        left = days_left(certificate.expires_at, now)
        window = 30 if left <= 30 else 90
        if window == 90 and certificate.reminded_90_at is not None:
            continue
        if not _claim(session, certificate, window, now):
            continue
        holder = session.get(User, certificate.holder_id)
        if holder is None or not holder.active:
            continue
        mail.enqueue(session, holder.email, *_message(app, certificate, left))
        if window == 30:
            summary.sent_30 += 1
        else:
            summary.sent_90 += 1
    return summary


def _claim(session: Session, certificate: Certificate, window: int, now: datetime) -> bool:
    column = Certificate.reminded_30_at if window == 30 else Certificate.reminded_90_at
    values = {"reminded_30_at": now} if window == 30 else {}
    claimed = session.execute(
        update(Certificate)
        .where(Certificate.id == certificate.id, column.is_(None))
        .values(reminded_90_at=certificate.reminded_90_at or now, **values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(certificate)
    return claimed.rowcount == 1  # type: ignore[attr-defined]


def _message(app: Flask, certificate: Certificate, left: int) -> tuple[str, str]:
    base = app.config["PUBLIC_BASE_URL"]
    subject = f"Your {certificate.credential} certificate expires in {left} days"
    body = (
        f"Dear {certificate.holder_given_name},\n\n"
        f"Your certificate {certificate.code} ({certificate.title}) "
        f"is valid until {clock.format_day(certificate.expires_at)}.\n\n"
        "To stay certified, pass the current examination before then; the new certificate "
        "replaces this one and its verification page will say so.\n\n"
        f"Book a sitting: {base}/sittings\n"
        f"Your certificates: {base}/certificates\n\n"
        "Customer Success Association\n"
    )
    return subject, body
