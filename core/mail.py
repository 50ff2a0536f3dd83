"""Email to people through an outbox table.

A message is queued in the same transaction as the change it reports, so it is sent
if and only if that change is committed. ``flask mail send`` (run every minute)
delivers what is queued: over SMTP when ``SMTP_URL`` is set, else as ``.eml`` files in
``instance/outbox/`` so the embedded run shows what would have gone out. A failed
delivery stays queued and is retried; the error is kept for staff.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Flask
from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import Base, UTCDateTime, partial_index

MAX_ATTEMPTS = 10


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (partial_index("ix_outbox_message_pending", "id", where="sent_at IS NULL"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


def enqueue(session: Session, recipient: str, subject: str, body: str) -> OutboxMessage:
    message = OutboxMessage(
        recipient=_one_line(recipient)[:254],
        subject=_one_line(subject)[:300],
        body=body,
        created_at=clock.now(),
        attempts=0,
        last_error="",
    )
    session.add(message)
    return message


def _one_line(text: str) -> str:
    """Header values on one line: no CR, LF or other control character gets through."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


@dataclass
class DeliverySummary:
    sent: int = 0
    failed: int = 0


def deliver_pending(app: Flask, session: Session, limit: int = 500) -> DeliverySummary:
    """Send queued messages, committing after each so none is ever sent twice."""
    summary = DeliverySummary()
    pending = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    for queued in pending:
        queued.attempts += 1
        try:
            _deliver(app, _as_email(app, queued))
        except (OSError, smtplib.SMTPException, ValueError) as error:
            queued.last_error = f"{type(error).__name__}: {error}"[:2000]
            summary.failed += 1
        else:
            queued.sent_at, queued.last_error = clock.now(), ""
            summary.sent += 1
        session.commit()
    return summary


def outbox_path(app: Flask) -> Path:
    return Path(app.instance_path) / "outbox"


def _as_email(app: Flask, queued: OutboxMessage) -> EmailMessage:
    message = EmailMessage()
    message["From"] = app.config["MAIL_FROM"]
    message["To"] = queued.recipient
    message["Subject"] = queued.subject
    message["Date"] = format_datetime(clock.as_utc(queued.created_at))
    message["Message-ID"] = make_msgid(idstring=str(queued.id), domain="csm-certify")
    message.set_content(queued.body)
    return message


def _deliver(app: Flask, message: EmailMessage) -> None:
    url = app.config.get("SMTP_URL", "")
    if not url:
        folder = outbox_path(app)
        folder.mkdir(parents=True, exist_ok=True)
        name = message["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
        (folder / f"{name}.eml").write_bytes(bytes(message))
        return
    parts = urlsplit(url)
    secure = parts.scheme == "smtps"
    factory = smtplib.SMTP_SSL if secure else smtplib.SMTP
    port = parts.port or (465 if secure else 25)
    with factory(parts.hostname or "localhost", port, timeout=30) as smtp:
        if not secure and smtp.has_extn("starttls"):
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)
