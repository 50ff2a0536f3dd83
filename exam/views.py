"""HTML pages: sittings and registration, the exam itself, the proctor console, staff pages."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from accounts.models import User, UserRole
from core import clock
from core.api import parse_json
from core.auth import lightweight_auth, require_principal, roles_required
from core.db import end_request_transaction, get_db, get_session
from core.errors import Problem
from core.extensions import limiter
from core.forms import attach_problem
from core.web import valid_id
from exam import (
    delivery,
    grading,
    proctoring,
    rescoring,
    sittings,
    standard_setting,
    statistics,
)
from exam.api import EventRequest, ResponseRequest
from exam.forms import (
    AccommodationForm,
    AdmitForm,
    AnswerForm,
    AppealDecisionForm,
    AppealForm,
    CancelForm,
    DecisionForm,
    EmptyForm,
    ProctorActionForm,
    ScoringForm,
    SittingForm,
)
from exam.models import Accommodation, Appeal, Attempt, Registration, Sitting
from item_bank.models import Blueprint as TestBlueprint
from item_bank.models import Item

bp = Blueprint("exam", __name__)


def _json_errors() -> None:
    """The page's own JSON endpoints answer errors as problem+json."""
    g.wants_problem_json = True


def _own_registration(registration_id: int) -> Registration:
    registration = sittings.get_registration(get_session(), registration_id)
    if registration.candidate_id != current_user.id:
        abort(404)
    return registration


def _back_with(problem: Problem, endpoint: str = "exam.my_exams", **values: Any) -> Response:
    flash(problem.detail, "error")
    return redirect(url_for(endpoint, **values), 303)


# ---- candidates: sittings and registrations ------------------------------------------


@bp.get("/sittings")
@roles_required("candidate")
def open_sittings() -> str:
    session = get_session()
    rows = [
        (s, sittings.count_places_taken(session, s.id)) for s in sittings.open_sittings(session)
    ]
    return render_template("exam/sittings.html", rows=rows, form=EmptyForm())


@bp.post("/sittings/<id:sitting_id>/register")
@roles_required("candidate")
def register(sitting_id: int) -> Response | tuple[str, int]:
    session = get_session()
    if not EmptyForm().validate_on_submit():
        abort(400)
    sitting = sittings.get_sitting(session, sitting_id)
    try:
        sittings.register(session, current_user, sitting)  # type: ignore[arg-type]
    except Problem as problem:
        rows = [
            (s, sittings.count_places_taken(session, s.id)) for s in sittings.open_sittings(session)
        ]
        html = render_template(
            "exam/sittings.html", rows=rows, form=EmptyForm(), refused=problem, refused_for=sitting
        )
        return html, problem.status
    flash(f"You are registered for {sitting.title}. Check in on the day from this page.", "success")
    return redirect(url_for("exam.my_exams"), 303)


@bp.get("/exams")
@roles_required("candidate")
def my_exams() -> str:
    session = get_session()
    registrations = sittings.my_registrations(session, current_user.id)
    attempts = {
        a.registration_id: a
        for a in session.scalars(select(Attempt).where(Attempt.candidate_id == current_user.id))
    }
    for attempt in attempts.values():
        delivery.finalise_if_due(session, attempt)
    waiting = any(r.status == "checked_in" for r in registrations)
    return render_template(
        "exam/my_exams.html",
        registrations=registrations,
        attempts=attempts,
        form=EmptyForm(),
        waiting=waiting,
        now=clock.now(),
    )


@bp.post("/exams/<id:registration_id>/<any(checkin, cancel, start):step>")
@roles_required("candidate")
def registration_step(registration_id: int, step: str) -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    session = get_session()
    registration = _own_registration(registration_id)
    try:
        if step == "checkin":
            sittings.check_in(session, current_user, registration)  # type: ignore[arg-type]
            flash("Checked in.", "success")
        elif step == "cancel":
            sittings.cancel_registration(session, current_user, registration)  # type: ignore[arg-type]
            flash("Your registration is cancelled.", "info")
        else:
            end_request_transaction()
            attempt_id = delivery.start_attempt(get_db(), current_user.id, registration.id)
            return redirect(url_for("exam.question", attempt_id=attempt_id, position=1), 303)
    except Problem as problem:
        return _back_with(problem)
    return redirect(url_for("exam.my_exams"), 303)


