"""Core commands: ``flask init-db`` and ``flask mail send``."""

from __future__ import annotations

from typing import NoReturn

import click
from flask import Flask, current_app

from core import mail
from core.db import get_db
from core.errors import Problem
from core.migrate import current_revision, upgrade_to_head


def fail(problem: Problem) -> NoReturn:
    """End a command on a refusal: its title and detail, each field's error, exit status 1."""
    click.echo(f"Error: {problem.title}. {problem.detail}", err=True)
    for error in problem.errors:
        click.echo(f"  {error.field}: {error.message}", err=True)
    raise SystemExit(1) from problem


def register_core_cli(app: Flask) -> None:
    @app.cli.group("mail")
    def mail_group() -> None:
        """The email outbox."""

    @mail_group.command("send")
    def mail_send() -> None:
        """Deliver queued email (SMTP_URL, else files in instance/outbox); run every minute."""
        with get_db().session_scope() as session:
            summary = mail.deliver_pending(current_app, session)
        click.echo(f"Sent {summary.sent} message(s); {summary.failed} failed and stay queued.")

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create or upgrade the database schema (Alembic upgrade head)."""
        engine = get_db().engine
        before = current_revision(engine)
        upgrade_to_head(engine)
        after = current_revision(engine)
        where = engine.url.render_as_string(hide_password=True)
        if before == after:
            click.echo(f"Database {where} is up to date (revision {after}).")
        else:
            click.echo(f"Database {where} upgraded from {before or 'empty'} to {after}.")
        current_app.logger.info("schema at %s", after)
