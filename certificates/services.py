"""Issuing certificates on a pass (from grading's event), and verifying them."""

from __future__ import annotations

import unicodedata

from anyascii import anyascii
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import false, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.services import get_user_by_email
from certificates import credentials, status_lists
from certificates.codes import normalise
from certificates.models import (
    REVOCATION_REASONS,
    STAFF_ROLES,
    Certificate,
    CertificateStatus,
    Decision,
    LookupMiss,
    RevocationReason,
    new_certificate,
)
from certificates.schemas import NOTE_MAX, NoteRequest, RevocationRequest
from core import audit, clock
from core.api import validated
from core.auth import Actor
from core.clock import add_months
from core.duties import require_not_party
from core.errors import Problem
from core.paging import Page, paginate
from core.web import MAX_ID, memoised
from exam.models import Attempt, Outcome
from item_bank.models import BlueprintVersion
from item_bank.programmes import terms_of

SYSTEM_ACTOR = "system:grading"
RESTORED_ON_RESCORING = "The pass was restored on rescoring."


def status(certificate: Certificate) -> CertificateStatus:
    if certificate.revoked_at is not None:
        return CertificateStatus.REVOKED
    if certificate.suspended_at is not None:
        return CertificateStatus.SUSPENDED
    if clock.now() >= certificate.expires_at:
        return CertificateStatus.EXPIRED
    return CertificateStatus.VALID


def on_result_changed(session: Session, attempt_id: int, before: str | None, after: str) -> None:
    """Grading's event: a pass issues the certificate; a pass lost on rescoring revokes it.
    Part of grading's unit of work, which commits."""
    if after == Outcome.PASS:
        issue(session, attempt_id)
    elif before == Outcome.PASS:
        certificate = get_certificate_of_attempt(session, attempt_id)
        if certificate is not None and certificate.revoked_at is None:
            revoke(
                session,
                None,
                certificate,
                RevocationReason.RESCORING,
                f"The result changed to {after} on rescoring.",
            )


def issue(session: Session, attempt_id: int) -> Certificate:
    """Exactly one certificate per passing attempt, whatever races; a new pass supersedes
    the holder's earlier certificates for the same credential."""
    existing = get_certificate_of_attempt(session, attempt_id)
    if existing is not None:
        if existing.revoked_at is not None and _revoked_by_rescoring(session, existing):
            _clear_revocation(session, existing)
            restored = {"was": CertificateStatus.REVOKED, "note": RESTORED_ON_RESCORING}
            _audit(session, None, existing, "certificate.reinstated", restored)
        return existing
    attempt = session.get(Attempt, attempt_id)
    assert attempt is not None
    holder = session.get(User, attempt.candidate_id)
    version = session.get(BlueprintVersion, attempt.blueprint_version_id)
    assert holder is not None and version is not None
    now = clock.now()
    terms = terms_of(session, version)
    certificate = new_certificate(
        holder,
        terms,
        version.blueprint.code,
        attempt_id,
        now,
        add_months(now, terms.validity_months),
    )
    try:
        with session.begin_nested():
            session.add(certificate)
    except IntegrityError:  # the same pass was recorded twice at once
        return session.scalars(
            select(Certificate).where(Certificate.attempt_id == attempt_id)
        ).one()
    status_lists.assign_status_index(session, certificate)
    credentials.assign_subject_id(session, certificate.holder_id)
    for older in session.scalars(
        select(Certificate).where(
            Certificate.holder_id == holder.id,
            Certificate.blueprint_code == certificate.blueprint_code,
            Certificate.id != certificate.id,
            Certificate.superseded_by_id.is_(None),
        )
    ):
        older.superseded_by_id = certificate.id
    audit.record(
        session,
        actor_id=None,
        actor_label=SYSTEM_ACTOR,
        action="certificate.issued",
        object_type="certificate",
        object_id=certificate.code,
        after={"attempt": attempt_id},
    )
    return certificate


