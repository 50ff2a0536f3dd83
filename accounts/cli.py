"""Commands: ``flask users create`` and the demo accounts."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts import services
from accounts.models import User
from core.auth import ROLES
from core.cli import fail
from core.db import get_db
from core.errors import Problem
from core.web import link_base

COMMAND_LINE = "command line"
DEMO_PEOPLE: dict[str, tuple[str, str]] = {
    "candidate": ("Casey", "Morgan"),
    "proctor": ("Priya", "Natarajan"),
    "item_writer": ("Ingrid", "Larsen"),
    "item_reviewer": ("Ravi", "Okafor"),
    "exam_admin": ("Elena", "Duarte"),
    "accreditation_reviewer": ("Aiko", "Tanaka"),
    "accreditation_lead": ("Louis", "Bernard"),
    "provider": ("Paula", "Brennan"),
    "admin": ("Adam", "Whitfield"),
}


def demo_email(role: str) -> str:
    return f"{role.replace('_', '-')}@demo.example.org"


def load_demo_accounts(session: Session) -> None:
    """One account per role with a password generated now, printed once and saved to instance/."""
    if session.scalar(select(func.count(User.id))):
        click.echo("Accounts already exist; no demo accounts added.")
        return
    lines = []
    for role, (given, family) in DEMO_PEOPLE.items():
        password = secrets.token_urlsafe(12)
        services.create_user(
            session,
            email=demo_email(role),
            given_name=given,
            family_name=family,
            password=password,
            roles=[role],
            actor_label="cli:demo-data",
        )
        lines.append(f"{ROLES[role]:<24} {demo_email(role):<40} {password}")
    text = "Demo sign-ins (generated at install; shown once):\n" + "\n".join(lines) + "\n"
    path = Path(current_app.instance_path) / "demo-logins.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    click.echo(text + f"(also written to {path})")


def register_accounts_cli(app: Flask) -> None:
    @app.cli.group("users")
    def users() -> None:
        """Manage user accounts."""

    @users.command("create")
    @click.option("--email", required=True)
    @click.option("--given-name", required=True)
    @click.option("--family-name", required=True)
    @click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
    @click.option("--password", required=True, help="At least 12 characters, not a common one.")
    def create(
        email: str, given_name: str, family_name: str, roles: tuple[str, ...], password: str
    ) -> None:
        """Create an active user and print its id."""
        try:
            with get_db().session_scope() as session:
                user = services.create_user(
                    session,
                    email=email,
                    given_name=given_name,
                    family_name=family_name,
                    password=password,
                    roles=roles,
                    actor_label="cli:users-create",
                )
                user_id = user.id
        except Problem as problem:
            fail(problem)
        click.echo(user_id)

    @users.command("invite")
    @click.option("--email", required=True)
    @click.option("--given-name", required=True)
    @click.option("--family-name", required=True)
    @click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
    def invite(email: str, given_name: str, family_name: str, roles: tuple[str, ...]) -> None:
        """Invite a person with roles: the outbox emails them a link to set their own
        password (audited as the command line); prints the invitation's id."""
        try:
            with get_db().session_scope() as session:
                invitation = services.invite(
                    session,
                    None,
                    email=email,
                    given_name=given_name,
                    family_name=family_name,
                    roles=roles,
                    link_base=link_base("accounts.accept_invitation"),
                    actor_label=COMMAND_LINE,
                )
                click.echo(
                    f"Invitation {invitation.id}: {invitation.full_name} <{invitation.email}>, "
                    f"the link works for {services.INVITATION_LIFETIME.days} days."
                )
        except Problem as problem:
            fail(problem)

    @users.command("invitations")
    def invitations() -> None:
        """List the invitations neither accepted nor withdrawn, newest first."""
        with get_db().session_scope() as session:
            for invitation in services.open_invitations(session):
                state = services.invitation_state(invitation)
                until = f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC"
                click.echo(
                    f"{invitation.id:>6}  {state.value:<8}  {invitation.email:<40}  "
                    f"{', '.join(invitation.roles):<30}  until {until}"
                )

    @users.command("withdraw-invitation")
    @click.argument("invitation_id", type=int)
    def withdraw_invitation(invitation_id: int) -> None:
        """Withdraw an invitation: its link stops working (audited as the command line)."""
        try:
            with get_db().session_scope() as session:
                invitation = services.require_invitation(session, invitation_id)
                services.withdraw_invitation(session, None, invitation, actor_label=COMMAND_LINE)
                click.echo(f"Invitation {invitation_id} to {invitation.email} is withdrawn.")
        except Problem as problem:
            fail(problem)
