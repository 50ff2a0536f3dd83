"""Safe Exam Browser: the staff form on a sitting's page, the configuration download for
its candidates, and the check every exam request of a sitting that requires SEB passes."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, FileField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from core.auth import current_actor, current_principal, roles_required
from core.db import get_db, get_session
from core.errors import Problem
from core.forms import attach_problem
from core.web import valid_id
from exam import api
from exam.models import Sitting
from exam.services import seb, sittings
from exam.services.seb_config import MAX_SEB_BYTES
from exam.views._blueprint import bp


class SebForm(FlaskForm):
    required = BooleanField("Require Safe Exam Browser for this sitting")
    seb_file = FileField(
        "SEB configuration file (.seb)",
        description="Unencrypted; its Config Key is computed from it and candidates can "
        "download it from the start page.",
    )
    config_key = StringField(
        "Config Key",
        validators=[Optional(), Length(max=200)],
        description="Or paste the Config Key the SEB Configuration Tool shows (64 hex digits).",
    )
    browser_exam_keys = TextAreaField(
        "Browser Exam Keys (optional)",
        validators=[Optional(), Length(max=2000)],
        description="One per line; when given, only those SEB builds are let in.",
    )


def panel(sitting: Sitting, form: SebForm | None = None) -> dict[str, Any]:
    """What the sitting's page shows of its SEB settings, and the form to change them."""
    settings = seb.settings_of(get_session(), sitting.id)
    if form is None:
        form = SebForm(
            data={
                "required": bool(settings and settings.required),
                "browser_exam_keys": "\n".join(settings.browser_exam_keys if settings else []),
            }
        )
    return {
        "form": form,
        "settings": settings,
        "fingerprint": seb.fingerprint(settings.config_key) if settings else "",
    }


@bp.post("/staff/sittings/<id:sitting_id>/seb")
@roles_required("exam_admin")
def set_seb(sitting_id: int) -> Response | tuple[str, int]:
    from exam.views.staff import edit_page

    session = get_session()
    sitting = sittings.require_sitting(session, sitting_id)
    form = SebForm()
    if not form.validate_on_submit():
        return edit_page(sitting, 422, form)
    upload = request.files.get("seb_file")
    data = upload.read(MAX_SEB_BYTES + 1) if upload is not None and upload.filename else None
    posted = seb.SebInput(
        required=bool(form.required.data),
        config_key=form.config_key.data or "",
        browser_exam_keys=form.browser_exam_keys.data or "",
        file_name=upload.filename or "" if upload is not None else "",
        file_data=data,
    )
    try:
        seb.set_seb(session, current_actor(), sitting, posted)
    except Problem as problem:
        attach_problem(form, problem)
        return edit_page(sitting, problem.status, form)
    required = "requires" if posted.required else "does not require"
    flash(f"{sitting.title} {required} Safe Exam Browser.", "success")
    return redirect(url_for("exam.edit_sitting", sitting_id=sitting_id), 303)


@bp.get("/sittings/<id:sitting_id>/seb/config.seb")
@roles_required("candidate")
def seb_config(sitting_id: int) -> Response:
    row = seb.config_file_for(get_session(), current_actor().id, sitting_id)
    response = Response(row.config_file, mimetype="application/seb")
    response.headers["Content-Disposition"] = f'attachment; filename="{row.config_filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- the check --------------------------------------------------------------------------

# The candidate's exam requests: its pages, their JSON, and the API calls of an attempt.
ATTEMPT_PAGES = {"exam.question", "exam.answer", "exam.review", "exam.submit"}
ATTEMPT_JSON = {
    "exam.autosave",
    "exam.attempt_state",
    "exam.attempt_event",
    "exam_api.get_attempt",
    "exam_api.attempt_state",
    "exam_api.save_response",
    "exam_api.submit",
    "exam_api.event",
}


def _requirement(candidate_id: int) -> seb.Requirement | None:
    endpoint, args = request.endpoint or "", request.view_args or {}
    if endpoint in ATTEMPT_PAGES or endpoint in ATTEMPT_JSON:
        return seb.requirement_for_attempt(get_db(), candidate_id, args["attempt_id"])
    if endpoint == "exam.registration_step" and args.get("step") == "start":
        with get_db().read_sessions() as session:
            return seb.requirement_for_registration(session, candidate_id, args["registration_id"])
    if endpoint == "exam_api.start" and request.method == "POST":
        body = request.get_json(silent=True)
        sitting_id = body.get("sitting_id") if isinstance(body, dict) else None
        # Anything but a storable id is left to the route's own validation (a 422).
        number = sitting_id if isinstance(sitting_id, int) else None
        if not isinstance(sitting_id, bool) and (storable := valid_id(number)) is not None:
            return seb.requirement_for_sitting(get_db(), storable)
    return None


def _is_exam_request() -> bool:
    endpoint, args = request.endpoint or "", request.view_args or {}
    return (
        endpoint in ATTEMPT_PAGES
        or endpoint in ATTEMPT_JSON
        or (endpoint == "exam.registration_step" and args.get("step") == "start")
        or endpoint == "exam_api.start"
    )


def require_seb() -> Response | tuple[str, int] | None:
    """Before an exam request: let it through, or refuse it when its sitting requires SEB
    and the request does not carry the right keys for its URL."""
    if not _is_exam_request():
        return None
    principal = current_principal()
    if principal is None:
        return None  # the route's own check answers
    requirement = _requirement(principal.user_id)
    if requirement is None:
        return None
    base = current_app.config["PUBLIC_BASE_URL"]
    url = seb.absolute_url(base, request.path, request.query_string)
    verdict = seb.judge(
        requirement,
        url,
        request.headers.get(seb.CONFIG_KEY_HEADER, ""),
        request.headers.get(seb.REQUEST_HASH_HEADER, ""),
    )
    if verdict == seb.Verdict.PASSED:
        return None
    if request.blueprint == api.api.name or request.endpoint in ATTEMPT_JSON:
        g.wants_problem_json = True
        raise _refusal(verdict)
    start = url if request.method == "GET" else base + url_for("exam.my_exams")
    html = render_template(
        "exam/seb_start.html",
        verdict=str(verdict),
        seb_link=seb.seb_link(start),
        start_url=start,
        requirement=requirement,
    )
    return html, 403


def _refusal(verdict: seb.Verdict) -> Problem:
    if verdict == seb.Verdict.NOT_SEB:
        return Problem(
            403,
            "Safe Exam Browser required",
            "This exam is taken in Safe Exam Browser only; start it from Safe Exam Browser.",
            slug="seb-required",
        )
    return Problem(
        403,
        "Wrong Safe Exam Browser configuration",
        "This Safe Exam Browser is not set up for this exam; start it with the sitting's "
        "configuration.",
        slug="seb-key-mismatch",
    )


bp.before_request(require_seb)
api.api.before_request(require_seb)
