"""The staff queue, the public register, and the daily job that moves time-driven states."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from accreditation.models import (
    ENDING_STATES,
    IN_FORCE_STATES,
    LEAD_ROLE,
    OPEN_STATES,
    REGISTER_STATES,
    STATE_LABELS,
    Action,
    Application,
    Condition,
    Message,
    Organisation,
    State,
)
from accreditation.schemas import TransitionInput
from accreditation.workflow import apply_step, lead_emails, overdue
from accreditation.workflow.steps import SYSTEM_ACTOR
from core import audit, clock, mail
from core.auth import Actor
from core.paging import Page, paginate
from item_bank.programme_models import Programme
from item_bank.programmes import list_programmes

RENEWAL_NOTICE = timedelta(days=90)
LAST_RENEWAL_NOTICE_DAYS = 30


@dataclass(frozen=True)
class QueueFilter:
    state: str = ""
    assessor_id: int | None = None
    older_than_days: int | None = None
    newest_first: bool = False


def queue(
    session: Session, viewer: Actor, chosen: QueueFilter, page: int, per_page: int = 50
) -> Page[Any]:
    """Submitted applications, oldest first unless asked otherwise. A lead sees the whole
    queue; an assessor only the files assigned to them."""
    if not viewer.has_role(LEAD_ROLE):
        chosen = replace(chosen, assessor_id=viewer.id)
    query = select(Application).where(Application.submitted_at.is_not(None))
    if chosen.state:
        query = query.where(Application.state == chosen.state)
    else:
        query = query.where(Application.state.in_(OPEN_STATES))
    if chosen.assessor_id:
        query = query.where(Application.assessor_id == chosen.assessor_id)
    if chosen.older_than_days:
        cutoff = clock.now() - timedelta(days=chosen.older_than_days)
        query = query.where(Application.submitted_at <= cutoff)
    order = Application.submitted_at.desc() if chosen.newest_first else Application.submitted_at
    return paginate(session, query.order_by(order, Application.id), page, per_page)


def provider_names(session: Session, applications: list[Application]) -> dict[int, str]:
    """The applying organisations' names, by organisation id, for a page of the queue."""
    ids = {application.organisation_id for application in applications}
    if not ids:
        return {}
    rows = session.execute(
        select(Organisation.id, Organisation.legal_name).where(Organisation.id.in_(ids))
    ).all()
    return {row[0]: row[1] for row in rows}


def counts_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Application.state, func.count())
        .where(Application.submitted_at.is_not(None))
        .group_by(Application.state)
    ).all()
    found = dict(rows)
    return {state: found.get(state, 0) for state in STATE_LABELS if state != State.DRAFT}


@dataclass(frozen=True)
class RegisterFilter:
    text: str = ""
    country: str = ""
    delivery_mode: str = ""
    programme: str = ""  # the code of the certification programme the training prepares for


@dataclass(frozen=True)
class Certification:
    """A certification programme as the register names it."""

    code: str
    title: str
    sample: bool


def certifications(session: Session) -> dict[int, Certification]:
    """Every certification programme by id, as training is registered against it."""
    return {
        programme.id: Certification(
            programme.code,
            str(programme.current.spec["credential"]["title"]),
            bool(programme.current.spec.get("sample", False)),
        )
        for programme in list_programmes(session)
    }


def register(session: Session, chosen: RegisterFilter, page: int, per_page: int = 50) -> Page[Any]:
    """Accredited programmes, and those no longer accredited shown as such, never hidden."""
    query = (
        select(Application, Organisation)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .where(Application.accreditation_number.is_not(None))
        .where(Application.state.in_(REGISTER_STATES))
    )
    if chosen.text:
        pattern = f"%{chosen.text.lower()[:100]}%"
        query = query.where(
            or_(
                func.lower(Application.title).like(pattern),
                func.lower(Organisation.legal_name).like(pattern),
                func.lower(Application.accreditation_number).like(pattern),
            )
        )
    if chosen.country:
        query = query.where(Organisation.country == chosen.country.upper()[:2])
    if chosen.delivery_mode:
        query = query.where(
            Application.content["delivery_mode"].as_string() == chosen.delivery_mode
        )
    if chosen.programme:
        query = query.where(
            Application.programme_id
            == select(Programme.id).where(Programme.code == chosen.programme).scalar_subquery()
        )
    query = query.order_by(Organisation.legal_name, Application.title)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.execute(query.offset((max(page, 1) - 1) * per_page).limit(per_page)).all()
    return Page([tuple(row) for row in rows], total, max(page, 1), per_page)


def get_register_entry(session: Session, number: str) -> tuple[Application, Organisation] | None:
    row = session.execute(
        select(Application, Organisation)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .where(Application.accreditation_number == number.strip().upper()[:30])
        .where(Application.state.in_(REGISTER_STATES))
    ).first()
    return (row[0], row[1]) if row else None


# ---- the daily job -----------------------------------------------------------------------


@dataclass
class DailySummary:
    refused_for_conditions: int = 0
    renewal_due: int = 0
    expired: int = 0
    reminders: int = 0


