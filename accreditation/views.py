"""Pages: the public register, the provider's organisation and applications, and the
staff queue (the application page is ``accreditation.application_pages``)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from pydantic import ValidationError
from sqlalchemy import select

from accounts.services import get_user_by_email, names_by_id
from accreditation import queue, services, workflow
from accreditation.forms import CsrfForm, OrganisationForm
from accreditation.models import (
    DELIVERY_MODES,
    IN_FORCE_STATES,
    LEAD_ROLE,
    PROVIDER_ROLE,
    STAFF_ROLES,
    STATE_LABELS,
    Application,
    State,
)
from accreditation.schemas import (
    ApplicationContent,
    OrganisationInput,
)
from core.api import field_errors
from core.auth import current_actor, roles_required
from core.db import get_session
from core.errors import Problem
from core.forms import attach_problem
from core.web import valid_id
from item_bank import programmes
from item_bank.programmes import DEFAULT_PROGRAMME

bp = Blueprint("accreditation", __name__)


# ---- public register -------------------------------------------------------------------


@bp.get("/register")
def register() -> str:
    chosen = queue.RegisterFilter(
        text=request.args.get("q", "")[:100].strip(),
        country=request.args.get("country", "")[:2].strip(),
        delivery_mode=request.args.get("delivery_mode", "")
        if request.args.get("delivery_mode", "") in DELIVERY_MODES
        else "",
        programme=request.args.get("programme", "")[:60].strip(),
    )
    page_number = valid_id(request.args.get("page", 1, type=int)) or 1
    page = queue.register(get_session(), chosen, page_number)
    return render_template(
        "accreditation/register.html",
        in_force=IN_FORCE_STATES,
        page=page,
        chosen=chosen,
        certifications=queue.certifications(get_session()),
        modes=DELIVERY_MODES,
        labels=STATE_LABELS,
    )


@bp.get("/register/<number>")
def register_entry(number: str) -> str:
    found = queue.get_register_entry(get_session(), number)
    if found is None:
        abort(404)
    application, organisation = found
    return render_template(
        "accreditation/register_entry.html",
        in_force=IN_FORCE_STATES,
        application=application,
        organisation=organisation,
        labels=STATE_LABELS,
        modes=DELIVERY_MODES,
    )


# ---- provider ----------------------------------------------------------------------------


@bp.route("/provider", methods=["GET", "POST"])
@roles_required(PROVIDER_ROLE)
def provider_home() -> Any:
    session = get_session()
    organisation = services.get_organisation_of(session, current_actor().id)
    form = OrganisationForm(obj=organisation)
    if form.validate_on_submit():
        try:
            data = OrganisationInput.model_validate(
                {name: getattr(form, name).data for name in OrganisationInput.model_fields}
            )
        except ValidationError as error:
            attach_problem(form, Problem(422, "Check the fields", errors=field_errors(error)))
        else:
            services.save_organisation(session, current_actor(), data)
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
        invitation=services.get_invitation(session, current_actor().id),
        labels=STATE_LABELS,
        new_form=CsrfForm(),
        programmes=programmes.list_programmes(session),
    ), status


@bp.post("/provider/members")
@roles_required(PROVIDER_ROLE)
def add_member() -> Any:
    if not CsrfForm().validate_on_submit():
        abort(400)
    session = get_session()
    organisation = services.get_organisation_of(session, current_actor().id)
    colleague = get_user_by_email(session, request.form.get("email", "")[:254])
    try:
        if organisation is None:
            raise Problem(409, "No organisation", "Create your organisation first.")
        if colleague is None:
            raise Problem(
                404, "No such user", "Ask your colleague to create an account first, then "
                "invite them here; staff give them the provider role."
            )  # fmt: skip
        services.invite_member(session, current_actor(), organisation, colleague)
    except Problem as problem:
        session.rollback()
        flash(problem.detail, "error")
        return redirect(url_for("accreditation.provider_home"))
    flash(f"{colleague.full_name} is invited; they join once they accept.", "success")
    return redirect(url_for("accreditation.provider_home"))


@bp.post("/provider/invitation")
@roles_required(PROVIDER_ROLE)
def answer_invitation() -> Any:
    if not CsrfForm().validate_on_submit():
        abort(400)
    session = get_session()
    accept = request.form.get("answer") == "accept"
    try:
        organisation = services.answer_invitation(session, current_actor(), accept)
    except Problem as problem:
        flash(problem.detail, "error")
        return redirect(url_for("accreditation.provider_home"))
    flash(f"You joined {organisation.legal_name}." if accept else "Invitation declined.", "success")
    return redirect(url_for("accreditation.provider_home"))


@bp.post("/provider/applications")
@roles_required(PROVIDER_ROLE)
def start_application() -> Any:
    form = CsrfForm()
    if not form.validate_on_submit():
        abort(400)
    session = get_session()
    title = request.form.get("title", "").strip()[:200]
    renews_id = valid_id(request.form.get("renews", type=int))
    renews = (
        services.require_application(session, current_actor(), renews_id) if renews_id else None
    )
    content = (
        services.renewal_content(renews)
        if renews
        else ApplicationContent.model_validate({"title": title or "New programme"})
    )
    programme = request.form.get("programme", DEFAULT_PROGRAMME).strip()[:60]
    application = services.create_draft(session, current_actor(), content, renews, programme)
    return redirect(
        url_for("accreditation.application_step", application_id=application.id, slug="programme")
    )


# ---- staff queue -------------------------------------------------------------------------


@bp.get("/staff/accreditation")
@roles_required(*STAFF_ROLES)
def staff_queue() -> str:
    session = get_session()
    state = request.args.get("state", "")
    state = state if state in STATE_LABELS else ""
    assessor = valid_id(request.args.get("assessor", type=int))
    older = request.args.get("older_than_days", type=int)
    chosen = queue.QueueFilter(
        state, assessor, older if older and 0 < older < 10_000 else None,
        request.args.get("order") == "newest",
    )  # fmt: skip
    page = queue.queue(
        session, current_actor(), chosen, valid_id(request.args.get("page", 1, type=int)) or 1
    )
    people = names_by_id(session, [a.assessor_id for a in page.rows])
    assessors = services.assessors(session)
    return render_template(
        "accreditation/queue.html",
        page=page,
        chosen=chosen,
        counts=queue.counts_by_state(session),
        labels=STATE_LABELS,
        names=people,
        providers=queue.provider_names(session, page.rows),
        assessors=assessors,
        clocks=workflow.clocks(session, page.rows),
        overdue=workflow.overdue,
        sla=workflow.SLA_WORKING_DAYS,
        is_lead=current_actor().has_role(LEAD_ROLE),
        csrf_form=CsrfForm(),
    )


@bp.post("/staff/accreditation/assign")
@roles_required(LEAD_ROLE)
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
        return redirect(url_for("accreditation.staff_queue", state=State.SCREENING))
    outcomes = workflow.bulk_assign(session, current_actor(), chosen, assessor_id)
    done = [o for o in outcomes if o.done]
    flash(f"Assigned {len(done)} of {len(outcomes)} application(s).", "success")
    for outcome in outcomes:
        if not outcome.done:
            flash(f"{outcome.title}: {outcome.detail}", "error")
    return redirect(url_for("accreditation.staff_queue", state=State.SCREENING))
