"""Recertification: how and when a certificate is renewed, continuing-education credits
logged with evidence and reviewed by staff, and the renewed certificate that continues
the chain.

The rules are the programme's (the version the certificate was issued under): renewal by
re-examination (a sitting of the programme's blueprint in the last ``period_months``
before expiry) or by credits (``credits`` accepted credits in the listed framework parts,
for activities within the ``period_months`` before expiry).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from certificates import credentials, status_lists
from certificates.models import (
    Certificate,
    CertificateStatus,
    CreditState,
    RenewalCredit,
    new_certificate,
)
from certificates.services import get_certificate, is_staff, status
from core import audit, clock
from core.auth import Actor
from core.clock import add_months
from core.errors import Problem
from exam.models import Sitting
from exam.services.sittings import open_sittings
from item_bank.blueprints import get_blueprint
from item_bank.frameworks import nodes_by_code
from item_bank.programme_models import ProgrammeVersion
from item_bank.programmes import CredentialTerms, ProgrammeFile, RecertificationKind


@dataclass(frozen=True)
class AreaCredits:
    """One framework part credits may be earned in, and the accepted credits in it."""

    code: str
    title: str
    accepted: int


@dataclass(frozen=True)
class RenewalPlan:
    """What the holder of a certificate in force is told about renewing it."""

    certificate: Certificate
    kind: RecertificationKind
    period_months: int
    window_opens: datetime  # the start of the last ``period_months`` before expiry
    blueprints: list[str]
    sittings: list[Sitting] = field(default_factory=list)  # open ones in the window
    required: int = 0
    areas: list[AreaCredits] = field(default_factory=list)
    entries: list[RenewalCredit] = field(default_factory=list)
    renewed_until: datetime | None = None  # the expiry a renewal by credits would give

    @property
    def by_credits(self) -> bool:
        return self.kind == RecertificationKind.CREDITS

    @property
    def accepted(self) -> int:
        return sum(area.accepted for area in self.areas)

    @property
    def pending(self) -> int:
        return sum(e.credits for e in self.entries if e.state == CreditState.PENDING)

    @property
    def missing(self) -> int:
        return max(0, self.required - self.accepted)

    @property
    def can_renew(self) -> bool:
        return self.by_credits and self.missing == 0

    @property
    def window_open(self) -> bool:
        """Whether activities of today count: the renewal period has begun."""
        return clock.now() >= self.window_opens

    @property
    def area_codes(self) -> list[str]:
        return [area.code for area in self.areas]


def programme_rules(session: Session, certificate: Certificate) -> ProgrammeFile | None:
    """The rules of the programme version the certificate was issued under, if any."""
    if certificate.programme_version_id is None:
        return None
    version = session.get(ProgrammeVersion, certificate.programme_version_id)
    return None if version is None else ProgrammeFile.model_validate(version.spec)


def in_force(certificate: Certificate) -> bool:
    """Valid, and the newest of its chain: the one a renewal continues."""
    return status(certificate) == CertificateStatus.VALID and certificate.superseded_by_id is None


def credits_logged(session: Session, certificate_id: int) -> list[RenewalCredit]:
    return list(
        session.scalars(
            select(RenewalCredit)
            .where(RenewalCredit.certificate_id == certificate_id)
            .order_by(RenewalCredit.activity_on, RenewalCredit.id)
        )
    )


def plan(session: Session, certificate: Certificate) -> RenewalPlan | None:
    """How and when ``certificate`` is renewed; ``None`` for one not in force or of no
    programme."""
    rules = programme_rules(session, certificate)
    if rules is None or not in_force(certificate):
        return None
    recertification = rules.recertification
    opens = max(
        add_months(certificate.expires_at, -recertification.period_months),
        certificate.issued_at,
    )
    common = RenewalPlan(
        certificate, recertification.kind, recertification.period_months, opens, rules.blueprints
    )
    if recertification.kind == RecertificationKind.RE_EXAMINATION:
        found = (get_blueprint(session, code) for code in rules.blueprints)
        blueprint_ids = {blueprint.id for blueprint in found if blueprint is not None}
        sittings = [
            sitting
            for sitting in open_sittings(session)
            if sitting.blueprint_id in blueprint_ids
            and opens <= sitting.opens_at < certificate.expires_at
        ]
        return replace(common, sittings=sittings)
    entries = credits_logged(session, certificate.id)
    validity = _current_rules(session, certificate).credential.validity_months
    return replace(
        common,
        renewed_until=add_months(certificate.expires_at, validity),
        required=recertification.credits or 0,
        areas=_areas(session, certificate, rules, entries, opens),
        entries=entries,
    )


def _current_rules(session: Session, certificate: Certificate) -> ProgrammeFile:
    """The rules in force today of the certificate's programme: a renewal issues them."""
    version = session.get(ProgrammeVersion, certificate.programme_version_id)
    assert version is not None
    return ProgrammeFile.model_validate(version.programme.current.spec)


