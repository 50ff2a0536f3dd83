"""Providers, application drafts, the curriculum mapping's coverage, completeness, and
evidence documents. The workflow's steps live in ``accreditation.workflow``."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import User, UserRole
from accreditation.models import Application, EvidenceDocument, Organisation, ProviderMember
from accreditation.schemas import ApplicationContent, MappingEntry, OrganisationInput
from certificates import services as certificate_services
from core import audit, clock, mail
from core.errors import FieldError, Problem
from item_bank.frameworks import get_framework, nodes_by_code
from item_bank.models import FrameworkNode

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
EDITABLE_STATES = ("draft", "returned_incomplete")
# Evidence may also be added when the assessor asks for more.
DOCUMENT_STATES = (*EDITABLE_STATES, "clarification_requested")


# ---- organisations ---------------------------------------------------------------------


def membership(session: Session, user_id: int) -> ProviderMember | None:
    """The user's accepted membership; an invitation not yet accepted grants nothing."""
    member = session.get(ProviderMember, user_id)
    return member if member is not None and member.accepted_at is not None else None


def invitation(session: Session, user_id: int) -> tuple[ProviderMember, Organisation] | None:
    member = session.get(ProviderMember, user_id)
    if member is None or member.accepted_at is not None:
        return None
    organisation = session.get(Organisation, member.organisation_id)
    return (member, organisation) if organisation else None


def organisation_of(session: Session, user_id: int) -> Organisation | None:
    member = membership(session, user_id)
    return session.get(Organisation, member.organisation_id) if member else None


def save_organisation(session: Session, user: User, data: OrganisationInput) -> Organisation:
    """Create the user's organisation, or update it; audited."""
    organisation = organisation_of(session, user.id)
    before = _organisation_dict(organisation) if organisation else None
    if organisation is None:
        pending = session.get(ProviderMember, user.id)
        if pending is not None:  # creating one's own organisation declines an invitation
            session.delete(pending)
        organisation = Organisation(created_at=clock.now())
        session.add(organisation)
    organisation.legal_name = data.legal_name
    organisation.country = data.country.upper()
    organisation.website = data.website
    organisation.contact_name = data.contact_name
    organisation.contact_email = data.contact_email
    session.flush()
    if before is None:
        session.add(
            ProviderMember(
                user_id=user.id, organisation_id=organisation.id, accepted_at=clock.now()
            )
        )
    audit.record(
        session,
        actor_id=user.id,
        action="organisation.saved",
        object_type="organisation",
        object_id=organisation.id,
        before=before,
        after=_organisation_dict(organisation),
    )
    return organisation


def invite_member(session: Session, actor: User, organisation: Organisation, user: User) -> None:
    """Invite a colleague; they join only when they accept, so nobody can be claimed."""
    if not user.has_role("provider"):
        raise Problem(422, "Not a provider", "Staff give your colleague the provider role first.")
    if session.get(ProviderMember, user.id) is not None:
        raise Problem(
            409, "Already taken", "This user belongs to, or is invited to, an organisation."
        )
    session.add(
        ProviderMember(user_id=user.id, organisation_id=organisation.id, invited_by_id=actor.id)
    )
    audit.record(
        session,
        actor_id=actor.id,
        action="organisation.member_invited",
        object_type="organisation",
        object_id=organisation.id,
        after={"user": user.email},
    )
    mail.enqueue(
        session,
        user.email,
        f"Join {organisation.legal_name} on CSM Certify",
        f"{actor.full_name} invites you to work on {organisation.legal_name}'s accreditation "
        "applications. Sign in and open Accreditation to accept or decline.\n",
    )


def answer_invitation(session: Session, user: User, accept: bool) -> Organisation:
    pending = invitation(session, user.id)
    if pending is None:
        raise Problem(409, "No invitation", "There is no invitation waiting for you.")
    member, organisation = pending
    if accept:
        member.accepted_at = clock.now()
    else:
        session.delete(member)
    audit.record(
        session,
        actor_id=user.id,
        action="organisation.member_joined" if accept else "organisation.invitation_declined",
        object_type="organisation",
        object_id=organisation.id,
        after={"user": user.email},
    )
    return organisation


