"""The statistics page's calibration (run from the page, audited), the exposure and
drift page, and the candidate's optional "about you" form that DIF reads."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from core.auth import current_actor, roles_required
from core.db import get_session
from core.duties import reads_bank
from core.errors import Problem
from core.forms import attach_problem
from core.web import valid_id
from exam.forms import EmptyForm
from exam.psychometrics import calibration, drift, fairness, pretesting
from exam.psychometrics.forms import FIRST_LANGUAGES, REGIONS, AboutYouForm
from exam.views._blueprint import back_with, bp, require_valid
from item_bank.blueprints import DEFAULT_BLUEPRINT


def statistics_sections(code: str) -> dict[str, Any]:
    """What the statistics page shows of the calibration, and of DIF when asked for."""
    session = get_session()
    sections: dict[str, Any] = {
        "calibration": calibration.latest_view(session, code),
        "calibrate_form": EmptyForm(),
        "dif_attributes": {k: v[0] for k, v in fairness.ATTRIBUTES.items()},
        "dif": None,
        "dif_problem": None,
        "dif_min_group": fairness.MIN_GROUP,
    }
    wanted = request.args.get("dif", "")[:40]
    if wanted:
        try:
            sections["dif"] = fairness.dif_report(session, code, wanted)
        except Problem as problem:
            sections["dif_problem"] = problem.detail
    return sections


@bp.post("/staff/statistics/calibrate")
@roles_required("exam_admin")
@reads_bank
def calibrate() -> Response:
    require_valid(EmptyForm())
    code = request.form.get("blueprint", DEFAULT_BLUEPRINT)[:60]
    sitting = valid_id(request.form.get("sitting", type=int))
    try:
        run = calibration.run_calibration(get_session(), current_actor().id, code, sitting)
    except Problem as problem:
        return back_with(problem, "exam.statistics_page", blueprint=code, sitting=sitting)
    flash(
        f"Calibrated {len(run.items)} items from {run.persons} attempts in {run.seconds:.1f} s.",
        "success",
    )
    page = url_for("exam.statistics_page", blueprint=code, sitting=sitting)
    return redirect(page + "#calibration-title", 303)


@bp.get("/staff/statistics/drift")
@roles_required("exam_admin")
@reads_bank
def drift_page() -> tuple[str, int]:
    """Alerts first, then every item version's exposure and p-value per period."""
    args = request.args
    code = args.get("blueprint", DEFAULT_BLUEPRINT)[:60]
    problem, report = None, None
    try:
        wanted = drift.parse_request(
            code,
            args.get("mode", "")[:20],
            args.get("days", "")[:12],
            args.get("threshold", "")[:12],
            args.get("alpha", "")[:12],
            args.get("min_n", "")[:12],
        )
        report = drift.drift_report(get_session(), wanted)
    except Problem as problem_found:
        problem = problem_found
    return render_template(
        "exam/drift.html",
        code=code,
        report=report,
        problem=problem,
        chosen=args,
        signal_text=drift.SIGNAL_TEXT,
        modes=tuple(drift.Mode),
        defaults=drift.DriftRequest(code),
    ), (problem.status if problem else 200)


@bp.route("/exams/about-you", methods=["GET", "POST"])
@roles_required("candidate")
def about_you() -> Response | tuple[str, int]:
    session, user_id = get_session(), current_actor().id
    saved = fairness.background_of(session, user_id)
    form = AboutYouForm(
        first_language=saved.first_language if saved else "", region=saved.region if saved else ""
    )
    status = 200
    if request.method == "POST" and request.form.get("action") == "delete":
        require_valid(EmptyForm())
        fairness.delete_background(session, user_id)
        flash("Your answers are deleted.", "success")
        return redirect(url_for("exam.about_you"), 303)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                fairness.save_background(
                    session, user_id, form.first_language.data, form.region.data, True
                )
            except Problem as problem:
                attach_problem(form, problem)
                status = problem.status
            else:
                flash("Thank you: your answers are saved.", "success")
                return redirect(url_for("exam.about_you"), 303)
        else:
            status = 422
    return render_template(
        "exam/about_you.html",
        form=form,
        saved=saved,
        saved_language=dict(FIRST_LANGUAGES).get(saved.first_language) if saved else None,
        saved_region=dict(REGIONS).get(saved.region) if saved else None,
    ), status


@bp.get("/staff/pretest")
@roles_required("exam_admin")
@reads_bank
def pretest_page() -> tuple[str, int]:
    """The blueprint's items on trial, how each has done, and the decisions on them."""
    return _pretest_page(request.args.get("blueprint", DEFAULT_BLUEPRINT)[:60])


def _pretest_page(code: str, problem: Problem | None = None) -> tuple[str, int]:
    return render_template(
        "exam/pretest.html",
        code=code,
        rows=pretesting.pretest_rows(get_session(), code),
        wanted=pretesting.pretest_items_wanted(get_session(), code),
        form=EmptyForm(),
        problem=problem,
        chosen=request.form,
    ), (problem.status if problem else 200)


@bp.post("/staff/pretest")
@roles_required("exam_admin")
@reads_bank
def pretest_add() -> Response | tuple[str, int]:
    require_valid(EmptyForm())
    code = request.form.get("blueprint", DEFAULT_BLUEPRINT)[:60]
    try:
        pretesting.put_on_pretest(
            get_session(),
            current_actor(),
            code,
            request.form.get("ref", "")[:80],
            request.form.get("note", "")[:2000],
        )
    except Problem as problem:
        if problem.status >= 500:
            raise
        return _pretest_page(code, problem)
    flash(
        f"{request.form.get('ref', '').strip()} is on pretest: new forms seed it unscored.",
        "success",
    )
    return redirect(url_for("exam.pretest_page", blueprint=code), 303)


@bp.post("/staff/pretest/<id:item_id>/<any(promote, drop):decision>")
@roles_required("exam_admin")
@reads_bank
def pretest_decide(item_id: int, decision: str) -> Response | tuple[str, int]:
    """Promote or drop, after a page that says what follows."""
    require_valid(EmptyForm())
    code = request.form.get("blueprint", DEFAULT_BLUEPRINT)[:60]
    note = request.form.get("note", "")[:2000]
    if request.form.get("confirmed") != "yes":
        row = next(
            (r for r in pretesting.pretest_rows(get_session(), code) if r.item_id == item_id), None
        )
        if row is None:
            return back_with(
                Problem(404, "Not on pretest", "This item is not on pretest."),
                "exam.pretest_page",
                blueprint=code,
            )
        return render_template(
            "exam/pretest_confirm.html",
            row=row,
            decision=decision,
            code=code,
            note=note,
            form=EmptyForm(),
        ), 200
    try:
        pretesting.decide(get_session(), current_actor(), item_id, decision, note)
    except Problem as problem:
        return back_with(problem, "exam.pretest_page", blueprint=code)
    flash(
        "Promoted: it is scored on new forms."
        if decision == "promote"
        else "Dropped: it is drawn no more.",
        "success",
    )
    return redirect(url_for("exam.pretest_page", blueprint=code), 303)
