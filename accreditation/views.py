"""Pages: the public register, the provider's organisation and applications, the staff
queue, and one application page for everyone allowed to see it."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy import select

from accounts.models import User
from accounts.services import find_by_email, names_by_id
from accreditation import queue, services, workflow
from accreditation.forms import CsrfForm, OrganisationForm, content_from_form, step_from_form
from accreditation.models import CRITERIA, DELIVERY_MODES, JUDGEMENTS, Application, Message
from accreditation.schemas import (
    ApplicationContent,
    MappingEntry,
    OrganisationInput,
    TransitionInput,
)
from core.api import field_errors
from core.auth import roles_required
from core.db import get_session
from core.errors import FieldError, Problem
from core.forms import attach_problem
from core.web import valid_id

bp = Blueprint("accreditation", __name__)

TRAINER_ROWS = 6


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


# ---- public register -------------------------------------------------------------------


@bp.get("/register")
def register() -> str:
    chosen = queue.RegisterFilter(
        text=request.args.get("q", "")[:100].strip(),
        country=request.args.get("country", "")[:2].strip(),
        delivery_mode=request.args.get("delivery_mode", "")
        if request.args.get("delivery_mode", "") in DELIVERY_MODES
        else "",
    )
    page_number = valid_id(request.args.get("page", 1, type=int)) or 1
    page = queue.register(get_session(), chosen, page_number)
    return render_template(
        "accreditation/register.html",
        in_force=workflow.IN_FORCE_STATES,
        page=page,
        chosen=chosen,
        modes=DELIVERY_MODES,
        labels=workflow.STATE_LABELS,
    )


@bp.get("/register/<number>")
def register_entry(number: str) -> str:
    found = queue.register_entry(get_session(), number)
    if found is None:
        abort(404)
    application, organisation = found
    return render_template(
        "accreditation/register_entry.html",
        in_force=workflow.IN_FORCE_STATES,
        application=application,
        organisation=organisation,
        labels=workflow.STATE_LABELS,
        modes=DELIVERY_MODES,
    )


# ---- provider ----------------------------------------------------------------------------


@bp.route("/provider", methods=["GET", "POST"])
@roles_required("provider")
def provider_home() -> Any:
    session = get_session()
    organisation = services.organisation_of(session, _user().id)
    form = OrganisationForm(obj=organisation)
    if form.validate_on_submit():
        try:
            data = OrganisationInput.model_validate(
                {name: getattr(form, name).data for name in OrganisationInput.model_fields}
            )
        except ValidationError as error:
            attach_problem(form, Problem(422, "Check the fields", errors=field_errors(error)))
        else:
            services.save_organisation(session, _user(), data)
            session.commit()
            flash("Organisation saved.", "success")
            return redirect(url_for("accreditation.provider_home"))
    applications = (
        list(
            session.scalars(
                select(Application)
                .where(Application.organisation_id == organisation.id)
                .order_by(Application.created_at.desc())
            )
        )
        if organisation
        else []
    )
    status = 422 if request.method == "POST" else 200
    return render_template(
        "accreditation/provider_home.html",
        form=form,
        organisation=organisation,
        applications=applications,
        members=services.members(session, organisation.id) if organisation else [],
        invitation=services.invitation(session, _user().id),
        labels=workflow.STATE_LABELS,
        new_form=CsrfForm(),
    ), status


@bp.post("/provider/members")
@roles_required("provider")
def add_member() -> Any:
    if not CsrfForm().validate_on_submit():
        abort(400)
    session = get_session()
    organisation = services.organisation_of(session, _user().id)
    colleague = find_by_email(session, request.form.get("email", "")[:254])
    try:
        if organisation is None:
            raise Problem(409, "No organisation", "Create your organisation first.")
        if colleague is None:
            raise Problem(
                404, "No such user", "Ask your colleague to create an account first, then "
                "invite them here; staff give them the provider role."
            )  # fmt: skip
        services.invite_member(session, _user(), organisation, colleague)
    except Problem as problem:
        session.rollback()
        flash(problem.detail, "error")
        return redirect(url_for("accreditation.provider_home"))
    session.commit()
    flash(f"{colleague.full_name} is invited; they join once they accept.", "success")
    return redirect(url_for("accreditation.provider_home"))


@bp.post("/provider/invitation")
@roles_required("provider")
def answer_invitation() -> Any:
    if not CsrfForm().validate_on_submit():
        abort(400)
    session = get_session()
    accept = request.form.get("answer") == "accept"
    try:
        organisation = services.answer_invitation(session, _user(), accept)
    except Problem as problem:
        flash(problem.detail, "error")
        return redirect(url_for("accreditation.provider_home"))
    session.commit()
    flash(f"You joined {organisation.legal_name}." if accept else "Invitation declined.", "success")
    return redirect(url_for("accreditation.provider_home"))


@bp.post("/provider/applications")
@roles_required("provider")
def start_application() -> Any:
    form = CsrfForm()
    if not form.validate_on_submit():
        abort(400)
    session = get_session()
    title = request.form.get("title", "").strip()[:200]
    renews_id = valid_id(request.form.get("renews", type=int))
    renews = services.visible_application(session, _user(), renews_id) if renews_id else None
    content = (
        services.renewal_content(renews)
        if renews
        else ApplicationContent.model_validate({"title": title or "New programme"})
    )
    application = services.create_draft(session, _user(), content, renews)
    session.commit()
    return redirect(url_for("accreditation.application_page", application_id=application.id))


# ---- the application page ----------------------------------------------------------------


@bp.get("/applications/<id:application_id>")
@roles_required("provider", *services.STAFF_ROLES)
def application_page(application_id: int) -> Any:
    application = services.visible_application(get_session(), _user(), application_id)
    return _render_application(application)


def _render_application(
    application: Application,
    editor_errors: list[FieldError] | None = None,
    step_errors: list[FieldError] | None = None,
    form_values: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    session = get_session()
    user = _user()
    content = ApplicationContent.model_validate(application.content)
    member = workflow.is_member(session, user, application)
    trail = workflow.timeline(session, application, user)
    messages = list(
        session.scalars(
            select(Message).where(Message.application_id == application.id).order_by(Message.id)
        )
    )
    people = names_by_id(session, [e.actor_id for e in trail] + [m.author_id for m in messages])
    assessors = services.assessors(session)
    return render_template(
        "accreditation/application.html",
        application=application,
        content=content,
        open_to_me=services.content_open_to(user, application),
        editable=member and application.state in services.EDITABLE_STATES,
        can_upload=member and application.state in services.DOCUMENT_STATES,
        member=member,
        coverage=services.coverage(session, application),
        entry=lambda code: content.mapping.get(code) or MappingEntry(),
        trainer_checks=services.trainer_checks(session, content),
        trainer_rows=max(TRAINER_ROWS, len(content.trainers) + 2),
        documents=services.documents(session, application.id),
        missing=services.missing_parts(session, application),
        steps=workflow.allowed_steps(session, user, application),
        messages=messages,
        trail=trail,
        actors=people,
        assessors=assessors,
        labels=workflow.STATE_LABELS,
        modes=DELIVERY_MODES,
        criteria=CRITERIA,
        judgements=JUDGEMENTS,
        waiting=workflow.working_days_waiting(application),
        renewal=services.renewal_of(session, application),
        renewable=member and application.state in services.RENEWABLE_STATES,
        overdue=workflow.overdue(application),
        editor_errors=editor_errors or [],
        step_errors=step_errors or [],
        values=form_values or {},
        csrf_form=CsrfForm(),
    ), status


@bp.post("/applications/<id:application_id>")
@roles_required("provider")
def save_application(application_id: int) -> Any:
    session = get_session()
    application = services.visible_application(session, _user(), application_id, for_update=True)
    if not workflow.is_member(session, _user(), application) or not CsrfForm().validate_on_submit():
        abort(400)
    codes = services.leaf_codes(session, application.framework_id)
    raw = content_from_form(request.form.to_dict(), codes, TRAINER_ROWS + 50)
    try:
        content = ApplicationContent.model_validate(raw)
        version = int(request.form.get("version", "0"))
        services.save_draft(session, _user(), application, content, version)
    except (ValidationError, ValueError) as error:
        errors = field_errors(error) if isinstance(error, ValidationError) else []
        session.rollback()
        return _render_application(
            application,
            editor_errors=errors or [FieldError("version", "Reload the page.")],
            status=422,
        )
    except Problem as problem:
        session.rollback()
        return _render_application(
            application,
            editor_errors=problem.errors or [FieldError("form", problem.detail)],
            status=problem.status,
        )
    session.commit()
    flash("Draft saved.", "success")
    return redirect(url_for("accreditation.application_page", application_id=application.id))


@bp.post("/applications/<id:application_id>/step")
@roles_required("provider", *services.STAFF_ROLES)
def take_step(application_id: int) -> Any:
    session = get_session()
    application = services.visible_application(session, _user(), application_id, for_update=True)
    if not CsrfForm().validate_on_submit():
        abort(400)
    try:
        data = TransitionInput.model_validate(step_from_form(request.form.to_dict()))
        step = workflow.take_step(session, _user(), application, data)
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
    session.commit()
    flash(f"Done: the application is now {workflow.STATE_LABELS[step.state].lower()}.", "success")
    return redirect(url_for("accreditation.application_page", application_id=application.id))


@bp.post("/applications/<id:application_id>/messages")
@roles_required("provider", *services.STAFF_ROLES)
def post_message(application_id: int) -> Any:
    session = get_session()
    application = services.visible_application(session, _user(), application_id, for_update=True)
    if not CsrfForm().validate_on_submit():
        abort(400)
    try:
        workflow.post_message(session, _user(), application, request.form.get("body", "")[:8000])
    except Problem as problem:
        return _render_application(application, step_errors=problem.errors, status=problem.status)
    session.commit()
    flash("Message sent.", "success")
    return redirect(
        url_for("accreditation.application_page", application_id=application.id) + "#messages"
    )


@bp.post("/applications/<id:application_id>/documents")
@roles_required("provider")
def upload_document(application_id: int) -> Any:
    session = get_session()
    application = services.visible_application(session, _user(), application_id, for_update=True)
    if not workflow.is_member(session, _user(), application) or not CsrfForm().validate_on_submit():
        abort(400)
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
            current_app, session, _user(), application, upload.filename, upload.read()
        )
    except Problem as problem:
        session.rollback()
        return _render_application(
            application, editor_errors=problem.errors or [FieldError("file", problem.detail)],
            status=problem.status,
        )  # fmt: skip
    session.commit()
    flash("Document attached.", "success")
    return redirect(
        url_for("accreditation.application_page", application_id=application.id) + "#documents"
    )


@bp.get("/applications/<id:application_id>/documents/<id:document_id>")
@roles_required("provider", *services.STAFF_ROLES)
def document(application_id: int, document_id: int) -> Response:
    session = get_session()
    application = services.visible_application(session, _user(), application_id)
    if not services.content_open_to(_user(), application):
        abort(404)
    found = next(
        (d for d in services.documents(session, application.id) if d.id == document_id), None
    )
    if found is None:
        abort(404)
    response = send_file(
        services.documents_dir(current_app) / found.storage_name,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=found.filename,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---- staff queue -------------------------------------------------------------------------


@bp.get("/staff/accreditation")
@roles_required(*services.STAFF_ROLES)
def staff_queue() -> str:
    session = get_session()
    state = request.args.get("state", "")
    state = state if state in workflow.STATE_LABELS else ""
    assessor = valid_id(request.args.get("assessor", type=int))
    older = request.args.get("older_than_days", type=int)
    chosen = queue.QueueFilter(
        state, assessor, older if older and 0 < older < 10_000 else None,
        request.args.get("order") == "newest",
    )  # fmt: skip
    page = queue.queue(
        session, _user(), chosen, valid_id(request.args.get("page", 1, type=int)) or 1
    )
    people = names_by_id(session, [a.assessor_id for a in page.rows])
    assessors = services.assessors(session)
    return render_template(
        "accreditation/queue.html",
        page=page,
        chosen=chosen,
        counts=queue.counts_by_state(session),
        labels=workflow.STATE_LABELS,
        names=people,
        assessors=assessors,
        waiting=workflow.working_days_waiting,
        overdue=workflow.overdue,
        sla=workflow.SLA_WORKING_DAYS,
        is_lead=_user().has_role("accreditation_lead"),
        csrf_form=CsrfForm(),
    )


@bp.post("/staff/accreditation/assign")
@roles_required("accreditation_lead")
def bulk_assign() -> Any:
    if not CsrfForm().validate_on_submit():
        abort(400)
    session = get_session()
    chosen = {
        int(name.removeprefix("select-")): int(value)
        for name, value in request.form.items()
        if name.startswith("select-")
        and name.removeprefix("select-").isascii()
        and name.removeprefix("select-").isdigit()
        and value.isascii()
        and value.isdigit()
        and len(value) < 9
        and len(name) < 20
    }
    assessor_id = valid_id(request.form.get("assessor_id", type=int))
    if not chosen or assessor_id is None:
        flash("Choose at least one application and an assessor.", "error")
        return redirect(url_for("accreditation.staff_queue", state="screening"))
    outcomes = workflow.bulk_assign(session, _user(), chosen, assessor_id)
    session.commit()
    done = [o for o in outcomes if o.done]
    flash(f"Assigned {len(done)} of {len(outcomes)} application(s).", "success")
    for outcome in outcomes:
        if not outcome.done:
            flash(f"{outcome.title}: {outcome.detail}", "error")
    return redirect(url_for("accreditation.staff_queue", state="screening"))
