"""The short start: a form drawn at admission becomes the attempt in one read and one write.

The read gathers the registration, its sitting, the kept form and whether that form still
holds (its blueprint version is still the current one and every item version on it is
still approved, checked from the kept JSON inside the database). The write moves the
registration on, stores the attempt, copies the kept questions to it inside the database,
removes the kept form and adds the audit row. The answer is the questions as rendered at
admission (option ids and media addresses of the attempt, which takes the registration's
id) around the attempt's clock, so nothing of the bank is read and nothing is built per
option. The statements are plain SQL run straight on the driver, as the autosave's are:
at nine o'clock a whole room presses start together, and building statements or loading
ORM objects would cost more than running them.

``None`` from either entry means "take the full path" (``exam.services.starting``): no form
kept, one that no longer holds, a start that already happened, or a registration that
moved on between the read and the write. A refusal that the rules decide from what was
read (the window, a start slot not reached yet) is raised here, as the full path would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from core import clock
from core.auth import Principal
from core.db import Database, raw_write, stored_json, stored_moment
from exam.models import AccommodationStatus, Attempt, RegistrationStatus
from exam.services.drawing import Draw
from exam.services.option_ids import key_check
from exam.services.shown_content import SlotContent, from_stored
from exam.services.start_rules import (
    StartFacts,
    attempt_values,
    check_startable,
    record_start,
)
from item_bank.models import ItemStatus
from item_bank.services import STAFF_ROLES as BANK_READERS


@dataclass(frozen=True)
class Started:
    """An attempt just started from a form drawn ahead, with the questions kept with it."""

    attempt: Attempt  # as stored (not attached to a session)
    rendered: str | None  # the questions as rendered at admission, when still good
    shown: Any  # else the questions kept (``from_stored`` gives their contents)

    @property
    def contents(self) -> list[SlotContent]:
        return from_stored(stored_json(self.shown))


@dataclass(frozen=True)
class _Kept:
    registration_id: int
    candidate_id: int
    sitting_id: int
    prepared_id: int
    drawn: Draw
    rendered: str | None
    shown: Any
    time_factor: float


def start_with_token(
    db: Database, principal: Principal, sitting_id: int, secret_key: str
) -> Started | None:
    """The short start for an API caller known only by its token: the same read checks that
    the token's account is alive, holds the candidate role and no role that reads the bank.
    The questions rendered at admission come with it while ``secret_key`` made their ids."""
    params = {
        "rendered_key": key_check(secret_key),
        "sitting_id": sitting_id,
        "user_id": principal.user_id,
        "session_version": principal.session_version,
        **_READER_PARAMS,
    }
    return _start(db, KEPT_BY_TOKEN_SQL, params, principal.user_id)


def start_registration(db: Database, registration_id: int, candidate_id: int) -> Started | None:
    """The short start for a candidate whose account the caller has checked already (the
    caller reads the attempt afterwards, so no rendered questions are wanted)."""
    params = {"registration_id": registration_id, "rendered_key": ""}
    return _start(db, KEPT_BY_REGISTRATION_SQL, params, candidate_id)


def _start(
    db: Database, sql: dict[str, str], params: dict[str, Any], candidate_id: int
) -> Started | None:
    kept = _read_kept(db, sql[db.engine.dialect.name], {**params, **_STATE_PARAMS}, candidate_id)
    return None if kept is None else _write(db, kept)


KEPT_SQL = """
    SELECT r.id, r.candidate_id, r.status, r.start_not_before, s.id, s.opens_at,
           s.closes_at, s.cancelled_at, p.id, p.items, p.seed, p.pretest_positions,
           CASE WHEN p.rendered_key = :rendered_key THEN p.rendered END,
           CASE WHEN p.rendered_key = :rendered_key THEN NULL ELSE p.shown END,
           v.id, v.number, v.spec, a.time_factor
    FROM registration r
    JOIN sitting s ON s.id = r.sitting_id
    JOIN prepared_form p ON p.registration_id = r.id
    JOIN blueprint_version v ON v.id = p.blueprint_version_id
    LEFT JOIN accommodation a ON a.registration_id = r.id AND a.status = :approved
    WHERE r.status = :admitted AND p.problem = '' AND p.shown IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM attempt t WHERE t.registration_id = r.id)
      AND NOT EXISTS (SELECT 1 FROM blueprint_version n
                      WHERE n.blueprint_id = v.blueprint_id AND n.number > v.number)
      AND NOT EXISTS (SELECT 1 FROM {form_items} LEFT JOIN item_version iv ON iv.id = {version}
                      WHERE iv.id IS NULL OR iv.status <> :item_approved)
