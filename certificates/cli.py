"""``flask certificates remind`` and ``flask certificates rotate-key``."""

from __future__ import annotations

import click
from flask import Flask, current_app

from certificates import reminders, signing
from core.db import get_db


def register(app: Flask) -> None:
    @app.cli.group("certificates")
    def certificates_group() -> None:
        """Certificates: expiry reminders and the signing key."""

    @certificates_group.command("remind")
    def remind() -> None:
        """Email holders 90 and 30 days before expiry (each once); run it daily."""
        with get_db().session_scope() as session:
            summary = reminders.send_reminders(current_app, session)
        click.echo(
            f"Sent {summary.sent_90} reminder(s) at 90 days and {summary.sent_30} at 30 days."
        )

    @certificates_group.command("rotate-key")
    def rotate_key() -> None:
        """Start signing with a new Ed25519 key; the old public key stays published."""
        try:
            old = signing.signer(current_app)
            signing.publish(current_app, old)
            new = signing.rotate(current_app)
            signing.publish(current_app, new)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"Signing with key {new.kid}; {old.kid} stays in the JWKS.")