class CertificateStateError(ValueError):
    """A staff action that does not fit the certificate's state, said in plain words."""


def revoke(
    session: Session, actor: Actor | None, certificate: Certificate, reason: str, note: str
) -> None:
    """Effective at once: the page, the API and the revocation list all read this row.
    Within the caller's unit of work (a staff decision, or grading's rescoring)."""
    if reason not in REVOCATION_REASONS:
        raise CertificateStateError(f"Choose a reason: {', '.join(REVOCATION_REASONS)}.")
    if certificate.revoked_at is not None:
        raise CertificateStateError("This certificate is already revoked.")
    certificate.revoked_at, certificate.revocation_reason = clock.now(), reason
    certificate.revocation_note = note.strip()[:NOTE_MAX]
    _audit(session, actor, certificate, "certificate.revoked", {"reason": reason, "note": note})


def reinstate(session: Session, actor: Actor, certificate: Certificate, note: str) -> None:
    """Undo a revocation or a suspension. Both set the credential's bit in the published
    revocation list, where it is final, so the certificate moves to a new index and the
    holder's signed credential is issued afresh."""
    if certificate.revoked_at is None and certificate.suspended_at is None:
        raise CertificateStateError("This certificate is neither revoked nor suspended.")
    before = status(certificate)
    if certificate.revoked_at is not None:
        _clear_revocation(session, certificate)
    else:
        status_lists.retire_status_index(session, certificate)
    certificate.suspended_at, certificate.suspension_note = None, ""
    _audit(session, actor, certificate, "certificate.reinstated", {"was": before, "note": note})


def suspend(session: Session, actor: Actor, certificate: Certificate, note: str) -> None:
    """Hold a certificate while a matter is looked into; lifted by ``reinstate``."""
    if certificate.revoked_at is not None:
        raise CertificateStateError("A revoked certificate cannot be suspended.")
    if certificate.suspended_at is not None:
        raise CertificateStateError("This certificate is already suspended.")
    certificate.suspended_at, certificate.suspension_note = clock.now(), note.strip()[:NOTE_MAX]
    _audit(session, actor, certificate, "certificate.suspended", {"note": note})


DECISION_MESSAGES = {
    Decision.REVOKE: (
        "Certificate revoked. The verification page, the API and the status list say so now."
    ),
    Decision.SUSPEND: "Certificate suspended. It shows as suspended everywhere until reinstated.",
    Decision.REINSTATE: (
        "Certificate reinstated. The holder's signed credential has been issued afresh."
    ),
}


def decide(
    session: Session,
    actor: Actor,
    code_text: str,
    decision: Decision,
    note: str,
    reason: str = "",
    preview: bool = False,
) -> Certificate:
    """A staff decision on a certificate, as one unit of work, the same for the page's
    forms and the API: ``revoke`` (a reason category and a note), ``suspend`` or
    ``reinstate`` (a note). The row is locked first, so two decisions on it take turns.
    A certificate the actor may not see is a 404, as for a code that does not exist; its
    holder, not being staff, gets a 403; a missing or wrong field a 422 naming it; a
    decision that does not fit the certificate's status (reinstating a valid one, say) a
    409. The certificate is returned in its new state; a ``preview`` makes every check
    and then changes nothing."""
    certificate = require_visible_certificate(session, actor, code_text, for_update=True)
    if not is_staff(actor):
        raise Problem(403, "Not allowed", "Only staff decide on certificates.")
    require_not_party(
        actor.id, [certificate.holder_id], action=f"{decision} it", because="it is your own"
    )
    if decision == Decision.REVOKE:  # the request models hold the fields' rules
        asked = validated(RevocationRequest, {"reason": reason, "note": note})
        reason, note = asked.reason, asked.note
    else:
        note = validated(NoteRequest, {"note": note}).note
    try:
        if decision == Decision.REVOKE:
            revoke(session, actor, certificate, reason, note)
        elif decision == Decision.SUSPEND:
            suspend(session, actor, certificate, note)
        else:
            reinstate(session, actor, certificate, note)
    except CertificateStateError as error:
        raise Problem(409, "Not possible now", str(error), slug="conflict") from error
    if preview:
        session.rollback()
    else:
        session.commit()
    return certificate