def run_daily(app: Flask, session: Session) -> DailySummary:
    """Missed conditions refuse, renewals fall due 90 days ahead, ends expire; then the
    reminders. Each change is its own audited step taken by the system; all of them are
    one unit of work."""
    summary = DailySummary()
    today = clock.now().date()
    late = select(Condition.application_id).where(
        Condition.met_at.is_(None), Condition.closed_at.is_(None), Condition.due_on < today
    )
    missed = session.scalars(
        select(Application)
        .where(Application.state == State.ACCREDITED_WITH_CONDITIONS, Application.id.in_(late))
        .with_for_update()
    ).all()
    for application in missed:
        _system_step(session, application, Action.CONDITIONS_MISSED)
        summary.refused_for_conditions += 1
    for application in session.scalars(
        select(Application)
        .where(
            Application.state.in_(ENDING_STATES),
            Application.accredited_until < today,
        )
        .with_for_update()
    ).all():
        _system_step(session, application, Action.EXPIRE)
        summary.expired += 1
    for application in session.scalars(
        select(Application)
        .where(
            Application.state == State.ACCREDITED,
            Application.accredited_until <= today + RENEWAL_NOTICE,
        )
        .with_for_update()
    ).all():
        _system_step(session, application, Action.RENEWAL_DUE)
        summary.renewal_due += 1
    summary.reminders = _queue_renewal_reminders(app, session) + _queue_overdue_reminders(
        app, session
    )
    session.commit()
    return summary


def _system_step(session: Session, application: Application, action: Action) -> None:
    apply_step(
        session, None, application, TransitionInput(action=action, version=application.version)
    )


def send_renewal_reminders(app: Flask, session: Session) -> int:
    """90 and 30 days before the end of an accreditation, each once."""
    sent = _queue_renewal_reminders(app, session)
    session.commit()
    return sent


def _queue_renewal_reminders(app: Flask, session: Session) -> int:
    today = clock.now().date()
    sent = 0
    candidates = session.scalars(
        select(Application)
        .where(
            Application.state.in_(IN_FORCE_STATES),
            Application.accredited_until <= today + RENEWAL_NOTICE,
            Application.accredited_until >= today,
            Application.renewal_reminded_30_at.is_(None),
        )
        .with_for_update()  # a second run waits, then finds the reminders already marked
    ).all()
    for application in candidates:
        assert application.accredited_until is not None
        days_left = (application.accredited_until - today).days
        if days_left > LAST_RENEWAL_NOTICE_DAYS and application.renewal_reminded_90_at is not None:
            continue
        now = clock.now()
        application.renewal_reminded_90_at = application.renewal_reminded_90_at or now
        if days_left <= LAST_RENEWAL_NOTICE_DAYS:
            application.renewal_reminded_30_at = now
        organisation = session.get(Organisation, application.organisation_id)
        assert organisation is not None
        mail.enqueue(
            session,
            organisation.contact_email,
            f"Accreditation {application.accreditation_number} ends in {days_left} days",
            f"The accreditation of {application.title} ({application.accreditation_number}) "
            f"ends on {clock.format_day(application.accredited_until)}.\n\n"
            "Start a renewal from the application page: "
            f"{app.config['PUBLIC_BASE_URL']}/applications/{application.id}\n"
            "The renewal starts pre-filled from the current programme.\n",
        )
        sent += 1
    return sent


REMINDER_EVERY = timedelta(days=7)


def _queue_overdue_reminders(app: Flask, session: Session) -> int:
    """Anything overdue gets a reminder, then one a week while it stays overdue: the
    provider for an unanswered clarification, the leads for a file past the service level."""
    now = clock.now()
    sent = 0
    for application in session.scalars(
        select(Application).where(Application.state.in_(OPEN_STATES))
    ).all():
        recipients, what = _overdue(session, application, now.date())
        if not recipients or _reminded_recently(session, application, now):
            continue
        for recipient in recipients:
            mail.enqueue(
                session,
                recipient,
                f"[{application.title[:80]}] Overdue: {what}",
                f"{what.capitalize()} on application {application.id} ({application.title}).\n\n"
                f"{app.config['PUBLIC_BASE_URL']}/applications/{application.id}\n",
            )
        audit.record(
            session,
            actor_id=None,
            actor_label=SYSTEM_ACTOR,
            action="application.overdue_reminder",
            object_type="application",
            object_id=application.id,
            after={"overdue": what},
        )
        sent += 1
    return sent


def _overdue(session: Session, application: Application, today: date) -> tuple[list[str], str]:
    if application.state == State.CLARIFICATION_REQUESTED:
        due_on = session.scalar(
            select(Message.due_on)
            .where(Message.application_id == application.id, Message.due_on.is_not(None))
            .order_by(Message.id.desc())
            .limit(1)
        )
        if due_on is not None and due_on < today:
            organisation = session.get(Organisation, application.organisation_id)
            return ([organisation.contact_email] if organisation else []), "the answer asked for"
    elif overdue(application):
        return lead_emails(session), "the first review is past the service level"
    return [], ""


def _reminded_recently(session: Session, application: Application, now: datetime) -> bool:
    last = audit.last_event(
        session, "application", application.id, ["application.overdue_reminder"]
    )
    return last is not None and now - last.occurred_at < REMINDER_EVERY
