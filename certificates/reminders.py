"""Recertification reminders: 90 and 30 days before a certificate expires, each once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from certificates.models import Certificate
from core import clock, mail

WINDOWS = ((30, "reminded_30_at"), (90, "reminded_90_at"))


@dataclass
class ReminderSummary:
    sent_90: int = 0
    sent_30: int = 0


def due(session: Session) -> list[Certificate]:
    """Live certificates (not revoked, not superseded, not yet expired) within 90 days
    of expiry that still owe a reminder."""
    now = clock.now()
    query = select(Certificate).where(
        Certificate.revoked_at.is_(None),
        Certificate.superseded_by_id.is_(None),
        Certificate.expires_at > now,
        Certificate.expires_at <= now + timedelta(days=90),
        Certificate.reminded_30_at.is_(None),
    )
    return list(session.scalars(query.order_by(Certificate.expires_at)))


def send_reminders(app: Flask, session: Session) -> ReminderSummary:
    """One message per certificate per window. A certificate first seen inside 30 days
    gets the 30-day message only. Marked before sending and committed per message, so a
    rerun after a failure never sends twice."""
    summary = ReminderSummary()
    now = clock.now()
    for certificate in due(session):
        days_left = (certificate.expires_at - now).days
        if days_left < 30:
            window = 30
        elif certificate.reminded_90_at is None:
            window = 90
        else:
            continue
        holder = session.get(User, certificate.holder_id)
        if holder is None or not holder.active:
            continue
        certificate.reminded_90_at = certificate.reminded_90_at or now
        if window == 30:
            certificate.reminded_30_at = now
        session.commit()
        mail.send(app, holder.email, *_message(app, certificate, days_left))
        if window == 30:
            summary.sent_30 += 1
        else:
            summary.sent_90 += 1
    return summary


def _message(app: Flask, certificate: Certificate, days_left: int) -> tuple[str, str]:
    base = app.config["PUBLIC_BASE_URL"]
    subject = f"Your {certificate.credential} certificate expires in {days_left} days"
    body = (
        f"Dear {certificate.holder_given_name},\n\n"
        f"Your certificate {certificate.code} ({certificate.title}) "
        f"is valid until {certificate.expires_at:%d %B %Y}.\n\n"
        "To stay certified, pass the current examination before then; the new certificate "
        "replaces this one and its verification page will say so.\n\n"
        f"Book a sitting: {base}/sittings\n"
        f"Your certificates: {base}/certificates\n\n"
        "Customer Success Association\n"
    )
    return subject, body