@bp.route("/exams/<id:registration_id>/accommodation", methods=["GET", "POST"])
@roles_required("candidate")
def accommodation(registration_id: int) -> Response | tuple[str, int]:
    registration = _own_registration(registration_id)
    form = AccommodationForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            sittings.request_accommodation(
                get_session(),
                current_user,
                registration,  # type: ignore[arg-type]
                float(form.time_factor.data or 1),
                form.reason.data or "",
            )
        except Problem as problem:
            attach_problem(form, problem)
            return render_template(
                "exam/accommodation.html", form=form, registration=registration
            ), problem.status
        flash(
            "Your request for extra time is with the exam team; you will see their decision here.",
            "success",
        )
        return redirect(url_for("exam.my_exams"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("exam/accommodation.html", form=form, registration=registration), status


# ---- the exam ------------------------------------------


def _attempt(attempt_id: int) -> Attempt:
    return delivery.get_own_attempt(get_session(), current_user.id, attempt_id)


def _exam_page_context(attempt: Attempt) -> dict[str, Any]:
    shown = delivery.questions(get_session(), attempt, current_app.config["SECRET_KEY"])
    return {
        "attempt": attempt,
        "questions": shown,
        "answered": sum(1 for q in shown if q.selected),
        "flagged": sum(1 for q in shown if q.flagged),
        "seconds_left": delivery.seconds_left(attempt),
        "sitting": get_session().get(Sitting, attempt.sitting_id),
    }


@bp.get("/exams/attempts/<id:attempt_id>/q/<id:position>")
@roles_required("candidate")
def question(attempt_id: int, position: int) -> Response | str:
    attempt = _attempt(attempt_id)
    if attempt.finished:
        return redirect(url_for("exam.receipt", attempt_id=attempt.id))
    context = _exam_page_context(attempt)
    if position > len(context["questions"]):
        abort(404)
    return render_template(
        "exam/question.html", q=context["questions"][position - 1], form=AnswerForm(), **context
    )


@bp.post("/exams/attempts/<id:attempt_id>/q/<id:position>")
@roles_required("candidate")
def answer(attempt_id: int, position: int) -> Response:
    """Without JavaScript, each page's buttons save the answer and move on."""
    form = AnswerForm()
    if not form.validate_on_submit():
        abort(400)
    flagged, go = form.flagged.data == "1", form.go.data or "next"
    if "flagged_toggle" in request.form:
        flagged, go = not flagged, str(position)
    end_request_transaction()
    try:
        delivery.save_response(
            get_db(),
            current_app.config["SECRET_KEY"],
            require_principal(),
            attempt_id,
            position,
            list(form.answer.data or []),
            flagged,
        )
    except Problem as problem:
        if problem.status in (401, 404, 422):
            raise
        flash(problem.detail, "error")
    attempt = _attempt(attempt_id)
    total = len(attempt.items)
    if go == "review":
        return redirect(url_for("exam.review", attempt_id=attempt_id), 303)
    target = (
        position + (1 if go == "next" else -1)
        if go in ("next", "prev")
        else (int(go) if go.isdigit() else position)
    )
    return redirect(
        url_for("exam.question", attempt_id=attempt_id, position=min(max(1, target), total)), 303
    )


@bp.get("/exams/attempts/<id:attempt_id>/review")
@roles_required("candidate")
def review(attempt_id: int) -> Response | str:
    attempt = _attempt(attempt_id)
    if attempt.finished:
        return redirect(url_for("exam.receipt", attempt_id=attempt.id))
    return render_template("exam/review.html", form=EmptyForm(), **_exam_page_context(attempt))


@bp.post("/exams/attempts/<id:attempt_id>/submit")
@roles_required("candidate")
def submit(attempt_id: int) -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        delivery.submit(get_session(), current_user.id, attempt_id)
    except Problem as problem:
        return _back_with(problem, "exam.review", attempt_id=attempt_id)
    return redirect(url_for("exam.receipt", attempt_id=attempt_id), 303)


@bp.get("/exams/attempts/<id:attempt_id>/receipt")
@roles_required("candidate")
def receipt(attempt_id: int) -> Response | str:
    attempt = _attempt(attempt_id)
    if not attempt.finished:
        return redirect(url_for("exam.review", attempt_id=attempt_id))
    session = get_session()
    return render_template(
        "exam/receipt.html",
        attempt=attempt,
        answered=delivery.answered_count(session, attempt.id),
        sitting=session.get(Sitting, attempt.sitting_id),
    )


@bp.route("/exams/attempts/<id:attempt_id>/result", methods=["GET", "POST"])
@roles_required("candidate")
def result(attempt_id: int) -> Response | tuple[str, int]:
    attempt = _attempt(attempt_id)
    if not attempt.finished:
        return redirect(url_for("exam.question", attempt_id=attempt.id, position=1))
    session = get_session()
    form = AppealForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            rescoring.file_appeal(session, current_user, attempt.id, form.statement.data or "")  # type: ignore[arg-type]
            flash(
                "Your appeal is filed. You will see the exam team's decision here.",
                "success",
            )
            return redirect(url_for("exam.result", attempt_id=attempt.id), 303)
        except Problem as problem:
            attach_problem(form, problem)
            status = problem.status
    outcome = grading.get_result(session, attempt.id)
    released = outcome is not None and outcome.released
    study = grading.study_list(session, attempt, outcome)
    appeal = rescoring.appeal_for(session, attempt.id)
    can_appeal = (
        released and appeal is None and clock.now() <= outcome.graded_at + rescoring.APPEAL_WINDOW
    )
    html = render_template(
        "exam/result.html",
        attempt=attempt,
        outcome=outcome if released else None,
        study=study,
        sitting=session.get(Sitting, attempt.sitting_id),
        appeal=appeal,
        can_appeal=can_appeal,
        form=form,
    )
    return html, status


# ---- the exam page's JSON (cookie session + CSRF header) -------------------------


@bp.put("/exams/attempts/<id:attempt_id>/responses/<id:position>")
@lightweight_auth
@limiter.exempt
def autosave(attempt_id: int, position: int) -> Any:
    _json_errors()

    body = parse_json(ResponseRequest)
    saved_at = delivery.save_response(
        get_db(),
        current_app.config["SECRET_KEY"],
        require_principal(),
        attempt_id,
        position,
        body.selected,
        body.flagged,
    )
    return jsonify({"position": position, "saved_at": saved_at.isoformat()})


@bp.get("/exams/attempts/<id:attempt_id>/state")
@roles_required("candidate")
def attempt_state(attempt_id: int) -> Any:
    _json_errors()
    return jsonify(delivery.state(_attempt(attempt_id)))


@bp.post("/exams/attempts/<id:attempt_id>/events")
@roles_required("candidate")
@limiter.limit("120 per minute")
def attempt_event(attempt_id: int) -> Any:
    _json_errors()

    body = parse_json(EventRequest)
    delivery.record_client_event(get_session(), current_user.id, attempt_id, body.kind, body.detail)
    return "", 204


# ---- proctors ------------------------------------------


@bp.get("/proctor")
@roles_required("proctor", "exam_admin")
def proctor_home() -> str:
    mine = sittings.sittings_for_proctor(get_session(), current_user)  # type: ignore[arg-type]
    return render_template("exam/proctor_home.html", sittings=mine)


def _console_sitting(sitting_id: int) -> Sitting:
    sitting = sittings.get_sitting(get_session(), sitting_id)
    sittings.require_proctor(current_user, sitting)  # type: ignore[arg-type]
    return sitting


def _people(rows: list[proctoring.RosterRow]) -> dict[int, User]:
    ids = [row.registration.candidate_id for row in rows]
    return {u.id: u for u in get_session().scalars(select(User).where(User.id.in_(ids)))}


@bp.get("/proctor/sittings/<id:sitting_id>")
@roles_required("proctor", "exam_admin")
def console(sitting_id: int) -> str:
    sitting = _console_sitting(sitting_id)
    rows = proctoring.live_roster(get_session(), sitting)
    return render_template(
        "exam/console.html",
        sitting=sitting,
        rows=rows,
        people=_people(rows),
        admit_form=AdmitForm(),
        action_form=ProctorActionForm(),
        log=proctoring.sitting_log(get_session(), sitting),
    )


@bp.get("/proctor/sittings/<id:sitting_id>/roster.json")
@roles_required("proctor", "exam_admin")
def roster_json(sitting_id: int) -> Any:
    _json_errors()
    sitting = _console_sitting(sitting_id)
    rows = proctoring.live_roster(get_session(), sitting)
    people = _people(rows)
    return jsonify(
        {
            "rows": [
                {
                    "registration_id": row.registration.id,
                    "candidate": people[row.registration.candidate_id].full_name,
                    "status": row.attempt.status if row.attempt else row.registration.status,
                    "answered": row.answered,
                    "total": row.total,
                    "seconds_left": row.seconds_left,
                    "events": [e.kind.replace("_", " ") for e in row.events],
                }
                for row in rows
            ]
        }
    )


@bp.post("/proctor/registrations/<id:registration_id>/decision")
@roles_required("proctor", "exam_admin")
def admission(registration_id: int) -> Response:
    form = AdmitForm()
    if not form.validate_on_submit():
        abort(400)
    session = get_session()
    registration = sittings.get_registration(session, registration_id)
    try:
        if form.decision.data == "admit":
            sittings.admit(session, current_user, registration, form.identity_check.data or "")  # type: ignore[arg-type]
        else:
            reason = (form.decision.data or "").partition(":")[2]
            sittings.turn_away(session, current_user, registration, reason)  # type: ignore[arg-type]
    except Problem as problem:
        if problem.status == 403:
            raise
        return _back_with(problem, "exam.console", sitting_id=registration.sitting_id)
    return redirect(url_for("exam.console", sitting_id=registration.sitting_id), 303)


@bp.post("/proctor/attempts/<id:attempt_id>/action")
@roles_required("proctor", "exam_admin")
def proctor_action(attempt_id: int) -> Response:
    form = ProctorActionForm()
    if not form.validate_on_submit():
        abort(400)
    session = get_session()
    attempt = proctoring.get_attempt_for_proctor(session, current_user, attempt_id)  # type: ignore[arg-type]
    reason, action = form.reason.data or "", form.action.data
    try:
        if action == "pause":
            proctoring.pause(session, current_user, attempt, reason)  # type: ignore[arg-type]
        elif action == "resume":
            proctoring.resume(session, current_user, attempt)  # type: ignore[arg-type]
        elif action == "extend":
            proctoring.extend(session, current_user, attempt, form.minutes.data or 0, reason)  # type: ignore[arg-type]
        elif action == "terminate":
            proctoring.terminate(session, current_user, attempt, reason)  # type: ignore[arg-type]
        elif action == "note":
            proctoring.note(session, current_user, attempt, reason)  # type: ignore[arg-type]
        else:
            abort(400)
    except Problem as problem:
        return _back_with(problem, "exam.console", sitting_id=attempt.sitting_id)
    flash(f"Done: {action}.", "success")
    return redirect(url_for("exam.console", sitting_id=attempt.sitting_id), 303)


# ---- exam administrators ------------------------------------------


def _sitting_form(form: SittingForm | None = None) -> SittingForm:
    form = form or SittingForm()
    session = get_session()
    form.blueprint.choices = [
        SelectChoice(b.code, f"{b.code}: {b.current.spec['title']}")
        for b in session.scalars(select(TestBlueprint).order_by(TestBlueprint.code))
    ]
    proctors = session.scalars(
        select(User)
        .join(UserRole)
        .where(UserRole.role == "proctor", User.active.is_(True))
        .order_by(User.family_name)
    ).all()
    form.proctors.choices = [SelectChoice(p.id, p.full_name) for p in proctors]
    return form


def _sitting_input(form: SittingForm) -> sittings.SittingInput:
    return sittings.SittingInput(
        form.blueprint.data or "",
        form.title.data or "",
        clock.as_utc(form.opens_at.data or clock.now()),
        clock.as_utc(form.closes_at.data or clock.now()),
        form.capacity.data or 0,
        form.mode.data or "",
        form.location.data or "",
        tuple(form.proctors.data or ()),
    )


@bp.get("/staff/sittings")
@roles_required("exam_admin")
def staff_sittings() -> str:
    session = get_session()
    rows = [(s, sittings.count_places_taken(session, s.id)) for s in sittings.all_sittings(session)]
    return render_template(
        "exam/staff_sittings.html", rows=rows, pending=len(sittings.pending_accommodations(session))
    )


@bp.route("/staff/sittings/new", methods=["GET", "POST"])
@roles_required("exam_admin")
def new_sitting() -> Response | tuple[str, int]:
    form = _sitting_form()
    if request.method == "POST" and form.validate_on_submit():
        try:
            sitting = sittings.schedule_sitting(get_session(), current_user, _sitting_input(form))  # type: ignore[arg-type]
        except Problem as problem:
            attach_problem(form, problem)
            return render_template(
                "exam/sitting_form.html", form=form, sitting=None
            ), problem.status
        flash(f"{sitting.title} is scheduled.", "success")
        return redirect(url_for("exam.staff_sittings"), 303)
    return render_template("exam/sitting_form.html", form=form, sitting=None), (
        422 if request.method == "POST" else 200
    )


@bp.route("/staff/sittings/<id:sitting_id>/edit", methods=["GET", "POST"])
@roles_required("exam_admin")
def edit_sitting(sitting_id: int) -> Response | tuple[str, int]:
    session = get_session()
    sitting = sittings.get_sitting(session, sitting_id)
    if request.method == "GET":
        form = _sitting_form(
            SittingForm(
                data={
                    "title": sitting.title,
                    "blueprint": session.get(TestBlueprint, sitting.blueprint_id).code,
                    "opens_at": sitting.opens_at.replace(tzinfo=None),
                    "closes_at": sitting.closes_at.replace(tzinfo=None),
                    "capacity": sitting.capacity,
                    "mode": sitting.mode,
                    "location": sitting.location,
                    "proctors": sorted(sitting.proctor_ids),
                    "revision": str(sitting.revision),
                }
            )
        )
        return render_template(
            "exam/sitting_form.html", form=form, sitting=sitting, cancel_form=CancelForm()
        ), 200
    form = _sitting_form()
    if not form.validate_on_submit():
        return render_template(
            "exam/sitting_form.html", form=form, sitting=sitting, cancel_form=CancelForm()
        ), 422
    try:
        revision = int(form.revision.data) if (form.revision.data or "").isdigit() else 0
        sittings.edit_sitting(session, current_user, sitting, _sitting_input(form), revision)  # type: ignore[arg-type]
    except Problem as problem:
        attach_problem(form, problem)
        return render_template(
            "exam/sitting_form.html", form=form, sitting=sitting, cancel_form=CancelForm()
        ), problem.status
    flash(f"{sitting.title} is saved.", "success")
    return redirect(url_for("exam.staff_sittings"), 303)


@bp.post("/staff/sittings/<id:sitting_id>/cancel")
@roles_required("exam_admin")
def cancel_sitting(sitting_id: int) -> Response:
    form = CancelForm()
    session = get_session()
    sitting = sittings.get_sitting(session, sitting_id)
    if not form.validate_on_submit():
        flash("Say why the sitting is cancelled; candidates are told.", "error")
        return redirect(url_for("exam.edit_sitting", sitting_id=sitting_id), 303)
    try:
        sittings.cancel_sitting(session, current_user, sitting, form.reason.data or "")  # type: ignore[arg-type]
    except Problem as problem:
        return _back_with(problem, "exam.edit_sitting", sitting_id=sitting_id)
    flash(f"{sitting.title} is cancelled; registrations were cancelled with it.", "info")
    return redirect(url_for("exam.staff_sittings"), 303)


@bp.route("/staff/accommodations", methods=["GET", "POST"])
@roles_required("exam_admin")
def accommodations() -> Response | str:
    session = get_session()
    if request.method == "POST":
        form = DecisionForm()
        if not form.validate_on_submit():
            abort(400)

        raw_id = valid_id(request.form.get("accommodation_id", type=int))
        item = session.get(Accommodation, raw_id) if raw_id else None
        if item is None:
            abort(404)
        try:
            sittings.decide_accommodation(
                session,
                current_user,
                item,
                form.decision.data == "approve",  # type: ignore[arg-type]
                form.note.data or "",
            )
        except Problem as problem:
            return _back_with(problem, "exam.accommodations")
        flash("Decision recorded.", "success")
        return redirect(url_for("exam.accommodations"), 303)
    pending = sittings.pending_accommodations(session)
    people = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_([a.registration.candidate_id for a in pending]))
        )
    }
    return render_template(
        "exam/accommodations.html", pending=pending, people=people, form=DecisionForm()
    )


