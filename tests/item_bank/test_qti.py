"""QTI in: packages as tools write them, refusals that say where, safe parsing, feedback
kept from candidates, labels, competencies from metadata, option order, scoring, re-import."""

from __future__ import annotations

import io
import itertools
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from core.audit import AuditEvent
from core.db import get_db
from core.errors import Problem
from exam.services import grading
from item_bank import frameworks, transfer
from item_bank.models import Item
from item_bank.transfer import package as package_module

QTI_DIR = Path(__file__).parent / "qti"
PACKAGE_DIR = QTI_DIR / "tao-package"
REFUSED_DIR = QTI_DIR / "refused"
DEFAULT = "CO.KN.TERM.01"


def zip_folder(folder: Path, extra: dict[str, bytes] | None = None) -> bytes:
    """A content package of ``folder`` (paths relative to it), plus ``extra`` members."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def _count(app: Flask) -> int:
    with get_db(app).read_sessions() as session:
        return session.scalar(select(func.count()).select_from(Item)) or 0


def _import(app: Flask, upload: transfer.Upload, **kwargs) -> transfer.ImportSummary:
    with app.app_context(), get_db(app).write_sessions() as session:
        return transfer.import_items(
            session,
            frameworks.get_framework(session),
            upload.records,
            skipped=upload.skipped,
            actor_id=None,
            actor_label="test",
            **kwargs,
        )


def _exported(app: Flask) -> dict[str, dict]:
    with app.app_context(), get_db(app).read_sessions() as session:
        records = transfer.export_records(session, frameworks.get_framework(session))
    return {r["ref"]: r for r in records}


def _package() -> transfer.Upload:
    return transfer.parse_upload("tao-export.zip", zip_folder(PACKAGE_DIR))


def test_a_package_as_tao_writes_it_imports_its_items_and_reports_the_rest(
    app: Flask, first_level: None
) -> None:
    summary = _import(app, _package(), default_competency=DEFAULT)
    assert (summary.created, summary.errors) == (5, [])
    report = summary.report()
    assert "skipped: assessmentTest tests/test1/test.xml" in report
    assert any(
        line.startswith("items/churn/qti.xml  i-churn: new")
        and "left out, the bank keeps text, images and audio only: items/churn/style/custom.css"
        in line
        for line in report
    )
    items = _exported(app)
    assert set(items) == {"i-churn", "i-truefalse", "i-fixed", "i-scale", "i-anynumber"}
    churn = items["i-churn"]
    assert churn["stem"] == (
        "Ten of 200 customers cancel in a quarter. What is the **logo** churn?\n\nChoose one."
    )
    assert (churn["options"], churn["keys"], churn["shuffle"]) == (
        ["2%", "10%", "5%", "20%"],
        ["C"],
        True,
    )


def test_label_is_kept_and_competencies_come_from_the_manifest_metadata(
    app: Flask, first_level: None
) -> None:
    _import(app, _package(), default_competency=DEFAULT)
    items = _exported(app)
    # TAO's label="Item 1" is a name, not a competency; the LOM classification gives it.
    assert (items["i-churn"]["label"], items["i-churn"]["competencies"]) == (
        "Item 1",
        ["CO.KN.TERM.03"],
    )
    # LOM 1.3 spelling (taxonPath, string): the taxa that are the framework's codes count.
    assert items["i-truefalse"]["competencies"] == ["CU.SK.COMM.01"]
    assert items["i-scale"]["competencies"] == [DEFAULT]  # no metadata: --competency
    assert items["i-scale"]["label"] == "Escalation order"  # no label: the title


def test_an_item_without_a_competency_is_refused_saying_where_to_put_one(
    app: Flask, first_level: None
) -> None:
    with pytest.raises(transfer.ImportRefused) as refused:
        _import(app, _package())
    errors = {e.source: e for e in refused.value.summary.errors}
    assert set(errors) == {"items/fixed/qti.xml", "items/scale/qti.xml", "items/anynumber/qti.xml"}
    error = errors["items/fixed/qti.xml"]
    assert (error.ref, error.field) == ("i-fixed", "competencies")
    assert "LOM classification taxonPath" in error.message and "--competency" in error.message
    assert error.where() == "items/fixed/qti.xml (item i-fixed)"
    assert _count(app) == 0


def test_feedback_becomes_staff_only_rationale_never_option_or_stem_text(
    app: Flask, first_level: None
) -> None:
    _import(app, _package(), default_competency=DEFAULT)
    items = _exported(app)
    true_false = items["i-truefalse"]
    assert (true_false["type"], true_false["options"], true_false["keys"]) == (
        "true_false",
        ["True", "False"],
        ["A"],
    )
    assert "Rapport comes first" not in true_false["stem"]
    assert true_false["rationale"] == (
        "A: Rapport comes first: goals are agreed with people who trust you.\n\n"
        "B: Think again about trust before goals."
    )
    # Inline feedback in the stem and the prompt is staff-only too, in document order.
    assert items["i-churn"]["rationale"] == (
        "Count customers, not revenue.\n\nFive per cent is the logo figure.\n\n"
        "Logo churn counts customers: 10 of 200 is 5 per cent."
    )
    assert "Count customers" not in items["i-churn"]["stem"]
    assert (
        items["i-anynumber"]["rationale"] == "ARR and MRR recur.\n\nFees and day rates are one-off."
    )


def test_shuffle_and_fixed_options_are_read(app: Flask, first_level: None) -> None:
    _import(app, _package(), default_competency=DEFAULT)
    items = _exported(app)
    assert (items["i-fixed"]["shuffle"], items["i-fixed"]["fixed"]) == (True, ["D"])
    assert items["i-fixed"]["options"][3] == "None of the above"
    assert (items["i-scale"]["shuffle"], items["i-scale"]["fixed"]) == (False, [])
    assert items["i-scale"]["stem"].endswith("customer's *first* escalation?")


def test_map_response_in_the_partial_credit_rule_and_any_number_are_kept(
    app: Flask, first_level: None
) -> None:
    summary = _import(app, _package(), default_competency=DEFAULT)
    anynumber = _exported(app)["i-anynumber"]
    assert (anynumber["type"], anynumber["keys"], anynumber["choose"]) == (
        "multiple_response",
        ["A", "C"],
        0,
    )
    outcome = next(item for item in summary.items if item.ref == "i-anynumber")
    [note] = outcome.notes
    assert note.startswith("map_response: scored all-or-nothing unless the exam's blueprint")
    assert note.endswith("the package's per-option mapping is not kept")
    # With the blueprint's partial credit the keys score every answer as the mapping does
    # (ARR +1, MRR +1, others -1, between 0 and 2), so the note's promise holds.
    mapped = {"A": 1, "B": -1, "C": 1, "D": -1}
    for size in range(5):
        for picks in itertools.combinations("ABCD", size):
            by_mapping = min(2, max(0, sum(mapped[p] for p in picks))) / 2
            assert grading.score_item(anynumber["keys"], picks, True) == by_mapping, picks


@pytest.mark.parametrize(
    ("fixture", "interaction"),
    [
        ("text-entry", "textEntryInteraction"),
        ("extended-text", "extendedTextInteraction"),
        ("order", "orderInteraction"),
        ("match", "matchInteraction"),
        ("associate", "associateInteraction"),
        ("gap-match", "gapMatchInteraction"),
        ("inline-choice", "inlineChoiceInteraction"),
        ("hottext", "hottextInteraction"),
        ("slider", "sliderInteraction"),
        ("upload", "uploadInteraction"),
        ("hotspot", "hotspotInteraction"),
        ("select-point", "selectPointInteraction"),
        ("graphic-order", "graphicOrderInteraction"),
        ("graphic-associate", "graphicAssociateInteraction"),
        ("graphic-gap-match", "graphicGapMatchInteraction"),
        ("position-object", "positionObjectInteraction"),
        ("drawing", "drawingInteraction"),
        ("media-interaction", "mediaInteraction"),
        ("custom", "customInteraction"),
        ("end-attempt", "endAttemptInteraction"),  # beside a choiceInteraction in one item
        ("portable-custom", "portableCustomInteraction"),  # QTI 2.2
    ],
)
def test_an_unsupported_interaction_is_refused_naming_file_item_and_interaction(
    app: Flask, first_level: None, fixture: str, interaction: str
) -> None:
    data = with_refused_item(fixture)
    summary = _import(app, transfer.parse_upload("p.zip", data), default_competency=DEFAULT)
    [refused] = summary.refused
    assert (refused.source, refused.ref) == (f"items/{fixture}.xml", f"refused-{fixture}")
    assert refused.line().startswith(
        f"refused: items/{fixture}.xml (refused-{fixture}): {interaction} is not supported"
    )
    assert refused.line() in summary.report()
    # The package's choice items are imported beside it; the refused one is not.
    assert (summary.created, summary.errors, summary.total) == (5, [], 6)
    assert _count(app) == 5 and f"refused-{fixture}" not in _exported(app)


def with_refused_item(fixture: str, package: bytes | None = None) -> bytes:
    """The TAO package with the refused fixture added as one more item resource."""
    data = zip_folder(
        PACKAGE_DIR, {f"items/{fixture}.xml": (REFUSED_DIR / f"{fixture}.xml").read_bytes()}
    )
    manifest = (PACKAGE_DIR / "imsmanifest.xml").read_text()
    manifest = manifest.replace(
        "  </resources>",
        f'    <resource identifier="x" type="imsqti_item_xmlv2p1" href="items/{fixture}.xml"/>\n'
        "  </resources>",
    )
    return _replace_member(package or data, "imsmanifest.xml", manifest.encode())


def test_any_other_problem_beside_a_refused_item_still_refuses_the_whole_import(
    app: Flask, first_level: None
) -> None:
    data = with_refused_item("hotspot")
    data = _replace_member(data, "items/scale/qti.xml", b"<assessmentItem><oops></assessmentItem>")
    with pytest.raises(transfer.ImportRefused) as refused:
        _import(app, transfer.parse_upload("p.zip", data), default_competency=DEFAULT)
    summary = refused.value.summary
    [error] = summary.errors
    assert error.source == "items/scale/qti.xml" and "not well-formed" in error.message
    assert [r.ref for r in summary.refused] == ["refused-hotspot"]
    assert summary.as_dict()["refused"][0]["source"] == "items/hotspot.xml"
    assert _count(app) == 0


def test_cli_and_api_list_refused_items_and_say_some_were_refused(
    app: Flask, first_level: None, tmp_path: Path, staff: dict
) -> None:
    path = tmp_path / "tao-export.zip"
    path.write_bytes(with_refused_item("hotspot"))
    runner = app.test_cli_runner()
    args = ["items", "import", str(path), "--competency", DEFAULT]
    dry = runner.invoke(args=[*args, "--dry-run"])
    line = "refused: items/hotspot.xml (refused-hotspot): hotspotInteraction is not supported"
    assert dry.exit_code == 3 and line in dry.output
    assert "Would create 5 items; 0 new versions; 0 unchanged; 1 refused; 6 records read." in (
        dry.output
    )
    done = runner.invoke(args=args)
    assert (done.exit_code, _count(app)) == (3, 5)
    assert line in done.output and "Created 5 items" in done.output
    again = runner.invoke(args=args)
    assert again.exit_code == 3 and "0 items; 0 new versions; 5 unchanged; 1 refused" in (
        again.output
    )
    client = app.test_client()
    response = client.post(
        f"/api/v1/items/import?dry_run=1&competency={DEFAULT}",
        data={"file": (io.BytesIO(path.read_bytes()), "tao-export.zip")},
        content_type="multipart/form-data",
        headers=staff["writer"]["headers"],
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["refused"] == [
        {
            "source": "items/hotspot.xml",
            "ref": "refused-hotspot",
            "reason": "hotspotInteraction is not supported: the bank holds choice items "
            "(choiceInteraction) only.",
        }
    ]
    assert (body["unchanged"], body["skipped"]) == (5, ["assessmentTest tests/test1/test.xml"])
    # The answer carries the report's line for each item, as the command prints it.
    assert len(body["items"]) == 5
    assert {item["outcome"] for item in body["items"]} == {"unchanged"}
    assert all(item["source"].startswith("items/") for item in body["items"])
    assert body["scenarios"] == []
    no_file = client.post(
        "/api/v1/items/import",
        data={"other": "x"},
        content_type="multipart/form-data",
        headers=staff["writer"]["headers"],
    )
    assert (no_file.status_code, no_file.get_json()["errors"][0]["field"]) == (422, "file")


@pytest.mark.parametrize(
    ("fixture", "field", "words"),
    [
        ("media.xml", "media", "images/sign.png: not in the upload; import a content package"),
        ("map-response-other-rule.xml", "responseDeclaration", "a +1, b -2, c +1, d -1"),
        ("map-response-capped.xml", "responseDeclaration", "upper bound 1"),
    ],
)
def test_media_and_other_scoring_rules_are_refused_clearly(
    app: Flask, first_level: None, fixture: str, field: str, words: str
) -> None:
    upload = transfer.parse_upload(fixture, (REFUSED_DIR / fixture).read_bytes())
    with pytest.raises(transfer.ImportRefused) as refused:
        _import(app, upload, default_competency=DEFAULT)
    [error] = refused.value.summary.errors
    assert (error.source, error.field) == (fixture, field) and words in error.message


def _replace_member(data: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, content if info.filename == name else source.read(info))
    return out.getvalue()


def _one_line_problem(data: bytes) -> str:
    with pytest.raises(Problem) as problem:
        transfer.parse_upload("bad.zip", data)
    assert "\n" not in problem.value.detail
    return problem.value.detail


def test_unsafe_packages_are_refused_in_one_line_naming_the_file(
    app: Flask, first_level: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    traversal = zip_folder(PACKAGE_DIR, {"../../etc/cron.d/evil.xml": b"<x/>"})
    assert _one_line_problem(traversal).startswith("../../etc/cron.d/evil.xml: ")
    manifest = (
        (PACKAGE_DIR / "imsmanifest.xml")
        .read_text()
        .replace('href="items/scale/qti.xml"', 'href="../outside.xml"', 1)
    )
    escaping = _replace_member(zip_folder(PACKAGE_DIR), "imsmanifest.xml", manifest.encode())
    assert "../outside.xml: the manifest's href points outside" in _one_line_problem(escaping)
    bomb = zip_folder(PACKAGE_DIR, {"items/bomb.xml": b" " * (4 * 1024 * 1024)})
    assert _one_line_problem(bomb).startswith("items/bomb.xml: packed 100 times tighter")
    monkeypatch.setattr(package_module, "MAX_MANIFEST_BYTES", 1000)
    assert "imsmanifest.xml: larger than" in _one_line_problem(zip_folder(PACKAGE_DIR))
    monkeypatch.undo()
    monkeypatch.setattr(package_module, "MAX_MEMBER_BYTES", 1000)
    assert "/qti.xml: larger than" in _one_line_problem(zip_folder(PACKAGE_DIR))
    monkeypatch.undo()
    monkeypatch.setattr(package_module, "MAX_PACKAGE_BYTES", 4000)
    assert "bad.zip: unpacks to more than" in _one_line_problem(zip_folder(PACKAGE_DIR))
    monkeypatch.undo()
    dtd = (
        (PACKAGE_DIR / "imsmanifest.xml")
        .read_bytes()
        .replace(
            b"<manifest ",
            b'<!DOCTYPE manifest [<!ENTITY x SYSTEM "http://example.org/x">]>\n<manifest ',
            1,
        )
    )
    with_dtd = _replace_member(zip_folder(PACKAGE_DIR), "imsmanifest.xml", dtd)
    assert _one_line_problem(with_dtd).startswith("imsmanifest.xml: declares a DTD")
    assert _one_line_problem(b"PK\x03\x04 not really a zip") == "bad.zip: the zip file is damaged."
    assert _count(app) == 0


def test_an_item_with_entities_or_bad_xml_is_refused_naming_it(
    app: Flask, first_level: None
) -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><assessmentItem>&e;</assessmentItem>'
    data = zip_folder(PACKAGE_DIR)
    data = _replace_member(data, "items/churn/qti.xml", evil)
    data = _replace_member(data, "items/scale/qti.xml", b"<assessmentItem><oops></assessmentItem>")
    with pytest.raises(transfer.ImportRefused) as refused:
        _import(app, transfer.parse_upload("p.zip", data), default_competency=DEFAULT)
    errors = {e.source: e for e in refused.value.summary.errors}
    assert "declares a DTD or entities" in errors["items/churn/qti.xml"].message
    assert errors["items/churn/qti.xml"].ref == "i-churn"
    assert "not well-formed" in errors["items/scale/qti.xml"].message
    assert _count(app) == 0


def test_cli_dry_run_shows_the_whole_report_and_errors_name_file_and_item(
    app: Flask, first_level: None, tmp_path: Path
) -> None:
    path = tmp_path / "tao-export.zip"
    path.write_bytes(zip_folder(PACKAGE_DIR))
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["items", "import", str(path), "--dry-run"])
    assert refused.exit_code == 1
    assert "items/fixed/qti.xml (item i-fixed) competencies: No competency" in refused.output
    assert "skipped: assessmentTest tests/test1/test.xml" in refused.output
    # The items it would take are reported too: theirs name competencies in the manifest.
    assert "items/churn/qti.xml  i-churn: new" in refused.output
    assert "items/truefalse/qti.xml  i-truefalse: new" in refused.output
    dry = runner.invoke(args=["items", "import", str(path), "--dry-run", "--competency", DEFAULT])
    assert dry.exit_code == 0, dry.output
    assert "skipped: assessmentTest tests/test1/test.xml" in dry.output
    assert "items/scale/qti.xml  i-scale: new" in dry.output
    assert "Would create 5 items" in dry.output and _count(app) == 0


def test_reimport_is_unchanged_or_a_new_version_with_before_and_after(
    app: Flask, first_level: None
) -> None:
    _import(app, _package(), default_competency=DEFAULT)
    again = _import(app, _package(), default_competency=DEFAULT)
    assert (again.created, again.new_versions, again.unchanged) == (0, 0, 5)
    assert {item.outcome for item in again.items} == {"unchanged"}
    changed_xml = (
        (PACKAGE_DIR / "items/scale/qti.xml")
        .read_bytes()
        .replace(b"Within the week", b"Within three days")
    )
    data = _replace_member(zip_folder(PACKAGE_DIR), "items/scale/qti.xml", changed_xml)
    summary = _import(app, transfer.parse_upload("p.zip", data), default_competency=DEFAULT)
    assert (summary.created, summary.new_versions, summary.unchanged) == (0, 1, 4)
    outcome = next(item for item in summary.items if item.ref == "i-scale")
    assert outcome.outcome == "new version 2 (was 1)"
    scale = _exported(app)["i-scale"]
    assert (scale["version"], scale["options"][2]) == (2, "Within three days")
    with get_db(app).read_sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "item.version_created")
        ).one()
        item = session.scalars(select(Item).where(Item.ref == "i-scale")).one()
        assert [v.status for v in item.versions] == ["superseded", "draft"]
    assert event.before["options"][2] == "Within the week" and event.before["version"] == 1
    assert event.after["options"][2] == "Within three days" and event.after["version"] == 2


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_dtd_is_refused_in_any_encoding(encoding: str) -> None:
    evil = '<?xml version="1.0" encoding="{}"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><assessmentItem>&b;</assessmentItem>'
    record = transfer.read_item(evil.format(encoding).encode(encoding), "evil.xml")
    assert record["_error"].startswith("declares a DTD or entities")


def test_candidate_instructions_stay_in_the_stem_and_scorer_notes_do_not() -> None:
    xml = b"""<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="rubric"
        title="R" adaptive="false" timeDependent="false">
      <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
        <mapping defaultValue="0"><mapEntry mapKey="b" mappedValue="1"/></mapping>
      </responseDeclaration>
      <itemBody>
        <rubricBlock view="candidate"><p>Read the whole scenario first.</p></rubricBlock>
        <rubricBlock view="scorer"><p>Accept only B.</p></rubricBlock>
        <p>Which comes first?</p>
        <choiceInteraction responseIdentifier="RESPONSE" shuffle="true" maxChoices="1">
          <simpleChoice identifier="a">Goals</simpleChoice><simpleChoice identifier="b">Rapport</simpleChoice>
        </choiceInteraction>
      </itemBody>
      <responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/map_response"/>
    </assessmentItem>"""
    record = transfer.read_item(xml, "rubric.xml")
    assert record["stem"] == "Read the whole scenario first.\n\nWhich comes first?"
    assert record["keys"] == ["B"] and "Accept only B" not in record["stem"]
    assert record["rationale"] == "Accept only B."
