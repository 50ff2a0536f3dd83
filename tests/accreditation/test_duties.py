"""Separation of duties in accreditation: a member of the applying organisation never
screens, assesses or decides its application, whatever staff roles they also hold."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from accounts.models import User
from accounts.services import set_roles
from accreditation.models import Application
from core.audit import AuditEvent
from core.db import get_db
from tests.accreditation.fixtures import AccreditationWorld, draft_with_document
from tests.conftest import post_form, sign_in

OWN_MATTER = "https://csm-certify.example/problems/separation-of-duties"


def _also(world: AccreditationWorld, who: str, *roles: str) -> None:
    """Lena, an administrator of roles here, gives ``who`` staff roles beside provider."""
    with get_db(world.app).write_sessions() as session:
        person, lena = session.get(User, world.id(who)), session.get(User, world.id("lena"))
        assert person is not None and lena is not None
        set_roles(session, lena, person, {*person.roles, *roles})


def _state_and_steps(app: Flask, application_id: int, action: str) -> tuple[str, int]:
    with get_db(app).read_sessions() as session:
        application = session.get(Application, application_id)
        assert application is not None
        taken = session.scalar(
            select(func.count()).where(
                AuditEvent.object_type == "application", AuditEvent.action == action
            )
        )
        return application.state, taken


def test_a_lead_who_belongs_to_the_provider_cannot_screen_its_application(
    accreditation: AccreditationWorld, app: Flask
) -> None:
    world = accreditation
    _also(world, "paul", "accreditation_lead")
    application_id = draft_with_document(world)
    world.step(application_id, "pia", "submit")
    refused = world.step(application_id, "paul", "screen", expect=403).get_json()
    assert refused["type"] == OWN_MATTER
    assert "member of the applying organisation" in refused["detail"]
    assert _state_and_steps(app, application_id, "application.screen") == ("submitted", 0)

    page = app.test_client()
    sign_in(page, world.people["paul"]["user"].email)
    version = world.call("GET", f"/applications/{application_id}", "lena").get_json()["version"]
    shown = post_form(
        page,
        f"/applications/{application_id}",
        f"/applications/{application_id}/step",
        {"action": "screen", "version": str(version)},
    )
    assert shown.status_code == 403 and "member of the applying organisation" in shown.text
    assert _state_and_steps(app, application_id, "application.screen") == ("submitted", 0)
    world.step(application_id, "lena", "screen")  # a lead from outside may


def test_a_lead_who_belongs_to_the_provider_cannot_decide_its_application(
    accreditation: AccreditationWorld, app: Flask
) -> None:
    world = accreditation
    application_id = world.recommended()
    _also(world, "paul", "accreditation_lead")
    refused = world.step(
        application_id, "paul", "accredit", expect=403, comment="We are good."
    ).get_json()
    assert refused["type"] == OWN_MATTER
    assert _state_and_steps(app, application_id, "application.accredit") == ("recommended", 0)


def test_a_member_of_the_provider_cannot_be_its_assessor(
    accreditation: AccreditationWorld, app: Flask
) -> None:
    world = accreditation
    _also(world, "paul", "accreditation_reviewer")
    application_id = world.screened()
    refused = world.step(
        application_id, "lena", "assign", expect=422, assessor_id=world.id("paul")
    ).get_json()
    assert [error["field"] for error in refused["errors"]] == ["assessor_id"]
    assert _state_and_steps(app, application_id, "application.assign") == ("screening", 0)