def _organisation_dict(organisation: Organisation) -> dict[str, str]:
    return {
        "legal_name": organisation.legal_name,
        "country": organisation.country,
        "website": organisation.website,
        "contact_name": organisation.contact_name,
        "contact_email": organisation.contact_email,
    }


# ---- drafts ----------------------------------------------------------------------------


def check_mapping_codes(session: Session, framework_id: int, content: ApplicationContent) -> None:
    leaves = leaf_codes(session, framework_id)
    unknown = sorted(set(content.mapping) - set(leaves))
    if unknown:
        raise Problem(
            422,
            "Unknown competencies",
            "The mapping names competencies the standard does not have.",
            errors=[
                FieldError(f"mapping.{code}", "Not a competency of the standard.")
                for code in unknown[:20]
            ],
        )


def stored_content(content: ApplicationContent) -> dict[str, Any]:
    """Only answered mapping rows are kept; empty ones carry nothing."""
    data = content.model_dump(mode="json")
    data["mapping"] = {
        code: entry.model_dump(mode="json", exclude_defaults=True)
        for code, entry in content.mapping.items()
        if entry.module or entry.minutes or entry.outcome or entry.not_covered_reason
    }
    return data


def create_draft(
    session: Session, user: User, content: ApplicationContent, renews: Application | None = None
) -> Application:
    organisation = organisation_of(session, user.id)
    if organisation is None:
        raise Problem(409, "No organisation", "Create your organisation's profile first.")
    if renews is not None and renews.state not in RENEWABLE_STATES:
        raise Problem(409, "Not renewable", "Only an accreditation, current or ended, is renewed.")
    framework = get_framework(session)
    if framework is None:
        raise Problem(409, "No standard loaded", "The competency framework is not loaded.")
    check_mapping_codes(session, framework.id, content)
    now = clock.now()
    application = Application(
        organisation_id=organisation.id,
        framework_id=framework.id,
        renews_id=renews.id if renews else None,
        state="draft",
        version=1,
        title=content.title,
        content=stored_content(content),
        created_at=now,
        updated_at=now,
        paused_seconds=0,
        judgements={},
        recommendation="",
        decision_letter="",
        appealed_from="",
    )
    session.add(application)
    session.flush()
    audit.record(
        session,
        actor_id=user.id,
        action="application.created",
        object_type="application",
        object_id=application.id,
        after={"title": content.title, **({"renews": renews.id} if renews else {})},
    )
    return application


def check_version(application: Application, version: int) -> None:
    if application.version != version:
        raise Problem(
            409,
            "Changed meanwhile",
            f"This application is at version {application.version}; you edited version "
            f"{version}. Reload it and apply your change again.",
            extra={"current_version": application.version},
        )


def save_draft(
    session: Session,
    user: User,
    application: Application,
    content: ApplicationContent,
    version: int,
) -> Application:
    """Drafts save at any time, even incomplete; a stale version is a 409."""
    if application.state not in EDITABLE_STATES:
        raise Problem(
            409,
            "Not editable",
            f"The application is {application.state.replace('_', ' ')}; only a draft or an "
            "application returned to you can be edited.",
        )
    check_version(application, version)
    check_mapping_codes(session, application.framework_id, content)
    application.content = stored_content(content)
    application.title = content.title
    application.version += 1
    application.updated_at = clock.now()
    audit.record(
        session,
        actor_id=user.id,
        action="application.saved",
        object_type="application",
        object_id=application.id,
        after={"version": application.version},
    )
    return application


def renewal_content(application: Application) -> ApplicationContent:
    """A renewal starts from what was accredited, the declaration to be made afresh."""
    content = ApplicationContent.model_validate(application.content)
    return content.model_copy(update={"declaration_accepted": False})


