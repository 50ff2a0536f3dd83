"""Shared stimuli across the borders: QTI 2.2 assessmentStimulus and 2.1 passages in, a
schema-valid QTI 2.1 package out, JSON and CSV records, round trips that change nothing."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from core.db import get_db
from core.errors import Problem
from item_bank import transfer
from item_bank.models import Item, Stimulus, StimulusVersion
from tests.item_bank.fixtures import csv_without_columns, export_file
from tests.item_bank.test_qti import QTI_DIR, _exported, _import
from tests.item_bank.test_qti_export import _invalid, _qti_export, schemas  # noqa: F401

STIMULUS_DIR = QTI_DIR / "stimulus-package"
DEFAULT = "CU.SK.COMM.03"


def _package(replaced: dict[str, bytes | None] | None = None) -> transfer.Upload:
    """The fixture package, with some files replaced (None: left out)."""
    replaced = replaced or {}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(STIMULUS_DIR.rglob("*")):
            name = path.relative_to(STIMULUS_DIR).as_posix()
            data = replaced.get(name, path.read_bytes()) if path.is_file() else None
            if data is not None:
                archive.writestr(name, data)
    return transfer.parse_upload("stimuli.zip", out.getvalue())


def _sets(app: Flask) -> dict[str, list[tuple[str, int]]]:
    """Each stimulus ref: its items' refs and places, as the export records give them."""
    sets: dict[str, list[tuple[str, int]]] = {}
    for ref, record in sorted(_exported(app).items()):
        if record["stimulus"]:
            sets.setdefault(record["stimulus"]["ref"], []).append(
                (ref, record["stimulus"]["position"])
            )
    return {key: sorted(value, key=lambda pair: pair[1]) for key, value in sets.items()}


def _counts(app: Flask) -> tuple[int, int, int]:
    with get_db(app).read_sessions() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Item, Stimulus, StimulusVersion)
        )


def test_a_package_of_qti_22_and_21_stimuli_imports_each_file_as_one_shared_stimulus(
    app: Flask, first_level: None
) -> None:
    upload = _package()
    assert upload.skipped == []  # the stimulus files are read, not skipped
    summary = _import(app, upload, default_competency=DEFAULT)
    assert (summary.created, summary.errors) == (5, [])
    assert not any("left out" in line for line in summary.report())
    assert _sets(app) == {
        "kickoff-brief": [("kick-1", 1), ("kick-2", 2)],
        "usage-exhibit": [("usage-1", 1), ("usage-2", 2)],
    }
    items = _exported(app)
    kickoff = items["kick-1"]["stimulus"]
    assert kickoff["title"] == "Kick-off brief: Larkspur Analytics"
    assert "wants *faster monthly reporting*" in kickoff["body"]
    assert "- Executive sponsor: the Chief Financial Officer." in kickoff["body"]
    assert items["usage-2"]["stimulus"]["title"] == "Usage exhibit: Brightwater Clinics"
    # The stem is what is left of the body: no passage text, no fallback of the object.
    assert items["usage-2"]["stem"] == "Which step follows from the exhibit?"
    assert items["single"]["stimulus"] is None
    assert _counts(app) == (5, 2, 2)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"passages/exhibit.xhtml": b""}, "passages/exhibit.xhtml is not well-formed"),
        ({"stimuli/kickoff.xml": b"<assessmentStimulus xmlns='x'/>"}, "has no stimulusBody"),
        (
            {"passages/exhibit.xhtml": b"<div><p>Text</p><p><img src='a.png' alt='A'/></p></div>"},
            "passages/a.png: the media file is missing from the package",
        ),
    ],
)
def test_a_broken_stimulus_refuses_the_import_naming_file_and_item(
    app: Flask, first_level: None, extra: dict[str, bytes], message: str
) -> None:
    with pytest.raises(transfer.ImportRefused) as refused:
        _import(app, _package(extra), default_competency=DEFAULT)
    lines = [f"{e.where()}: {e.field}: {e.message}" for e in refused.value.summary.errors]
    assert lines and all("\n" not in line for line in lines)
    assert any(message in line and "(item " in line for line in lines), lines
    assert _counts(app) == (0, 0, 0)


def test_a_missing_stimulus_file_is_one_line_naming_it_and_the_item(
    app: Flask, first_level: None
) -> None:
    with pytest.raises(transfer.ImportRefused) as refused:
        _import(app, _package({"stimuli/kickoff.xml": None}), default_competency=DEFAULT)
    wheres = {e.where(): e.message for e in refused.value.summary.errors}
    assert wheres == {
        "items/kick-1.xml (item kick-1)": "The stimulus file stimuli/kickoff.xml is not in "
        "the package.",
        "items/kick-2.xml (item kick-2)": "The stimulus file stimuli/kickoff.xml is not in "
        "the package.",
    }
    assert _counts(app) == (0, 0, 0)
    single = (STIMULUS_DIR / "items" / "kick-1.xml").read_bytes()
    with pytest.raises(transfer.ImportRefused) as alone:
        _import(app, transfer.parse_upload("kick-1.xml", single), default_competency=DEFAULT)
    assert "is not in the upload" in alone.value.summary.errors[0].message


