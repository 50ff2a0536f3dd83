"""Sittings that require Safe Exam Browser: staff set the keys, every exam request is checked.

SEB adds to every request it makes ``X-SafeExamBrowser-ConfigKeyHash``, the SHA-256 (hex)
of the absolute URL followed by the Config Key, and ``X-SafeExamBrowser-RequestHash``, the
same with its Browser Exam Key. The URL is the one the browser asked for, so it is built
from ``PUBLIC_BASE_URL``, never from the Host header a proxy passes on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.auth import Actor
from core.db import Database
from core.errors import Problem
from exam.models import HOLDS_A_PLACE, Registration, Sitting
from exam.seb_models import SittingSeb
from exam.services.problems import invalid
from exam.services.seb_config import config_key_of_file, normalised_key

CONFIG_KEY_HEADER = "X-SafeExamBrowser-ConfigKeyHash"
REQUEST_HASH_HEADER = "X-SafeExamBrowser-RequestHash"
MAX_BROWSER_EXAM_KEYS = 20


@dataclass(frozen=True)
class SebInput:
    """What staff posted: the requirement, a pasted Config Key and Browser Exam Keys (one
    per line), and an uploaded .seb file (``None`` when none was chosen)."""

    required: bool
    config_key: str = ""
    browser_exam_keys: str = ""
    file_name: str = ""
    file_data: bytes | None = None


def settings_of(session: Session, sitting_id: int) -> SittingSeb | None:
    return session.get(SittingSeb, sitting_id)


def fingerprint(key: str) -> str:
    """A short name for a key that does not reveal it (audit rows, the staff form)."""
    return hashlib.sha256(key.encode()).hexdigest()[:12] if key else ""


def _snapshot(row: SittingSeb | None) -> dict[str, Any]:
    if row is None:
        return {"required": False, "config_key": "", "browser_exam_keys": [], "config_file": ""}
    return {
        "required": row.required,
        "config_key": fingerprint(row.config_key),
        "browser_exam_keys": sorted(fingerprint(k) for k in row.browser_exam_keys),
        "config_file": row.config_filename if row.config_file else "",
    }


def _browser_exam_keys(text: str) -> list[str]:
    keys = [
        normalised_key(part, "browser_exam_keys") for part in re.split(r"[\s,;]+", text) if part
    ]
    if len(keys) > MAX_BROWSER_EXAM_KEYS:
        raise invalid("browser_exam_keys", f"Give at most {MAX_BROWSER_EXAM_KEYS} keys.")
    return sorted(set(keys))


def _safe_filename(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    cleaned = "".join(c for c in base if c.isprintable() and c not in '"<>|:*?')[:140]
    if cleaned.lower().endswith(".seb"):
        return cleaned
    stem = cleaned.rsplit(".", 1)[0] if "." in cleaned else cleaned
    return stem if stem.lower().endswith(".seb") else (stem or "exam") + ".seb"


def _new_key(data: SebInput) -> tuple[str, bytes | None]:
    """The Config Key the post gives (from the file or pasted; "" for neither) and the file."""
    pasted = normalised_key(data.config_key, "config_key") if data.config_key.strip() else ""
    if not data.file_data:
        return pasted, None
    from_file = config_key_of_file(data.file_data)
    if pasted and pasted != from_file:
        raise invalid(
            "config_key",
            "The pasted Config Key is not the uploaded file's; leave it empty to use the "
            "file's, or upload the file that belongs to the key.",
        )
    return from_file, data.file_data


def set_seb(session: Session, actor: Actor, sitting: Sitting, data: SebInput) -> SittingSeb:
    """Set or change whether the sitting requires SEB and the keys it accepts; commits,
    with an audit row (keys named by fingerprint only) when anything changed."""
    if sitting.cancelled:
        raise Problem(409, "Cancelled", "A cancelled sitting cannot be changed.")
    key, file_data = _new_key(data)
    exam_keys = _browser_exam_keys(data.browser_exam_keys)
    row = settings_of(session, sitting.id)
    if data.required and not (key or (row and row.config_key)):
        raise invalid(
            "config_key",
            "To require Safe Exam Browser, upload the .seb file or paste its Config Key.",
        )
    before = _snapshot(row)
    if row is None:
        row = SittingSeb(sitting_id=sitting.id, config_filename="", browser_exam_keys=[])
        session.add(row)
    if key and key != row.config_key:
        row.config_key, row.config_file, row.config_filename = key, None, ""
    if file_data is not None:
        row.config_file, row.config_filename = file_data, _safe_filename(data.file_name)
    row.required, row.browser_exam_keys = data.required, exam_keys
    after = _snapshot(row)
    if after == before:
        session.rollback()
        return row
    row.updated_by, row.updated_at = actor.id, clock.now()
    session.flush()
    audit.record(
        session,
        actor_id=actor.id,
        action="sitting.seb_changed",
        object_type="sitting",
        object_id=sitting.id,
        before=before,
        after=after,
    )
    session.commit()
    return row


# ---- the check on every exam request ------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    sitting_id: int
    config_key: str
    browser_exam_keys: tuple[str, ...]
    has_config_file: bool


def _requirement(session: Session, sitting_id: Any) -> Requirement | None:
    found = session.execute(
        select(SittingSeb).where(SittingSeb.sitting_id == sitting_id, SittingSeb.required)
    ).scalar_one_or_none()
    if found is None:
        return None
    return Requirement(
        found.sitting_id,
        found.config_key,
        tuple(found.browser_exam_keys),
        found.config_file is not None,
    )


# Read on every exam request of an attempt (autosave included), so it is one plain query.
ATTEMPT_REQUIREMENT_SQL = """
    SELECT s.sitting_id, s.config_key, s.browser_exam_keys, s.config_file IS NOT NULL
    FROM sitting_seb s JOIN attempt a ON a.sitting_id = s.sitting_id
    WHERE a.id = :attempt_id AND a.candidate_id = :candidate_id AND s.required = :required
