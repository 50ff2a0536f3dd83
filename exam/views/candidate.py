"""The candidate's pages: booking, check-in, extra time, the exam's questions, the receipt
and the result."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from core import clock
from core.auth import current_actor, require_principal, roles_required
from core.db import end_request_transaction, get_db, get_session
from core.errors import FieldError, Problem
from core.forms import attach_problem
from exam import responses
from exam.forms import AccommodationForm, AnswerForm, AppealForm, EmptyForm
from exam.models import Attempt, RegistrationStatus, Sitting
from exam.services import (
    accommodations,
    answers,
    appeals,
    delivery,
    ladder,
    offline_answers,
    overview,
    registration,
    results,
    sittings,
    starting,
    timing,
)
from exam.views._blueprint import back_with, bp, require_valid


def _sittings_page(status: int = 200, **context: Any) -> tuple[str, int]:
    session = get_session()
    rows = [
        (s, sittings.count_places_taken(session, s.id)) for s in sittings.open_sittings(session)
    ]
    return render_template("exam/sittings.html", rows=rows, form=EmptyForm(), **context), status


@bp.get("/sittings")
@roles_required("candidate")
def open_sittings() -> tuple[str, int]:
    return _sittings_page()


@bp.post("/sittings/<id:sitting_id>/register")
@roles_required("candidate")
def register(sitting_id: int) -> Response | tuple[str, int]:
    require_valid(EmptyForm())
    sitting = sittings.require_sitting(get_session(), sitting_id)
    try:
        registration.register(get_session(), current_actor(), sitting)
    except Problem as problem:
        return _sittings_page(problem.status, refused=problem, refused_for=sitting)
    flash(f"You are registered for {sitting.title}. Check in on the day from this page.", "success")
    return redirect(url_for("exam.my_exams"), 303)


@bp.get("/exams")
@roles_required("candidate")
def my_exams() -> str:
    session, actor = get_session(), current_actor()
    registrations = registration.my_registrations(session, actor.id)
    return render_template(
        "exam/my_exams.html",
        registrations=registrations,
        attempts=delivery.attempts_by_registration(session, actor.id),
        overviews=overview.overviews(session, registrations),
        form=EmptyForm(),
        waiting=any(r.status == RegistrationStatus.CHECKED_IN for r in registrations),
        ladders=ladder.ladders(session, actor.id),
    )


@bp.post("/exams/<id:registration_id>/<any(checkin, cancel, start):step>")
@roles_required("candidate")
def registration_step(registration_id: int, step: str) -> Response:
    require_valid(EmptyForm())
    actor = current_actor()
    booked = registration.require_own_registration(get_session(), actor, registration_id)
    try:
        if step == "checkin":
            registration.check_in(get_session(), actor, booked)
            flash("Checked in.", "success")
        elif step == "cancel":
            registration.cancel_registration(get_session(), actor, booked)
            flash("Your registration is cancelled.", "info")
        else:
            end_request_transaction()
            attempt_id = starting.start_attempt(get_db(), actor, booked.id)
            return redirect(url_for("exam.question", attempt_id=attempt_id, position=1), 303)
    except Problem as problem:
        return back_with(problem)
    return redirect(url_for("exam.my_exams"), 303)


@bp.route("/exams/<id:registration_id>/accommodation", methods=["GET", "POST"])
@roles_required("candidate")
def accommodation(registration_id: int) -> Response | tuple[str, int]:
    actor = current_actor()
    booked = registration.require_own_registration(get_session(), actor, registration_id)
    form = AccommodationForm()
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.validate_on_submit():
        try:
            accommodations.request_accommodation(
                get_session(),
                actor,
                booked,
                float(form.time_factor.data or 1),
                form.reason.data or "",
            )
        except Problem as problem:
            attach_problem(form, problem)
            status = problem.status
        else:
            flash(
                "Your request for extra time is with the exam team; "
                "you will see their decision here.",
                "success",
            )
            return redirect(url_for("exam.my_exams"), 303)
    html = render_template("exam/accommodation.html", form=form, registration=booked)
    return html, status


# ---- the exam ------------------------------------------


def own_attempt(attempt_id: int) -> Attempt:
    return delivery.require_own_attempt(get_session(), current_actor().id, attempt_id)


def _bar_context(attempt: Attempt) -> dict[str, Any]:
    """What the exam bar shows: no question's content."""
    return {
        "attempt": attempt,
        "total": len(attempt.items),
        "seconds_left": timing.seconds_left(attempt),
        "server_now_ms": int(clock.now().timestamp() * 1000),
        "offline_key": offline_answers.page_key(current_app.config["SECRET_KEY"], attempt.id),
        "sitting": get_session().get(Sitting, attempt.sitting_id),
    }


def _exam_page_context(attempt: Attempt) -> dict[str, Any]:
    """The whole form (never a key), so the page moves between questions offline."""
    shown = delivery.questions(get_session(), attempt, current_app.config["SECRET_KEY"])
    unanswered = [q.position for q in shown if not q.selected]
    return {
        **_bar_context(attempt),
        "questions": shown,
        "answered": len(shown) - len(unanswered),
        "flagged": sum(1 for q in shown if q.flagged),
        "first_unanswered": unanswered[0] if unanswered else None,
        "form": AnswerForm(),
        "show": "all",
        "confirm": False,
    }


