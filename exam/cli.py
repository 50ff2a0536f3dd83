"""Commands: ``flask attempts expire``."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User, UserRole
from core import clock
from core.db import get_db
from exam.models import SittingMode
from exam.services import sittings, timing

# The sittings the demo opens: the First Level, and the sample ladder's first rung.
DEMO_SITTINGS = (
    ("first-level", "First Level demo sitting"),
    ("cscm-contributor", "CSCM Contributor sample sitting"),
)


def load_demo_sitting(session: Session) -> None:
    """A sitting open for the next eight hours with the demo proctors for each demo
    blueprint there is, unless a sitting is open already."""
    if sittings.open_sittings(session):
        return
    admin = session.scalars(
        select(User).join(UserRole).where(UserRole.role == "exam_admin")
    ).first()
    proctors = session.scalars(
        select(User.id).join(UserRole).where(UserRole.role == "proctor")
    ).all()
    if admin is None:
        return
    now = clock.now().replace(second=0, microsecond=0)
    known = {blueprint.code for blueprint in sittings.blueprints_to_schedule(session)}
    for code, title in DEMO_SITTINGS:
        if code not in known:
            continue
        data = sittings.SittingInput(
            code,
            title,
            now - timedelta(minutes=10),
            now + timedelta(hours=8),
            30,
            SittingMode.ONLINE,
            "",
            tuple(proctors),
        )
        sitting = sittings.schedule_sitting(session, admin, data)
        until = clock.format_moment(sitting.closes_at)
        click.echo(f"Sitting “{sitting.title}” is open until {until}.")


def register_exam_cli(app: Flask) -> None:
    @app.cli.group("attempts")
    def attempts_group() -> None:
        """Exam attempts."""

    @attempts_group.command("expire")
    def expire() -> None:
        """Finish every attempt whose deadline has passed (run every minute from cron)."""
        with get_db().session_scope() as session:
            count = timing.expire_due(session)
        click.echo(f"{count} attempt{'s' * (count != 1)} finished as expired.")
