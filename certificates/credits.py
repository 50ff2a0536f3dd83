"""Continuing-education credits: the holder logs an activity with its evidence towards
renewing a certificate by credits, and staff accept or reject each entry (never their
own), every step audited. What counts towards renewal is ``renewal.plan``'s to say."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from certificates import renewal
from certificates.models import Certificate, CreditDecision, CreditState, RenewalCredit
from certificates.schemas import NOTE_MAX, CreditRequest
from certificates.services import get_certificate, is_staff
from core import audit, clock
from core.api import validated
from core.auth import Actor
from core.duties import require_not_party
from core.errors import FieldError, Problem
from core.evidence import safe_filename, store_pdf

CREDIT_FIELDS = ("title", "provider", "activity_on", "credits", "area")
DECISION_MESSAGES = {
    CreditDecision.ACCEPT: "Entry accepted: its credits count towards the renewal.",
    CreditDecision.REJECT: "Entry rejected: the holder sees your reason.",
}


def _field_problem(field: str, message: str) -> Problem:
    return Problem(422, "Validation failed", message, errors=[FieldError(field, message)])


def log_credit(
    app: Flask,
    session: Session,
    actor: Actor,
    code: str,
    fields: Mapping[str, object],
    filename: str,
    data: bytes | None,
) -> RenewalCredit:
    """The holder's entry for their certificate in force that is renewed by credits: a 404
    for a certificate not theirs, a 409 for one not renewed by credits (or no longer in
    force), a 422 naming the field that is missing or wrong, a 413/415 for evidence that
    is too large or not a plain PDF. Nothing is kept unless all is well."""
    certificate = get_certificate(session, code)
    if certificate is None or certificate.holder_id != actor.id:
        raise Problem(404, "Not found", "No such certificate.")
    plan = renewal.plan(session, certificate)
    if plan is None or not plan.by_credits:
        raise Problem(
            409,
            "Not renewed by credits",
            "Credits are logged only for a certificate in force that is renewed by credits.",
            slug="conflict",
        )
    asked = validated(CreditRequest, {name: fields.get(name, "") for name in CREDIT_FIELDS})
    if asked.area not in plan.area_codes:
        raise _field_problem("area", f"Choose one of {', '.join(plan.area_codes)}.")
    if asked.activity_on > clock.now().date():
        raise _field_problem("activity_on", "The activity cannot be in the future.")
    if asked.activity_on < plan.window_opens.date():
        raise _field_problem(
            "activity_on",
            f"Only activities from {clock.format_day(plan.window_opens)} count towards "
            "this renewal.",
        )
    if not data:
        raise _field_problem("file", "Attach the evidence as a PDF (at most 10 MB).")
    stored = store_pdf(app, data)
    credit = RenewalCredit(
        certificate_id=certificate.id,
        holder_id=actor.id,
        **asked.model_dump(),
        evidence_filename=safe_filename(filename),
        evidence_size=stored.size,
        evidence_sha256=stored.sha256,
        evidence_storage_name=stored.storage_name,
        logged_at=clock.now(),
        state=CreditState.PENDING,
    )
    session.add(credit)
    session.flush()
    _audit(session, actor, certificate, "certificate.credit_logged", credit)
    session.commit()
    return credit


def review_credit(
    session: Session, actor: Actor, credit_id: int, decision: CreditDecision, reason: str
) -> RenewalCredit:
    """Staff accept or reject a pending entry, with a reason (required to reject): a 403
    for anyone else and for the entry's own holder, a 404 for no such entry, a 409 for
    one already reviewed."""
    if not is_staff(actor):
        raise Problem(403, "Not allowed", "Only staff review continuing-education credits.")
    credit = session.scalars(
        select(RenewalCredit).where(RenewalCredit.id == credit_id).with_for_update()
    ).first()
    if credit is None:
        raise Problem(404, "Not found", "No such entry.")
    require_not_party(
        actor.id, [credit.holder_id], action="review this entry", because="it is your own"
    )
    if credit.state != CreditState.PENDING:
        raise Problem(409, "Already reviewed", f"This entry was {credit.state}.", slug="conflict")
    reason = reason.strip()[:NOTE_MAX]
    if decision == CreditDecision.REJECT and not reason:
        raise _field_problem("reason", "Say why it is rejected: the holder reads it.")
    credit.state = (
        CreditState.ACCEPTED if decision == CreditDecision.ACCEPT else CreditState.REJECTED
    )
    credit.reviewed_by_id, credit.reviewed_at, credit.review_reason = actor.id, clock.now(), reason
    certificate = session.get(Certificate, credit.certificate_id)
    assert certificate is not None
    _audit(session, actor, certificate, f"certificate.credit_{credit.state}", credit)
    session.commit()
    return credit


def _audit(
    session: Session, actor: Actor, certificate: Certificate, action: str, credit: RenewalCredit
) -> None:
    audit.record(
        session,
        actor_id=actor.id,
        action=action,
        object_type="certificate",
        object_id=certificate.code,
        after={
            "credit": credit.id,
            "title": credit.title,
            "credits": credit.credits,
            "area": credit.area,
            "state": credit.state,
            **({"reason": credit.review_reason} if credit.review_reason else {}),
            **({"sha256": credit.evidence_sha256} if action.endswith("logged") else {}),
        },
    )


def pending(session: Session) -> list[tuple[RenewalCredit, Certificate]]:
    """Entries awaiting review, oldest first, with the certificate each counts towards."""
    query = (
        select(RenewalCredit, Certificate)
        .join(Certificate, Certificate.id == RenewalCredit.certificate_id)
        .where(RenewalCredit.state == CreditState.PENDING)
        .order_by(RenewalCredit.logged_at, RenewalCredit.id)
    )
    return [(credit, certificate) for credit, certificate in session.execute(query)]


def visible_credit(session: Session, actor: Actor, credit_id: int) -> RenewalCredit:
    """The holder's own entry, or any for staff; a 404 for everyone else."""
    credit = session.get(RenewalCredit, credit_id)
    if credit is None or (credit.holder_id != actor.id and not is_staff(actor)):
        raise Problem(404, "Not found", "No such entry.")
    return credit
