"""Commands: ``flask attempts expire``."""

from __future__ import annotations

import click
from flask import Flask

from core.db import get_db
from exam import delivery


def register_exam_cli(app: Flask) -> None:
    @app.cli.group("attempts")
    def attempts_group() -> None:
        """Exam attempts."""

    @attempts_group.command("expire")
    def expire() -> None:
        """Finish every attempt whose deadline has passed (run every minute from cron)."""
        with get_db().session_scope() as session:
            count = delivery.expire_due(session)
        click.echo(f"{count} attempt{'s' * (count != 1)} finished as expired.")
