"""Timed delivery: starting an attempt, what the candidate sees, saving, submitting, expiry.

The browser never sees a key, an item id or a review status. Options carry opaque ids
derived per attempt from the secret key, so a save is checked without reading the
database, and the write itself checks owner, state and deadline in one statement.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, clock
from core.auth import Principal
from core.db import Database
from core.errors import FieldError, Problem
from exam.assembly import LETTERS, AreaRule, Form, PoolItem, assemble
from exam.grading import grade
from exam.models import Attempt, AttemptEvent, AttemptItem, ItemExposure, Registration, Response
from exam.rules import area_rules
from exam.sittings import approved_time_factor
from item_bank.models import BlueprintVersion, FrameworkNode, Item, ItemEnemy, ItemVersion

OPEN_STATES = ("in_progress", "paused")
CLIENT_EVENTS = (
    "tab_hidden",
    "tab_visible",
    "window_blur",
    "window_focus",
    "fullscreen_exit",
    "copy",
    "paste",
)


def _not_found() -> Problem:
    return Problem(404, "No such attempt", "There is no such attempt.")


# ---- opaque option ids ----------------------------------------------


def _option_key(secret_key: str) -> bytes:
    return hashlib.sha256(b"option-id:" + secret_key.encode()).digest()


def option_id(secret_key: str, attempt_id: int, position: int, letter: str) -> str:
    """The id the browser sees for one option: opaque, and different in every attempt."""
    mac = hmac.new(
        _option_key(secret_key), f"{attempt_id}:{position}:{letter}".encode(), hashlib.sha256
    )
    return base64.b32encode(mac.digest()[:10]).decode().lower()


def letters_for(secret_key: str, attempt_id: int, position: int, ids: list[str]) -> list[str]:
    """The authored letters behind the browser's ids; an unknown id is a 422."""
    known = _ids_of(secret_key, attempt_id, position)
    unknown = [value for value in ids if value not in known]
    if unknown:
        raise Problem(
            422,
            "Unknown option",
            "An option id does not belong to this question.",
            errors=[FieldError("selected", "Unknown option id.")],
        )
    return sorted({known[value] for value in ids})


@lru_cache(maxsize=16384)
def _ids_of(secret_key: str, attempt_id: int, position: int) -> dict[str, str]:
    """Every option id of one question (remembered: each question is saved many times)."""
    return {option_id(secret_key, attempt_id, position, letter): letter for letter in LETTERS}


# ---- starting ----------------------------------------------


# Banks up to this size are read whole, so every rule holds exactly; larger banks are
# sampled per competency at a random point of ``draw_key`` (an index seek each), which
# keeps a start fast however large the bank grows.
FULL_POOL_LIMIT = 4000
SAMPLE_FACTOR = 6


def _pool_query(framework_id: int) -> Any:
    return (
        select(
            ItemVersion.item_id,
            ItemVersion.id,
            ItemVersion.primary_code,
            func.json_array_length(ItemVersion.options),
            ItemVersion.type,
            func.coalesce(ItemExposure.forms, 0),
        )
        .join(Item, Item.id == ItemVersion.item_id)
        .outerjoin(ItemExposure, ItemExposure.item_id == ItemVersion.item_id)
        .where(ItemVersion.status == "approved", Item.framework_id == framework_id)
    )


SAMPLE_SQL = """
    SELECT iv.item_id, iv.id, iv.primary_code, json_array_length(iv.options), iv.type,
           COALESCE(e.forms, 0)
    FROM item_version iv
    JOIN item i ON i.id = iv.item_id
    LEFT JOIN item_exposure e ON e.item_id = iv.item_id
    WHERE iv.status = 'approved' AND iv.primary_code = :code AND i.framework_id = :framework
      AND iv.draw_key {op} :start
    ORDER BY iv.draw_key
    LIMIT :n
"""
SAMPLE_FROM = text(SAMPLE_SQL.format(op=">="))
SAMPLE_BEFORE = text(SAMPLE_SQL.format(op="<"))