# ---- coverage and completeness ---------------------------------------------------------


def leaf_codes(session: Session, framework_id: int) -> list[str]:
    nodes = nodes_by_code(session, framework_id)
    return sorted(code for code, node in nodes.items() if node.kind == "competency")


@dataclass(frozen=True)
class AreaCoverage:
    code: str
    title: str
    leaves: list[FrameworkNode]
    covered: int

    @property
    def percent(self) -> int:
        return round(100 * self.covered / len(self.leaves)) if self.leaves else 0


def coverage(session: Session, application: Application) -> list[AreaCoverage]:
    """Per area of the standard: its competencies and how many the programme covers."""
    nodes = nodes_by_code(session, application.framework_id)
    by_id = {node.id: node for node in nodes.values()}
    content = ApplicationContent.model_validate(application.content)
    areas: dict[int, list[FrameworkNode]] = {}
    for node in sorted(nodes.values(), key=lambda n: (n.position, n.code)):
        if node.kind == "competency" and node.parent_id is not None:
            areas.setdefault(node.parent_id, []).append(node)
    result = []
    for area_id, leaves in areas.items():
        area = by_id[area_id]
        covered = sum(1 for leaf in leaves if _entry(content, leaf.code).covered)
        result.append(AreaCoverage(area.code, area.title, leaves, covered))
    order = {node.code: node.position for node in nodes.values()}
    return sorted(result, key=lambda a: order[a.code])


def _entry(content: ApplicationContent, code: str) -> MappingEntry:
    return content.mapping.get(code) or MappingEntry()


def missing_parts(session: Session, application: Application) -> list[FieldError]:
    """What stops submission, each named so the provider can find it."""
    content = ApplicationContent.model_validate(application.content)
    missing: list[FieldError] = []

    def need(condition: bool, field: str, message: str) -> None:
        if not condition:
            missing.append(FieldError(field, message))

    need(len(content.description) >= 20, "description", "Describe the programme.")
    need(bool(content.delivery_mode), "delivery_mode", "Choose how it is delivered.")
    need(bool(content.contact_hours), "contact_hours", "Give the contact hours.")
    need(bool(content.learner_assessment), "learner_assessment", "Say how learners are assessed.")
    need(bool(content.trainers), "trainers", "Name at least one trainer.")
    unanswered = [
        code
        for code in leaf_codes(session, application.framework_id)
        if not _entry(content, code).answered
    ]
    if unanswered:
        shown = ", ".join(unanswered[:8]) + (" and more" if len(unanswered) > 8 else "")
        missing.append(
            FieldError(
                "mapping",
                f"{len(unanswered)} competencies have neither a module nor a reason: {shown}.",
            )
        )
    need(documents_count(session, application.id) > 0, "documents", "Attach the evidence (PDF).")
    need(content.declaration_accepted, "declaration_accepted", "Accept the declaration.")
    return missing


def trainer_checks(session: Session, content: ApplicationContent) -> list[bool]:
    """A trainer is verified when their certificate code matches their family name and
    the certificate is valid today (the same lookup an employer uses)."""
    checks = []
    for trainer in content.trainers:
        family = trainer.name.split()[-1] if trainer.name.split() else ""
        certificate = (
            certificate_services.lookup(session, trainer.certificate_code, family)
            if trainer.certificate_code
            else None
        )
        checks.append(
            certificate is not None and certificate_services.status(certificate) == "valid"
        )
    return checks


# ---- documents -------------------------------------------------------------------------


def documents_dir(app: Flask) -> Path:
    """Outside ``static/``: documents are served only through a checked route."""
    return Path(app.instance_path) / "documents"


def documents_count(session: Session, application_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).where(EvidenceDocument.application_id == application_id)
        )
        or 0
    )


