"""The exam team's pages: sittings, extra time, appeals, scoring, statistics, standard
setting."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from core import clock
from core.auth import current_actor, roles_required
from core.db import get_session
from core.duties import reads_bank
from core.errors import Problem
from core.forms import attach_problem
from core.web import valid_id
from exam.forms import (
    AppealDecisionForm,
    CancelForm,
    DecisionForm,
    EmptyForm,
    ScoringForm,
    SittingForm,
)
from exam.models import Appeal, Sitting
from exam.psychometrics.views import statistics_sections
from exam.services import (
    accommodations,
    admission,
    appeals,
    grading,
    rescoring,
    sittings,
    standard_setting,
    statistics,
)
from exam.views._blueprint import back_with, bp, require_valid
from exam.views.seb import panel as seb_panel
from item_bank.blueprints import DEFAULT_BLUEPRINT


def _sitting_form(form: SittingForm | None = None) -> SittingForm:
    form = form or SittingForm()
    session = get_session()
    form.offer(sittings.blueprints_to_schedule(session), sittings.active_proctors(session))
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
        form.start_spread_minutes.data or 0,
    )


def _sitting_page(
    form: SittingForm, sitting: Sitting | None, status: int, seb_form: Any = None
) -> tuple[str, int]:
    cancel_form = CancelForm() if sitting else None
    html = render_template(
        "exam/sitting_form.html",
        form=form,
        sitting=sitting,
        cancel_form=cancel_form,
        seb=seb_panel(sitting, seb_form) if sitting else None,
    )
    return html, status


def edit_page(sitting: Sitting, status: int = 200, seb_form: Any = None) -> tuple[str, int]:
    """The sitting's page as stored, with the SEB form as posted when it was refused."""
    form = _sitting_form(SittingForm(data=sittings.edit_form_data(get_session(), sitting)))
    return _sitting_page(form, sitting, status, seb_form)


@bp.get("/staff/sittings")
@roles_required("exam_admin")
def staff_sittings() -> str:
    session = get_session()
    rows = [(s, sittings.count_places_taken(session, s.id)) for s in sittings.all_sittings(session)]
    pending = len(accommodations.pending_accommodations(session))
    return render_template("exam/staff_sittings.html", rows=rows, pending=pending)


@bp.route("/staff/sittings/new", methods=["GET", "POST"])
@roles_required("exam_admin")
def new_sitting() -> Response | tuple[str, int]:
    form = _sitting_form()
    if request.method == "GET":
        return _sitting_page(form, None, 200)
    if not form.validate_on_submit():
        return _sitting_page(form, None, 422)
    try:
        sitting = sittings.schedule_sitting(get_session(), current_actor(), _sitting_input(form))
    except Problem as problem:
        attach_problem(form, problem)
        return _sitting_page(form, None, problem.status)
    flash(f"{sitting.title} is scheduled.", "success")
    return redirect(url_for("exam.staff_sittings"), 303)


@bp.route("/staff/sittings/<id:sitting_id>/edit", methods=["GET", "POST"])
@roles_required("exam_admin")
def edit_sitting(sitting_id: int) -> Response | tuple[str, int]:
    session = get_session()
    sitting = sittings.require_sitting(session, sitting_id)
    if request.method == "GET":
        return edit_page(sitting)
    form = _sitting_form()
    if not form.validate_on_submit():
        return _sitting_page(form, sitting, 422)
    posted_revision = form.revision.data or ""
    revision = int(posted_revision) if posted_revision.isdigit() else 0
    try:
        sittings.edit_sitting(session, current_actor(), sitting, _sitting_input(form), revision)
    except Problem as problem:
        attach_problem(form, problem)
        return _sitting_page(form, sitting, problem.status)
    flash(f"{sitting.title} is saved.", "success")
    return redirect(url_for("exam.staff_sittings"), 303)


