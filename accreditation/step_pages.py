"""The provider's application form in steps. Each step is a page with its own form: the
Save button posts it (and works without JavaScript), the autosave script posts the same
form and reads a JSON answer. The last step is the summary with the Submit button."""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from pydantic import ValidationError

from accreditation import queue, services
from accreditation.application_pages import TRAINER_ROWS, _posted_to
from accreditation.forms import CsrfForm, content_from_form
from accreditation.models import DELIVERY_MODES, EDITABLE_STATES, PROVIDER_ROLE, Application
from accreditation.schemas import ApplicationContent, MappingEntry
from accreditation.services import FormStep, StepKind
from accreditation.views import bp
from core import clock
from core.api import field_errors
from core.auth import current_actor, roles_required
from core.db import get_session
from core.errors import FieldError, Problem, problem_response

AUTOSAVE_HEADER = "X-Autosave"
STEP_TRAINER_ROWS = 3  # empty rows shown; a saved form keeps two spare


def _editable_steps(application: Application) -> list[FormStep]:
    """The steps, for a member of the provider while the application is theirs to edit."""
    session = get_session()
    if not services.is_member(session, current_actor(), application):
        raise Problem(404, "Not found", "No such application step.")
    if application.state not in EDITABLE_STATES:
        raise Problem(
            409,
            "Not editable",
            "The application is with the association; it opens again if they return it.",
        )
    return services.form_steps(session, application)


def _render_step(
    application: Application,
    slug: str,
    errors: list[FieldError] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    session = get_session()
    steps = _editable_steps(application)
    found = services.find_step(steps, slug)
    if found is None:
        raise Problem(404, "No such step", f"The application has no step {slug!r}.")
    index, step = found
    content = ApplicationContent.model_validate(application.content)
    lines = services.summary(session, application)
    return render_template(
        "accreditation/step.html",
        application=application,
        certification=queue.certifications(session).get(application.programme_id or 0),
        content=content,
        steps=steps,
        step=step,
        index=index,
        previous=steps[index - 1] if index > 0 else None,
        following=steps[index + 1] if index + 1 < len(steps) else None,
        done={s.slug: services.step_done(s, lines) for s in steps},
        lines=lines,
        entry=lambda code: content.mapping.get(code) or MappingEntry(),
        trainer_findings=services.trainer_findings(session, content),
        trainer_rows=max(STEP_TRAINER_ROWS, len(content.trainers) + 2),
        documents=services.documents(session, application.id),
        modes=DELIVERY_MODES,
        low_coverage=services.LOW_COVERAGE_PERCENT,
        errors=errors or [],
        csrf_form=CsrfForm(),
    ), status


@bp.get("/applications/<id:application_id>/steps/<slug>")
@roles_required(PROVIDER_ROLE)
def application_step(application_id: int, slug: str) -> Any:
    application = services.require_application(get_session(), current_actor(), application_id)
    if application.state not in EDITABLE_STATES:
        return redirect(url_for("accreditation.application_page", application_id=application.id))
    return _render_step(application, slug)


@bp.post("/applications/<id:application_id>/steps/<slug>")
@roles_required(PROVIDER_ROLE)
def save_application_step(application_id: int, slug: str) -> Any:
    autosave = request.headers.get(AUTOSAVE_HEADER) == "1"
    if autosave:  # the script reads every answer, a refusal too, as JSON
        g.wants_problem_json = True
    session, application = _posted_to(application_id, members_only=True)
    steps = _editable_steps(application)
    found = services.find_step(steps, slug)
    if found is None:
        raise Problem(404, "No such step", f"The application has no step {slug!r}.")
    index, step = found
    try:
        if step.kind == StepKind.EVIDENCE:
            _store_upload(application)
        else:
            codes = [leaf.code for leaf in step.area.leaves] if step.area else []
            part = content_from_form(request.form.to_dict(), codes, TRAINER_ROWS + 50)
            version = int(request.form.get("version", "0")[:12] or "0")
            services.save_step(session, current_actor(), application, step, part, version)
    except ValidationError as error:
        session.rollback()
        problem = Problem(422, "Check the fields", "Some answers were not saved.",
                          errors=field_errors(error))  # fmt: skip
        return _step_problem(application, slug, problem, autosave)
    except ValueError:
        session.rollback()
        problem = Problem(422, "Reload the page", "The form's version is not a number.",
                          errors=[FieldError("version", "Reload the page.")])  # fmt: skip
        return _step_problem(application, slug, problem, autosave)
    except Problem as problem:
        session.rollback()
        return _step_problem(application, slug, problem, autosave)
    if autosave:
        return jsonify(version=application.version, saved_at=clock.format_moment(clock.now()))
    flash("Document attached." if step.kind == StepKind.EVIDENCE else "Saved.", "success")
    go_on = request.form.get("go") == "next" and index + 1 < len(steps)
    target = steps[index + 1].slug if go_on else step.slug
    return redirect(
        url_for("accreditation.application_step", application_id=application.id, slug=target)
    )


def _store_upload(application: Application) -> None:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Problem(
            422, "No file", "Choose a PDF to upload.", errors=[FieldError("file", "Choose a PDF.")]
        )
    services.store_document(
        current_app, get_session(), current_actor(), application, upload.filename, upload.read()
    )


def _step_problem(
    application: Application, slug: str, problem: Problem, autosave: bool
) -> Response | tuple[str, int]:
    if autosave:
        return problem_response(problem)
    get_session().refresh(application)
    errors = problem.errors or [FieldError("form", problem.detail)]
    return _render_step(application, slug, errors=errors, status=problem.status)