def _withheld_page(attempt: Attempt) -> tuple[str, int] | None:
    """The page a paused attempt shows instead of its questions (the time stopped)."""
    problem = delivery.withheld(attempt)
    if problem is None:
        return None
    answered = delivery.answered_count(get_session(), attempt.id)
    context = _bar_context(attempt)
    return render_template("exam/paused.html", answered=answered, **context), problem.status


@bp.get("/exams/attempts/<id:attempt_id>/q/<id:position>")
@roles_required("candidate")
def question(attempt_id: int, position: int) -> Response | str | tuple[str, int]:
    attempt = own_attempt(attempt_id)
    if attempt.over:
        return redirect(url_for("exam.receipt", attempt_id=attempt.id))
    if (paused := _withheld_page(attempt)) is not None:
        return paused
    context = _exam_page_context(attempt)
    if position > len(context["questions"]):
        abort(404)
    return render_template("exam/attempt.html", view=position, **context)


def _next_position(go: str, position: int, total: int) -> int:
    """Where the no-JavaScript page's buttons lead: next, previous or a numbered question."""
    if go in ("next", "prev"):
        target = position + (1 if go == "next" else -1)
    else:
        target = int(go) if go.isdigit() else position
    return min(max(1, target), total)


@bp.post("/exams/attempts/<id:attempt_id>/q/<id:position>")
@roles_required("candidate")
def answer(attempt_id: int, position: int) -> Response:
    """Without JavaScript, each page's buttons save the answer and move on."""
    form = AnswerForm()
    require_valid(form)
    flagged, go = form.flagged.data == "1", form.go.data or "next"
    if "flagged_toggle" in request.form:
        flagged, go = not flagged, str(position)
    end_request_transaction()
    try:
        answers.save_response(
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
    if go == "review":
        return redirect(url_for("exam.review", attempt_id=attempt_id), 303)
    total = len(own_attempt(attempt_id).items)
    target = _next_position(go, position, total)
    return redirect(url_for("exam.question", attempt_id=attempt_id, position=target), 303)


@bp.get("/exams/attempts/<id:attempt_id>/review")
@roles_required("candidate")
def review(attempt_id: int) -> Response | str | tuple[str, int]:
    attempt = own_attempt(attempt_id)
    if attempt.over:
        return redirect(url_for("exam.receipt", attempt_id=attempt.id))
    if (paused := _withheld_page(attempt)) is not None:
        return paused
    show = request.args.get("show", "all")
    if show not in REVIEW_FILTERS:
        raise Problem(
            400,
            "Unknown filter",
            f"show is one of {', '.join(REVIEW_FILTERS)}.",
            errors=[FieldError("show", "Unknown filter.")],
        )
    context = _exam_page_context(attempt)
    context.update(show=show, confirm=request.args.get("confirm") == "1")
    return render_template("exam/attempt.html", view="review", **context)


REVIEW_FILTERS = ("all", "unanswered", "flagged", "answered")


@bp.post("/exams/attempts/<id:attempt_id>/submit")
@roles_required("candidate")
def submit(attempt_id: int) -> Response:
    """Submitting asks first: the review's confirmation step posts ``confirmed=yes``."""
    require_valid(EmptyForm())
    if request.form.get("confirmed") != "yes":
        return redirect(url_for("exam.review", attempt_id=attempt_id, confirm=1), 303)
    try:
        delivery.submit(get_session(), current_actor(), attempt_id)
    except Problem as problem:
        return back_with(problem, "exam.review", attempt_id=attempt_id)
    return redirect(url_for("exam.receipt", attempt_id=attempt_id), 303)


@bp.get("/exams/attempts/<id:attempt_id>/receipt")
@roles_required("candidate")
def receipt(attempt_id: int) -> Response | str:
    attempt = own_attempt(attempt_id)
    sealed = timing.receipt(get_session(), attempt)
    if sealed is None:
        return redirect(url_for("exam.review", attempt_id=attempt_id))
    return render_template(
        "exam/receipt.html",
        attempt=attempt,
        receipt=sealed,
        answered=delivery.answered_count(get_session(), attempt.id),
        sitting=get_session().get(Sitting, attempt.sitting_id),
    )


@bp.route("/exams/attempts/<id:attempt_id>/result", methods=["GET", "POST"])
@roles_required("candidate")
def result(attempt_id: int) -> Response | tuple[str, int]:
    attempt = own_attempt(attempt_id)
    if not attempt.over:
        return redirect(url_for("exam.question", attempt_id=attempt.id, position=1))
    form, status = AppealForm(), 200
    if request.method == "POST":
        require_valid(form)
        try:
            appeals.file_appeal(
                get_session(), current_actor(), attempt.id, form.statement.data or ""
            )
        except Problem as problem:
            attach_problem(form, problem)
            status = problem.status
        else:
            flash("Your appeal is filed. You will see the exam team's decision here.", "success")
            return redirect(url_for("exam.result", attempt_id=attempt.id), 303)
    view = results.result_for(get_session(), current_actor(), attempt)
    html = render_template(
        "exam/result.html",
        attempt=attempt,
        outcome=view.outcome,
        study=view.study,
        sitting=get_session().get(Sitting, attempt.sitting_id),
        appeal=view.appeal,
        can_appeal=view.can_appeal,
        void_reason=view.void_reason,
        earns=view.earns,
        certificate=responses.certificate_of(get_session(), attempt.id) if view.outcome else None,
        form=form,
    )
    return html, status