@bp.post("/staff/sittings/<id:sitting_id>/cancel")
@roles_required("exam_admin")
def cancel_sitting(sitting_id: int) -> Response:
    form = CancelForm()
    sitting = sittings.require_sitting(get_session(), sitting_id)
    if not form.validate_on_submit():
        flash("Say why the sitting is cancelled; candidates are told.", "error")
        return redirect(url_for("exam.edit_sitting", sitting_id=sitting_id), 303)
    try:
        sittings.cancel_sitting(get_session(), current_actor(), sitting, form.reason.data or "")
    except Problem as problem:
        return back_with(problem, "exam.edit_sitting", sitting_id=sitting_id)
    flash(f"{sitting.title} is cancelled; registrations were cancelled with it.", "info")
    return redirect(url_for("exam.staff_sittings"), 303)


def _posted_id(name: str) -> int | None:
    return valid_id(request.form.get(name, type=int))


@bp.route("/staff/accommodations", methods=["GET", "POST"], endpoint="accommodations")
@roles_required("exam_admin")
def accommodations_page() -> Response | str:
    session = get_session()
    if request.method == "POST":
        form = DecisionForm()
        require_valid(form)
        pending_request = accommodations.require_accommodation(
            session, _posted_id("accommodation_id")
        )
        approve = form.decision.data == "approve"
        try:
            accommodations.decide_accommodation(
                session, current_actor(), pending_request, approve, form.note.data or ""
            )
        except Problem as problem:
            return back_with(problem, "exam.accommodations")
        flash("Decision recorded.", "success")
        return redirect(url_for("exam.accommodations"), 303)
    pending = accommodations.pending_accommodations(session)
    people = admission.people_by_id(session, (a.registration.candidate_id for a in pending))
    return render_template(
        "exam/accommodations.html", pending=pending, people=people, form=DecisionForm()
    )


@bp.route("/staff/appeals", methods=["GET", "POST"], endpoint="appeals")
@roles_required("exam_admin")
def appeals_page() -> Response | str:
    session = get_session()
    if request.method == "POST":
        form = AppealDecisionForm()
        require_valid(form)
        appeal = appeals.require_appeal(session, _posted_id("appeal_id"))
        decision = form.decision.data or ""
        upheld, remedy = decision.startswith("uphold"), decision.partition(":")[2]
        reason = form.reason.data or ""
        try:
            preview = request.form.get("confirmed") != "yes"
            outcome = appeals.decide_appeal(
                session,
                current_actor(),
                appeal,
                upheld=upheld,
                reason=reason,
                remedy=remedy,
                preview=preview,
            )
            if preview:
                return _confirm_appeal(session, appeal, form, outcome)
        except Problem as problem:
            return back_with(problem, "exam.appeals")
        flash("Decision recorded; the candidate sees it on their result.", "success")
        return redirect(url_for("exam.appeals"), 303)
    queue = appeals.appeal_queue(session)
    people = admission.people_by_id(session, (a.candidate_id for a in queue))
    results = {a.attempt_id: grading.get_result(session, a.attempt_id) for a in queue}
    return render_template(
        "exam/appeals.html", queue=queue, people=people, results=results, form=AppealDecisionForm()
    )


def _confirm_appeal(
    session: Session, appeal: Appeal, form: AppealDecisionForm, preview: appeals.AppealOutcome
) -> str:
    people = admission.people_by_id(session, [appeal.candidate_id])
    return render_template(
        "exam/appeal_confirm.html",
        appeal=appeal,
        candidate=people[appeal.candidate_id],
        form=form,
        preview=preview,
    )


@bp.route("/staff/scoring", methods=["GET", "POST"])
@roles_required("exam_admin")
def scoring() -> tuple[str, int]:
    """The decision is asked twice: first what it would do (attempts rescored, outcomes
    that flip, certificates issued or revoked), then, confirmed, it is taken."""
    form = ScoringForm()
    if request.method == "GET":  # the statistics page links here with the item's version
        form.ref.data = request.args.get("ref", "")[:64] or form.ref.data
        form.version.data = valid_id(request.args.get("version", type=int))
    rescored: rescoring.Rescored | None = None
    status = 200
    if request.method == "POST" and not form.validate_on_submit():
        status = 422
    elif request.method == "POST":
        session = get_session()
        confirmed = request.form.get("confirmed") == "yes"
        try:
            item = rescoring.require_item_by_ref(session, form.ref.data or "")
            rescored = rescoring.decide_scoring(
                session,
                current_actor(),
                item.id,
                action=form.action.data or "",
                reason=form.reason.data or "",
                version_number=form.version.data,
                keys=rescoring.parse_keys(form.keys.data or ""),
                preview=not confirmed,
            )
        except Problem as problem:
            attach_problem(form, problem)
            status = problem.status
        else:
            people = admission.people_by_id(session, (c.candidate_id for c in rescored.changed))
            if not confirmed:
                return render_template(
                    "exam/scoring_confirm.html",
                    form=form,
                    preview=rescored,
                    people=people,
                    fields=[
                        (name, request.form.get(name, ""))
                        for name in ("ref", "version", "action", "keys", "reason")
                    ],
                ), 200
            return render_template(
                "exam/scoring.html", form=ScoringForm(formdata=None), rescored=rescored,
                people=people, rescored_ref=item.ref,
            ), 200  # fmt: skip
    return render_template("exam/scoring.html", form=form, rescored=rescored, people={}), status


