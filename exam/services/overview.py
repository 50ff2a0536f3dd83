"""What a candidate reads about a booked exam before sitting it: how long it is, how many
questions, the rules, and when check-in opens, in words true at the moment they are read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import clock
from exam.models import Attempt, AttemptItem, PreparedForm, Registration, RegistrationStatus
from exam.services.accommodations import approved_time_factor
from exam.services.pool import latest_bank_calibration, load_pretest_pool
from exam.services.registration import CHECK_IN_BEFORE
from exam.services.seb import settings_of
from item_bank.blueprints import current_version


@dataclass(frozen=True)
class ExamOverview:
    questions: int
    minutes: int
    extra_time_percent: int  # 0 without an approved accommodation
    pass_percent: float
    area_minimum_percent: float | None  # the lowest bar any area sets, if any
    area_count: int
    seb_required: bool
    check_in: str
    check_in_open: bool
    start_from: str = ""  # when the sitting spreads its starts and this one's is ahead
    scale_pass: str = ""  # the pass on the blueprint's reporting scale, when it reports one


def _check_in_words(registration: Registration, now: datetime) -> tuple[str, bool]:
    sitting = registration.sitting
    opens = sitting.opens_at - CHECK_IN_BEFORE
    if registration.status != RegistrationStatus.REGISTERED:
        return "", False
    if now < opens:
        early = int(CHECK_IN_BEFORE.total_seconds() // 60)
        return f"Check-in opens at {clock.format_moment(opens)}, {early} minutes early.", False
    if now < sitting.closes_at:
        return f"Check-in is open now, until {clock.format_moment(sitting.closes_at)}.", True
    return f"The window closed at {clock.format_moment(sitting.closes_at)}.", False


def _start_words(registration: Registration, now: datetime) -> str:
    slot = registration.start_not_before
    if registration.status != RegistrationStatus.ADMITTED or slot is None or slot <= now:
        return ""
    return (
        f"Your start time is {clock.format_moment(slot)}: starts in this sitting are spread "
        "over a few minutes so that everyone's begins smoothly. Start works from then."
    )


def exam_overview(session: Session, registration: Registration) -> ExamOverview:
    spec = current_version(session, registration.sitting.blueprint_id).spec
    factor = approved_time_factor(registration)
    minimums = [float(a["min_percent"]) for a in spec["areas"] if a.get("min_percent")]
    seb = settings_of(session, registration.sitting_id)
    words, is_open = _check_in_words(registration, clock.now())
    return ExamOverview(
        questions=_question_count(session, registration, spec),
        minutes=int(spec["time_limit_minutes"] * factor),  # whole minutes, never more
        extra_time_percent=round((factor - 1) * 100),
        pass_percent=float(spec["pass_overall_percent"]),
        area_minimum_percent=min(minimums) if minimums else None,
        area_count=len(spec["areas"]),
        seb_required=bool(seb and seb.required),
        check_in=words,
        check_in_open=is_open,
        start_from=_start_words(registration, clock.now()),
        scale_pass=_scale_words(session, registration.sitting.blueprint_id, spec),
    )


def _question_count(session: Session, registration: Registration, spec: dict[str, Any]) -> int:
    """How many questions the candidate meets: the drawn form's length once there is one
    (started, or prepared at admission); before that the blueprint's count and the trial
    questions it seeds, as many as are on trial. Which ones are on trial is never said."""
    started = session.scalar(
        select(func.count())
        .select_from(AttemptItem)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .where(Attempt.registration_id == registration.id)
    )
    if started:
        return int(started)
    prepared = session.scalar(
        select(PreparedForm).where(PreparedForm.registration_id == registration.id)
    )
    if prepared is not None and prepared.ready and prepared.items:
        return len(prepared.items)
    wanted = int(spec.get("pretest_items", 0))
    if wanted:
        trial, _ = load_pretest_pool(session, registration.sitting.blueprint_id)
        wanted = min(wanted, len(trial))
    return int(spec["item_count"]) + wanted


def _scale_words(session: Session, blueprint_id: int, spec: dict[str, Any]) -> str:
    scale = spec.get("scaled_score")
    if not scale or latest_bank_calibration(session, blueprint_id) is None:
        return ""
    return (
        f"a scaled score of {scale.get('cut', 500)} on a scale of {scale.get('low', 100)} to "
        f"{scale.get('high', 900)}, which allows for how hard your questions are"
    )


def overviews(session: Session, registrations: list[Registration]) -> dict[int, ExamOverview]:
    return {r.id: exam_overview(session, r) for r in registrations}
