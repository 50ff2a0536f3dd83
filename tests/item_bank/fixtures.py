"""Item bank fixtures: the First Level framework and blueprint, item records, staff users."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from accounts.models import User
from core.db import get_db
from item_bank import blueprints, frameworks, programmes, transfer
from item_bank.cli import LADDER_DIR, LADDER_FILES, LADDER_FRAMEWORK, SAMPLE_DIR
from item_bank.models import ItemStatus
from tests.conftest import api_token, bearer, csrf_from


@pytest.fixture
def first_level(app: Flask) -> None:
    """The First Level framework, blueprint and programme, as `make run` loads them."""
    with app.app_context(), get_db(app).write_sessions() as session:
        frameworks.load_framework_file(session, frameworks.FRAMEWORKS_DIR / "csa-first-level.json")
        blueprints.load_blueprint_file(session, blueprints.BLUEPRINTS_DIR / "first-level.json")
        programmes.load_programme_file(session, programmes.PROGRAMMES_DIR / "first-level.json")


@pytest.fixture
def ladder(app: Flask, sample_bank: list[dict[str, Any]]) -> None:
    """Beside the First Level: a sample framework with three proficiency levels, its
    Contributor and Senior Individual Contributor blueprints and programmes (the second
    requiring the first), loaded through the CLI as an operator would, and a small bank."""
    runner = app.test_cli_runner()
    for group, name in LADDER_FILES:
        result = runner.invoke(args=[group, "load", str(LADDER_DIR / name)])
        assert result.exit_code == 0, result.output
    with app.app_context(), get_db(app).write_sessions() as session:
        framework = frameworks.require_framework(session, LADDER_FRAMEWORK)
        transfer.import_items(
            session,
            framework,
            json.loads((LADDER_DIR / "items.json").read_text()),
            status=ItemStatus.APPROVED,
            actor_id=None,
            actor_label="test",
        )


def sample_records() -> list[dict[str, Any]]:
    return [r for path in sorted(SAMPLE_DIR.glob("*.json")) for r in json.loads(path.read_text())]


@pytest.fixture
def sample_bank(app: Flask, first_level: None) -> list[dict[str, Any]]:
    records = sample_records()
    with app.app_context(), get_db(app).write_sessions() as session:
        framework = frameworks.require_framework(session, frameworks.DEFAULT_FRAMEWORK)
        transfer.import_items(
            session,
            framework,
            copy.deepcopy(records),
            status=ItemStatus.APPROVED,
            actor_id=None,
            actor_label="test",
        )
    return records


_counter = iter(range(1, 1_000_000))


def record(**overrides: Any) -> dict[str, Any]:
    """A valid single-choice item record; override any field."""
    base = {
        "ref": f"T-{next(_counter)}",
        "type": "single_choice",
        "stem": "A customer licenses 12 modules and uses 4. What is this called?",
        "options": ["Value gap", "Consumption gap", "Logo churn", "Down-sell"],
        "keys": ["B"],
        "choose": None,
        "rationale": "The consumption gap is what the product can do minus what is used.",
        "references": ["CSA CSM Competency Standard: First Level, Terminology"],
        "competencies": ["CU.KN.TERM.01"],
        "cognitive_level": "application",
        "enemies": [],
    }
    base.update(overrides)
    return base


@pytest.fixture
def staff(app: Flask, make_user: Callable[..., User], first_level: None) -> dict[str, Any]:
    """A writer, two reviewers, an exam admin and a candidate, each with an API token."""
    client = app.test_client()
    people = {
        "writer": make_user("item_writer", given_name="Wanda", family_name="Writer"),
        "writer2": make_user("item_writer", given_name="Walt", family_name="Wright"),
        "reviewer": make_user("item_reviewer", given_name="Rita", family_name="Reviewer"),
        "writer_reviewer": make_user(
            "item_writer", "item_reviewer", given_name="Wes", family_name="Both"
        ),
        "admin": make_user("exam_admin", given_name="Ezra", family_name="Admin"),
        "candidate": make_user("candidate", given_name="Cara", family_name="Candidate"),
    }
    return {
        name: {"user": user, "headers": bearer(api_token(client, user.email))}
        for name, user in people.items()
    }


def create(client: FlaskClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/items", json=record(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def edit(client: FlaskClient, headers: dict[str, str], item_id: int, **overrides: Any) -> Any:
    """PUT an edit as an editor would: against the item's current revision."""
    current = client.get(f"/api/v1/items/{item_id}", headers=headers).get_json()
    body = record(ref=current["ref"], revision=current["revision"], **overrides)
    return client.put(f"/api/v1/items/{item_id}", json=body, headers=headers)


def act(
    client: FlaskClient, headers: dict[str, str], item_id: int, action: str, comment: str = ""
) -> Any:
    """Take a step as a reviewer would: approving or returning the content just read, and
    confirming every point of the review checklist to approve."""
    body: dict[str, Any] = {"action": action, "comment": comment}
    if action in ("approve", "return"):
        current = client.get(f"/api/v1/items/{item_id}", headers=headers).get_json()
        body["revision"] = current.get("content_revision")
    if action == "approve":
        body["checked"] = [check["key"] for check in current.get("review_checks", [])]
    return client.post(f"/api/v1/items/{item_id}/transitions", json=body, headers=headers)


def approval_form(page: str) -> dict[str, Any]:
    """The item page's approve form as a reviewer sends it: the content revision it shows
    and every point of its review checklist ticked."""
    revision = re.search(r'name="revision"[^>]*value="([^"]+)"', page)
    assert revision, "the page offers no decision"
    return {
        "csrf_token": csrf_from(page),
        "action": "approve",
        "revision": revision.group(1),
        "checked": re.findall(r'name="checked" value="([^"]+)"', page),
    }


def write_json(path: Path, records: list[Any]) -> Path:
    path.write_text(json.dumps(records, ensure_ascii=False))
    return path


def _csv_rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def _csv_bytes(rows: list[dict[str, str]], columns: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def csv_without_columns(body: bytes, dropped: set[str]) -> bytes:
    """An exported CSV as an older spreadsheet would hold it: some columns left out."""
    rows = _csv_rows(body)
    return _csv_bytes(rows, [name for name in rows[0] if name not in dropped])


def csv_with_cells(body: bytes, **cells: str) -> bytes:
    """An exported CSV with the given cells of every row replaced."""
    rows = [{**row, **cells} for row in _csv_rows(body)]
    return _csv_bytes(rows, list(rows[0]))


def export_file(app: Flask, file_format: str) -> tuple[bytes, int]:
    """The bank's export in ``file_format`` (json, csv, qti), and how many items it holds."""
    with app.app_context(), get_db(app).read_sessions() as session:
        return transfer.export_bytes(session, frameworks.get_framework(session), file_format)