def _requested_statistics() -> tuple[str, int | None, statistics.ExamStats]:
    code = request.args.get("blueprint", DEFAULT_BLUEPRINT)[:60]
    sitting = valid_id(request.args.get("sitting", type=int))
    return code, sitting, statistics.exam_statistics(get_session(), code, sitting)


@bp.get("/staff/statistics")
@roles_required("exam_admin")
@reads_bank
def statistics_page() -> str:
    code, sitting, stats = _requested_statistics()
    sort = statistics.sort_name(request.args.get("sort"))
    return render_template(
        "exam/statistics.html",
        stats=stats,
        items=statistics.sorted_items(stats, sort),
        code=code,
        sitting=sitting,
        sort=sort,
        sorts=statistics.SORTS,
        blueprints=sittings.blueprints_to_schedule(get_session()),
        **statistics_sections(code),
    )


@bp.get("/staff/statistics.csv")
@roles_required("exam_admin")
@reads_bank
def statistics_csv() -> Response:
    _code, _sitting, stats = _requested_statistics()
    response = Response(statistics.items_csv(stats), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="item-statistics.csv"'
    return response


@bp.route("/staff/angoff", methods=["GET", "POST"])
@roles_required(*standard_setting.RATERS)
@reads_bank
def angoff_list() -> Response | str:
    session = get_session()
    if request.method == "POST":
        require_valid(EmptyForm())
        title = request.form.get("title", "")[:200]
        code = request.form.get("blueprint", DEFAULT_BLUEPRINT)[:60]
        try:
            study = standard_setting.create_study(session, current_actor(), code, title)
        except Problem as problem:
            if problem.status == 403:
                raise
            return back_with(problem, "exam.angoff_list")
        return redirect(url_for("exam.angoff_study", study_id=study.id), 303)
    return render_template(
        "exam/angoff_list.html",
        studies=standard_setting.studies(session),
        blueprints=sittings.blueprints_to_schedule(session),
        form=EmptyForm(),
    )


@bp.route("/staff/angoff/<id:study_id>", methods=["GET", "POST"])
@roles_required(*standard_setting.RATERS)
@reads_bank
def angoff_study(study_id: int) -> Response | str:
    session, actor = get_session(), current_actor()
    study = standard_setting.require_study(session, study_id)
    if request.method == "POST":
        require_valid(EmptyForm())
        try:
            if "adopt" in request.form:
                note = request.form.get("note", "")[:2000]
                number = standard_setting.adopt(session, actor, study, note)
                flash(f"The cut is adopted: blueprint version {number}.", "success")
            else:
                ratings = standard_setting.parse_ratings(request.form.items())
                standard_setting.save_ratings(session, actor, study, ratings)
                flash("Your ratings are saved.", "success")
        except Problem as problem:
            return back_with(problem, "exam.angoff_study", study_id=study_id)
        return redirect(url_for("exam.angoff_study", study_id=study_id), 303)
    recommendation = standard_setting.recommend(session, study)
    return render_template(
        "exam/angoff.html",
        study=study,
        items=standard_setting.study_items(session, study),
        mine=standard_setting.my_ratings(session, study, actor.id),
        recommendation=recommendation,
        cut_measure=standard_setting.cut_measure_of(session, study, recommendation.cut)
        if recommendation.cut is not None
        else None,
        scale_pass_point=standard_setting.scale_pass_point(session, study),
        form=EmptyForm(),
    )
