"""The offline answers file. When a candidate's device has lost the network for long, the
exam page seals the answers it holds in a file (AES-GCM under a key derived per attempt from
the server's secret, the attempt's id as associated data), the candidate hands it to the
proctor, and the proctor uploads it in the console. Each answer in it is then saved as any
save is: on that attempt, while it runs and before its deadline, never over an answer
chosen later. Nothing in the file is trusted until it has been opened with the key."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import Session

from core import clock
from core.auth import Actor
from core.errors import FieldError, Problem
from exam.models import Attempt, AttemptStatus, Response, Sitting
from exam.services.admission import require_proctor
from exam.services.option_ids import letters_for
from exam.services.proctoring import log_action
from exam.services.timing import expire_overdue

FORMAT = "csm-offline-answers/1"
MAX_BYTES = 256 * 1024


def attempt_key(secret_key: str, attempt_id: int) -> bytes:
    """The attempt's own 256-bit key: the page seals with it, the server opens with it."""
    message = f"offline-answers:{attempt_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).digest()


def page_key(secret_key: str, attempt_id: int) -> str:
    return base64.urlsafe_b64encode(attempt_key(secret_key, attempt_id)).decode().rstrip("=")


@dataclass(frozen=True)
class Answer:
    position: int
    selected: list[str]
    flagged: bool
    answered_at_ms: int


@dataclass(frozen=True)
class UploadResult:
    attempt_id: int
    candidate_id: int
    saved: list[int]
    kept_newer: list[int]
    refused: list[int]
    reason: str


def _bad(detail: str) -> Problem:
    return Problem(
        422,
        "Not an offline answers file",
        detail,
        errors=[FieldError("file", detail)],
    )


def _b64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise _bad("The file is damaged: a sealed part is missing.")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as error:
        raise _bad("The file is damaged: a sealed part is not readable.") from error


def open_file(secret_key: str, raw: bytes) -> tuple[int, list[Answer]]:
    """The attempt and answers sealed in ``raw``; a 422 naming the file for anything else."""
    if not raw:
        raise _bad("Choose the file the candidate's exam page saved.")
    if len(raw) > MAX_BYTES:
        raise _bad(f"The file is larger than {MAX_BYTES // 1024} KiB: it is not one of ours.")
    try:
        outer = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise _bad("The file is not an offline answers file from the exam page.") from error
    if not isinstance(outer, dict) or outer.get("format") != FORMAT:
        raise _bad("The file is not an offline answers file from the exam page.")
    attempt_id = outer.get("attempt")
    if not isinstance(attempt_id, int) or attempt_id < 1:
        raise _bad("The file names no attempt.")
    iv, data = _b64(outer.get("iv")), _b64(outer.get("data"))
    try:
        plain = AESGCM(attempt_key(secret_key, attempt_id)).decrypt(
            iv, data, str(attempt_id).encode()
        )
        inner = json.loads(plain)
    except (InvalidTag, ValueError) as error:
        raise _bad(
            "The file cannot be opened: it was changed after the exam page saved it, or it "
            "is not from this exam server."
        ) from error
    return attempt_id, _answers(inner)


def _answers(inner: Any) -> list[Answer]:
    rows = inner.get("answers") if isinstance(inner, dict) else None
    if not isinstance(rows, list) or len(rows) > 500:
        raise _bad("The file holds no list of answers.")
    answers = []
    for row in rows:
        try:
            answer = Answer(
                position=int(row["position"]),
                selected=[str(s) for s in row["selected"]][:6],
                flagged=bool(row.get("flagged", False)),
                answered_at_ms=int(row["at"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise _bad("An answer in the file is incomplete.") from error
        answers.append(answer)
    return answers


def upload(
    session: Session, secret_key: str, proctor: Actor, sitting: Sitting, raw: bytes
) -> UploadResult:
    """Save the file's answers on its attempt, which must be in ``sitting``; audited."""
    require_proctor(proctor, sitting)
    attempt_id, answers = open_file(secret_key, raw)
    attempt = session.get(Attempt, attempt_id)
    if attempt is None or attempt.sitting_id != sitting.id:
        raise _bad("The file is for an attempt in another sitting.")
    attempt = expire_overdue(session, attempt)
    now = clock.now()
    positions = {item.position for item in attempt.items}
    saved: list[int] = []
    kept: list[int] = []
    refused: list[int] = []
    running = attempt.status == AttemptStatus.IN_PROGRESS and attempt.deadline_at > now
    now_ms = int(now.timestamp() * 1000)
    for answer in sorted(answers, key=lambda a: a.answered_at_ms):
        if not running or answer.position not in positions:
            refused.append(answer.position)
            continue
        try:
            letters = letters_for(secret_key, attempt.id, answer.position, answer.selected)
        except Problem:
            refused.append(answer.position)
            continue
        order = min(answer.answered_at_ms, now_ms)
        stored = session.get(Response, (attempt.id, answer.position))
        if stored is not None and stored.answer_order is not None and stored.answer_order > order:
            kept.append(answer.position)
            continue
        if stored is None:
            stored = Response(attempt_id=attempt.id, position=answer.position)
            session.add(stored)
        stored.selected, stored.flagged = letters, answer.flagged
        stored.saved_at, stored.answer_order = now, order
        saved.append(answer.position)
    reason = "" if running else f"the attempt is {attempt.status}"
    # In the sitting's log beside the other proctor actions, and audited.
    log_action(
        session,
        proctor,
        attempt,
        "offline_answers_uploaded",
        {"saved": saved, "kept_newer": kept, "refused": refused},
    )
    session.commit()
    return UploadResult(
        attempt.id, attempt.candidate_id, sorted(saved), sorted(kept), sorted(set(refused)), reason
    )
