"""Import and export: all or nothing, every problem named, lossless round trips, QTI."""

from __future__ import annotations

import copy
import io
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from core.db import get_db
from item_bank import frameworks, transfer
from item_bank.models import Item, ItemEnemy
from tests.item_bank.fixtures import record, sample_records, write_json


def _count(app: Flask) -> int:
    with get_db(app).read_sessions() as session:
        return session.scalar(select(func.count()).select_from(Item))


def _import(app: Flask, records: list, **kwargs) -> transfer.ImportSummary:
    with app.app_context(), get_db(app).write_sessions() as session:
        framework = frameworks.get_framework(session)
        return transfer.import_items(
            session, framework, records, actor_id=None, actor_label="test", **kwargs
        )


def _export(app: Flask) -> list[dict]:
    with app.app_context(), get_db(app).read_sessions() as session:
        return transfer.export_records(session, frameworks.get_framework(session))


def test_the_sample_bank_covers_every_competency_at_least_twice(
    app: Flask, first_level: None
) -> None:
    records = sample_records()
    assert len(records) >= 200
    with get_db(app).read_sessions() as session:
        leaves = [
            c
            for c, n in frameworks.nodes_by_code(
                session, frameworks.get_framework(session).id
            ).items()
            if n.kind == "competency"
        ]
    primary = Counter(r["competencies"][0] for r in records)
    assert {leaf: primary[leaf] for leaf in leaves if primary[leaf] < 2} == {}
    assert all(len(r["rationale"]) > 40 for r in records)
    assert {r["type"] for r in records} == {"single_choice", "multiple_response", "true_false"}
    summary = _import(app, copy.deepcopy(records), status="approved")
    assert summary.created == len(records) and summary.errors == []


def test_one_bad_record_means_nothing_is_imported_and_every_problem_is_named(
    app: Flask, first_level: None
) -> None:
    records = [
        record(ref="GOOD-1"),
        record(ref="BAD-CODE", competencies=["CU.XX.NOPE.01"]),
        record(ref="NO-KEY", keys=[]),
        record(ref="KEY-OUT", keys=["F"]),
        record(ref="DUP-OPT", options=["A", "a", "B", "C"]),
        record(ref="FEW-OPT", options=["Only"], keys=["A"]),
        record(ref="CHOOSE", type="multiple_response", keys=["A", "B"], choose=3),
        record(ref="GOOD-1"),
        "not an object",
        record(ref="ENEMY", enemies=["GHOST"]),
    ]
    with pytest.raises(transfer.ImportRefused) as refused:
        _import(app, records)
    found = {(e.record, e.field.split(".")[0]) for e in refused.value.summary.errors}
    assert {
        (2, "competencies"),
        (3, "keys"),
        (4, "keys"),
        (5, "options"),
        (6, "options"),
        (7, "choose"),
        (1, "ref"),
        (8, "ref"),
        (9, "record"),
        (10, "enemies"),
    } <= found
    assert _count(app) == 0


def test_dry_run_validates_and_writes_nothing(app: Flask, first_level: None) -> None:
    summary = _import(app, [record(), record()], dry_run=True)
    assert (summary.created, summary.dry_run) == (2, True)
    assert _count(app) == 0


def test_json_round_trip_is_lossless(app: Flask, make_app, sample_bank) -> None:
    exported = _export(app)
    assert len(exported) == len(sample_bank)
    assert {r["ref"]: r["enemies"] for r in exported}["CU.KN.TERM.02-4"] == ["CU.KN.TERM.02-1"]
    again = _import(app, copy.deepcopy(exported))
    assert (again.created, again.new_versions, again.unchanged) == (0, 0, len(exported))
    by_ref = {r["ref"]: r for r in exported}
    for original in sample_bank:
        mine = by_ref[original["ref"]]
        for key in (
            "type",
            "stem",
            "options",
            "rationale",
            "references",
            "competencies",
            "cognitive_level",
            "choose",
        ):
            assert mine[key] == original[key], (original["ref"], key)
        assert mine["keys"] == sorted(original["keys"])


def test_csv_round_trip_is_lossless(app: Flask, sample_bank) -> None:
    exported = _export(app)
    tricky = record(
        ref="CSV-TRICKY",
        stem='Line one, "quoted";\nline two — ünïcødé 🙂 عربى',
        references=["Ref; with semicolon", "Second, with comma"],
    )
    _import(app, [tricky])
    exported = _export(app)
    parsed = transfer.parse_csv_records(transfer.records_to_csv(exported).encode())
    assert parsed == exported


def test_enemies_in_one_file_are_written_once_per_pair(app: Flask, first_level: None) -> None:
    _import(app, [record(ref="P", enemies=["Q"]), record(ref="Q", enemies=["P"])])
    with get_db(app).read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(ItemEnemy)) == 1


def test_reimporting_a_changed_record_makes_a_new_version(app: Flask, first_level: None) -> None:
    _import(app, [record(ref="R-1")], status="approved")
    summary = _import(app, [record(ref="R-1", stem="Changed?")], status="draft")
    assert (summary.created, summary.new_versions) == (0, 1)
    exported = {r["ref"]: r for r in _export(app)}["R-1"]
    assert (exported["version"], exported["status"], exported["stem"]) == (2, "draft", "Changed?")


