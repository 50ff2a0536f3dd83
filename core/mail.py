"""Email to people: through SMTP when ``SMTP_URL`` is set, else into ``instance/outbox/``.

The outbox keeps the embedded run honest without a mail server: each message is a
standard ``.eml`` file an operator can open or hand to any mail tool.
"""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Flask


def send(app: Flask, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="csm-certify")
    message.set_content(body)
    url = app.config.get("SMTP_URL", "")
    if url:
        _send_smtp(url, message)
    else:
        _write_outbox(outbox_path(app), message)


def outbox_path(app: Flask) -> Path:
    return Path(app.instance_path) / "outbox"


def _write_outbox(folder: Path, message: EmailMessage) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{uuid.uuid4().hex}.eml").write_bytes(bytes(message))


def _send_smtp(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    secure = parts.scheme == "smtps"
    factory = smtplib.SMTP_SSL if secure else smtplib.SMTP
    with factory(parts.hostname or "localhost", parts.port or (465 if secure else 25)) as smtp:
        if not secure and smtp.has_extn("starttls"):
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)
