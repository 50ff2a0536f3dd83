"""The First Level framework as data: transcription, idempotent loading, stable codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_db
from item_bank import frameworks
from item_bank.models import FrameworkNode

SEED = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "seeds"
    / "csa-csm-competency-standard-first-level.txt"
)
FRAMEWORK_FILE = frameworks.FRAMEWORKS_DIR / "csa-first-level.json"


def _leaves(document: dict) -> list[dict]:
    return [
        leaf
        for part in document["parts"]
        for section in part["sections"]
        for area in section["areas"]
        for leaf in area["competencies"]
    ]


def test_file_transcribes_both_parts_sections_and_areas_of_the_standard() -> None:
    document = json.loads(FRAMEWORK_FILE.read_text())
    assert [p["title"] for p in document["parts"]] == [
        "The CSM and the Customer",
        "The CSM and the Company",
    ]
    for part in document["parts"]:
        assert [s["title"] for s in part["sections"]] == ["Basic Skills", "Basic Knowledge"]
    area_titles = {
        area["title"] for p in document["parts"] for s in p["sections"] for area in s["areas"]
    }
    for title in (
        "Communication with the Customer",
        "Research: Customer Intelligence",
        "Project & Time Management",
        "Data Management",
        "Account Growth",
        "Professional Development",
        "Concepts",
        "Terminology",
        "Communication with the Company / Relationship Management",
        "Research",
    ):
        assert title in area_titles
    leaves = _leaves(document)
    assert len(leaves) == 62
    assert all(re.fullmatch(r"C[UO]\.(SK|KN)\.[A-Z]+\.\d\d", leaf["code"]) for leaf in leaves)


@pytest.mark.skipif(not SEED.exists(), reason="the standard's text sits in ../shared/seeds")
def test_distinctive_phrases_of_the_standard_are_all_transcribed() -> None:
    texts = " ".join(
        leaf["text"].lower() for leaf in _leaves(json.loads(FRAMEWORK_FILE.read_text()))
    )
    for phrase in (
        "power-users",
        "kick-off meetings",
        "success-story sources",
        "balancing reactive and proactive",
        "cstech",
        "up-sells, cross-sells",
        "customer departures",
        "playbooks",
        "consumption gap",
        "economic buyer",
        "value: creation, gap, proposition",
        "product roadmap",
        "tiering",
        "health scoring",
        "self-success",
        "acv, arr, mrr",
        "logo, revenue, users",
        "nps, csat",
    ):
        assert phrase in texts, phrase


def _summary(app: Flask, path: Path = FRAMEWORK_FILE) -> frameworks.LoadSummary:
    with app.app_context(), get_db(app).write_sessions() as session:
        return frameworks.load_framework_file(session, path)


def test_loading_is_idempotent(app: Flask) -> None:
    first = _summary(app)
    assert len(first.added) == 2 + 4 + 13 + 62
    second = _summary(app)
    assert (second.added, second.changed, second.retired) == ([], [], [])
    assert second.unchanged == len(first.added)
    with get_db(app).read_sessions() as session:
        loads = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "framework.loaded")
        ).all()
    assert len(loads) == 1  # nothing changed the second time, so nothing to audit


def _edited(tmp_path: Path, edit) -> Path:
    document = json.loads(FRAMEWORK_FILE.read_text())
    edit(document)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(document))
    return path


def test_text_changes_update_and_dropped_codes_are_retired_not_reused(
    app: Flask, tmp_path: Path
) -> None:
    _summary(app)

    def drop_and_reword(document: dict) -> None:
        area = document["parts"][0]["sections"][0]["areas"][2]  # Project & Time Management
        area["competencies"][0]["text"] = "Prioritising tasks, goals and objectives (reworded)."
        area["competencies"].pop()

    summary = _summary(app, _edited(tmp_path, drop_and_reword))
    assert summary.changed == ["CU.SK.PTM.01"] and summary.retired == ["CU.SK.PTM.02"]
    with get_db(app).read_sessions() as session:
        retired = session.scalars(
            select(FrameworkNode).where(FrameworkNode.code == "CU.SK.PTM.02")
        ).one()
        assert retired.retired  # kept, so the code is never handed to another competency
    restored = _summary(app)
    assert "CU.SK.PTM.02" in restored.changed


def test_a_code_never_moves_to_another_area(app: Flask, tmp_path: Path) -> None:
    _summary(app)

    def move(document: dict) -> None:
        areas = document["parts"][0]["sections"][0]["areas"]
        leaf = areas[2]["competencies"].pop()
        leaf["code"] = "CU.SK.PTM.02"
        areas[3]["competencies"].append(leaf)  # under Data Management, but coded PTM

    with pytest.raises(Exception, match="Invalid framework file"):
        _summary(app, _edited(tmp_path, move))


def test_a_retired_code_is_never_given_to_a_new_competency(app: Flask, tmp_path: Path) -> None:
    _summary(app)

    def drop(document: dict) -> None:
        document["parts"][0]["sections"][0]["areas"][2]["competencies"].pop()

    def reuse(document: dict) -> None:
        area = document["parts"][0]["sections"][0]["areas"][2]
        area["competencies"][1]["text"] = "Something else entirely."

    _summary(app, _edited(tmp_path, drop))
    with pytest.raises(Exception) as raised:
        _summary(app, _edited(tmp_path, reuse))
    assert raised.value.status == 409
    assert "retired" in raised.value.errors[0].message


def test_a_second_framework_loads_the_same_way(app: Flask, tmp_path: Path) -> None:
    other = {
        "code": "cscm-proficiency",
        "title": "Customer Success Competency Model",
        "publisher": "Example",
        "version": "1",
        "parts": [
            {
                "code": "P1",
                "title": "Proficiency 1",
                "sections": [
                    {
                        "code": "CORE",
                        "title": "Core",
                        "areas": [
                            {
                                "code": "ONB",
                                "title": "Onboarding",
                                "competencies": [
                                    {"code": "P1.CORE.ONB.01", "text": "Runs a kick-off."}
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "other.json"
    path.write_text(json.dumps(other))
    result = app.test_cli_runner().invoke(args=["framework", "load", str(path)])
    assert result.exit_code == 0 and "4 added" in result.output
    tree = app.test_client().get("/api/v1/framework?code=cscm-proficiency").get_json()
    assert tree["parts"][0]["children"][0]["children"][0]["children"][0]["code"] == "P1.CORE.ONB.01"


def test_framework_page_and_api_are_public(app: Flask, first_level: None) -> None:
    client = app.test_client()
    page = client.get("/framework").get_data(as_text=True)
    assert (
        "CU.SK.COMM.01" in page
        and "Emotional intelligence" in page
        and "The CSM and the Company" in page
    )
    tree = client.get("/api/v1/framework").get_json()
    assert tree["code"] == "csa-first-level"
    customer = tree["parts"][0]
    assert customer["code"] == "CU" and customer["children"][0]["code"] == "CU.SK"
    first_leaf = customer["children"][0]["children"][0]["children"][0]
    assert first_leaf["code"] == "CU.SK.COMM.01" and "rapport" in first_leaf["text"]
    assert client.get("/api/v1/framework?code=nope").status_code == 404


def test_malformed_framework_file_is_a_clear_cli_error(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"code": "x", "title": "X"}')
    result = app.test_cli_runner().invoke(args=["framework", "load", str(path)])
    assert result.exit_code == 1 and "parts" in result.output