@bp.route("/staff/appeals", methods=["GET", "POST"])
@roles_required("exam_admin")
def appeals() -> Response | str:
    session = get_session()
    if request.method == "POST":
        form = AppealDecisionForm()
        if not form.validate_on_submit():
            abort(400)

        raw_id = valid_id(request.form.get("appeal_id", type=int))
        appeal = session.get(Appeal, raw_id) if raw_id else None
        if appeal is None:
            abort(404)
        decision = form.decision.data or ""
        try:
            rescoring.decide_appeal(
                session,
                current_user,
                appeal,
                upheld=decision.startswith("uphold"),  # type: ignore[arg-type]
                reason=form.reason.data or "",
                remedy=decision.partition(":")[2] or "none",
            )
        except Problem as problem:
            return _back_with(problem, "exam.appeals")
        flash("Decision recorded; the candidate sees it on their result.", "success")
        return redirect(url_for("exam.appeals"), 303)
    queue = rescoring.appeal_queue(session)
    people = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_([a.candidate_id for a in queue])))
    }
    results = {a.attempt_id: grading.get_result(session, a.attempt_id) for a in queue}
    return render_template(
        "exam/appeals.html", queue=queue, people=people, results=results, form=AppealDecisionForm()
    )


@bp.route("/staff/scoring", methods=["GET", "POST"])
@roles_required("exam_admin")
def scoring() -> Response | tuple[str, int]:
    form = ScoringForm()
    changed: list[rescoring.ChangedOutcome] | None = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            session = get_session()

            item = session.scalars(
                select(Item).where(Item.ref == (form.ref.data or "").strip())
            ).first()
            try:
                if item is None:
                    raise Problem(404, "No such item", f"No item has the ref {form.ref.data}.")
                changed = rescoring.decide_scoring(
                    session,
                    current_user,
                    item.id,
                    action=form.action.data or "",  # type: ignore[arg-type]
                    reason=form.reason.data or "",
                    version_number=form.version.data,
                    keys=[
                        k.strip().upper() for k in (form.keys.data or "").split(",") if k.strip()
                    ],
                )
            except Problem as problem:
                attach_problem(form, problem)
                status = problem.status
        else:
            status = 422
    return render_template("exam/scoring.html", form=form, changed=changed), status


