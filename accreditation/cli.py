"""``flask accreditation daily`` and ``flask accreditation remind``."""

from __future__ import annotations

import click
from flask import Flask, current_app

from accreditation import queue
from core.db import get_db


def register(app: Flask) -> None:
    @app.cli.group("accreditation")
    def accreditation_group() -> None:
        """Accreditation: the daily job and renewal reminders."""

    @accreditation_group.command("daily")
    def daily() -> None:
        """Refuse missed conditions, mark renewals due, expire ended accreditations, remind."""
        with get_db().session_scope() as session:
            summary = queue.run_daily(current_app, session)
        click.echo(
            f"{summary.refused_for_conditions} refused for missed conditions, "
            f"{summary.renewal_due} renewal(s) due, {summary.expired} expired, "
            f"{summary.reminders} reminder(s) queued."
        )

    @accreditation_group.command("remind")
    def remind() -> None:
        """Queue renewal reminders 90 and 30 days before an accreditation ends (each once)."""
        with get_db().session_scope() as session:
            sent = queue.send_renewal_reminders(current_app, session)
        click.echo(f"{sent} reminder(s) queued; `flask mail send` delivers them.")