def _clear_revocation(session: Session, certificate: Certificate) -> None:
    certificate.revoked_at, certificate.revocation_reason, certificate.revocation_note = (
        None,
        "",
        "",
    )
    status_lists.retire_status_index(session, certificate)


def _audit(
    session: Session,
    actor: Actor | None,
    certificate: Certificate,
    action: str,
    after: dict[str, str],
) -> None:
    audit.record(
        session,
        actor_id=actor.id if actor else None,
        actor_label=None if actor else SYSTEM_ACTOR,
        action=action,
        object_type="certificate",
        object_id=certificate.code,
        after=after,
    )


def state_key(certificate: Certificate) -> tuple[object, ...]:
    """Everything a public view of the certificate shows, for keeping rendered copies."""
    return (
        certificate.id,
        certificate.code,
        certificate.holder_given_name,
        certificate.holder_family_name,
        certificate.credential,
        certificate.level,
        certificate.issued_at,
        certificate.expires_at,
        certificate.revoked_at,
        certificate.revocation_reason,
        certificate.suspended_at,
        certificate.superseded_by_id,
    )


def _revoked_by_rescoring(session: Session, certificate: Certificate) -> bool:
    """Only a revocation grading made undoes itself; one a person made stands."""
    last = audit.last_event(session, "certificate", certificate.code, ["certificate.revoked"])
    return last is not None and last.actor_id is None


def is_staff(actor: Actor) -> bool:
    return actor.has_role(*STAFF_ROLES)


def get_certificate_of_attempt(session: Session, attempt_id: int) -> Certificate | None:
    """The certificate an attempt's pass issued (revoked since, perhaps), if any."""
    return session.scalars(select(Certificate).where(Certificate.attempt_id == attempt_id)).first()


def get_visible_certificate(
    session: Session, actor: Actor, code_text: str, for_update: bool = False
) -> Certificate | None:
    """The holder's own certificate, or any for staff; ``None`` for everyone else, the
    same as for a code that does not exist, so a code's existence is not revealed."""
    certificate = get_certificate(session, code_text, for_update)
    if certificate is None or (certificate.holder_id != actor.id and not is_staff(actor)):
        return None
    return certificate


def require_visible_certificate(
    session: Session, actor: Actor, code_text: str, for_update: bool = False
) -> Certificate:
    certificate = get_visible_certificate(session, actor, code_text, for_update)
    if certificate is None:
        raise Problem(404, "Not found", "No such certificate.")
    return certificate


def get_certificate(
    session: Session, code_text: str, for_update: bool = False
) -> Certificate | None:
    """``for_update`` locks the row, so two staff decisions on it take turns."""
    code = normalise(code_text)
    if code is None:
        return None
    query = select(Certificate).where(Certificate.code == code)
    return session.scalars(query.with_for_update() if for_update else query).first()


def search(session: Session, text_query: str, limit: int = 50) -> list[Certificate]:
    """Staff search by code, or by a holder's name (any part)."""
    query = select(Certificate).order_by(Certificate.issued_at.desc()).limit(limit)
    text_query = text_query.strip()
    code = normalise(text_query) if text_query else None
    if code is not None:
        query = query.where(Certificate.code == code)
    elif text_query:
        pattern = f"%{text_query[:100].lower()}%"
        query = query.where(
            func.lower(Certificate.holder_given_name + " " + Certificate.holder_family_name).like(
                pattern
            )
        )
    return list(session.scalars(query))


# ---- verification ------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    # Built once per app: constructing one costs more than checking a link with it.
    serializer: URLSafeSerializer | None = current_app.extensions.get("csm_link_serializer")
    if serializer is None:
        serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="certificate-link")
        current_app.extensions["csm_link_serializer"] = serializer
    return serializer