STAT_SORTS = ("ref", "p_value", "point_biserial", "n", "exposure", "flags")


def _statistics() -> Any:
    code = request.args.get("blueprint", "first-level")[:60]
    sitting = request.args.get("sitting", type=int)
    sitting = valid_id(sitting)
    return code, sitting, statistics.exam_statistics(get_session(), code, sitting)


@bp.get("/staff/statistics")
@roles_required("exam_admin")
def statistics_page() -> str:
    code, sitting, stats = _statistics()
    sort = request.args.get("sort", "ref")
    sort = sort if sort in STAT_SORTS else "ref"

    def key(item: Any) -> Any:
        value = len(item.flags) if sort == "flags" else getattr(item, sort)
        return (value is None, value)

    items = sorted(stats.items, key=key, reverse=sort in ("flags", "n", "exposure"))
    return render_template(
        "exam/statistics.html",
        stats=stats,
        items=items,
        code=code,
        sitting=sitting,
        sort=sort,
        sorts=STAT_SORTS,
    )


@bp.get("/staff/statistics.csv")
@roles_required("exam_admin")
def statistics_csv() -> Response:
    _code, _sitting, stats = _statistics()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["ref", "version", "competency", "n", "p_value", "point_biserial", "exposure", "flags"]
    )
    for i in stats.items:
        writer.writerow(
            [
                i.ref,
                i.version,
                i.code,
                i.n,
                i.p_value,
                i.point_biserial,
                i.exposure,
                "; ".join(i.flags),
            ]
        )
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="item-statistics.csv"'
    return response