QTI_SINGLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="qti-churn-1"
    title="Logo churn" adaptive="false" timeDependent="false" label="CO.KN.TERM.03">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>ChoiceC</value></correctResponse>
  </responseDeclaration>
  <itemBody>
    <p>Ten of 200 customers cancel in a quarter. What is the <b>logo</b> churn?</p>
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="true" maxChoices="1">
      <simpleChoice identifier="ChoiceA">2%</simpleChoice>
      <simpleChoice identifier="ChoiceB">10%</simpleChoice>
      <simpleChoice identifier="ChoiceC">5%</simpleChoice>
      <simpleChoice identifier="ChoiceD">20%</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <modalFeedback outcomeIdentifier="FEEDBACK" identifier="x" showHide="show">10 / 200 = 5%.</modalFeedback>
</assessmentItem>"""

QTI_MULTIPLE = b"""<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="qti-multi" title="M">
  <responseDeclaration identifier="RESPONSE" cardinality="multiple" baseType="identifier">
    <correctResponse><value>A1</value><value>A3</value></correctResponse>
  </responseDeclaration>
  <itemBody>
    <choiceInteraction responseIdentifier="RESPONSE" maxChoices="2">
      <prompt>Which two are recurring revenue measures?</prompt>
      <simpleChoice identifier="A1">ARR</simpleChoice>
      <simpleChoice identifier="A2">One-time fee</simpleChoice>
      <simpleChoice identifier="A3">MRR</simpleChoice>
    </choiceInteraction>
  </itemBody>
</assessmentItem>"""


def test_qti_choice_items_import(app: Flask, first_level: None) -> None:
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("imsmanifest.xml", "<manifest/>")
        archive.writestr("items/one.xml", QTI_SINGLE)
        archive.writestr("items/two.xml", QTI_MULTIPLE)
    upload = transfer.parse_upload("package.zip", package.getvalue())
    _import(app, upload.records, default_competency="CO.KN.TERM.01")
    exported = {r["ref"]: r for r in _export(app)}
    single, multiple = exported["qti-churn-1"], exported["qti-multi"]
    assert single["stem"] == "Ten of 200 customers cancel in a quarter. What is the **logo** churn?"
    # The label is a name for staff, never competency codes.
    assert (single["options"], single["keys"], single["competencies"], single["label"]) == (
        ["2%", "10%", "5%", "20%"],
        ["C"],
        ["CO.KN.TERM.01"],
        "CO.KN.TERM.03",
    )
    assert single["rationale"] == "10 / 200 = 5%."
    assert (multiple["type"], multiple["keys"], multiple["choose"]) == (
        "multiple_response",
        ["A", "C"],
        2,
    )
    assert multiple["competencies"] == ["CO.KN.TERM.01"]


def test_qti_that_is_not_a_choice_item_is_reported_refused(app: Flask, first_level: None) -> None:
    bad = b'<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="t"><itemBody><textEntryInteraction/></itemBody></assessmentItem>'
    records = transfer.parse_upload("x.xml", bad).records
    summary = _import(app, records, default_competency="CO.KN.TERM.01")
    [refused] = summary.refused
    assert (summary.created, refused.source, refused.ref) == (0, "x.xml", "t")
    assert "textEntryInteraction is not supported" in refused.reason
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><assessmentItem>&e;</assessmentItem>'
    with pytest.raises(transfer.ImportRefused):
        _import(app, transfer.parse_upload("evil.xml", evil).records)


def test_cli_import_dry_run_then_approved_then_export(
    app: Flask, first_level: None, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "items.json", [record(ref="C-1"), record(ref="C-2")])
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["items", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0 and "Would create 2 items" in dry.output and _count(app) == 0
    real = runner.invoke(args=["items", "import", str(path), "--status", "approved"])
    assert real.exit_code == 0 and "Created 2 items" in real.output
    out = tmp_path / "out.csv"
    exported = runner.invoke(args=["items", "export", str(out), "--status", "approved"])
    assert exported.exit_code == 0 and out.read_text().count("\nC-") == 2
    bad = write_json(tmp_path / "bad.json", [record(ref="C-3", keys=["Z"])])
    failed = runner.invoke(args=["items", "import", str(bad)])
    assert failed.exit_code == 1 and "record 1 (C-3) keys" in failed.output


def test_api_import_all_or_nothing_with_dry_run(app: Flask, staff) -> None:
    client = app.test_client()
    headers = staff["writer"]["headers"]
    dry = client.post("/api/v1/items/import?dry_run=1", json=[record(), record()], headers=headers)
    assert dry.status_code == 200 and dry.get_json()["created"] == 2 and _count(app) == 0
    bad = client.post("/api/v1/items/import", json=[record(), record(keys=["Q"])], headers=headers)
    assert bad.status_code == 422
    errors = bad.get_json()["import"]["errors"]
    assert errors and errors[0]["record"] == 2 and errors[0]["field"].startswith("keys")
    assert _count(app) == 0
    approved = client.post("/api/v1/items/import?status=approved", json=[record()], headers=headers)
    assert approved.status_code == 403  # a writer cannot bypass review
    ok = client.post(
        "/api/v1/items/import?status=approved", json=[record()], headers=staff["admin"]["headers"]
    )
    assert ok.status_code == 201 and ok.get_json()["created"] == 1
    not_array = client.post("/api/v1/items/import", json={"ref": "x"}, headers=headers)
    assert not_array.status_code == 400
    assert (
        client.post(
            "/api/v1/items/import", data="[]", content_type="text/plain", headers=headers
        ).status_code
        == 415
    )


def test_unreadable_files_are_clear_errors() -> None:
    with pytest.raises(Exception, match="not valid JSON"):
        transfer.parse_json_records(b"{oops")
    with pytest.raises(Exception, match="lacks the columns"):
        transfer.parse_csv_records(b"a,b\n1,2\n")
    with pytest.raises(Exception, match=r"Import \.json"):
        transfer.parse_upload("items.docx", b"")