"""


# Read on every start, when a whole room presses start together: one plain query too.
SITTING_REQUIREMENT_SQL = """
    SELECT s.sitting_id, s.config_key, s.browser_exam_keys, s.config_file IS NOT NULL
    FROM sitting_seb s WHERE s.sitting_id = :sitting_id AND s.required = :required
"""


def requirement_for_attempt(db: Database, candidate_id: int, attempt_id: int) -> Requirement | None:
    """What the attempt's sitting requires, if it is the candidate's and requires SEB."""
    rows = db.single_read(
        ATTEMPT_REQUIREMENT_SQL,
        {"attempt_id": attempt_id, "candidate_id": candidate_id, "required": True},
    )
    return _read_requirement(rows)


def requirement_for_sitting(db: Database, sitting_id: int) -> Requirement | None:
    rows = db.single_read(SITTING_REQUIREMENT_SQL, {"sitting_id": sitting_id, "required": True})
    return _read_requirement(rows)


def _read_requirement(rows: list[tuple[Any, ...]]) -> Requirement | None:
    if not rows:
        return None
    sitting_id, config_key, keys, has_file = rows[0]
    listed = json.loads(keys) if isinstance(keys, str) else keys
    return Requirement(sitting_id, config_key, tuple(listed or ()), bool(has_file))


def requirement_for_registration(
    session: Session, candidate_id: int, registration_id: int
) -> Requirement | None:
    sitting = (
        select(Registration.sitting_id)
        .where(Registration.id == registration_id, Registration.candidate_id == candidate_id)
        .scalar_subquery()
    )
    return _requirement(session, sitting)


class Verdict(StrEnum):
    PASSED = "passed"
    NOT_SEB = "not_seb"  # neither header: an ordinary browser
    WRONG_KEY = "wrong_key"  # SEB, or something posing as it, with another configuration


def _hash(url: str, key: str) -> str:
    return hashlib.sha256((url + key).encode("utf-8")).hexdigest()


def _matches(expected: str, sent: str) -> bool:
    return hmac.compare_digest(expected.encode(), sent.strip().lower().encode())


def judge(requirement: Requirement, url: str, config_hash: str, request_hash: str) -> Verdict:
    """Check the request's SEB headers for ``url`` (absolute, without its fragment), in
    constant time for each key."""
    if not config_hash and not request_hash:
        return Verdict.NOT_SEB
    config_ok = _matches(_hash(url, requirement.config_key), config_hash)
    if requirement.browser_exam_keys:
        # Every key is compared, so the time taken says nothing of which one matched.
        results = [_matches(_hash(url, key), request_hash) for key in requirement.browser_exam_keys]
        config_ok = config_ok and any(results)
    return Verdict.PASSED if config_ok else Verdict.WRONG_KEY


def absolute_url(public_base_url: str, path: str, query_string: bytes) -> str:
    """The URL as the browser sees it: the public address, the path, the query if any."""
    query = query_string.decode("latin-1")
    return public_base_url.rstrip("/") + path + (f"?{query}" if query else "")


def seb_link(url: str) -> str:
    """The ``seb://`` (``sebs://`` for https) link that opens ``url`` in Safe Exam Browser."""
    scheme, _, rest = url.partition("://")
    return ("sebs://" if scheme == "https" else "seb://") + rest


def config_file_for(session: Session, candidate_id: int, sitting_id: int) -> SittingSeb:
    """The sitting's uploaded .seb file, for one of its registered candidates only."""
    registered = session.scalar(
        select(Registration.id).where(
            Registration.sitting_id == sitting_id,
            Registration.candidate_id == candidate_id,
            Registration.status.in_(HOLDS_A_PLACE),
        )
    )
    row = settings_of(session, sitting_id)
    if registered is None or row is None or not row.required or row.config_file is None:
        raise Problem(404, "No configuration", "There is no SEB configuration for you here.")
    return row
