"""Request handling both faces share (the exam page's JSON and the API), so the two
cannot drift apart: each parses the same body and calls the same service."""

from __future__ import annotations

from flask import Response, current_app

from core.api import parse_json, respond
from core.auth import require_principal
from core.db import get_db
from exam.responses import SavedAnswer
from exam.schemas import ResponseRequest
from exam.services import answers


def autosave(attempt_id: int, position: int) -> Response:
    """Save one answer: one statement that checks the caller, the attempt and the deadline."""
    principal = require_principal()
    body = parse_json(ResponseRequest)
    saved_at = answers.save_response(
        get_db(),
        current_app.config["SECRET_KEY"],
        principal,
        attempt_id,
        position,
        body.selected,
        body.flagged,
        body.answered_at,
    )
    return respond(SavedAnswer(position=position, saved_at=saved_at))
