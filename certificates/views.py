"""Verification pages (public), the holder's certificates, and staff decisions on them."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as flask_session
from flask.typing import ResponseReturnValue

from accounts.forms import EmptyForm
from accounts.services import names_by_id
from certificates import (
    chain,
    credentials,
    credits,
    documents,
    renewal,
    renewal_views,
    services,
)
from certificates.codes import file_stem
from certificates.credentials import ISSUER_NAME
from certificates.forms import LookupForm, NoteForm, RevokeForm, SearchForm
from certificates.limits import form_lookup_budget
from certificates.models import (
    REVOCATION_REASONS,
    STAFF_ROLES,
    Certificate,
    Decision,
    LookupMiss,
)
from core import clock
from core.audit import events_for
from core.auth import current_actor, roles_required
from core.db import get_session
from core.errors import Problem
from core.extensions import limiter
from core.web import memoised

bp = Blueprint("certificates", __name__)


def _verified_page(
    certificate: Certificate, page_url: str | None = None, status: int = 200
) -> tuple[str, int]:
    return _render_verified(certificate, services.status(certificate), page_url), status


def _render_verified(certificate: Certificate, status: str, page_url: str | None) -> str:
    checked_at = clock.format_moment(clock.now())

    def render() -> str:
        return render_template(
            "certificates/verified.html",
            certificate=certificate,
            status=status,
            reasons=REVOCATION_REASONS,
            issuer_name=ISSUER_NAME,
            page_url=page_url,
            checked_at=checked_at,
            scope=credentials.certified_scope(get_session(), certificate),
            badge=documents.badge_markup(certificate),
            successor=chain.successor(get_session(), certificate),
            history=chain.earlier(get_session(), certificate),
            token=services.link_token,
        )

    # Every QR scan lands here. An empty cookie session means nobody signed in, no flashed
    # message and no CSRF token, so the page is the same for every such visitor: keep it,
    # keyed by the row's state (read on every request), the status today and the link.
    if flask_session:
        return render()
    # The minute it was checked is on the page, so a kept page lives a minute at most.
    key = (services.state_key(certificate), status, page_url, request.endpoint, checked_at)
    return memoised(current_app, "verified_page", key, render)


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@form_lookup_budget
def lookup() -> tuple[str, int]:
    form = LookupForm()
    if request.method == "POST" and form.validate_on_submit():
        found = services.look_up(get_session(), form.code.data or "", form.family_name.data or "")
        if isinstance(found, Certificate):
            return _verified_page(found)
        if found == LookupMiss.TYPO:  # said on the code field, decided from it alone
            form.code.errors = [*form.code.errors, services.MISS_MESSAGES[found]]
        else:
            return _lookup_page(form, services.MISS_MESSAGES[found]), 404
    return _lookup_page(form), 422 if request.method == "POST" else 200


def _lookup_page(form: LookupForm, no_match: str = "") -> str:
    return render_template("certificates/lookup.html", form=form, no_match=no_match)


@bp.get("/verify/<token>")
@limiter.exempt  # a signed link cannot be guessed; skipping the check keeps QR scans fast
def verify_link(token: str) -> tuple[str, int]:
    certificate = services.get_certificate_by_token(get_session(), token[:200])
    if certificate is None:
        return render_template("certificates/not_genuine.html"), 400
    # Only the exact link we issue names a certificate, so it is the page's own address.
    return _verified_page(certificate, f"{current_app.config['PUBLIC_BASE_URL']}/verify/{token}")


@bp.get("/certificates")
@roles_required("candidate")
def mine() -> tuple[str, int]:
    return renewal_views.mine_page()


def visible_certificate(code: str) -> Certificate:
    """The certificate the signed-in user may see, or a 404."""
    return services.require_visible_certificate(get_session(), current_actor(), code[:40])


def _is_staff() -> bool:
    return services.is_staff(current_actor())


def _detail_page(
    certificate: Certificate,
    revoke_form: RevokeForm | None = None,
    note_form: NoteForm | None = None,
    status: int = 200,
    conflict: str = "",
) -> tuple[str, int]:
    trail = events_for(get_session(), "certificate", certificate.code) if _is_staff() else []
    link = documents.verify_url(current_app, certificate)
    return render_template(
        "certificates/detail.html",
        certificate=certificate,
        status=services.status(certificate),
        reasons=REVOCATION_REASONS,
        verify_url=link,
        qr=documents.qr_svg(link),
        badge=documents.badge_markup(certificate),
        linkedin_url=documents.linkedin_url(current_app, certificate),
        is_staff=_is_staff(),
        revoke_form=revoke_form or RevokeForm(formdata=None),
        note_form=note_form or NoteForm(formdata=None),
        trail=trail,
        conflict=conflict,
        renewal=renewal.plan(get_session(), certificate),
        successor=chain.successor(get_session(), certificate),
        renew_form=EmptyForm(),
        actors=names_by_id(get_session(), (event.actor_id for event in trail)),
    ), status


@bp.get("/certificates/<code>")
@roles_required()
def detail(code: str) -> tuple[str, int]:
    return _detail_page(visible_certificate(code))


@bp.get("/certificates/<code>.pdf")
@roles_required()
def pdf(code: str) -> Response:
    certificate = visible_certificate(code)
    return Response(
        documents.certificate_pdf(current_app, certificate),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{file_stem(certificate.code)}.pdf"'},
    )


def _staff_decision(code: str, decision: Decision) -> ResponseReturnValue:
    """The form's fields go to the service, which holds every rule (the API's too)."""
    form = RevokeForm() if decision == Decision.REVOKE else NoteForm()
    conflict = ""
    if form.validate_on_submit():  # the CSRF token: the fields are the service's to judge
        reason = form.reason.data if isinstance(form, RevokeForm) else ""
        ask = request.form.get("confirmed") != "yes"
        try:
            certificate = services.decide(
                get_session(), current_actor(), code[:40], decision, form.note.data or "", reason,
                preview=ask,
            )  # fmt: skip
        except Problem as problem:
            if problem.status not in (409, 422):
                raise
            conflict = problem.detail if problem.status == 409 else ""
            for error in problem.errors:
                form[error.field].errors = [*form[error.field].errors, error.message]
        else:
            if ask:
                return _confirm_decision(certificate, decision, form)
            flash(services.DECISION_MESSAGES[decision], "success")
            return redirect(url_for("certificates.detail", code=certificate.code))
    forms = {"revoke_form": form} if isinstance(form, RevokeForm) else {"note_form": form}
    return _detail_page(visible_certificate(code), status=422, conflict=conflict, **forms)


def _confirm_decision(
    certificate: Certificate, decision: Decision, form: RevokeForm | NoteForm
) -> str:
    """Every decision changes what employers are told: its consequences, then the same
    form again to confirm it."""
    note = form.note.data or ""
    reason = form.reason.data or "" if isinstance(form, RevokeForm) else ""
    fields = [(form.note.name, note)]
    if isinstance(form, RevokeForm):
        fields.insert(0, (form.reason.name, reason))
    return render_template(
        "certificates/confirm_decision.html",
        certificate=certificate,
        decision=decision.value,
        form=form,
        reason=REVOCATION_REASONS.get(reason, ""),
        note=note,
        fields=fields,
    )


@bp.post("/certificates/<code>/<any(revoke, suspend, reinstate):decision>")
@roles_required(*STAFF_ROLES)
def decide(code: str, decision: str) -> ResponseReturnValue:
    return _staff_decision(code, Decision(decision))


@bp.get("/staff/certificates")
@roles_required(*STAFF_ROLES)
def staff_list() -> str:
    form = SearchForm(request.args)
    found = services.search(get_session(), form.q.data or "") if form.validate() else []
    return render_template(
        "certificates/staff_list.html",
        form=form,
        certificates=found,
        status=services.status,
        credits_waiting=len(credits.pending(get_session())),
    )
