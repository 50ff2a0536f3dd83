"""Programmes as data: the First Level credential's file, validation naming the field,
versions on change, and the ``flask programmes load`` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_db
from core.errors import Problem
from item_bank import programmes

FIRST_LEVEL = programmes.PROGRAMMES_DIR / "first-level.json"


def _document(**changes: Any) -> dict[str, Any]:
    return {**json.loads(FIRST_LEVEL.read_text()), **changes}


def _load(app: Flask, document: dict[str, Any]) -> programmes.ProgrammeVersion:
    with app.app_context(), get_db(app).write_sessions() as session:
        version = programmes.load_programme(session, programmes.parse_programme(document))
        session.expunge_all()
        return version


def _problem(app: Flask, document: dict[str, Any]) -> Problem:
    with pytest.raises(Problem) as raised:
        _load(app, document)
    return raised.value


def test_the_first_level_programme_is_loaded_with_the_standard(
    app: Flask, first_level: None
) -> None:
    with app.app_context(), get_db(app).read_sessions() as session:
        programme = programmes.get_programme(session, "first-level")
        assert programme is not None
        rules = programmes.rules_of(programme)
        assert rules.name == "CSM Competency Standard: First Level"
        assert rules.level.order == 1 and rules.prerequisites == []
        assert rules.blueprints == ["first-level"] and rules.credential.validity_months == 24
        found = programmes.programme_of_blueprint(session, "first-level")
        assert found is not None and found.code == "first-level"


def test_an_unchanged_file_makes_no_version_and_a_change_makes_an_audited_one(
    app: Flask, first_level: None
) -> None:
    assert _load(app, _document()).number == 1
    renamed = _document(name="First Level credential")
    assert _load(app, renamed).number == 2
    with app.app_context(), get_db(app).read_sessions() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "programme.version_created")
        ).all()
    assert len(rows) == 2
    assert rows[-1].before == {"name": "CSM Competency Standard: First Level"}
    assert rows[-1].after == {"version": 2, "name": "First Level credential"}


def test_errors_name_the_field(app: Flask, first_level: None) -> None:
    bad = _document(level={"name": "First Level"}, recertification={"kind": "credits"})
    with pytest.raises(Problem) as raised:
        programmes.parse_programme(bad)
    fields = {error.field for error in raised.value.errors}
    assert "level.order" in fields and "recertification.period_months" in fields
    credits = _document(recertification={"kind": "credits", "period_months": 36})
    with pytest.raises(Problem) as raised:
        programmes.parse_programme(credits)
    assert raised.value.errors[0].field == "recertification"
    assert "number of credits" in raised.value.errors[0].message


def test_what_the_file_names_must_be_loaded(app: Flask, first_level: None) -> None:
    problem = _problem(app, _document(code="other", blueprints=["nope"], prerequisites=["x"]))
    messages = {error.field: error.message for error in problem.errors}
    assert messages["blueprints.0"] == "No blueprint nope; load it first."
    assert messages["prerequisites.0"] == "No programme x; load it first."
    taken = _problem(app, _document(code="other"))
    assert taken.errors[0].message == "Blueprint first-level belongs to first-level."
    itself = _problem(app, _document(prerequisites=["first-level"]))
    assert itself.errors[0].field == "prerequisites.0"
    level = _problem(app, _document(framework_level="L9"))
    assert level.errors[0].field == "framework_level"
    framework = _problem(app, _document(framework="nope"))
    assert framework.status == 422 and framework.errors[0].field == "framework"


def test_the_cli_loads_a_programme_and_reports_errors(
    app: Flask, first_level: None, tmp_path: Path
) -> None:
    path = tmp_path / "programme.json"
    path.write_text(json.dumps(_document(name="Renamed")))
    result = app.test_cli_runner().invoke(args=["programmes", "load", str(path)])
    assert result.exit_code == 0 and "Programme first-level at version 2." in result.output
    path.write_text(json.dumps(_document(credential={"title": "T"})))
    result = app.test_cli_runner().invoke(args=["programmes", "load", str(path)])
    assert result.exit_code == 1 and "credential.validity_months" in result.output


def test_a_framework_with_levels_and_its_ladder_load_without_code(app: Flask, ladder: None) -> None:
    tree = app.test_client().get("/api/v1/framework?code=cscm-sample").get_json()
    assert [level["title"] for level in tree["levels"]] == [
        "Contributor",
        "Senior Individual Contributor",
        "Leader",
    ]
    assert len(tree["parts"]) == 5
    leaf = tree["parts"][0]["children"][0]["children"][0]["children"][0]
    assert set(leaf["expects"]) == {"C", "SIC", "L"}
    assert "levels" not in app.test_client().get("/api/v1/framework").get_json()
    with app.app_context(), get_db(app).read_sessions() as session:
        ladder = [p.code for p in programmes.list_programmes(session)]
        senior = programmes.get_programme(session, "cscm-senior")
        assert senior is not None
        rules = programmes.rules_of(senior)
    assert ladder[-1] == "cscm-senior" and set(ladder[:2]) == {"first-level", "cscm-contributor"}
    assert rules.prerequisites == ["cscm-contributor"] and rules.framework_level == "SIC"
    assert rules.recertification.kind == "credits" and rules.recertification.credits == 20


def _ladder_file(name: str) -> dict[str, Any]:
    from tests.item_bank.fixtures import LADDER_DIR

    document: dict[str, Any] = json.loads((LADDER_DIR / name).read_text())
    return document


def test_levels_are_checked_where_they_are_named(app: Flask, ladder: None, tmp_path: Path) -> None:
    framework = _ladder_file("cscm-sample.json")
    framework["parts"][0]["sections"][0]["areas"][0]["competencies"][0]["expects"]["X"] = "?"
    path = tmp_path / "framework.json"
    path.write_text(json.dumps(framework))
    result = app.test_cli_runner().invoke(args=["framework", "load", str(path)])
    assert result.exit_code == 1
    assert "REL.SK.CORE.01.expects.X: The framework defines no level X." in result.output
    blueprint = _ladder_file("blueprint-senior.json")
    blueprint["spec"]["framework_level"] = "X"
    path.write_text(json.dumps(blueprint))
    result = app.test_cli_runner().invoke(args=["blueprint", "load", str(path)])
    assert result.exit_code == 1 and "framework_level: Unknown level" in result.output
    programme = _ladder_file("programme-senior.json")
    problem = _problem(app, {**programme, "framework_level": "C"})
    assert (
        problem.errors[0].message == "Blueprint cscm-senior targets another level of the framework."
    )
