"""Certificates as the other tests need them: a passed attempt, the certificates issued,
and clients signed in as the holder and as staff."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from certificates.models import Certificate
from core.db import get_db
from tests.conftest import sign_in
from tests.exam.fixtures import ExamWorld, answer_all, sit


def passed_attempt(app: Flask, world: ExamWorld) -> dict:
    """Ana sits the exam, answers every item right and submits: a pass."""
    attempt = sit(world)
    answer_all(world, app, attempt, lambda code: True)
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    return attempt


def all_certificates(app: Flask) -> list[Certificate]:
    with get_db(app).read_sessions() as session:
        return list(session.scalars(select(Certificate)))


def holder_client(app: Flask, world: ExamWorld) -> FlaskClient:
    ana = app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    return ana


def staff_client(app: Flask, world: ExamWorld) -> FlaskClient:
    staff = app.test_client()
    sign_in(staff, world.people["admin"]["user"].email)
    return staff