def test_qti_to_bank_to_qti_to_bank_keeps_stimuli_and_sets(
    app: Flask,
    first_level: None,
    schemas,  # noqa: F811  (the imported fixture)
) -> None:
    _import(app, _package(), default_competency=DEFAULT)
    before = _sets(app)
    package, count = _qti_export(app)
    assert count == 5 and _invalid(package, schemas) == []
    archive = zipfile.ZipFile(io.BytesIO(package))
    assert sorted(n for n in archive.namelist() if n.startswith("stimuli/")) == [
        "stimuli/kickoff-brief.xml",
        "stimuli/usage-exhibit.xml",
    ]
    item = archive.read("items/kick-2.xml").decode()
    assert '<xi:include href="../stimuli/kickoff-brief.xml"' in item
    manifest = archive.read("imsmanifest.xml").decode()
    assert manifest.count('identifierref="STIMULUS-kickoff-brief"') == 2
    again = _import(app, transfer.parse_upload("bank.zip", package))
    assert (again.created, again.new_versions, again.unchanged, again.errors) == (0, 0, 5, [])
    assert _sets(app) == before and _counts(app) == (5, 2, 2)
    # Read on its own, the package holds exactly the bank's stimuli, texts and places.
    fresh = transfer.parse_upload("bank.zip", package).records
    texts = {r["ref"]: r.get("stimulus") for r in fresh}
    exported = _exported(app)
    assert {ref: texts[ref] for ref in texts} == {ref: exported[ref]["stimulus"] for ref in texts}


def test_items_on_two_versions_of_a_passage_export_one_file_per_text(
    app: Flask,
    first_level: None,
    schemas,  # noqa: F811  (the imported fixture)
) -> None:
    records = [r for r in _package().records]
    edited = {**records[2]["stimulus"], "body": "Monthly active users fell to 40."}
    records[2] = {**records[2], "stimulus": edited}  # kick-2 on a second text of the brief
    _import(app, transfer.Upload(records), default_competency=DEFAULT)
    assert _counts(app) == (5, 2, 3)
    package, _ = _qti_export(app)
    assert _invalid(package, schemas) == []
    again = _import(app, transfer.parse_upload("bank.zip", package))
    assert (again.new_versions, again.unchanged) == (0, 5)


def test_json_and_csv_round_trips_keep_the_stimulus(
    app: Flask, first_level: None, tmp_path: Path
) -> None:
    _import(app, _package(), default_competency=DEFAULT)
    before = _exported(app)
    as_json, _ = export_file(app, "json")
    as_csv, _ = export_file(app, "csv")
    assert json.loads(as_json)[0]["stimulus"]["ref"] == "kickoff-brief"
    for name, data in (("bank.json", as_json), ("bank.csv", as_csv)):
        summary = _import(app, transfer.parse_upload(name, data))
        assert (summary.new_versions, summary.unchanged) == (0, 5), name
    assert _exported(app) == before and _counts(app) == (5, 2, 2)


def test_a_record_naming_an_unknown_stimulus_without_its_text_is_refused(
    app: Flask, first_level: None
) -> None:
    from tests.item_bank.fixtures import record

    bad = [record(stimulus={"ref": "S-NOWHERE"}), record(stimulus={"ref": "S-X", "title": "T"})]
    with pytest.raises(transfer.ImportRefused) as refused:
        _import(app, transfer.Upload(bad))
    assert [(e.field, e.message[:24]) for e in refused.value.summary.errors] == [
        ("stimulus", "No stimulus S-NOWHERE in"),
        ("stimulus", "Give the stimulus's titl"),
    ]
    assert _counts(app) == (0, 0, 0)
    with pytest.raises(Problem):
        transfer.parse_upload("x.txt", b"")


def test_a_csv_without_the_scenario_columns_leaves_each_item_in_its_set(
    app: Flask, first_level: None
) -> None:
    _import(app, _package(), default_competency=DEFAULT)
    before = _exported(app)
    as_csv, _ = export_file(app, "csv")
    columns = {"stimulus", "stimulus_position", "stimulus_title", "stimulus_body"}
    summary = _import(app, transfer.parse_upload("bank.csv", csv_without_columns(as_csv, columns)))
    assert (summary.new_versions, summary.unchanged) == (0, 5)
    in_sets = sum(1 for item in before.values() if item["stimulus"])
    assert in_sets == 4
    assert sum("stimulus kept from version 1" in line for line in summary.report()) == in_sets
    assert _exported(app) == before


def test_each_scenario_an_import_brings_has_its_own_audit_row(
    app: Flask, first_level: None
) -> None:
    from core.audit import AuditEvent

    _import(app, _package(), default_competency=DEFAULT)
    with get_db(app).read_sessions() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "stimulus")).all()
        refs = {s.id: s.ref for s in session.scalars(select(Stimulus))}
        assert len(refs) == 2
        assert sorted((r.action, refs[int(r.object_id)]) for r in rows) == sorted(
            ("stimulus.created", ref) for ref in refs.values()
        )
        assert {r.actor_label for r in rows} == {"test"}
        assert all(r.after["source"] == "item record" for r in rows)
