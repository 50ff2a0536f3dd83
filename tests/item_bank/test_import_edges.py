"""Import edge cases: enemies already in the bank, honest dry runs, CSV and QTI quirks."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_db
from item_bank import frameworks, transfer
from tests.item_bank.fixtures import act, create, record


def _import(app: Flask, records: list, **kwargs) -> transfer.ImportSummary:
    with app.app_context(), get_db(app).write_sessions() as session:
        framework = frameworks.get_framework(session)
        return transfer.import_items(
            session, framework, records, actor_id=None, actor_label="test", **kwargs
        )


def test_an_enemy_already_in_the_bank(app: Flask, first_level) -> None:
    _import(app, [record(ref="BANK-1")])
    summary = _import(app, [record(ref="NEW-1", enemies=["BANK-1"])])
    assert summary.created == 1
    with app.app_context(), get_db(app).read_sessions() as session:
        records = {
            r["ref"]: r for r in transfer.export_records(session, frameworks.get_framework(session))
        }
    assert records["BANK-1"]["enemies"] == ["NEW-1"]


def test_dry_run_reports_what_the_import_would_refuse_and_count(app: Flask, staff) -> None:
    client = app.test_client()
    item = create(client, staff["writer"]["headers"], ref="IN-REVIEW")
    act(client, staff["writer"]["headers"], item["id"], "submit")
    _import(app, [record(ref="SAME")])
    with pytest.raises(transfer.ImportRefused) as refused:
        _import(
            app, [record(ref="SAME"), record(ref="IN-REVIEW", stem="Replace it?")], dry_run=True
        )
    error = refused.value.summary.errors[0]
    assert (error.record, error.ref, error.field) == (
        2,
        "IN-REVIEW",
        "ref",
    ) and "reviewed" in error.message
    counts = _import(
        app, [record(ref="SAME"), record(ref="SAME-2"), record(ref="OTHER")], dry_run=True
    )
    assert (counts.created, counts.unchanged) == (2, 1)


def test_each_imported_item_has_its_own_audit_row(app: Flask, first_level) -> None:
    _import(app, [record(ref="AUD-1"), record(ref="AUD-2")], status="approved")
    with get_db(app).read_sessions() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == "item.created")).all()
    assert sorted(r.after["ref"] for r in rows) == ["AUD-1", "AUD-2"]
    assert all(r.after["status"] == "approved" and r.after["source"] == "import" for r in rows)


def test_csv_rows_with_missing_or_extra_cells_are_named(app: Flask, first_level) -> None:
    records = transfer.parse_csv_records(
        b"ref,type,stem,keys\nX-1,single_choice\nX-2,single_choice,S,A,EXTRA\n"
    )
    with pytest.raises(transfer.ImportRefused) as refused:
        _import(app, records)
    by_record = {(e.record, e.field) for e in refused.value.summary.errors}
    assert (1, "stem") in by_record and (2, "record") in by_record


def test_csv_cells_that_look_like_formulas_are_neutralised_and_round_trip(
    app: Flask, first_level
) -> None:
    tricky = record(
        ref="FORMULA",
        stem='=HYPERLINK("http://evil.example","click")',
        options=["-5%", "+3", "@home", "'=quoted"],
    )
    text = transfer.records_to_csv([{**tricky, "status": "draft", "version": 1}])
    assert "'=HYPERLINK" in text and "'-5%" in text
    assert transfer.parse_csv_records(text.encode())[0]["stem"] == tricky["stem"]
    assert transfer.parse_csv_records(text.encode())[0]["options"] == tricky["options"]


def test_qti_with_the_interaction_inside_a_div(app: Flask, first_level) -> None:
    xml = b"""<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="nested" label="CO.KN.TERM.01">
      <responseDeclaration identifier="RESPONSE" cardinality="single"><correctResponse><value>b</value></correctResponse></responseDeclaration>
      <itemBody><div><p>What is it?</p><choiceInteraction responseIdentifier="RESPONSE" maxChoices="1">
        <simpleChoice identifier="a">Alpha</simpleChoice><simpleChoice identifier="b">Beta</simpleChoice>
        <simpleChoice identifier="c">Gamma</simpleChoice></choiceInteraction></div></itemBody></assessmentItem>"""
    parsed = transfer.parse_upload("nested.xml", xml).records[0]
    assert parsed["stem"] == "What is it?" and parsed["keys"] == ["B"]


def test_api_dry_run_takes_only_yes_or_no(app: Flask, staff) -> None:
    response = app.test_client().post(
        "/api/v1/items/import?dry_run=yes", json=[record()], headers=staff["writer"]["headers"]
    )
    assert response.status_code == 422


def test_framework_codes_used_by_a_blueprint_cannot_be_dropped(
    app: Flask, first_level, tmp_path
) -> None:
    import json

    document = json.loads((frameworks.FRAMEWORKS_DIR / "csa-first-level.json").read_text())
    document["parts"][0]["sections"].pop(0)  # drops CU.SK, a blueprint area
    path = tmp_path / "fw.json"
    path.write_text(json.dumps(document))
    result = app.test_cli_runner().invoke(args=["framework", "load", str(path)])
    assert result.exit_code == 1 and "CU.SK: Used as a blueprint area" in result.output
