"""Application drafts: starting one (or a renewal), saving it, and the stale-version rule."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accreditation.models import EDITABLE_STATES, RENEWABLE_STATES, Application, State
from accreditation.schemas import ApplicationContent
from accreditation.services.completeness import leaf_codes
from accreditation.services.providers import get_organisation_of
from core import audit, clock
from core.auth import Actor
from core.errors import FieldError, Problem
from item_bank import programmes
from item_bank.programme_models import Programme


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


def chosen_programme(session: Session, code: str) -> Programme:
    """The certification programme an application prepares for, or 422 naming the field."""
    programme = programmes.get_programme(session, code)
    if programme is None:
        known = ", ".join(p.code for p in programmes.list_programmes(session)) or "none loaded"
        raise Problem(
            422,
            "Unknown programme",
            f"There is no certification programme {code}; choose one of: {known}.",
            errors=[FieldError("programme", "Unknown programme.")],
        )
    return programme


def programme_code(session: Session, application: Application) -> str | None:
    programme = (
        session.get(Programme, application.programme_id) if application.programme_id else None
    )
    return programme.code if programme else None


def create_draft(
    session: Session,
    actor: Actor,
    content: ApplicationContent,
    renews: Application | None = None,
    programme_code: str = programmes.DEFAULT_PROGRAMME,
) -> Application:
    """A new draft mapping ``content`` to the framework of the programme it prepares for;
    a renewal prepares for the programme of the accreditation it renews."""
    organisation = get_organisation_of(session, actor.id)
    if organisation is None:
        raise Problem(409, "No organisation", "Create your organisation's profile first.")
    if renews is not None and renews.state not in RENEWABLE_STATES:
        raise Problem(409, "Not renewable", "Only an accreditation, current or ended, is renewed.")
    programme = (
        session.get(Programme, renews.programme_id)
        if renews is not None and renews.programme_id is not None
        else chosen_programme(session, programme_code)
    )
    assert programme is not None
    check_mapping_codes(session, programme.framework_id, content)
    now = clock.now()
    application = Application(
        organisation_id=organisation.id,
        framework_id=programme.framework_id,
        programme_id=programme.id,
        renews_id=renews.id if renews else None,
        state=State.DRAFT,
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
        actor_id=actor.id,
        action="application.created",
        object_type="application",
        object_id=application.id,
        after={"title": content.title, **({"renews": renews.id} if renews else {})},
    )
    session.commit()
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
    actor: Actor,
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
        actor_id=actor.id,
        action="application.saved",
        object_type="application",
        object_id=application.id,
        after={"version": application.version},
    )
    session.commit()
    return application


def renewal_content(application: Application) -> ApplicationContent:
    """A renewal starts from what was accredited, the declaration to be made afresh."""
    content = ApplicationContent.model_validate(application.content)
    return content.model_copy(update={"declaration_accepted": False})


def get_renewal(session: Session, application: Application) -> Application | None:
    return session.scalars(
        select(Application).where(Application.renews_id == application.id)
    ).first()