def _sampled_rows(
    session: Session,
    framework_id: int,
    areas: list[AreaRule],
    leaves: dict[str, list[str]],
    rng: random.Random,
) -> list[Any]:
    """A few times each sub-area's share, taken per competency from a random point of the
    draw keys (each read is one index seek; past the last key it wraps to the first)."""
    rows: list[Any] = []
    for area in areas:
        subareas = area.subareas or (area.code,)
        share = -(-area.items // len(subareas))
        for sub in subareas:
            codes = leaves.get(sub, [sub])
            per_leaf = -(-share * SAMPLE_FACTOR // len(codes)) + 2
            for code in codes:
                params = {
                    "code": code,
                    "framework": framework_id,
                    "start": rng.random(),
                    "n": per_leaf,
                }
                found = session.execute(SAMPLE_FROM, params).all()
                if len(found) < per_leaf:
                    found += session.execute(
                        SAMPLE_BEFORE, {**params, "n": per_leaf - len(found)}
                    ).all()
                rows += found
    return rows


def load_pool(
    session: Session,
    framework_id: int,
    candidate_id: int,
    areas: list[AreaRule] | None = None,
    rng: random.Random | None = None,
) -> tuple[list[PoolItem], dict[int, set[int]]]:
    """Approved items with their exposure and when this candidate last saw them.

    A large bank gives a random sample of several times what each sub-area needs.
    """
    last_seen = dict(
        session.execute(
            select(AttemptItem.item_id, func.max(Attempt.started_at))
            .join(Attempt, Attempt.id == AttemptItem.attempt_id)
            .where(Attempt.candidate_id == candidate_id)
            .group_by(AttemptItem.item_id)
        ).all()
    )
    probe = (
        select(ItemVersion.id).where(ItemVersion.status == "approved").limit(FULL_POOL_LIMIT + 1)
    )
    large = len(session.scalars(probe).all()) > FULL_POOL_LIMIT
    if areas is None or not large:
        rows = session.execute(_pool_query(framework_id)).all()
    else:
        leaves = _leaves_by_subarea(session, framework_id)
        rows = _sampled_rows(session, framework_id, areas, leaves, rng or random.Random())  # noqa: S311
    unique = {row[0]: row for row in rows}
    pool = [
        PoolItem(
            item_id,
            version_id,
            code,
            count,
            kind,
            exposure,
            clock.as_utc(last_seen[item_id]) if item_id in last_seen else None,
        )
        for item_id, version_id, code, count, kind, exposure in unique.values()
    ]
    ids = set(unique)
    enemies: dict[int, set[int]] = {}
    pairs = select(ItemEnemy.item_id, ItemEnemy.enemy_id)
    if large:
        pairs = pairs.where(ItemEnemy.item_id.in_(ids) | ItemEnemy.enemy_id.in_(ids))
    for low, high in session.execute(pairs).all():
        enemies.setdefault(low, set()).add(high)
        enemies.setdefault(high, set()).add(low)
    return pool, enemies


def _leaves_by_subarea(session: Session, framework_id: int) -> dict[str, list[str]]:
    """Leaf competency codes under every node, by the node's code."""
    codes = session.scalars(
        select(FrameworkNode.code).where(
            FrameworkNode.framework_id == framework_id, FrameworkNode.kind == "competency"
        )
    ).all()
    under: dict[str, list[str]] = {}
    for code in codes:
        parts = code.split(".")
        for depth in range(1, len(parts)):
            under.setdefault(".".join(parts[:depth]), []).append(code)
    return under


def _forms_so_far(session: Session, blueprint_id: int) -> int:
    query = (
        select(func.count())
        .select_from(Attempt)
        .join(BlueprintVersion, BlueprintVersion.id == Attempt.blueprint_version_id)
        .where(BlueprintVersion.blueprint_id == blueprint_id)
    )
    return session.scalar(query) or 0


def attempt_for_registration(session: Session, registration_id: int) -> Attempt | None:
    return session.scalars(
        select(Attempt).where(Attempt.registration_id == registration_id)
    ).one_or_none()


@dataclass(frozen=True)
class Draw:
    """A form drawn for a registration, not yet stored."""

    form: Form
    seed: int
    version_id: int
    version_number: int
    time_limit_seconds: int


def _check_startable(registration: Registration, candidate_id: int) -> None:
    if registration.candidate_id != candidate_id:
        raise Problem(404, "No such registration", "")
    sitting, now = registration.sitting, clock.now()
    if registration.status != "admitted":
        raise Problem(409, "Not admitted yet", "Wait until the proctor admits you, then start.")
    if sitting.cancelled or not (sitting.opens_at <= now < sitting.closes_at):
        raise Problem(
            409,
            "Outside the window",
            "This sitting can be started only between the ends of its window: "
            f"{clock.format_window(sitting.opens_at, sitting.closes_at)}.",
        )


def _draw(session: Session, registration: Registration) -> Draw:
    sitting = registration.sitting
    version = session.scalars(
        select(BlueprintVersion)
        .where(BlueprintVersion.blueprint_id == sitting.blueprint_id)
        .order_by(BlueprintVersion.number.desc())
        .limit(1)
    ).one()
    spec = version.spec
    framework_id = version.blueprint.framework_id
    seed = secrets.randbits(62)
    rules = area_rules(session, spec, framework_id)
    sampler = random.Random(seed)  # noqa: S311  (sampling, not secrecy)
    pool, enemies = load_pool(session, framework_id, registration.candidate_id, rules, sampler)
    form = assemble(
        rules,
        pool,
        seed=seed,
        enemies=enemies,
        forms_so_far=_forms_so_far(session, sitting.blueprint_id),
        exposure_cap_percent=spec.get("exposure_cap_percent", 100),
    )
    return Draw(form, seed, version.id, version.number, spec["time_limit_minutes"] * 60)


def start_attempt(db: Database, candidate_id: int, registration_id: int) -> int:
    """Draw a form and start the clock; starting again returns the same attempt's id.

    The draw reads on a read-only session; only the short insert takes the write lock,
    so a room of candidates pressing start together is not served one draw at a time.
    """
    with db.read_sessions() as session:
        registration = session.get(Registration, registration_id)
        if registration is None:
            raise Problem(404, "No such registration", "")
        existing = attempt_for_registration(session, registration_id)
        if existing is not None and registration.candidate_id == candidate_id:
            return existing.id
        _check_startable(registration, candidate_id)
        drawn = _draw(session, registration)
    with db.write_sessions() as session:
        registration = session.get(Registration, registration_id)
        assert registration is not None
        existing = attempt_for_registration(session, registration_id)
        if existing is not None:
            return existing.id
        _check_startable(registration, candidate_id)
        try:
            return _store_attempt(session, registration, drawn)
        except IntegrityError:  # PostgreSQL: the same start won in another transaction
            session.rollback()
            existing = attempt_for_registration(session, registration_id)
            if existing is None:
                raise
            return existing.id


def _store_attempt(session: Session, registration: Registration, drawn: Draw) -> int:
    now = clock.now()
    attempt = Attempt(
        registration_id=registration.id,
        candidate_id=registration.candidate_id,
        sitting_id=registration.sitting_id,
        blueprint_version_id=drawn.version_id,
        seed=drawn.seed,
        status="in_progress",
        started_at=now,
        time_limit_seconds=drawn.time_limit_seconds,
        time_factor=approved_time_factor(registration),
        extension_seconds=0,
        paused_seconds=0,
        state_version=1,
    )
    attempt.deadline_at = attempt.compute_deadline()
    attempt.items = _attempt_items(drawn.form)
    registration.status = "started"
    session.add(attempt)
    session.flush()
    _count_exposure(session, drawn.form, now)
    audit.record(
        session,
        actor_id=registration.candidate_id,
        action="attempt.started",
        object_type="attempt",
        object_id=attempt.id,
        after={"blueprint_version": drawn.version_number, "items": len(drawn.form.items)},
    )
    session.commit()
    return attempt.id


def _attempt_items(form: Form) -> list[AttemptItem]:
    return [
        AttemptItem(
            position=position,
            item_id=drawn.item.item_id,
            item_version_id=drawn.item.version_id,
            option_order=list(drawn.option_order),
        )
        for position, drawn in enumerate(form.items, start=1)
    ]


def _count_exposure(session: Session, form: Form, now: datetime) -> None:
    """One more form for each item: an upsert, so starts that share an item never collide."""
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    for item_id in sorted(form.item_ids):
        statement = insert(ItemExposure).values(item_id=item_id, forms=1, last_used_at=now)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["item_id"],
                set_={"forms": ItemExposure.forms + 1, "last_used_at": now},
            )
        )


