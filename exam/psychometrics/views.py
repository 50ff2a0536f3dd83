"""The statistics page's calibration: run it (audited) from the page."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from core.auth import current_actor, roles_required
from core.db import get_session
from core.duties import reads_bank
from core.errors import Problem
from core.web import valid_id
from exam.forms import EmptyForm
from exam.psychometrics import calibration
from exam.views._blueprint import back_with, bp, require_valid


@bp.post("/staff/statistics/calibrate")
@roles_required("exam_admin")
@reads_bank
def calibrate() -> Response:
    require_valid(EmptyForm())
    code = request.form.get("blueprint", "first-level")[:60]
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
