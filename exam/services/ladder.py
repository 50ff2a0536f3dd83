"""The ladder of programmes: which credential a candidate holds, may sit next, or may not
yet sit and why (a prerequisite not held, or no longer valid).

The exam room never imports certificates: the room that issues them says what a
candidate holds by registering a lookup when the app is wired.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from flask import Flask, current_app
from sqlalchemy.orm import Session

from core import clock
from item_bank.programme_models import Programme
from item_bank.programmes import (
    ProgrammeFile,
    get_programme,
    list_programmes,
    programme_of_blueprint,
    rules_of,
)

VALID = "valid"


@dataclass(frozen=True)
class HeldCredential:
    """A certificate as the issuing room states it: its blueprint and standing."""

    blueprint_code: str
    status: str  # valid, expired, suspended or revoked
    issued_at: datetime
    expires_at: datetime
    changed_at: datetime | None = None  # when it was revoked or suspended


CredentialLookup = Callable[[Session, int], list[HeldCredential]]
_CREDENTIAL_LOOKUP = "csm_exam_credential_lookup"


def register_credential_lookup(app: Flask, lookup: CredentialLookup) -> None:
    app.extensions[_CREDENTIAL_LOOKUP] = lookup


def held_credentials(session: Session, candidate_id: int) -> list[HeldCredential]:
    lookup: CredentialLookup | None = current_app.extensions.get(_CREDENTIAL_LOOKUP)
    return lookup(session, candidate_id) if lookup is not None else []


class RungState(StrEnum):
    HELD = "held"
    AVAILABLE = "available"
    LOCKED = "locked"


@dataclass
class Rung:
    code: str
    name: str
    level: str
    state: RungState
    expires_at: datetime | None = None
    reasons: list[str] = field(default_factory=list)
    lapsed: str = ""  # what became of a credential once held and no longer valid
    sample: bool = False


def _of_programme(rules: ProgrammeFile, held: list[HeldCredential]) -> list[HeldCredential]:
    return sorted(
        (h for h in held if h.blueprint_code in rules.blueprints), key=lambda h: h.issued_at
    )


def _what_became(credential: HeldCredential) -> str:
    day = clock.format_day(credential.changed_at or credential.expires_at)
    return {
        "expired": f"expired on {day}",
        "revoked": f"was revoked on {day}",
        "suspended": f"is suspended since {day}",
    }.get(credential.status, credential.status)


def _prerequisite_problems(
    session: Session, rules: ProgrammeFile, held: list[HeldCredential]
) -> list[str]:
    problems = []
    for code in rules.prerequisites:
        programme = get_programme(session, code)
        if programme is None:  # a prerequisite is loaded before what requires it
            continue
        needed = rules_of(programme)
        theirs = _of_programme(needed, held)
        if any(h.status == VALID for h in theirs):
            continue
        needs = f"{rules.name} needs a valid {needed.credential.title} certificate"
        problems.append(
            f"{needs}; yours {_what_became(theirs[-1])}." if theirs else f"{needs}; you have none."
        )
    return problems


def prerequisite_problems(session: Session, candidate_id: int, blueprint_code: str) -> list[str]:
    """Why the candidate may not sit this blueprint's programme yet (empty: they may)."""
    programme = programme_of_blueprint(session, blueprint_code)
    if programme is None:
        return []
    rules = rules_of(programme)
    if not rules.prerequisites:
        return []
    return _prerequisite_problems(session, rules, held_credentials(session, candidate_id))


@dataclass
class Ladder:
    """The programmes on one framework, lowest level first."""

    framework: str
    rungs: list[Rung] = field(default_factory=list)


def ladders(session: Session, candidate_id: int) -> list[Ladder]:
    """Every programme, as this candidate stands on it, one ladder per framework."""
    held = held_credentials(session, candidate_id)
    by_framework: dict[int, Ladder] = {}
    for programme in list_programmes(session):
        by_framework.setdefault(programme.framework_id, Ladder(programme.framework.title))
        by_framework[programme.framework_id].rungs.append(_rung(session, programme, held))
    return list(by_framework.values())


def _rung(session: Session, programme: Programme, held: list[HeldCredential]) -> Rung:
    rules = rules_of(programme)
    rung = Rung(
        programme.code, rules.name, rules.level.name, RungState.AVAILABLE, sample=rules.sample
    )
    theirs = _of_programme(rules, held)
    valid = [h for h in theirs if h.status == VALID]
    if valid:
        rung.state, rung.expires_at = RungState.HELD, max(h.expires_at for h in valid)
    else:
        rung.reasons = _prerequisite_problems(session, rules, held)
        rung.state = RungState.LOCKED if rung.reasons else RungState.AVAILABLE
        rung.lapsed = f"Your certificate {_what_became(theirs[-1])}." if theirs else ""
    return rung
