"""Prerequisites at registration: the Senior programme of the sample three-level framework
needs a valid Contributor certificate, earned here end to end through a real sitting."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from accounts.models import User
from certificates import services as certificate_services
from certificates.models import Certificate
from core.db import get_db
from exam.services.ladder import RungState, ladders
from tests.conftest import sign_in
from tests.exam.fixtures import ExamWorld, pass_exam_on

SENIOR = "CSCM Senior Individual Contributor needs a valid CSCM Contributor certificate"


def _register(world: ExamWorld, who: str, sitting: int, expect: int) -> dict[str, Any]:
    response = world.call("POST", f"/sittings/{sitting}/registrations", who, expect=expect)
    return dict(response.get_json())


def test_without_the_lower_credential_registration_is_refused_with_the_reason(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    senior = world.schedule(blueprint="cscm-senior")
    refused = _register(world, "ben", senior, 409)
    assert refused["reasons"] == [f"{SENIOR}; you have none."]
    # The First Level has no prerequisite: Ben books it as before.
    _register(world, "ben", world.schedule(blueprint="first-level"), 201)


def test_a_valid_lower_credential_opens_the_next_level(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    pass_exam_on(world, app, "cscm-contributor")
    _register(world, "ana", world.schedule(blueprint="cscm-senior"), 201)


def test_a_revoked_lower_credential_closes_it_again(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    code = pass_exam_on(world, app, "cscm-contributor")["code"]
    with app.app_context(), get_db(app).write_sessions() as session:
        certificate = session.scalars(select(Certificate).where(Certificate.code == code)).one()
        certificate_services.revoke(session, None, certificate, "misconduct", "Shared answers.")
        session.commit()
    day = f"{world.clock.now().day} {world.clock.now():%B %Y}"
    refused = _register(world, "ana", world.schedule(blueprint="cscm-senior"), 409)
    assert f"{SENIOR}; yours was revoked on {day}." in refused["reasons"]


def test_an_expired_lower_credential_is_no_longer_enough(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    pass_exam_on(world, app, "cscm-contributor")
    with app.app_context(), get_db(app).read_sessions() as session:
        expires = session.scalars(select(Certificate.expires_at)).one()
    world.clock.advance(days=400)  # the Contributor credential lasts 12 months
    world.refresh_tokens()
    refused = _register(world, "ana", world.schedule(blueprint="cscm-senior"), 409)
    assert refused["reasons"] == [f"{SENIOR}; yours expired on {expires.day} {expires:%B %Y}."]


def test_the_ladder_says_what_is_held_what_lapsed_and_what_is_locked(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    pass_exam_on(world, app, "cscm-contributor")

    def standing() -> dict[str, tuple[str, str, list[str]]]:
        with app.app_context(), get_db(app).read_sessions() as session:
            return {
                rung.code: (rung.state, rung.lapsed, rung.reasons)
                for ladder_ in ladders(session, world.id("ana"))
                for rung in ladder_.rungs
            }

    assert standing() == {
        "first-level": (RungState.AVAILABLE, "", []),
        "cscm-contributor": (RungState.HELD, "", []),
        "cscm-senior": (RungState.AVAILABLE, "", []),
    }
    with app.app_context(), get_db(app).read_sessions() as session:
        expires = session.scalars(select(Certificate.expires_at)).one()
    world.clock.advance(days=400)
    day = f"{expires.day} {expires:%B %Y}"
    assert standing()["cscm-contributor"] == (
        RungState.AVAILABLE,
        f"Your certificate expired on {day}.",
        [],
    )
    assert standing()["cscm-senior"] == (
        RungState.LOCKED,
        "",
        [f"{SENIOR}; yours expired on {day}."],
    )


def test_the_demo_shows_a_ladder_and_opens_a_sitting_on_its_first_rung(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    assert "Sample ladder: Customer Success Competency Model (sample), two programmes, " in (
        result.output
    )
    assert "Sitting “CSCM Contributor sample sitting” is open" in result.output
    with app.app_context(), get_db(app).read_sessions() as session:
        candidate = session.scalars(
            select(User).where(User.email == "candidate@demo.example.org")
        ).one()
        rungs = {
            rung.name: rung.state
            for ladder in ladders(session, candidate.id)
            for rung in ladder.rungs
        }
    assert rungs["CSCM Contributor"] == RungState.AVAILABLE
    assert rungs["CSCM Senior Individual Contributor"] == RungState.LOCKED


def test_statistics_are_kept_per_examination_and_staff_choose_which(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    pass_exam_on(world, app, "cscm-contributor")
    admin = app.test_client()
    sign_in(admin, world.people["admin"]["user"].email)
    page = admin.get("/staff/statistics?blueprint=cscm-contributor").get_data(as_text=True)
    assert "Statistics: cscm-contributor" in page
    assert "<dt>Scored attempts</dt><dd>1</dd>" in page
    assert '<option value="cscm-contributor" selected>' in page
    assert '<option value="first-level" >' in page
    first = admin.get("/staff/statistics").get_data(as_text=True)
    assert "Statistics: first-level" in first and "<dt>Scored attempts</dt><dd>0</dd>" in first
