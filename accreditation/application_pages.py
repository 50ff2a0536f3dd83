"""The application page, one for everyone allowed to see it: the provider edits the draft
and uploads evidence there, staff take their steps, both write in the thread."""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.services import names_by_id
from accreditation import queue, services, workflow
from accreditation.forms import CsrfForm, step_from_form
from accreditation.models import (
    CRITERIA,
    DELIVERY_MODES,
    DOCUMENT_STATES,
    EDITABLE_STATES,
    JUDGEMENTS,
    PROVIDER_ROLE,
    RENEWABLE_STATES,
    STAFF_ROLES,
    STATE_LABELS,
    Action,
    Application,
    Message,
    Organisation,
)
from accreditation.schemas import ApplicationContent, MappingEntry, TransitionInput
from accreditation.views import bp
from core.api import field_errors
from core.auth import current_actor, roles_required
from core.db import get_session
from core.errors import FieldError, Problem
from core.evidence import send_evidence

TRAINER_ROWS = 6


@bp.get("/applications/<id:application_id>")
@roles_required(PROVIDER_ROLE, *STAFF_ROLES)
def application_page(application_id: int) -> Any:
    application = services.require_application(get_session(), current_actor(), application_id)
    return _render_application(application)


def _render_application(
    application: Application,
    editor_errors: list[FieldError] | None = None,
    step_errors: list[FieldError] | None = None,
    form_values: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    session = get_session()
    actor = current_actor()
    content = ApplicationContent.model_validate(application.content)
    member = services.is_member(session, actor, application)
    trail = workflow.timeline(session, application, actor)
    messages = list(
        session.scalars(
            select(Message).where(Message.application_id == application.id).order_by(Message.id)
        )
    )
    people = names_by_id(session, [e.actor_id for e in trail] + [m.author_id for m in messages])
    assessors = services.assessors(session)
    organisation = session.get(Organisation, application.organisation_id)
    provider_people = [
        f"{user.given_name} {user.family_name}"
        for user in services.members(session, application.organisation_id)
    ]
    editable = member and application.state in EDITABLE_STATES
    form_steps = services.form_steps(session, application) if editable else []
    lines = services.summary(session, application)
    steps_done = {step.slug: services.step_done(step, lines) for step in form_steps}
    return render_template(
        "accreditation/application.html",
        form_steps=form_steps,
        steps_done=steps_done,
        next_step=next((s for s in form_steps if not steps_done[s.slug]), None),
        application=application,
        content=content,
        open_to_me=services.content_open_to(actor, application),
        editable=editable,
        can_upload=member and application.state in DOCUMENT_STATES,
        member=member,
        coverage=services.coverage(session, application),
        entry=lambda code: content.mapping.get(code) or MappingEntry(),
        trainer_checks=services.trainer_checks(session, content),
        trainer_rows=max(TRAINER_ROWS, len(content.trainers) + 2),
        documents=services.documents(session, application.id),
        certification=queue.certifications(session).get(application.programme_id or 0),
        missing=lines.missing,
        warnings=lines.warnings,
        steps=workflow.allowed_steps(session, actor, application),
        messages=messages,
        trail=trail,
        actors=people,
        assessors=assessors,
        labels=STATE_LABELS,
        modes=DELIVERY_MODES,
        criteria=CRITERIA,
        judgements=JUDGEMENTS,
        waiting=workflow.clocks(session, [application])[application.id],
        sla=workflow.SLA_WORKING_DAYS,
        organisation=organisation,
        provider_people=provider_people,
        renewal=services.get_renewal(session, application),
        renewable=member and application.state in RENEWABLE_STATES,
        overdue=workflow.overdue(application),
        editor_errors=editor_errors or [],
        step_errors=step_errors or [],
        values=form_values or {},
        csrf_form=CsrfForm(),
    ), status


def _posted_to(application_id: int, members_only: bool = False) -> tuple[Session, Application]:
    """The application a form posts to, locked until the request ends; a 400 for a form
    without its token or, when ``members_only``, from anyone but the provider's users."""
    session = get_session()
    application = services.require_application(
        session, current_actor(), application_id, for_update=True
    )
    if members_only and not services.is_member(session, current_actor(), application):
        abort(400)
    if not CsrfForm().validate_on_submit():
        abort(400)
    return session, application


def _editor_problem(
    session: Session, application: Application, problem: Problem, field: str
) -> tuple[str, int]:
    session.rollback()
    errors = problem.errors or [FieldError(field, problem.detail)]
    return _render_application(application, editor_errors=errors, status=problem.status)


def _back_to(application: Application, anchor: str = "") -> ResponseReturnValue:
    page = url_for("accreditation.application_page", application_id=application.id)
    return redirect(page + anchor)


@bp.post("/applications/<id:application_id>/step")
@roles_required(PROVIDER_ROLE, *STAFF_ROLES)
def take_step(application_id: int) -> Any:
    session, application = _posted_to(application_id)
    try:
        data = TransitionInput.model_validate(step_from_form(request.form.to_dict()))
        if data.action in workflow.CONFIRMED_STEPS and request.form.get("confirmed") != "yes":
            return _confirm_step(session, application, data)
        step = workflow.take_step(session, current_actor(), application, data)
    except ValidationError as error:
        return _render_application(
            application, step_errors=field_errors(error), form_values=request.form.to_dict(),
            status=422,
        )  # fmt: skip
    except Problem as problem:
        session.rollback()
        session.refresh(application)
        errors = problem.errors or [FieldError("action", problem.detail)]
        return _render_application(
            application, step_errors=errors, form_values=request.form.to_dict(),
            status=problem.status,
        )  # fmt: skip
    flash(f"Done: the application is now {STATE_LABELS[step.state].lower()}.", "success")
    return _back_to(application)


def _confirm_step(session: Session, application: Application, data: TransitionInput) -> str:
    """The decision's consequences, worked out by taking it and rolling it back, and the
    same form again to confirm it."""
    preview = workflow.preview_step(session, current_actor(), application, data)
    organisation = session.get(Organisation, application.organisation_id)
    return render_template(
        "accreditation/confirm_step.html",
        application=application,
        organisation=organisation,
        step=workflow.STEPS[Action(data.action)],
        data=data,
        preview=preview,
        labels=STATE_LABELS,
        fields=[
            (name, value)
            for name, value in request.form.items()
            if name not in ("csrf_token", "confirmed")
        ],
        csrf_form=CsrfForm(),
    )


@bp.post("/applications/<id:application_id>/messages")
@roles_required(PROVIDER_ROLE, *STAFF_ROLES)
def post_message(application_id: int) -> Any:
    session, application = _posted_to(application_id)
    try:
        workflow.post_message(
            session, current_actor(), application, request.form.get("body", "")[:8000]
        )
    except Problem as problem:
        return _render_application(application, step_errors=problem.errors, status=problem.status)
    flash("Message sent.", "success")
    return _back_to(application, "#messages")


@bp.post("/applications/<id:application_id>/documents")
@roles_required(PROVIDER_ROLE)
def upload_document(application_id: int) -> Any:
    session, application = _posted_to(application_id, members_only=True)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise Problem(
                422,
                "No file",
                "Choose a PDF to upload.",
                errors=[FieldError("file", "Choose a PDF.")],
            )
        services.store_document(
            current_app, session, current_actor(), application, upload.filename, upload.read()
        )
    except Problem as problem:
        return _editor_problem(session, application, problem, "file")
    flash("Document attached.", "success")
    return _back_to(application, "#documents")


@bp.get("/applications/<id:application_id>/documents/<id:document_id>")
@roles_required(PROVIDER_ROLE, *STAFF_ROLES)
def document(application_id: int, document_id: int) -> Response:
    session = get_session()
    application = services.require_application(session, current_actor(), application_id)
    if not services.content_open_to(current_actor(), application):
        abort(404)
    found = next(
        (d for d in services.documents(session, application.id) if d.id == document_id), None
    )
    if found is None:
        abort(404)
    return send_evidence(current_app, found.storage_name, found.filename)
