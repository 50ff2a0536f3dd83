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
    @click.option(
        "--algorithm",
        type=click.Choice([algorithm.value for algorithm in signing.Algorithm]),
        default=None,
        help="Which key: RS256 (VC-JWTs) or EdDSA (Data Integrity proofs). Default: both.",
    )
    def rotate_key(algorithm: str | None) -> None:
        """Start signing with a new key; the old public key stays published."""
        chosen = [signing.Algorithm(algorithm)] if algorithm else list(signing.Algorithm)
        for each in chosen:
            _rotate(each)

    def _rotate(algorithm: signing.Algorithm) -> None:
        try:
            old = signing.signer(current_app, algorithm)
            signing.publish(current_app, old)
            new = signing.rotate(current_app, algorithm)
            signing.publish(current_app, new)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"Signing with {algorithm} key {new.kid}; {old.kid} stays in the JWKS.")
