"""Demo data: the demo provider's organisation with one accredited programme (walked
through the real workflow by the demo lead and assessor) and one draft."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app
from fpdf import FPDF
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.cli import demo_email
from accounts.models import User
from accounts.services import get_user_by_email
from accreditation import services, workflow
from accreditation.models import (
    ASSESSOR_ROLE,
    CRITERIA,
    LEAD_ROLE,
    PROVIDER_ROLE,
    Action,
    DeliveryMode,
    Judgement,
    Organisation,
    Recommendation,
)
from accreditation.schemas import ApplicationContent, OrganisationInput, TransitionInput
from core import clock
from item_bank.frameworks import get_framework


def plain_pdf(*lines: str) -> bytes:
    """A one-page PDF of plain text, as real evidence would be (the upload check opens it)."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(clock.now())
    pdf.set_creator("CSM Certify demo")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    for text in lines:
        pdf.cell(text=text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def load_demo_accreditation(session: Session) -> None:
    if session.scalar(select(func.count(Organisation.id))):
        click.echo("Provider organisations exist; no demo accreditation added.")
        return
    provider = get_user_by_email(session, demo_email(PROVIDER_ROLE))
    lead = get_user_by_email(session, demo_email(LEAD_ROLE))
    assessor = get_user_by_email(session, demo_email(ASSESSOR_ROLE))
    framework = get_framework(session)
    if provider is None or lead is None or assessor is None or framework is None:
        click.echo("Demo accounts or the framework are missing; no demo accreditation added.")
        return
    services.save_organisation(
        session,
        provider,
        OrganisationInput(
            legal_name="Brennan Customer Academy Ltd",
            country="IE",
            website="https://academy.demo.example.org",
            contact_name="Paula Brennan",
            contact_email=demo_email(PROVIDER_ROLE),
        ),
    )
    leaves = services.leaf_codes(session, framework.id)
    content = ApplicationContent.model_validate(
        {
            "title": "Customer Success Essentials",
            "description": "A four-day blended programme for new customer success managers.",
            "delivery_mode": DeliveryMode.BLENDED,
            "contact_hours": 28,
            "learner_assessment": "A portfolio of three customer cases, marked against a rubric.",
            "trainers": [{"name": "Niamh Kelly", "qualifications": "Head of CS, 12 years."}],
            "mapping": {
                code: {"module": f"Day {i % 4 + 1}", "minutes": 30, "outcome": "Applies it."}
                for i, code in enumerate(leaves)
            },
            "declaration_accepted": True,
        }
    )
    application = services.create_draft(session, provider, content)
    handbook = plain_pdf("Demo evidence: programme handbook")
    services.store_document(current_app, session, provider, application, "handbook.pdf", handbook)
    steps: list[tuple[User, dict[str, Any]]] = [
        (provider, {"action": Action.SUBMIT}),
        (lead, {"action": Action.SCREEN}),
        (lead, {"action": Action.ASSIGN, "assessor_id": assessor.id}),
        (assessor, {"action": Action.DECLARE, "has_conflict": False}),
        (assessor, {
            "action": Action.RECOMMEND, "recommendation": Recommendation.ACCREDIT,
            "comment": "Meets the standard.",
            "judgements": dict.fromkeys(CRITERIA, Judgement.MEETS),
        }),
        (lead, {"action": Action.ACCREDIT, "comment": "Accredited for three years."}),
    ]  # fmt: skip
    for actor, data in steps:
        workflow.take_step(
            session,
            actor,
            application,
            TransitionInput.model_validate({**data, "version": application.version}),
        )
    services.create_draft(
        session, provider, ApplicationContent(title="Advanced Account Growth (draft)")
    )
    click.echo(f"Demo accreditation {application.accreditation_number} is on the register.")
