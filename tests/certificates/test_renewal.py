"""Recertification: a holder is told when and how each certificate in force is renewed, by
re-examination or by continuing-education credits (logged, reviewed by staff) that, once
enough are accepted, renew it into a new certificate continuing the chain."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from certificates import renewal
from certificates.models import Certificate
from core.db import get_db
from tests.certificates.fixtures import holder_client
from tests.exam.fixtures import ExamWorld, pass_exam_on


def senior_certificate(app: Flask, world: ExamWorld) -> str:
    """Ana holds the Contributor and then the Senior credential (renewed by 20 credits in
    Customer Relationships and Team Leadership over its 12 months): the Senior's code."""
    pass_exam_on(world, app, "cscm-contributor")
    return str(pass_exam_on(world, app, "cscm-senior")["code"])


def _certificate(app: Flask, code: str) -> Certificate:
    with get_db(app).read_sessions() as session:
        return session.scalars(select(Certificate).where(Certificate.code == code)).one()


def test_the_plan_says_how_each_certificate_is_renewed(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    senior = senior_certificate(app, world)
    first = pass_exam_on(world, app, "first-level")["code"]
    with app.app_context(), get_db(app).read_sessions() as session:
        by_credits = renewal.plan(session, session.merge(_certificate(app, senior)))
        by_exam = renewal.plan(session, session.merge(_certificate(app, first)))
    assert by_credits is not None and by_credits.by_credits
    assert (by_credits.required, by_credits.accepted, by_credits.missing) == (20, 0, 20)
    assert [(a.code, a.title) for a in by_credits.areas] == [
        ("REL", "Customer Relationships"),
        ("LEAD", "Team Leadership"),
    ]
    assert not by_credits.can_renew
    assert by_exam is not None and not by_exam.by_credits and by_exam.period_months == 24

    page = holder_client(app, world).get("/certificates").get_data(as_text=True)
    assert "Renew by continuing education: <strong>20 credits</strong>" in page
    assert "Customer Relationships, Team Leadership" in page
    assert "<strong>0 of 20</strong> credits accepted; 20 still needed." in page
    assert "Renew by re-examination: pass the exam again in a sitting" in page


def test_a_superseded_certificate_has_no_plan(app: Flask, world: ExamWorld, ladder: None) -> None:
    older = pass_exam_on(world, app, "first-level")["code"]
    pass_exam_on(world, app, "first-level")
    with app.app_context(), get_db(app).read_sessions() as session:
        assert renewal.plan(session, session.merge(_certificate(app, older))) is None