# ---- the clock ----------------------------------------------


def seconds_left(attempt: Attempt) -> int:
    if attempt.finished:
        return 0
    now = attempt.paused_at if attempt.status == "paused" and attempt.paused_at else clock.now()
    return max(0, int((attempt.deadline_at - now).total_seconds()))


def finalise_if_due(session: Session, attempt: Attempt) -> Attempt:
    """An attempt whose deadline has passed is finished as expired, at its deadline.

    Written through a session of its own that takes the write lock first, so a page that
    only reads (a read-only session) can finish an attempt without a lock upgrade.
    """
    if attempt.status == "in_progress" and clock.now() >= attempt.deadline_at:
        bind = session.get_bind()
        if bind.dialect.name != "sqlite" or bind.get_execution_options().get("sqlite_begin"):
            finish_attempt(session, attempt, "expired", attempt.deadline_at)
            session.commit()
            return attempt
        with Session(
            bind=bind.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False
        ) as writer:
            fresh = writer.get(Attempt, attempt.id)
            if fresh is not None and fresh.status == "in_progress":
                finish_attempt(writer, fresh, "expired", fresh.deadline_at)
            writer.commit()
        session.commit()  # end this session's snapshot so it sees the finished attempt
        session.refresh(attempt)
    return attempt


def _responses(session: Session, attempt_id: int) -> list[Response]:
    return list(
        session.scalars(
            select(Response).where(Response.attempt_id == attempt_id).order_by(Response.position)
        )
    )


