"""Graded attempts whose answers follow the Rasch model, written in bulk.

Each simulated candidate answers a random form of ``form_length`` approved item versions
(the sparse design of forms drawn per candidate); the answer is the key with the model's
probability, else a wrong option. The attempts are then graded by the app's grading.
Used by the psychometric tests and by ``bench/calibration.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from accounts.models import User
from core import clock
from exam.models import Attempt, AttemptItem, Registration, Response, Sitting
from exam.services.grading import grade_many
from item_bank import blueprints
from item_bank.models import ItemStatus, ItemVersion


def approved_versions(session: Session) -> list[tuple[int, int, list[str], int]]:
    """(version id, item id, keys, option count) of every approved version, by id."""
    return [
        (vid, item_id, list(keys), len(options))
        for vid, item_id, keys, options in session.execute(
            select(ItemVersion.id, ItemVersion.item_id, ItemVersion.keys, ItemVersion.options)
            .where(ItemVersion.status == ItemStatus.APPROVED)
            .order_by(ItemVersion.id)
        ).all()
    ]


def seed_attempts(
    session: Session,
    *,
    abilities: Sequence[float],
    difficulty: dict[int, float],
    form_length: int,
    rng: np.random.Generator,
    shift: dict[int, tuple[int, float]] | None = None,
    groups: Sequence[int] | None = None,
    prefix: str = "sim",
) -> list[int]:
    """One graded attempt per ability; ``difficulty`` maps version ids to logits (the
    versions drawn from). ``shift`` makes an item harder by ``delta`` for persons of
    ``group`` (version id -> (group, delta)): differential functioning to find.
    Returns the attempts' ids in the order of ``abilities``; commits."""
    now = clock.now()
    blueprint = blueprints.get_blueprint(session, "first-level")
    versions = {v[0]: v for v in approved_versions(session)}
    pool = sorted(difficulty)
    size = len(abilities)
    start = session.scalar(select(User.id).order_by(User.id.desc()).limit(1)) or 0
    session.execute(
        insert(User.__table__),
        [
            {
                "email": f"{prefix}{n}@example.org",
                "email_key": f"{prefix}{n}@example.org",
                "given_name": "Simulated",
                "family_name": f"Candidate {n}",
                "password_hash": "x",
                "active": True,
                "session_version": 1,
                "created_at": now,
            }
            for n in range(size)
        ],
    )
    user_ids = list(session.scalars(select(User.id).where(User.id > start).order_by(User.id)))
    sitting_id = session.execute(
        insert(Sitting.__table__).returning(Sitting.__table__.c.id),
        [
            {
                "blueprint_id": blueprint.id,
                "title": f"Simulated {prefix}",
                "opens_at": now - timedelta(hours=3),
                "closes_at": now + timedelta(hours=3),
                "capacity": size,
                "mode": "online",
                "location": "",
                "created_at": now,
                "revision": 1,
            }
        ],
    ).scalar_one()
    session.execute(
        insert(Registration.__table__),
        [
            {
                "sitting_id": sitting_id,
                "candidate_id": uid,
                "status": "started",
                "registered_at": now,
                "identity_check": "",
                "turned_away_reason": "",
            }
            for uid in user_ids
        ],
    )
    registrations = dict(
        session.execute(
            select(Registration.candidate_id, Registration.id).where(
                Registration.sitting_id == sitting_id
            )
        ).all()
    )
    session.execute(
        insert(Attempt.__table__),
        [
            {
                "registration_id": registrations[uid],
                "candidate_id": uid,
                "sitting_id": sitting_id,
                "blueprint_version_id": blueprint.current.id,
                "seed": n,
                "status": "submitted",
                "started_at": now - timedelta(minutes=90),
                "time_limit_seconds": 5400,
                "time_factor": 1.0,
                "extension_seconds": 0,
                "paused_seconds": 0,
                "deadline_at": now,
                "finished_at": now,
                "receipt_digest": "",
                "state_version": 2,
            }
            for n, uid in enumerate(user_ids)
        ],
    )
    attempt_of = dict(
        session.execute(
            select(Attempt.candidate_id, Attempt.id).where(Attempt.sitting_id == sitting_id)
        ).all()
    )
    attempt_ids = [attempt_of[uid] for uid in user_ids]
    items, answers = [], []
    for n, attempt_id in enumerate(attempt_ids):
        form = rng.choice(len(pool), size=form_length, replace=False)
        draws = rng.random(form_length)
        for position, (index, draw) in enumerate(zip(form, draws, strict=True), start=1):
            vid = pool[index]
            _vid, item_id, keys, options = versions[vid]
            b = difficulty[vid]
            if shift and vid in shift and groups is not None and groups[n] == shift[vid][0]:
                b += shift[vid][1]
            right = draw < 1.0 / (1.0 + math.exp(-(abilities[n] - b)))
            letters = "ABCDEF"[:options]
            chosen = keys if right else [next(x for x in letters if x not in keys)]
            items.append(
                {
                    "attempt_id": attempt_id,
                    "position": position,
                    "item_id": item_id,
                    "item_version_id": vid,
                    "option_order": list(letters),
                }
            )
            answers.append(
                {
                    "attempt_id": attempt_id,
                    "position": position,
                    "selected": chosen,
                    "flagged": False,
                    "saved_at": now - timedelta(minutes=90 - position),
                }
            )
    for at in range(0, len(items), 20000):
        session.execute(insert(AttemptItem.__table__), items[at : at + 20000])
        session.execute(insert(Response.__table__), answers[at : at + 20000])
    attempts = list(session.scalars(select(Attempt).where(Attempt.id.in_(attempt_ids))))
    grade_many(session, attempts)
    session.commit()
    return attempt_ids


def simulated_bank(
    session: Session,
    *,
    persons: int,
    seed: int,
    spread: float = 1.0,
    prefix: str = "sim",
) -> dict[int, float]:
    """``persons`` graded attempts (abilities around 0.5) on forms of 60 from every approved
    version, whose difficulties are drawn with SD ``spread``; those difficulties."""
    rng = np.random.default_rng(seed)
    versions = [v[0] for v in approved_versions(session)]
    truth = dict(zip(versions, rng.normal(0, spread, len(versions)).tolist(), strict=True))
    seed_attempts(session, abilities=rng.normal(0.5, 1.0, persons).tolist(), difficulty=truth,
                  form_length=60, rng=rng, prefix=prefix)  # fmt: skip
    return truth
