"""Programmes: the credentials a body offers, each as a data file loaded like a framework.

A programme names the framework (and the proficiency level of it) it certifies, the
blueprint(s) whose pass earns it, the credential's wording and validity, the programmes
whose credential a candidate must already hold, and how the credential is renewed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.api import field_errors
from core.errors import FieldError, Problem
from item_bank.frameworks import get_framework, level_codes
from item_bank.models import Blueprint, BlueprintVersion
from item_bank.programme_models import Programme, ProgrammeVersion

PROGRAMMES_DIR = Path(__file__).resolve().parent / "programmes"
DEFAULT_PROGRAMME = "first-level"


class RecertificationKind(StrEnum):
    RE_EXAMINATION = "re_examination"
    CREDITS = "credits"


class LevelRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    order: int = Field(ge=1, le=100, description="Its place on the ladder, 1 first.")


class CredentialFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    validity_months: int = Field(ge=1, le=240)


class RecertificationFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: RecertificationKind
    credits: int | None = Field(default=None, ge=1, le=1000)
    areas: list[str] = Field(default_factory=list, max_length=50)
    period_months: int = Field(ge=1, le=240)

    @model_validator(mode="after")
    def _credits_need_a_count(self) -> RecertificationFile:
        if self.kind == RecertificationKind.CREDITS and self.credits is None:
            raise ValueError("Renewal by credits needs the number of credits.")
        if self.kind == RecertificationKind.RE_EXAMINATION and (self.credits or self.areas):
            raise ValueError("Renewal by re-examination takes no credits or areas.")
        return self


class ProgrammeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z0-9-]{1,60}$")
    name: str = Field(min_length=1, max_length=200)
    level: LevelRef
    framework: str = Field(pattern=r"^[a-z0-9-]{1,60}$")
    framework_level: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{1,20}$",
        description="The framework's proficiency level this programme certifies.",
    )
    blueprints: list[str] = Field(min_length=1, max_length=10)
    credential: CredentialFile
    prerequisites: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Programmes whose credential must be held, and valid, to register.",
    )
    recertification: RecertificationFile
    sample: bool = Field(default=False, description="Demonstration data, not a real scheme.")


def read_programme_file(path: Path) -> ProgrammeFile:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise Problem(400, "Unreadable programme file", f"{path}: {exc}") from exc
    return parse_programme(data, str(path))


def parse_programme(data: Any, where: str = "programme") -> ProgrammeFile:
    try:
        return ProgrammeFile.model_validate(data)
    except ValidationError as exc:
        raise Problem(422, "Invalid programme file", where, errors=field_errors(exc)) from exc


def _reference_errors(session: Session, document: ProgrammeFile) -> list[FieldError]:
    """What the file names that is not there, or is another programme's."""
    framework = get_framework(session, document.framework)
    if framework is None:
        return [FieldError("framework", f"No framework {document.framework}; load it first.")]
    errors = []
    if document.framework_level is not None and document.framework_level not in level_codes(
        framework
    ):
        errors.append(
            FieldError(
                "framework_level",
                f"{document.framework} defines no level {document.framework_level}.",
            )
        )
    claimed = _blueprint_owners(session)
    for index, code in enumerate(document.blueprints):
        blueprint = session.scalars(select(Blueprint).where(Blueprint.code == code)).one_or_none()
        where = f"blueprints.{index}"
        if blueprint is None:
            errors.append(FieldError(where, f"No blueprint {code}; load it first."))
        elif blueprint.framework_id != framework.id:
            errors.append(FieldError(where, f"Blueprint {code} is on another framework."))
        elif claimed.get(code, document.code) != document.code:
            errors.append(FieldError(where, f"Blueprint {code} belongs to {claimed[code]}."))
        elif _targets_another_level(blueprint, document.framework_level):
            errors.append(
                FieldError(where, f"Blueprint {code} targets another level of the framework.")
            )
    for index, code in enumerate(document.prerequisites):
        where = f"prerequisites.{index}"
        if code == document.code:
            errors.append(FieldError(where, "A programme cannot require itself."))
        elif get_programme(session, code) is None:
            errors.append(FieldError(where, f"No programme {code}; load it first."))
    return errors