@bp.route("/staff/angoff", methods=["GET", "POST"])
@roles_required(*standard_setting.RATERS)
def angoff_list() -> Response | str:
    session = get_session()
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        if not current_user.has_role("exam_admin"):
            abort(403)
        try:
            study = standard_setting.create_study(
                session,
                current_user,
                "first-level",  # type: ignore[arg-type]
                request.form.get("title", "")[:200],
            )
        except Problem as problem:
            return _back_with(problem, "exam.angoff_list")
        return redirect(url_for("exam.angoff_study", study_id=study.id), 303)
    return render_template(
        "exam/angoff_list.html", studies=standard_setting.studies(session), form=EmptyForm()
    )


@bp.route("/staff/angoff/<id:study_id>", methods=["GET", "POST"])
@roles_required(*standard_setting.RATERS)
def angoff_study(study_id: int) -> Response | str:
    session = get_session()
    study = standard_setting.get_study(session, study_id)
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        try:
            if "adopt" in request.form:
                number = standard_setting.adopt(
                    session, current_user, study, request.form.get("note", "")[:2000]
                )  # type: ignore[arg-type]
                flash(f"The cut is adopted: blueprint version {number}.", "success")
            else:
                ratings = {
                    int(key.removeprefix("rating-")): int(value)
                    for key, value in request.form.items()
                    if key.startswith("rating-")
                    and key[7:].isdigit()
                    and value.strip().lstrip("-").isdigit()
                }
                standard_setting.save_ratings(session, current_user, study, ratings)  # type: ignore[arg-type]
                flash("Your ratings are saved.", "success")
        except Problem as problem:
            return _back_with(problem, "exam.angoff_study", study_id=study_id)
        return redirect(url_for("exam.angoff_study", study_id=study_id), 303)
    return render_template(
        "exam/angoff.html",
        study=study,
        items=standard_setting.study_items(session, study),
        mine=standard_setting.my_ratings(session, study, current_user.id),
        recommendation=standard_setting.recommend(session, study),
        form=EmptyForm(),
    )
