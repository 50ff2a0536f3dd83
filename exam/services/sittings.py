"""Sittings: scheduling, editing, cancelling, and finding them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import User, UserRole
from core import audit, clock
from core.auth import Actor
from core.errors import Problem
from core.web import valid_id
from exam.models import (
    ACTIVE_REGISTRATION,
    HOLDS_A_PLACE,
    Attempt,
    Registration,
    RegistrationStatus,
    Sitting,
    SittingMode,
    SittingProctor,
)
from exam.services import drawing
from exam.services.problems import invalid
from item_bank.models import Blueprint

MAX_START_SPREAD_MINUTES = 60


@dataclass(frozen=True)
class SittingInput:
    blueprint_code: str
    title: str
    opens_at: datetime
    closes_at: datetime
    capacity: int
    mode: str
    location: str = ""
    proctor_ids: tuple[int, ...] = ()
    # Starts spread over this many minutes from the opening (0: everyone at once).
    start_spread_minutes: int = 0


def _check_sitting(session: Session, data: SittingInput) -> Blueprint:
    blueprint = session.scalars(
        select(Blueprint).where(Blueprint.code == data.blueprint_code)
    ).one_or_none()
    if blueprint is None:
        raise invalid("blueprint", f"No blueprint {data.blueprint_code}.")
    if data.opens_at.tzinfo is None or data.closes_at.tzinfo is None:
        raise invalid("opens_at", "Give times with a time zone.")
    if data.opens_at.year < 2000 or data.closes_at.year > 2200:
        raise invalid("opens_at", "Give a date between 2000 and 2200.")
    if any(valid_id(pid) is None for pid in data.proctor_ids):
        raise invalid("proctors", "Unknown proctor.")
    if data.closes_at <= data.opens_at:
        raise invalid("closes_at", "The window must close after it opens.")
    if not 1 <= data.capacity <= 10_000:
        raise invalid("capacity", "Capacity is between 1 and 10,000.")
    if not 0 <= data.start_spread_minutes <= MAX_START_SPREAD_MINUTES:
        raise invalid(
            "start_spread_minutes",
            f"Spread starts over 0 to {MAX_START_SPREAD_MINUTES} minutes.",
        )
    if data.start_spread_minutes * 60 >= (data.closes_at - data.opens_at).total_seconds():
        raise invalid("start_spread_minutes", "The spread must end before the window closes.")
    if data.mode not in tuple(SittingMode):
        raise invalid("mode", "Mode is online or test_centre.")
    if data.mode == SittingMode.TEST_CENTRE and not data.location.strip():
        raise invalid("location", "A test centre sitting needs a location.")
    proctors = session.scalars(select(User).where(User.id.in_(data.proctor_ids))).all()
    if len(proctors) != len(set(data.proctor_ids)) or not all(
        p.has_role("proctor") for p in proctors
    ):
        raise invalid("proctors", "Every assigned proctor must be a user with the proctor role.")
    return blueprint


def _snapshot(sitting: Sitting) -> dict[str, Any]:
    return {
        "title": sitting.title,
        "opens_at": sitting.opens_at.isoformat(),
        "closes_at": sitting.closes_at.isoformat(),
        "capacity": sitting.capacity,
        "mode": sitting.mode,
        "location": sitting.location,
        "proctors": sorted(sitting.proctor_ids),
        "start_spread_minutes": sitting.start_spread_minutes,
    }


def schedule_sitting(session: Session, actor: Actor, data: SittingInput) -> Sitting:
    blueprint = _check_sitting(session, data)
    sitting = Sitting(
        blueprint_id=blueprint.id,
        title=data.title.strip()[:200],
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        capacity=data.capacity,
        mode=data.mode,
        location=data.location.strip(),
        start_spread_minutes=data.start_spread_minutes,
        created_by=actor.id,
        created_at=clock.now(),
        revision=1,
        proctor_links=[SittingProctor(user_id=pid) for pid in sorted(set(data.proctor_ids))],
    )
    if not sitting.title:
        raise invalid("title", "Give the sitting a title.")
    session.add(sitting)
    session.flush()
    audit.record(
        session,
        actor_id=actor.id,
        action="sitting.scheduled",
        object_type="sitting",
        object_id=sitting.id,
        after=_snapshot(sitting),
    )
    session.commit()
    return sitting


def edit_sitting(
    session: Session, actor: Actor, sitting: Sitting, data: SittingInput, revision: int
) -> Sitting:
    if sitting.cancelled:
        raise Problem(409, "Cancelled", "A cancelled sitting cannot be edited.")
    if revision != sitting.revision:
        raise Problem(
            409, "Edited by someone else", "This sitting changed since you opened it; reload it."
        )
    _check_sitting(session, data)
    held = count_places_taken(session, sitting.id)
    if data.capacity < held:
        raise invalid(
            "capacity", f"{held} candidates already hold a place; capacity cannot go below that."
        )
    before = _snapshot(sitting)
    sitting.title, sitting.opens_at, sitting.closes_at = (
        data.title.strip()[:200],
        data.opens_at,
        data.closes_at,
    )
    sitting.capacity, sitting.mode, sitting.location = (
        data.capacity,
        data.mode,
        data.location.strip(),
    )
    sitting.proctor_links = [SittingProctor(user_id=pid) for pid in sorted(set(data.proctor_ids))]
    sitting.start_spread_minutes = data.start_spread_minutes
    sitting.revision += 1
    session.flush()
    audit.record(
        session,
        actor_id=actor.id,
        action="sitting.edited",
        object_type="sitting",
        object_id=sitting.id,
        before=before,
        after=_snapshot(sitting),
    )
    session.commit()
    return sitting


def cancel_sitting(session: Session, actor: Actor, sitting: Sitting, reason: str) -> Sitting:
    if sitting.cancelled:
        return sitting
    if not reason.strip():
        raise invalid("reason", "Say why the sitting is cancelled; candidates are told.")
    started = session.scalar(
        select(func.count()).select_from(Attempt).where(Attempt.sitting_id == sitting.id)
    )
    if started:
        raise Problem(
            409, "Already under way", "Candidates have started; terminate attempts instead."
        )
    sitting.cancelled_at, sitting.cancel_reason = clock.now(), reason.strip()[:2000]
    for registration in session.scalars(
        select(Registration).where(
            Registration.sitting_id == sitting.id, Registration.status.in_(ACTIVE_REGISTRATION)
        )
    ):
        drawing.let_go(session, registration.id, "the sitting was cancelled", used=False)
        registration.status, registration.cancelled_at = RegistrationStatus.CANCELLED, clock.now()
    sitting.revision += 1
    audit.record(
        session,
        actor_id=actor.id,
        action="sitting.cancelled",
        object_type="sitting",
        object_id=sitting.id,
        after={"reason": sitting.cancel_reason},
    )
    session.commit()
    return sitting


def require_sitting(session: Session, sitting_id: int) -> Sitting:
    sitting = session.get(Sitting, sitting_id)
    if sitting is None:
        raise Problem(404, "No such sitting", f"There is no sitting {sitting_id}.")
    return sitting


def count_places_taken(session: Session, sitting_id: int) -> int:
    query = (
        select(func.count())
        .select_from(Registration)
        .where(Registration.sitting_id == sitting_id, Registration.status.in_(HOLDS_A_PLACE))
    )
    return session.scalar(query) or 0


def open_sittings(session: Session) -> list[Sitting]:
    """Sittings a candidate can still register for, soonest first."""
    query = (
        select(Sitting)
        .where(Sitting.cancelled_at.is_(None), Sitting.closes_at > clock.now())
        .order_by(Sitting.opens_at, Sitting.id)
    )
    return list(session.scalars(query))


def all_sittings(session: Session) -> list[Sitting]:
    return list(
        session.scalars(select(Sitting).order_by(Sitting.opens_at.desc(), Sitting.id.desc()))
    )


def blueprints_to_schedule(session: Session) -> list[Blueprint]:
    return list(session.scalars(select(Blueprint).order_by(Blueprint.code)))


def active_proctors(session: Session) -> list[User]:
    """Everyone who may be named a sitting's proctor."""
    query = (
        select(User)
        .join(UserRole)
        .where(UserRole.role == "proctor", User.active.is_(True))
        .order_by(User.family_name)
    )
    return list(session.scalars(query))


def edit_form_data(session: Session, sitting: Sitting) -> dict[str, Any]:
    """The sitting as the edit form shows it (naive local times, the revision it edits)."""
    blueprint = session.get(Blueprint, sitting.blueprint_id)
    return {
        "title": sitting.title,
        "blueprint": blueprint.code if blueprint else "",
        "opens_at": sitting.opens_at.replace(tzinfo=None),
        "closes_at": sitting.closes_at.replace(tzinfo=None),
        "capacity": sitting.capacity,
        "mode": sitting.mode,
        "location": sitting.location,
        "proctors": sorted(sitting.proctor_ids),
        "start_spread_minutes": sitting.start_spread_minutes,
        "revision": str(sitting.revision),
    }
