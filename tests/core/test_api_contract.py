"""The OpenAPI document tells the truth: schemathesis drives every operation, as an
anonymous caller, a candidate and staff, and checks each answer against the document."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import AppFactory, api_token, bearer

STAFF_ROLES = (
    "exam_admin",
    "item_writer",
    "item_reviewer",
    "proctor",
    "accreditation_lead",
    "admin",
)
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
MAX_EXAMPLES = 25


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app(RATELIMIT_ENABLED=False)


def _callers(app: Flask, make_user: Callable[..., Any]) -> dict[str, dict[str, str]]:
    client = app.test_client()
    candidate = make_user()
    staff = make_user(*STAFF_ROLES)
    return {
        "anonymous": {},
        "candidate": bearer(api_token(client, candidate.email)),
        "staff": bearer(api_token(client, staff.email)),
    }


def _drive(operation: Any, label: str, headers: dict[str, str], failures: dict[str, str]) -> None:
    """Up to MAX_EXAMPLES cases of ``operation``; the first failure is kept, not shrunk."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def drive(case: Any) -> None:
        if label in failures:
            return
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except BaseExceptionGroup as exc:  # schemathesis's FailureGroup: kept, reported below
            failures[label] = "; ".join(
                " ".join(str(e).split("\n")[:4]) for e in exc.exceptions
            ) + (f"\n    {case.method} {case.formatted_path} body={case.body!r:.300}")

    drive()


def test_every_operation_answers_as_documented(
    app: Flask, make_user: Callable[..., Any], sample_bank: list[dict[str, Any]]
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    callers = _callers(app, make_user)
    failures: dict[str, str] = {}
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:
        for caller, headers in callers.items():
            _drive(operation, f"{caller} {operation.label}", headers, failures)
    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} failing (after {elapsed:.0f}s):\n\n" + "\n\n".join(
        f"{label}: {text}" for label, text in sorted(failures.items())
    )
