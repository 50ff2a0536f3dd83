"""Helpers shared by every room's HTML forms."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_wtf import FlaskForm

from core.errors import Problem


def attach_problem(form: FlaskForm, problem: Problem) -> None:
    """Show a service's field errors beside the fields; the rest go to ``form.form_errors``."""
    for error in problem.errors:
        field = getattr(form, error.field, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, error.message]
        else:
            form.form_errors.append(error.message)
    if not problem.errors and problem.detail:
        form.form_errors.append(problem.detail)


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return default
    return target.rstrip("?") or default
