"""The OpenAPI document tells the truth: schemathesis drives every operation, as an
anonymous caller, a candidate and staff, and checks each answer against the document.

The database holds real objects for the callers to reach (their ids start at 1, and the
fuzzer tries small ids often): the First Level framework, blueprint and approved sample
bank, a sitting the staff member proctors with the candidate's submitted attempt, and a
provider's submitted accreditation application that the staff member, a lead, may act on.
"""

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
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from accreditation import services as accreditation_services
from accreditation import workflow
from accreditation.schemas import ApplicationContent, OrganisationInput, TransitionInput
from core.db import get_db
from item_bank.frameworks import DEFAULT_FRAMEWORK, require_framework
from tests.accreditation.fixtures import PDF, complete_content, organisation
from tests.conftest import AppFactory, MovableClock, api_token, bearer
from tests.exam.fixtures import handed_in

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


def _carries_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_carries_nul(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_carries_nul(v) for v in value)
    return False


# Operations whose parameters carry a rule no schema can state: a certificate code's last
# character checks the others, so a code of the right shape can still be a typo (a 422).
RULES_BEYOND_THE_SCHEMA = {"verifyCertificate"}


def _checks(operation: Any, case: Any) -> list[Any]:
    """Every check, and ``positive_data_acceptance`` (what the document calls valid is not
    refused with 400 or 422) where the document says all there is to say about valid input:
    an operation without a body, for a body carries rules across its fields that a schema
    cannot state (keys among the options, a window that closes after it opens), and a case
    without a NUL character, which the document answers with 400 anywhere."""
    if (
        operation.body
        or operation.definition.raw.get("operationId") in RULES_BEYOND_THE_SCHEMA
        or _carries_nul([case.path_parameters, case.query])
    ):
        return CHECKS
    return [*CHECKS, positive_data_acceptance]


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app(RATELIMIT_ENABLED=False)


def _submitted_application(app: Flask, provider: User) -> None:
    """A provider's complete application with its evidence, submitted to the leads."""
    with app.app_context(), get_db(app).write_sessions() as session:
        actor = session.get(User, provider.id)
        assert actor is not None
        accreditation_services.save_organisation(
            session, actor, OrganisationInput(**organisation())
        )
        framework = require_framework(session, DEFAULT_FRAMEWORK)
        leaves = accreditation_services.leaf_codes(session, framework.id)
        content = ApplicationContent.model_validate(complete_content(leaves))
        application = accreditation_services.create_draft(session, actor, content)
        accreditation_services.store_document(app, session, actor, application, "handbook.pdf", PDF)
        workflow.take_step(
            session,
            actor,
            application,
            TransitionInput(action="submit", version=application.version),
        )


@pytest.fixture
def callers(
    app: Flask,
    make_user: Callable[..., Any],
    clock: MovableClock,
    sample_bank: list[dict[str, Any]],
) -> dict[str, dict[str, str]]:
    """The callers' headers, once the objects they may reach are in the database."""
    client = app.test_client()
    candidate = make_user()
    staff = make_user(*STAFF_ROLES)
    handed_in(app, clock, admin=staff, proctor=staff, candidates=[candidate], title="Contract")
    _submitted_application(app, make_user("provider"))
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
            case.call_and_validate(headers=headers, checks=_checks(operation, case))
        except BaseExceptionGroup as exc:  # schemathesis's FailureGroup: kept, reported below
            failures[label] = "; ".join(
                " ".join(str(e).split("\n")[:4]) for e in exc.exceptions
            ) + (f"\n    {case.method} {case.formatted_path} body={case.body!r:.300}")

    drive()


def test_every_operation_answers_as_documented(
    app: Flask, callers: dict[str, dict[str, str]]
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
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