def looks_like_pdf(data: bytes) -> bool:
    """By content, not name: a PDF header near the start and an end-of-file marker."""
    return b"%PDF-" in data[:1024] and b"%%EOF" in data[-2048:]


def store_document(
    app: Flask,
    session: Session,
    user: User,
    application: Application,
    filename: str,
    data: bytes,
) -> EvidenceDocument:
    if application.state not in DOCUMENT_STATES:
        raise Problem(
            409,
            "Not open for documents",
            "Documents can be added to a draft, an "
            "application returned to you, or when a clarification is asked for.",
        )
    if len(data) > MAX_DOCUMENT_BYTES:
        raise Problem(413, "Too large", "A document may be at most 10 MB.")
    if not looks_like_pdf(data):
        raise Problem(415, "Not a PDF", "Evidence must be PDF documents.")
    storage_name = secrets.token_hex(16) + ".pdf"
    folder = documents_dir(app)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / storage_name).write_bytes(data)
    document = EvidenceDocument(
        application_id=application.id,
        filename=_safe_filename(filename),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_name=storage_name,
        uploaded_by_id=user.id,
        uploaded_at=clock.now(),
    )
    session.add(document)
    session.flush()
    audit.record(
        session,
        actor_id=user.id,
        action="application.document_added",
        object_type="application",
        object_id=application.id,
        after={"document": document.filename, "sha256": document.sha256},
    )
    return document


def _safe_filename(name: str) -> str:
    base = Path(name.replace("\\", "/")).name.strip() or "document.pdf"
    cleaned = "".join(c for c in base if c.isprintable() and c not in '"<>|:*?')[:150]
    return cleaned if cleaned.lower().endswith(".pdf") else cleaned + ".pdf"


def documents(session: Session, application_id: int) -> list[EvidenceDocument]:
    return list(
        session.scalars(
            select(EvidenceDocument)
            .where(EvidenceDocument.application_id == application_id)
            .order_by(EvidenceDocument.id)
        )
    )


# ---- who sees what -----------------------------------------------------------------------

STAFF_ROLES = ("accreditation_lead", "accreditation_reviewer")


def visible_application(
    session: Session, user: User, application_id: int, for_update: bool = False
) -> Application:
    """The application if ``user`` may see it: its provider's users, every lead, and the
    assessor assigned to it. Anyone else gets the same 404 as for a missing one.

    ``for_update`` locks the row until the transaction ends, so two people acting at once
    take turns and the second meets the first one's version (a 409), never overwrites it.
    """
    application = session.get(Application, application_id, with_for_update=for_update)
    if application is None:
        raise Problem(404, "Not found", "No such application.")
    member = membership(session, user.id)
    if member is not None and member.organisation_id == application.organisation_id:
        return application
    if user.has_role("accreditation_lead"):
        return application
    if user.has_role("accreditation_reviewer") and application.assessor_id == user.id:
        return application
    raise Problem(404, "Not found", "No such application.")


def content_open_to(user: User, application: Application) -> bool:
    """An assessor reads the file only after declaring no conflict of interest."""
    if application.assessor_id == user.id:  # a lead assigned as assessor declares too
        return application.assessor_cleared_at is not None
    return True


def assessors(session: Session) -> list[Any]:
    """Active assessors, by family name, for choosing one."""
    return list(
        session.execute(
            select(User.id, User.given_name, User.family_name)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == "accreditation_reviewer", User.active.is_(True))
            .order_by(User.family_name)
        ).all()
    )


RENEWABLE_STATES = ("accredited", "accredited_with_conditions", "renewal_due", "expired")


def renewal_of(session: Session, application: Application) -> Application | None:
    return session.scalars(
        select(Application).where(Application.renews_id == application.id)
    ).first()


def members(session: Session, organisation_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(ProviderMember, ProviderMember.user_id == User.id)
            .where(
                ProviderMember.organisation_id == organisation_id,
                ProviderMember.accepted_at.is_not(None),
            )
            .order_by(User.family_name)
        )
    )