def _areas(
    session: Session,
    certificate: Certificate,
    rules: ProgrammeFile,
    entries: Sequence[RenewalCredit],
    opens: datetime,
) -> list[AreaCredits]:
    """Each listed part with the accepted credits of activities within the window."""
    version = session.get(ProgrammeVersion, certificate.programme_version_id)
    assert version is not None
    nodes = nodes_by_code(session, version.programme.framework_id, include_retired=True)
    counted = [
        entry
        for entry in entries
        if entry.state == CreditState.ACCEPTED
        and opens.date() <= entry.activity_on <= certificate.expires_at.date()
    ]
    return [
        AreaCredits(
            code,
            nodes[code].title if code in nodes else code,
            sum(entry.credits for entry in counted if entry.area == code),
        )
        for code in rules.recertification.areas
    ]


def renew(session: Session, actor: Actor, code: str) -> Certificate:
    """Renew a certificate by credits, as one unit of work: a new certificate continues
    the chain, valid for the programme's validity from the old one's expiry, and the old
    one is superseded by it. The holder renews their own, staff anyone's; a 404 for
    anyone else (as for no such code), a 409 while the rule is not met (or the
    certificate is not in force, or is renewed by re-examination). The old row is locked
    first, so two renewals at once make one certificate."""
    certificate = get_certificate(session, code, for_update=True)
    if certificate is None or (certificate.holder_id != actor.id and not is_staff(actor)):
        raise Problem(404, "Not found", "No such certificate.")
    renewing = plan(session, certificate)
    if renewing is None or not renewing.by_credits:
        raise Problem(
            409,
            "Not renewable by credits",
            "Only a certificate in force that is renewed by credits is renewed here.",
            slug="conflict",
        )
    if not renewing.can_renew:
        raise Problem(
            409,
            "Not enough credits yet",
            f"{renewing.missing} more accepted credits are needed to renew it.",
            slug="conflict",
        )
    holder = session.get(User, certificate.holder_id)
    version = session.get(ProgrammeVersion, certificate.programme_version_id)
    assert holder is not None and version is not None and renewing.renewed_until is not None
    rules = _current_rules(session, certificate)
    terms = CredentialTerms(
        rules.credential.title,
        rules.level.name,
        rules.credential.validity_months,
        version.programme.current.id,
    )
    renewed = new_certificate(
        holder, terms, certificate.blueprint_code, None, clock.now(), renewing.renewed_until
    )
    session.add(renewed)
    session.flush()
    certificate.superseded_by_id = renewed.id
    status_lists.assign_status_index(session, renewed)
    credentials.assign_subject_id(session, renewed.holder_id)
    for subject, action, after in (
        (certificate, "certificate.renewed", {"renewed_by": renewed.code}),
        (renewed, "certificate.issued", {"renews": certificate.code}),
    ):
        audit.record(
            session,
            actor_id=actor.id,
            action=action,
            object_type="certificate",
            object_id=subject.code,
            after={**after, "credits": renewing.accepted},
        )
    session.commit()
    return renewed