def _targets_another_level(blueprint: Blueprint, level: str | None) -> bool:
    targeted = blueprint.current.spec.get("framework_level")
    return level is not None and targeted is not None and targeted != level


def _blueprint_owners(session: Session) -> dict[str, str]:
    return {
        blueprint: programme.code
        for programme in list_programmes(session)
        for blueprint in programme.current.spec["blueprints"]
    }


def load_programme(
    session: Session, document: ProgrammeFile, actor_label: str = "cli"
) -> ProgrammeVersion:
    """Create or update a programme; changed rules make a new version, audited. A
    programme's framework never changes: a new framework is a new programme."""
    errors = _reference_errors(session, document)
    if errors:
        raise Problem(422, "Invalid programme file", "It names what is not loaded.", errors=errors)
    framework = get_framework(session, document.framework)
    assert framework is not None
    programme = get_programme(session, document.code)
    if programme is None:
        programme = Programme(code=document.code, framework_id=framework.id, created_at=clock.now())
        session.add(programme)
        session.flush()
    elif programme.framework_id != framework.id:
        raise Problem(
            409,
            "Framework is fixed",
            "A programme's framework never changes; make a new programme.",
            errors=[FieldError("framework", "Differs from the loaded programme's.")],
        )
    rules = document.model_dump(mode="json")
    previous = programme.current if programme.versions else None
    # Read through today's rules, so a field added since (at its default) is no change.
    if previous is not None and rules_of(programme) == document:
        return previous
    version = ProgrammeVersion(
        programme=programme,
        number=previous.number + 1 if previous else 1,
        spec=rules,
        created_at=clock.now(),
    )
    session.add(version)
    session.flush()
    before = previous.spec if previous else {}
    changed = sorted(key for key in rules if before.get(key) != rules[key])
    audit.record(
        session,
        actor_id=None,
        actor_label=actor_label,
        action="programme.version_created",
        object_type="programme",
        object_id=document.code,
        before={key: before.get(key) for key in changed} if previous else None,
        after={"version": version.number, **{key: rules[key] for key in changed}},
    )
    session.commit()
    return version


def load_programme_file(session: Session, path: Path, actor_label: str = "cli") -> ProgrammeVersion:
    return load_programme(session, read_programme_file(path), actor_label)


# ---- reading -------------------------------------------------------------------------


def get_programme(session: Session, code: str) -> Programme | None:
    return session.scalars(select(Programme).where(Programme.code == code)).one_or_none()


def list_programmes(session: Session) -> list[Programme]:
    """Every programme, by framework (in the order they were loaded), lowest level first."""
    programmes = list(session.scalars(select(Programme)))
    return sorted(
        programmes, key=lambda p: (p.framework_id, p.current.spec["level"]["order"], p.code)
    )


def programme_of_blueprint(session: Session, blueprint_code: str) -> Programme | None:
    return next(
        (p for p in list_programmes(session) if blueprint_code in p.current.spec["blueprints"]),
        None,
    )


def rules_of(programme: Programme) -> ProgrammeFile:
    return ProgrammeFile.model_validate(programme.current.spec)


@dataclass(frozen=True)
class CredentialTerms:
    credential: str
    level: str
    validity_months: int
    programme_version_id: int | None


def terms_of(session: Session, version: BlueprintVersion) -> CredentialTerms:
    """The terms a pass on ``version`` earns today (they are copied onto the certificate)."""
    programme = programme_of_blueprint(session, version.blueprint.code)
    if programme is None:
        spec = version.spec
        return CredentialTerms(
            spec["credential"], spec["level"], int(spec["certificate_validity_months"]), None
        )
    rules = rules_of(programme)
    return CredentialTerms(
        rules.credential.title,
        rules.level.name,
        rules.credential.validity_months,
        programme.current.id,
    )
