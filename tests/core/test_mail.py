"""The outbox: mail is queued with the change it reports and delivered by ``flask mail
send`` to a real SMTP server (aiosmtpd on loopback); a failed delivery stays queued."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from core import mail
from core.db import get_db


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_queued_mail_is_delivered_over_smtp_once(make_app, smtp_server) -> None:
    inbox, port = smtp_server
    app: Flask = make_app(SMTP_URL=f"smtp://127.0.0.1:{port}")
    with app.app_context(), get_db(app).session_scope() as session:
        mail.enqueue(session, "pia@example.org", "Your application moved", "It is under review.")
    first = app.test_cli_runner().invoke(args=["mail", "send"])
    assert "Sent 1 message(s); 0 failed" in first.output
    [received] = inbox.messages
    assert received["To"] == "pia@example.org" and received["Subject"] == "Your application moved"
    assert "It is under review." in received.get_payload()
    second = app.test_cli_runner().invoke(args=["mail", "send"])
    assert "Sent 0 message(s)" in second.output and len(inbox.messages) == 1


def test_a_failed_delivery_stays_queued_with_its_error(make_app) -> None:
    app: Flask = make_app(SMTP_URL=f"smtp://127.0.0.1:{_free_port()}")  # nobody listening
    with app.app_context(), get_db(app).session_scope() as session:
        mail.enqueue(session, "pia@example.org", "Subject", "Body")
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert "0 message(s); 1 failed" in result.output
    with get_db(app).read_sessions() as session:
        [queued] = session.scalars(select(mail.OutboxMessage)).all()
        assert queued.sent_at is None and queued.attempts == 1
        assert "ConnectionRefused" in queued.last_error


def test_a_rolled_back_change_sends_nothing(make_app) -> None:
    app: Flask = make_app()
    with app.app_context(), get_db(app).write_sessions() as session:
        mail.enqueue(session, "pia@example.org", "Never", "Rolled back")
        session.rollback()
    with get_db(app).read_sessions() as session:
        assert session.scalars(select(mail.OutboxMessage)).all() == []
