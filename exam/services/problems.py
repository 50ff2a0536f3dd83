"""Problems the exam's rules raise in more than one place."""

from __future__ import annotations

from core.errors import FieldError, Problem


def invalid(field: str, message: str) -> Problem:
    """A 422 naming the one field that needs attention."""
    return Problem(
        422,
        "Some fields need attention",
        message,
        errors=[FieldError(field, message)],
        slug="validation",
    )


def no_registration() -> Problem:
    return Problem(404, "No such registration", "")


def required_text(text: str, field: str, limit: int, hint: str) -> str:
    """``text`` stripped, or a 422 when it is empty or longer than ``limit``."""
    text = text.strip()
    if not text or len(text) > limit:
        raise Problem(422, "Reason needed", hint, errors=[FieldError(field, "Required.")])
    return text


def attempt_paused(detail: str) -> Problem:
    """A 409 that names the attempt's state, so a page or client can tell a pause apart."""
    return Problem(409, "Paused", detail, slug="attempt-paused", extra={"attempt_status": "paused"})
