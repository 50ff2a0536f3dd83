"""Saving an answer: one autocommitted statement that also checks the caller's session, the
attempt's owner, its state and its deadline (no read first: the hot path of an exam).

Each save carries the moment its answer was chosen (``answer_order``): the exam page queues
answers made offline and replays them later, and a replay older than the stored answer
leaves that answer as it is."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache

from sqlalchemy.orm import Session

from core import clock
from core.auth import Principal
from core.db import Database
from core.errors import FieldError, Problem
from exam.models import AttemptStatus
from exam.services.delivery import require_own_attempt
from exam.services.option_ids import letters_for
from exam.services.problems import attempt_paused
from exam.services.timing import expire_overdue

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

SAVE_SQL = """
    INSERT INTO response (attempt_id, position, selected, flagged, saved_at, answer_order)
    SELECT a.id, ai.position, {selected}, :flagged, :now, :answer_order
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
                  saved_at = excluded.saved_at, answer_order = excluded.answer_order
    WHERE response.answer_order IS NULL OR response.answer_order <= excluded.answer_order
"""


@cache
def _save_sql(dialect: str, browser: bool) -> str:
    sign_in = (
        "JOIN sign_in_session s ON s.id = :sign_in AND s.user_id = u.id AND s.ended_at IS NULL"
        " AND s.created_at > :signed_in_after"
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
    answered_at_ms: int | None = None,
) -> datetime:
    """Save one answer in one autocommitted statement that also checks the caller's session,
    the attempt's owner, its state and its deadline: one round trip, no read first.

    ``answered_at_ms`` is when the answer was chosen (ms since the epoch, on the server's
    clock as the page measured it; now when not given, and never later than now). A save
    chosen before the stored answer changes nothing and still succeeds: the newer answer
    stands. Saving the same answer twice is harmless, and two racing saves leave one row.
    """
    letters = letters_for(secret_key, attempt_id, position, selected_ids)
    now = clock.now()
    now_ms = int(now.timestamp() * 1000)
    order = now_ms if answered_at_ms is None else min(answered_at_ms, now_ms)
    params = {
        "selected": json.dumps(letters),
        "flagged": flagged,
        "now": now,
        "answer_order": order,
        "position": position,
        "attempt_id": attempt_id,
        "candidate_id": principal.user_id,
        "session_version": principal.session_version,
    }
    browser = principal.sign_in_id is not None
    if browser:
        params["sign_in"] = principal.sign_in_id
        params["signed_in_after"] = principal.signed_in_after or EPOCH
    if db.single_statement(_save_sql(db.engine.dialect.name, browser), params) == 1:
        return now
    with db.read_sessions() as session:
        problem = _why_not_saved(session, principal, attempt_id, position)
    if problem is not None:
        raise problem
    return now


def _why_not_saved(
    session: Session, principal: Principal, attempt_id: int, position: int
) -> Problem | None:
    """Why the save changed nothing, or ``None`` when a newer answer is already stored."""
    from accounts.services import user_for_session

    alive = user_for_session(
        session,
        principal.user_id,
        principal.session_version,
        principal.sign_in_id,
        principal.signed_in_after,
    )
    if alive is None:
        return Problem(401, "Signed out", "Your session has ended; sign in again to continue.")
    attempt = expire_overdue(session, require_own_attempt(session, principal.user_id, attempt_id))
    if attempt.status == AttemptStatus.PAUSED:
        return attempt_paused(
            "The proctor has paused your exam and your time is stopped; no answer is "
            "saved until the proctor resumes it. Answers saved before the pause are kept."
        )
    if attempt.finished:
        return Problem(
            409,
            "The exam has ended",
            f"This exam was {attempt.status} at "
            f"{clock.format_moment(attempt.finished_at or attempt.deadline_at, seconds=True)}; "
            "answers can no longer change.",
            slug="attempt-finished",
        )
    if any(item.position == position for item in attempt.items):
        return None  # the stored answer was chosen later than this one: it stands
    return Problem(
        422,
        "No such question",
        f"There is no question {position} on this form.",
        errors=[FieldError("position", "Not on this form.")],
    )
