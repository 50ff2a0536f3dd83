"""What a certificate's signed credential and badge say of its achievement: the
programme's, or for a blueprint no programme lists, the blueprint's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from certificates.models import credential_title
from item_bank import frameworks, programmes
from item_bank.blueprints import get_blueprint
from item_bank.programme_models import ProgrammeVersion


@dataclass(frozen=True)
class AchievementScheme:
    """What the signed credential says of the achievement beyond the certificate's title."""

    code: str  # the achievement's id and badge name
    description: str
    framework_title: str
    level: str


def scheme_of(
    session: Session, programme_version_id: int | None, blueprint_code: str, spec: dict[str, Any]
) -> AchievementScheme:
    """The achievement of a certificate's programme version, or of its blueprint."""
    version = session.get(ProgrammeVersion, programme_version_id) if programme_version_id else None
    framework_code = str(spec.get("framework", ""))
    framework = frameworks.get_framework(session, framework_code)
    title = framework.title if framework is not None else framework_code
    if version is None:
        return AchievementScheme(blueprint_code, "", title, str(spec.get("level", "")))
    rules = version.spec
    return AchievementScheme(
        version.programme.code,
        str(rules["credential"].get("description", "")),
        title,
        str(rules["level"]["name"]),
    )


def achievement_wording(session: Session, code: str) -> tuple[str, str] | None:
    """The title and level a badge shows for an achievement code: a programme's, or else
    a blueprint's."""
    programme = programmes.get_programme(session, code)
    if programme is not None:
        rules = programmes.rules_of(programme)
        return credential_title(rules.credential.title, rules.level.name), rules.level.name
    blueprint = get_blueprint(session, code)
    if blueprint is None:
        return None
    spec = blueprint.current.spec
    return credential_title(spec["credential"], spec["level"]), spec["level"]
