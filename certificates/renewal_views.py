"""Renewal pages: the holder logs continuing-education credits (on My certificates) and
renews; staff review the entries. Thin: the rules are ``credits``' and ``renewal``'s."""

from __future__ import annotations

from flask import (
    Blueprint,
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

from accounts.forms import EmptyForm
from accounts.services import names_by_id
from certificates import credits, renewal, services
from certificates.forms import CreditForm, CreditReviewForm
from certificates.models import STAFF_ROLES, Certificate, CreditDecision
from core.auth import current_actor, roles_required
from core.clock import format_day
from core.db import get_session
from core.errors import FieldError, Problem
from core.evidence import send_evidence

bp = Blueprint("renewal", __name__)


def credit_form(certificate: Certificate, plan: renewal.RenewalPlan) -> CreditForm:
    form = CreditForm(formdata=None, prefix=f"credit-{certificate.id}")
    form.area.choices = [(area.code, area.title) for area in plan.areas]
    return form


def mine_page(posted: tuple[int, CreditForm] | None = None, status: int = 200) -> tuple[str, int]:
    """My certificates, with each renewal plan and, where credits renew, the form to log
    one (the posted one, with its errors, when it was refused)."""
    session = get_session()
    certificates = services.holder_certificates(session, current_actor().id)
    plans = {c.id: renewal.plan(session, c) for c in certificates}
    forms = {c.id: credit_form(c, plan) for c in certificates if (plan := plans[c.id])}
    if posted is not None:
        forms[posted[0]] = posted[1]
    return render_template(
        "certificates/mine.html",
        certificates=certificates,
        status=services.status,
        plans=plans,
        forms=forms,
        renew_form=EmptyForm(),
        reviewers=names_by_id(
            session,
            (e.reviewed_by_id for p in plans.values() if p for e in p.entries if e.reviewed_by_id),
        ),
    ), status


@bp.post("/certificates/<code>/credits")
@roles_required("candidate")
def log_credit(code: str) -> ResponseReturnValue:
    session = get_session()
    certificate = services.require_visible_certificate(session, current_actor(), code[:40])
    plan = renewal.plan(session, certificate)
    form = CreditForm(prefix=f"credit-{certificate.id}")
    form.area.choices = [(area.code, area.title) for area in plan.areas] if plan else []
    if form.validate_on_submit():  # the CSRF token: the fields are the service's to judge
        upload = request.files.get(form.file.name)
        fields = {name: form[name].data or "" for name in credits.CREDIT_FIELDS}
        try:
            credits.log_credit(
                current_app, session, current_actor(), certificate.code, fields,
                upload.filename or "" if upload else "", upload.read() if upload else None,
            )  # fmt: skip
        except Problem as problem:
            if problem.status not in (413, 415, 422):
                raise
            for error in problem.errors or [FieldError("file", problem.detail)]:
                form[error.field].errors = [*form[error.field].errors, error.message]
        else:
            flash("Activity logged. Staff review it against its evidence.", "success")
            return redirect(url_for("certificates.mine") + f"#renewal-{certificate.id}")
    return mine_page((certificate.id, form), 422)


@bp.get("/certificates/credits/<id:credit_id>/evidence")
@roles_required()
def evidence(credit_id: int) -> Response:
    credit = credits.visible_credit(get_session(), current_actor(), credit_id)
    return send_evidence(current_app, credit.evidence_storage_name, credit.evidence_filename)


def _queue_page(
    errors: dict[int, CreditReviewForm] | None = None, status: int = 200
) -> tuple[str, int]:
    session = get_session()
    waiting = credits.pending(session)
    forms = {
        credit.id: CreditReviewForm(formdata=None, prefix=f"review-{credit.id}")
        for credit, _certificate in waiting
    }
    forms.update(errors or {})
    return render_template(
        "certificates/credit_queue.html",
        waiting=waiting,
        forms=forms,
        me=current_actor().id,
    ), status


@bp.get("/staff/certificates/credits")
@roles_required(*STAFF_ROLES)
def queue() -> tuple[str, int]:
    return _queue_page()


@bp.post("/staff/certificates/credits/<id:credit_id>/<any(accept, reject):decision>")
@roles_required(*STAFF_ROLES)
def review(credit_id: int, decision: str) -> ResponseReturnValue:
    form = CreditReviewForm(prefix=f"review-{credit_id}")
    if form.validate_on_submit():
        try:
            credits.review_credit(
                get_session(),
                current_actor(),
                credit_id,
                CreditDecision(decision),
                form.reason.data or "",
            )
        except Problem as problem:
            if problem.status != 422:
                raise
            form.reason.errors = [*form.reason.errors, problem.detail]
        else:
            flash(credits.DECISION_MESSAGES[CreditDecision(decision)], "success")
            return redirect(url_for("renewal.queue"))
    return _queue_page({credit_id: form}, 422)


@bp.post("/certificates/<code>/renew")
@roles_required("candidate", *STAFF_ROLES)
def renew(code: str) -> ResponseReturnValue:
    """The holder renews their own certificate once the credits are in; staff renew it on
    the holder's behalf (from the certificate's page)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    actor = current_actor()
    renewed = renewal.renew(get_session(), actor, code[:40])
    flash(
        f"Renewed: certificate {renewed.code} continues it, valid until "
        f"{format_day(renewed.expires_at)}.",
        "success",
    )
    if renewed.holder_id == actor.id:
        return redirect(url_for("certificates.mine") + f"#cert-{renewed.id}")
    return redirect(url_for("certificates.detail", code=renewed.code))
