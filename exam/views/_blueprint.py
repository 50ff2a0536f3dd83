"""The exam room's one HTML blueprint and the little every audience's pages share."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, url_for
from werkzeug.wrappers import Response

from core import duties
from core.errors import Problem

bp = Blueprint("exam", __name__)


def back_with(problem: Problem, endpoint: str = "exam.my_exams", **values: Any) -> Response:
    """Back to the page the form was on, with the problem said at the top; a refusal on
    separation of duties is a page of its own (403), as a missing role is."""
    if problem.slug == duties.SLUG:
        raise problem
    flash(problem.detail, "error")
    return redirect(url_for(endpoint, **values), 303)


def require_valid(form: Any) -> None:
    """A posted form whose CSRF token or hidden fields are wrong is a 400."""
    if not form.validate_on_submit():
        abort(400)


def json_errors() -> None:
    """The pages' own JSON endpoints answer errors as problem+json."""
    g.wants_problem_json = True
