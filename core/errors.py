"""Error responses: HTML pages for people, RFC 9457 problem+json under ``/api/``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://csm-certify.example/problems/"

# What a person is told on the HTML page for each status.
FRIENDLY: dict[int, tuple[str, str]] = {
    400: ("Something in the request was not right", "Check what you sent and try again."),
    401: ("Please sign in", "You need to sign in to see this page."),
    403: ("Not allowed", "Your account does not have permission for this page."),
    404: ("Page not found", "The page you asked for does not exist or has moved."),
    405: ("Not allowed here", "This address does not accept that kind of request."),
    409: ("That clashes with a change already made", "Reload the page to see where it stands."),
    413: ("Too large", "What you sent is larger than we accept."),
    415: ("Unsupported content type", "Send the data in a format this address accepts."),
    422: ("Some fields need attention", "Correct the fields named below and try again."),
    429: ("Too many attempts", "Please wait a little before trying again."),
    500: ("Something went wrong on our side", "Your data is safe. Please try again in a moment."),
}


@dataclass
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class Problem(Exception):
    """An error with a status, a title, a detail and optional per-field errors.

    Raised by services and views alike; rendered as problem+json under the API
    and as an error page elsewhere.
    """

    status: int
    title: str
    detail: str = ""
    errors: list[FieldError] = field(default_factory=list)
    slug: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"


def wants_problem_json() -> bool:
    return request.path.startswith("/api/") or bool(g.get("wants_problem_json"))


def problem_response(problem: Problem) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (problem.slug or str(problem.status)),
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.path,
    }
    if problem.errors:
        body["errors"] = [error.as_dict() for error in problem.errors]
    body.update(problem.extra)
    response = jsonify(body)
    response.status_code = problem.status
    response.content_type = PROBLEM_JSON
    response.headers.update(problem.headers)
    return response


def html_error_response(problem: Problem) -> Response:
    title, advice = FRIENDLY.get(problem.status, FRIENDLY[500 if problem.status >= 500 else 400])
    html = render_template(
        "errors/error.html",
        status=problem.status,
        title=problem.title or title,
        detail=problem.detail or advice,
        errors=problem.errors,
    )
    response = Response(html, status=problem.status, mimetype="text/html")
    response.headers.update(problem.headers)
    return response


def render_problem(problem: Problem) -> Response:
    return problem_response(problem) if wants_problem_json() else html_error_response(problem)


def _from_http_exception(exc: HTTPException) -> Problem:
    status = exc.code or 500
    default_title = FRIENDLY.get(status, (exc.name, ""))[0]
    headers = {
        key: value
        for key, value in exc.get_headers()
        if key.lower() not in {"content-type", "content-length"}
    }
    detail = exc.description or ""
    if isinstance(exc, CSRFError):
        detail = (
            "The form was missing its security token or the token had expired. "
            "Go back, reload the page and send it again."
        )
    if status == 429 and not detail.startswith("Too many"):
        detail = f"Too many requests ({exc.description}). Please wait and try again."
    return Problem(status=status, title=default_title, detail=detail, headers=headers)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(problem: Problem) -> Response:
        return render_problem(problem)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        if exc.code is None:
            return exc  # type: ignore[return-value]  # a routing redirect
        return render_problem(_from_http_exception(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        title, advice = FRIENDLY[500]
        return render_problem(Problem(status=InternalServerError.code, title=title, detail=advice))