def receipt_digest(responses: list[Response]) -> str:
    canonical = json.dumps(
        [[r.position, sorted(r.selected), r.flagged] for r in responses], separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def finish_attempt(session: Session, attempt: Attempt, status: str, at: datetime) -> bool:
    """Finish once: the conditional update lets exactly one racing request win.

    The row lock comes first (PostgreSQL; SQLite's write lock already covers it) so no
    save lands between the digest and the status change.
    """
    session.execute(select(Attempt.id).where(Attempt.id == attempt.id).with_for_update())
    digest = receipt_digest(_responses(session, attempt.id))
    result = session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status.in_(OPEN_STATES))
        .values(
            status=status,
            finished_at=at,
            receipt_digest=digest,
            state_version=Attempt.state_version + 1,
            result="void" if status == "terminated" else None,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(attempt)
    if result.rowcount != 1:
        return False
    grade(session, attempt)
    return True


def expire_due(session: Session) -> int:
    """Finish every attempt whose deadline passed (``flask attempts expire``)."""
    due = session.scalars(
        select(Attempt).where(Attempt.status == "in_progress", Attempt.deadline_at <= clock.now())
    ).all()
    finished = sum(
        finish_attempt(session, attempt, "expired", attempt.deadline_at) for attempt in due
    )
    session.commit()
    return finished


# ---- what the candidate sees ----------------------------------------------


def get_own_attempt(session: Session, candidate_id: int, attempt_id: int) -> Attempt:
    """The candidate's own attempt; anyone else's is a 404, not a 403."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is None or attempt.candidate_id != candidate_id:
        raise _not_found()
    return finalise_if_due(session, attempt)


@dataclass(frozen=True)
class ShownOption:
    id: str
    text: str


@dataclass(frozen=True)
class ShownQuestion:
    position: int
    type: str
    stem: str
    choose: int | None
    options: list[ShownOption]
    selected: list[str]
    flagged: bool


def questions(session: Session, attempt: Attempt, secret_key: str) -> list[ShownQuestion]:
    """The form in the candidate's order, with opaque option ids and saved answers."""
    rows = session.execute(
        select(AttemptItem, ItemVersion)
        .join(ItemVersion, ItemVersion.id == AttemptItem.item_version_id)
        .where(AttemptItem.attempt_id == attempt.id)
        .order_by(AttemptItem.position)
    ).all()
    saved = {r.position: r for r in _responses(session, attempt.id)}
    shown = []
    for slot, version in rows:
        response = saved.get(slot.position)
        ids = {
            letter: option_id(secret_key, attempt.id, slot.position, letter)
            for letter in slot.option_order
        }
        shown.append(
            ShownQuestion(
                position=slot.position,
                type=version.type,
                stem=version.stem,
                choose=version.choose,
                options=[
                    ShownOption(ids[letter], version.options[LETTERS.index(letter)])
                    for letter in slot.option_order
                ],
                selected=[
                    ids[letter]
                    for letter in (response.selected if response else [])
                    if letter in ids
                ],
                flagged=bool(response and response.flagged),
            )
        )
    return shown


def state(attempt: Attempt) -> dict[str, Any]:
    """The part of an attempt the page polls: cheap, and without any content."""
    return {
        "id": attempt.id,
        "status": attempt.status,
        "deadline": attempt.deadline_at.isoformat(),
        "seconds_left": seconds_left(attempt),
        "state_version": attempt.state_version,
        "receipt": {
            "finished_at": attempt.finished_at.isoformat(),
            "digest": attempt.receipt_digest,
        }
        if attempt.finished and attempt.finished_at
        else None,
    }


# ---- saving and submitting ----------------------------------------------

SAVE_SQL = """
    INSERT INTO response (attempt_id, position, selected, flagged, saved_at)
    SELECT a.id, ai.position, {selected}, :flagged, :now
    FROM attempt a
    JOIN attempt_item ai ON ai.attempt_id = a.id AND ai.position = :position
    JOIN user_account u ON u.id = a.candidate_id AND u.session_version = :session_version
      AND u.active
    {sign_in}
    WHERE a.id = :attempt_id AND a.candidate_id = :candidate_id
      AND a.status = 'in_progress' AND a.deadline_at > :now
    {lock}
    ON CONFLICT (attempt_id, position)
    DO UPDATE SET selected = excluded.selected, flagged = excluded.flagged,
                  saved_at = excluded.saved_at
"""


@cache
def _save_sql(dialect: str, browser: bool) -> str:
    sign_in = (
        "JOIN sign_in_session s ON s.id = :sign_in AND s.user_id = u.id AND s.ended_at IS NULL"
        if browser
        else ""
    )
    if dialect == "postgresql":
        # Wait for a finishing submit's row lock, then see its new status.
        return SAVE_SQL.format(
            selected="CAST(:selected AS JSON)", lock="FOR SHARE OF a", sign_in=sign_in
        )
    return SAVE_SQL.format(selected=":selected", lock="", sign_in=sign_in)


def save_response(
    db: Database,
    secret_key: str,
    principal: Principal,
    attempt_id: int,
    position: int,
    selected_ids: list[str],
    flagged: bool,
) -> datetime:
    """Save one answer in one autocommitted statement that also checks the caller's session,
    the attempt's owner, its state and its deadline: one round trip, no read first.

    Saving the same answer twice is harmless, and two racing saves leave one row.
    """
    letters = letters_for(secret_key, attempt_id, position, selected_ids)
    now = clock.now()
    params = {
        "selected": json.dumps(letters),
        "flagged": flagged,
        "now": now,
        "position": position,
        "attempt_id": attempt_id,
        "candidate_id": principal.user_id,
        "session_version": principal.session_version,
    }
    browser = principal.sign_in_id is not None
    if browser:
        params["sign_in"] = principal.sign_in_id
    if db.single_statement(_save_sql(db.engine.dialect.name, browser), params) == 1:
        return now
    with db.read_sessions() as session:
        raise _why_not_saved(session, principal, attempt_id, position)


def _why_not_saved(
    session: Session, principal: Principal, attempt_id: int, position: int
) -> Problem:
    from accounts.services import user_for_session

    alive = user_for_session(
        session, principal.user_id, principal.session_version, principal.sign_in_id
    )
    if alive is None:
        return Problem(401, "Signed out", "Your session has ended; sign in again to continue.")
    attempt = get_own_attempt(session, principal.user_id, attempt_id)
    if attempt.status == "paused":
        return Problem(
            409,
            "Paused",
            "The proctor has paused your exam; your answer was not saved. "
            "It will be saved when the exam resumes.",
            slug="attempt-paused",
        )
    if attempt.finished:
        return Problem(
            409,
            "The exam has ended",
            f"This exam was {attempt.status} at "
            f"{clock.format_moment(attempt.finished_at, seconds=True)}; "
            "answers can no longer change.",
            slug="attempt-finished",
        )
    return Problem(
        422,
        "No such question",
        f"There is no question {position} on this form.",
        errors=[FieldError("position", "Not on this form.")],
    )


def submit(session: Session, candidate_id: int, attempt_id: int) -> Attempt:
    """Hand in the attempt; submitting again, or from a second tab, changes nothing."""
    attempt = get_own_attempt(session, candidate_id, attempt_id)
    if attempt.status == "paused":
        raise Problem(409, "Paused", "The proctor has paused your exam; submit when it resumes.")
    if not attempt.finished and finish_attempt(session, attempt, "submitted", clock.now()):
        audit.record(
            session,
            actor_id=candidate_id,
            action="attempt.submitted",
            object_type="attempt",
            object_id=attempt.id,
            after={"digest": attempt.receipt_digest},
        )
    session.commit()
    return attempt


def record_client_event(
    session: Session, candidate_id: int, attempt_id: int, kind: str, detail: str
) -> None:
    attempt = get_own_attempt(session, candidate_id, attempt_id)
    if kind not in CLIENT_EVENTS:
        raise Problem(
            422,
            "Unknown event",
            f"Event kinds: {', '.join(CLIENT_EVENTS)}.",
            errors=[FieldError("kind", "Unknown event.")],
        )
    if attempt.finished:
        return
    session.add(
        AttemptEvent(
            attempt_id=attempt.id,
            kind=kind,
            detail={"detail": detail[:500]} if detail else {},
            occurred_at=clock.now(),
        )
    )
    session.commit()


def answered_count(session: Session, attempt_id: int) -> int:
    return sum(
        1
        for selected in session.scalars(
            select(Response.selected).where(Response.attempt_id == attempt_id)
        )
        if selected
    )
