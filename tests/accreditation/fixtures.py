"""An accreditation world: a provider organisation with two users, a second provider,
two leads and two assessors, each with an API token; and a complete application."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from accounts.models import User
from accounts.services import set_roles
from accreditation.demo import plain_pdf
from accreditation.models import ProviderMember
from accreditation.services import (
    answer_invitation,
    get_organisation_of,
    invite_member,
    leaf_codes,
)
from core.db import get_db
from item_bank.frameworks import get_framework
from tests.conftest import api_token, bearer, sign_in

PDF = plain_pdf("Programme handbook")


class AccreditationWorld:
    def __init__(self, app: Flask, make_user: Any, clock: Any) -> None:
        self.app, self.clock = app, clock
        self.client: FlaskClient = app.test_client()
        self.people: dict[str, Any] = {}
        for name, roles in {
            "pia": ("provider",),
            "paul": ("provider",),
            "rival": ("provider",),
            "lena": ("accreditation_lead",),
            "leo": ("accreditation_lead",),
            "lou": ("accreditation_lead",),
            "asa": ("accreditation_reviewer",),
            "abe": ("accreditation_reviewer",),
        }.items():
            user = make_user(*roles, given_name=name.capitalize(), email=f"{name}@example.org")
            self.people[name] = {
                "user": user,
                "headers": bearer(api_token(self.client, user.email)),
            }

    def refresh_tokens(self, *names: str) -> None:
        """New tokens (they last an hour) for ``names``, or everyone."""
        for name in names or tuple(self.people):
            person = self.people[name]
            person["headers"] = bearer(api_token(self.client, person["user"].email))

    def id(self, who: str) -> int:
        return self.people[who]["user"].id

    def call(
        self, method: str, path: str, who: str | None, body: Any = None, expect: int | None = 200
    ) -> Any:
        response = self.client.open(
            f"/api/v1{path}",
            method=method,
            json=body,
            headers=self.people[who]["headers"] if who else {},
        )
        if expect is not None:
            assert response.status_code == expect, (path, response.status_code, response.get_json())
        return response

    def step(
        self, application_id: int, who: str, action: str, expect: int = 200, **fields: Any
    ) -> Any:
        version = self.call("GET", f"/applications/{application_id}", "lena").get_json()["version"]
        body = {"action": action, "version": version, **fields}
        return self.call("POST", f"/applications/{application_id}/transitions", who, body, expect)

    def screened(self) -> int:
        """A complete application, submitted and in screening."""
        application_id = draft_with_document(self)
        self.step(application_id, "pia", "submit")
        self.step(application_id, "lena", "screen")
        return application_id

    def screened_at(self, moment: datetime) -> int:
        """``screened()`` with the clock set to ``moment`` first (fresh tokens for it)."""
        self.clock.current = moment
        self.refresh_tokens("pia", "lena")
        return self.screened()

    def to_review(self) -> int:
        """Screened, assigned to Asa, who declares no conflict."""
        application_id = self.screened()
        self.step(application_id, "lena", "assign", assessor_id=self.id("asa"))
        self.step(application_id, "asa", "declare", has_conflict=False)
        return application_id

    def recommended(self) -> int:
        """Reviewed by Asa, who recommends accreditation."""
        application_id = self.to_review()
        self.step(
            application_id,
            "asa",
            "recommend",
            comment="Solid programme.",
            recommendation="accredit",
            judgements={c: "meets" for c in
                        ("coverage", "trainers", "learner_assessment", "materials", "quality_assurance")},
        )  # fmt: skip
        return application_id

    def make_lead_and_assessor(self, who: str) -> None:
        """Give ``who`` both staff roles (Lena, a lead, decides it)."""
        with get_db(self.app).write_sessions() as session:
            person, lena = session.get(User, self.id(who)), session.get(User, self.id("lena"))
            assert person is not None and lena is not None
            set_roles(session, lena, person, ["accreditation_reviewer", "accreditation_lead"])
            session.commit()
        self.refresh_tokens(who)

    def leaves(self) -> list[str]:
        with get_db(self.app).read_sessions() as session:
            framework = get_framework(session)
            assert framework is not None
            return leaf_codes(session, framework.id)


def client_as(app: Flask, who: str) -> FlaskClient:
    """A browser client signed in as ``who`` (one of the world's people)."""
    client = app.test_client()
    sign_in(client, f"{who}@example.org")
    return client


def organisation(name: str = "Northwind Learning Ltd") -> dict[str, str]:
    return {
        "legal_name": name,
        "country": "gb",
        "website": "https://northwind.example",
        "contact_name": "Pia Provider",
        "contact_email": "office@northwind.example",
    }


def complete_content(leaves: list[str], uncovered: int = 3, **overrides: Any) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for index, code in enumerate(leaves):
        if index < uncovered:
            mapping[code] = {"not_covered_reason": "Taught in our advanced course."}
        else:
            mapping[code] = {
                "module": f"Module {index // 10 + 1}",
                "minutes": 30,
                "outcome": "Can apply it.",
            }
    return {
        "title": "Customer Success Foundations",
        "description": "Five days of practice-led training for new customer success managers.",
        "delivery_mode": "blended",
        "contact_hours": 35,
        "learner_assessment": "A written case study marked against a rubric.",
        "trainers": [{"name": "Tom Trainer", "qualifications": "Ten years as a CSM lead."}],
        "mapping": mapping,
        "declaration_accepted": True,
        **overrides,
    }


@pytest.fixture
def accreditation(app: Flask, make_user: Any, clock: Any, first_level: None) -> AccreditationWorld:
    world = AccreditationWorld(app, make_user, clock)
    world.call("POST", "/providers", "pia", organisation(), 201)
    world.call("POST", "/providers", "rival", organisation("Rival Training GmbH"), 201)
    with get_db(app).write_sessions() as session:
        pia = session.get(User, world.id("pia"))
        org = get_organisation_of(session, world.id("pia"))
        assert pia is not None and org is not None
        paul = session.get(User, world.id("paul"))
        assert paul is not None
        invite_member(session, pia, org, paul)
        answer_invitation(session, paul, accept=True)
        session.commit()
        assert session.get(ProviderMember, world.id("paul")) is not None
    return world


def upload_pdf(world: AccreditationWorld, application_id: int, data: bytes, name: str) -> Any:
    """Post one file as multipart/form-data, the body built here so no temporary file of
    the test client's is left open for a large upload."""
    boundary = "csm-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return world.client.post(
        f"/api/v1/applications/{application_id}/documents",
        data=body,
        headers=world.people["pia"]["headers"],
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def draft_with_document(world: AccreditationWorld, **overrides: Any) -> int:
    created = world.call(
        "POST",
        "/applications",
        "pia",
        {"content": complete_content(world.leaves(), **overrides)},
        201,
    ).get_json()
    upload = upload_pdf(world, created["id"], PDF, "handbook.pdf")
    assert upload.status_code == 201, upload.get_json()
    return int(created["id"])