def link_token(certificate: Certificate) -> str:
    return link_token_for(certificate.code)


def link_token_for(code: str) -> str:
    """The one link token of a code (kept per process: it never changes)."""
    return memoised(current_app, "link_token", code, lambda: _serializer().dumps(code))


def get_certificate_by_token(session: Session, token: str) -> Certificate | None:
    """The certificate a link names, or ``None`` if the link is not genuine."""
    try:
        code = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(code, str) or token != link_token_for(code):
        return None  # base64 is decoded leniently: only the exact link we issued counts
    return session.scalars(select(Certificate).where(Certificate.code == code)).first()


def folded(name: str) -> str:
    """A name as it is compared: without case or accents, every letter in plain ASCII, so
    "Lindqvist-Øre" matches "LINDQVIST-ORE", "Þórsdóttir" "thorsdottir", "Łukasiewicz"
    "Lukasiewicz" and "Strauß" "Strauss" (the Turkish dotless i is an i). Typographic
    apostrophes and dashes read as ' and -, and a run of spaces as one. A letter with no
    ASCII spelling stays itself (case-folded), so it never drops out of the comparison."""
    plain = "".join(
        anyascii(char) or (char if unicodedata.category(char)[0] in "LN" else "")
        for char in unicodedata.normalize("NFC", name)
    )
    return " ".join(plain.casefold().split())


def get_certificate_by_holder(
    session: Session, code_text: str, family_name: str
) -> Certificate | None:
    """By code and family name; the same ``None`` whether the code exists or not."""
    wanted = folded(family_name)
    if not wanted:
        return None
    certificate = get_certificate(session, code_text)
    if certificate is None or folded(certificate.holder_family_name) != wanted:
        return None
    return certificate


MISS_MESSAGES = {
    LookupMiss.TYPO: "This code has a typo: check it against the certificate.",
    LookupMiss.NO_MATCH: (
        "No matching certificate. Check the code and the spelling of the family name."
    ),
}


def look_up(session: Session, code_text: str, family_name: str) -> Certificate | LookupMiss:
    """The public lookup: the certificate, or why there is none. A code whose check
    character fails (or that has not the shape of one) is a ``TYPO``, said before anything
    is read, so it tells nothing of which certificates exist; any other miss is the same
    ``NO_MATCH`` whether the code exists or not. Every lookup, whatever it answers, counts
    against the caller's budget (limits.py)."""
    if normalise(code_text) is None:
        return LookupMiss.TYPO
    certificate = get_certificate_by_holder(session, code_text, family_name)
    return LookupMiss.NO_MATCH if certificate is None else certificate


def list_certificates(
    session: Session, actor: Actor, holder: str, page: int, per_page: int
) -> Page[Certificate]:
    """A page of certificates, newest first: the actor's own; staff see anyone's, of one
    holder when ``holder`` names them (a user id or an email). Anyone else naming someone
    other than themselves gets a 403, whether that person exists or not."""
    query = select(Certificate).order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    if holder:
        holder_id = _holder_id(session, holder)
        if not is_staff(actor) and holder_id != actor.id:
            raise Problem(403, "Not allowed", "Only staff list other holders' certificates.")
        query = query.where(false() if holder_id is None else Certificate.holder_id == holder_id)
    elif not is_staff(actor):
        query = query.where(Certificate.holder_id == actor.id)
    return paginate(session, query, page, per_page)


def _holder_id(session: Session, holder: str) -> int | None:
    """The user a user id or an email names, if any."""
    if holder.isascii() and holder.isdigit():
        return int(holder) if int(holder) <= MAX_ID else None
    user = get_user_by_email(session, holder)
    return user.id if user is not None else None


def holder_certificates(session: Session, holder_id: int) -> list[Certificate]:
    query = (
        select(Certificate)
        .where(Certificate.holder_id == holder_id)
        .order_by(Certificate.issued_at.desc())
    )
    return list(session.scalars(query))
