"""The proctor's pages: their sittings, the live console, admission and actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from accounts.models import User
from core import clock
from core.api import validated
from core.auth import current_actor, roles_required
from core.db import get_session
from core.errors import Problem
from exam.forms import AdmitForm, OfflineAnswersForm, ProctorActionForm
from exam.models import Attempt, ProctorAction, Registration, Sitting
from exam.schemas import ProctorRequest
from exam.services import admission, offline_answers, proctoring, registration, sittings
from exam.views._blueprint import back_with, bp, json_errors, require_valid


@bp.get("/proctor")
@roles_required("proctor", "exam_admin")
def proctor_home() -> str:
    mine = admission.sittings_for_proctor(get_session(), current_actor())
    return render_template("exam/proctor_home.html", sittings=mine)


def _console_sitting(sitting_id: int) -> Sitting:
    sitting = sittings.require_sitting(get_session(), sitting_id)
    admission.require_proctor(current_actor(), sitting)
    return sitting


def _people(rows: list[proctoring.RosterRow]) -> dict[int, User]:
    return admission.people_by_id(get_session(), (row.registration.candidate_id for row in rows))


def _console(sitting: Sitting, status: int = 200) -> tuple[str, int]:
    rows = proctoring.live_roster(get_session(), sitting)
    html = render_template(
        "exam/console.html",
        as_of=clock.now(),
        sitting=sitting,
        rows=rows,
        people=_people(rows),
        admit_form=AdmitForm(),
        action_form=ProctorActionForm(),
        offline_form=OfflineAnswersForm(),
        log=proctoring.sitting_log(get_session(), sitting),
    )
    return html, status


@bp.get("/proctor/sittings/<id:sitting_id>")
@roles_required("proctor", "exam_admin")
def console(sitting_id: int) -> tuple[str, int]:
    return _console(_console_sitting(sitting_id))


@bp.get("/proctor/sittings/<id:sitting_id>/roster.json")
@roles_required("proctor", "exam_admin")
def roster_json(sitting_id: int) -> Response:
    json_errors()
    rows = proctoring.live_roster(get_session(), _console_sitting(sitting_id))
    people = _people(rows)
    return jsonify(
        {
            "as_of": clock.format_moment(clock.now(), seconds=True),
            "rows": [
                {
                    "registration_id": row.registration.id,
                    "candidate": people[row.registration.candidate_id].full_name,
                    "status": row.status,
                    "answered": row.answered,
                    "total": row.total,
                    "seconds_left": row.seconds_left,
                    "events": [e.kind.replace("_", " ") for e in row.events],
                    "form": row.form_note,
                }
                for row in rows
            ],
        }
    )


@bp.post("/proctor/registrations/<id:registration_id>/decision", endpoint="admission")
@roles_required("proctor", "exam_admin")
def admission_decision(registration_id: int) -> Response | tuple[str, int]:
    form = AdmitForm()
    require_valid(form)
    at_door = registration.require_registration(get_session(), registration_id)
    decision, _, reason = (form.decision.data or "").partition(":")
    try:
        if decision != "admit" and not _confirmed():
            admission.check_turn_away(current_actor(), at_door, reason)
            return _confirm_turn_away(at_door, form, reason)
        admission.decide_admission(
            get_session(),
            current_actor(),
            at_door,
            admit_them=decision == "admit",
            identity_check=form.identity_check.data or "",
            reason=reason,
        )
    except Problem as problem:
        if problem.status == 403:
            raise
        return back_with(problem, "exam.console", sitting_id=at_door.sitting_id)
    return redirect(url_for("exam.console", sitting_id=at_door.sitting_id), 303)


def _confirmed() -> bool:
    return request.form.get("confirmed") == "yes"


def _candidate_name(candidate_id: int) -> str:
    person = get_session().get(User, candidate_id)
    return person.full_name if person is not None else f"candidate {candidate_id}"


def _confirm_page(
    step: str,
    candidate_id: int,
    sitting: Sitting,
    reason: str,
    action: str,
    fields: list[tuple[str, str]],
    form: FlaskForm,
    **details: Any,
) -> tuple[str, int]:
    """The page that states what an irreversible proctor step will do before it is done."""
    html = render_template(
        "exam/confirm_proctor.html",
        step=step,
        name=_candidate_name(candidate_id),
        reason=reason,
        sitting=sitting,
        action=action,
        fields=fields,
        form=form,
        **details,
    )
    return html, 200


def _confirm_terminate(attempt: Attempt, form: ProctorActionForm, reason: str) -> tuple[str, int]:
    sitting = sittings.require_sitting(get_session(), attempt.sitting_id)
    action = url_for("exam.proctor_action", attempt_id=attempt.id)
    fields = [("action", ProctorAction.TERMINATE.value), ("reason", reason)]
    return _confirm_page("terminate", attempt.candidate_id, sitting, reason, action, fields, form)


def _confirm_extend(
    attempt: Attempt, form: ProctorActionForm, reason: str, minutes: int, deadline: datetime
) -> tuple[str, int]:
    sitting = sittings.require_sitting(get_session(), attempt.sitting_id)
    action = url_for("exam.proctor_action", attempt_id=attempt.id)
    fields = [("action", ProctorAction.EXTEND.value), ("minutes", str(minutes)), ("reason", reason)]
    return _confirm_page(
        "extend",
        attempt.candidate_id,
        sitting,
        reason,
        action,
        fields,
        form,
        minutes=minutes,
        deadline=deadline,
        now_deadline=attempt.deadline_at,
    )


def _confirm_turn_away(at_door: Registration, form: AdmitForm, reason: str) -> tuple[str, int]:
    action = url_for("exam.admission", registration_id=at_door.id)
    fields = [("decision", f"turn_away:{reason}")]
    return _confirm_page(
        "turn_away", at_door.candidate_id, at_door.sitting, reason, action, fields, form
    )


@bp.post("/proctor/attempts/<id:attempt_id>/action")
@roles_required("proctor", "exam_admin")
def proctor_action(attempt_id: int) -> Response | tuple[str, int]:
    form = ProctorActionForm()
    require_valid(form)
    session, actor, action = get_session(), current_actor(), form.action.data or ""
    attempt = proctoring.require_attempt_for_proctor(session, actor, attempt_id)
    try:
        body = validated(
            ProctorRequest, {"reason": form.reason.data or "", "minutes": form.minutes.data or None}
        )
        if action == ProctorAction.TERMINATE and not _confirmed():
            reason = proctoring.check_terminate(attempt, body.reason)
            return _confirm_terminate(attempt, form, reason)
        if action == ProctorAction.EXTEND and not _confirmed():
            deadline = proctoring.check_extend(attempt, body.minutes)
            return _confirm_extend(attempt, form, body.reason, body.minutes or 0, deadline)
        proctoring.act(session, actor, attempt, action, body.reason, body.minutes)
    except Problem as problem:
        if problem.status != 422:
            return back_with(problem, "exam.console", sitting_id=attempt.sitting_id)
        flash(" ".join([problem.detail, *(error.message for error in problem.errors)]), "error")
        return _console(sittings.require_sitting(session, attempt.sitting_id), 422)
    flash(f"Done: {action}.", "success")
    return redirect(url_for("exam.console", sitting_id=attempt.sitting_id), 303)


@bp.post("/proctor/sittings/<id:sitting_id>/offline-answers")
@roles_required("proctor", "exam_admin")
def offline_answers_upload(sitting_id: int) -> Response | tuple[str, int]:
    """A candidate's answers saved in a file while their device was offline."""
    form = OfflineAnswersForm()
    require_valid(form)
    sitting = _console_sitting(sitting_id)
    upload = request.files.get("file")
    raw = upload.read(offline_answers.MAX_BYTES + 1) if upload is not None else b""
    try:
        result = offline_answers.upload(
            get_session(), current_app.config["SECRET_KEY"], current_actor(), sitting, raw
        )
    except Problem as problem:
        flash(problem.detail, "error")
        return _console(sitting, problem.status)
    name = _candidate_name(result.candidate_id)
    said = [f"Offline answers of {name}: {proctoring.question_numbers(result.saved)} saved"]
    if result.kept_newer:
        said.append(
            f"{proctoring.question_numbers(result.kept_newer)} already held a later answer, kept"
        )
    if result.refused:
        why = f" ({result.reason})" if result.reason else ""
        said.append(f"{proctoring.question_numbers(result.refused)} refused{why}")
    flash("; ".join(said) + ".", "success" if not result.refused else "warning")
    return redirect(url_for("exam.console", sitting_id=sitting.id), 303)