"""
# The form's item versions, read from the kept JSON inside the database (each one must
# still be approved): [[item_id, item_version_id, order], ...].
_FORM_ITEMS = {
    "sqlite": {"form_items": "json_each(p.items) j", "version": "json_extract(j.value, '$[1]')"},
    "postgresql": {
        "form_items": "json_array_elements(p.items) AS j(value)",
        "version": "CAST(j.value ->> 1 AS INTEGER)",
    },
}
KEPT_BY_REGISTRATION_SQL = {
    dialect: KEPT_SQL.format(**parts) + " AND r.id = :registration_id LIMIT 2"
    for dialect, parts in _FORM_ITEMS.items()
}
_READERS = ", ".join(f":reader_{index}" for index in range(len(BANK_READERS)))
_READER_PARAMS = {f"reader_{index}": role for index, role in enumerate(BANK_READERS)}
CALLER_SQL = """
      AND r.sitting_id = :sitting_id AND r.candidate_id = :user_id
      AND EXISTS (SELECT 1 FROM user_account u WHERE u.id = r.candidate_id AND u.active
                  AND u.session_version = :session_version)
      AND EXISTS (SELECT 1 FROM user_role c WHERE c.user_id = r.candidate_id
                  AND c.role = 'candidate')
      AND NOT EXISTS (SELECT 1 FROM user_role b WHERE b.user_id = r.candidate_id
                      AND b.role IN ({readers}))
    LIMIT 2"""
KEPT_BY_TOKEN_SQL = {  # placeholders only
    dialect: KEPT_SQL.format(**parts) + CALLER_SQL.format(readers=_READERS)
    for dialect, parts in _FORM_ITEMS.items()
}
_STATE_PARAMS = {
    "approved": str(AccommodationStatus.APPROVED),
    "item_approved": str(ItemStatus.APPROVED),
    "admitted": str(RegistrationStatus.ADMITTED),
}


def _read_kept(db: Database, sql: str, params: dict[str, Any], candidate_id: int) -> _Kept | None:
    rows = db.single_read(sql, params)
    if len(rows) != 1:
        return None
    (
        registration_id, owner_id, status, slot, sitting_id, opens_at, closes_at, cancelled_at,
        prepared_id, items, seed, pretest, rendered, shown, version_id, version_number, spec,
        factor,
    ) = rows[0]  # fmt: skip
    opens, closes = stored_moment(opens_at), stored_moment(closes_at)
    assert opens is not None and closes is not None
    facts = StartFacts(
        owner_id, status, opens, closes, cancelled_at is not None, stored_moment(slot)
    )
    check_startable(facts, candidate_id)
    slots = tuple((item, version, tuple(order)) for item, version, order in stored_json(items))
    drawn = Draw(
        slots,
        seed,
        version_id,
        version_number,
        stored_json(spec)["time_limit_minutes"] * 60,
        counted=True,
        pretest_positions=frozenset(stored_json(pretest) or ()),
    )
    return _Kept(
        registration_id, owner_id, sitting_id, prepared_id, drawn, rendered, shown, factor or 1.0
    )


_COLUMNS = (
    "id", "registration_id", "candidate_id", "sitting_id", "blueprint_version_id", "seed", "status",
    "started_at", "time_limit_seconds", "time_factor", "extension_seconds", "paused_seconds",
    "state_version", "receipt_digest", "deadline_at",
)  # fmt: skip
INSERT_ATTEMPT_SQL = (
    f"INSERT INTO attempt ({', '.join(_COLUMNS)}) "  # noqa: S608  (column names only)
    f"VALUES ({', '.join(':' + column for column in _COLUMNS)})"
)
MOVE_ON_SQL = "UPDATE registration SET status = :started WHERE id = :id AND status = :admitted"
REMOVE_KEPT_SQL = "DELETE FROM prepared_form WHERE id = :id"
# The kept form's questions become the attempt's inside the database: no row crosses to
# Python and back. Positions are 1-based; ``pretest_positions`` may be SQL or JSON null.
COPY_QUESTIONS_SQL = {
    "sqlite": """
        INSERT INTO attempt_item
            (attempt_id, position, item_id, item_version_id, option_order, pretest)
        SELECT :attempt_id, j.key + 1, json_extract(j.value, '$[0]'),
               json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'),
               EXISTS (SELECT 1 FROM json_each(p.pretest_positions) t
                       WHERE t.value = j.key + 1)
        FROM prepared_form p, json_each(p.items) j
        WHERE p.id = :prepared_id""",
    "postgresql": """
        INSERT INTO attempt_item
            (attempt_id, position, item_id, item_version_id, option_order, pretest)
        SELECT :attempt_id, j.n, CAST(j.value ->> 0 AS INTEGER),
               CAST(j.value ->> 1 AS INTEGER), j.value -> 2,
               EXISTS (SELECT 1 FROM json_array_elements_text(
                           CASE WHEN json_typeof(p.pretest_positions) = 'array'
                                THEN p.pretest_positions ELSE CAST('[]' AS JSON) END) t(v)
                       WHERE CAST(t.v AS INTEGER) = j.n)
        FROM prepared_form p, json_array_elements(p.items) WITH ORDINALITY AS j(value, n)
        WHERE p.id = :prepared_id""",
}


def _write(db: Database, kept: _Kept) -> Started | None:
    """The short write; ``None``, with nothing written, when the registration or its form
    moved on since the read (turned away, started from another tab)."""
    values = attempt_values(
        kept.drawn, kept.registration_id, kept.candidate_id, kept.sitting_id,
        kept.time_factor, clock.now(),
    )  # fmt: skip
    states = {"started": str(RegistrationStatus.STARTED), "admitted": _STATE_PARAMS["admitted"]}
    with db.write_sessions() as session:
        if raw_write(session, MOVE_ON_SQL, {"id": kept.registration_id, **states}) != 1:
            session.rollback()
            return None
        try:  # an attempt made outside these rules holds the id: the full path decides
            raw_write(session, INSERT_ATTEMPT_SQL, {**values, "status": str(values["status"])})
        except IntegrityError:
            session.rollback()
            return None
        copy = COPY_QUESTIONS_SQL[session.connection().dialect.name]
        copied = raw_write(
            session, copy, {"attempt_id": values["id"], "prepared_id": kept.prepared_id}
        )
        if (
            copied != len(kept.drawn.slots)
            or raw_write(session, REMOVE_KEPT_SQL, {"id": kept.prepared_id}) != 1
        ):
            session.rollback()
            return None
        record_start(session, kept.candidate_id, values["id"], kept.drawn)
        session.commit()
    return Started(Attempt(**values), kept.rendered, kept.shown)
