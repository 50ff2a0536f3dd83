"""QTI 2.1 out: a content package valid against the official schemas, and a round trip
QTI -> bank -> QTI -> bank that changes nothing."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
import xmlschema
from flask import Flask

from item_bank import transfer
from item_bank.transfer.records import CONTENT_FIELDS
from tests.item_bank.fixtures import export_file
from tests.item_bank.test_qti import DEFAULT, PACKAGE_DIR, _exported, _import, zip_folder

STANDARDS = Path(__file__).resolve().parents[2].parent / "shared" / "standards" / "qti"


@pytest.fixture(scope="session")
def schemas() -> dict[str, xmlschema.XMLSchema]:
    """The QTI 2.1 item schema and the content packaging schema (with IMS metadata 1.2),
    each loaded once for the whole run (a second or more apiece)."""
    return {
        "item": xmlschema.XMLSchema(str(STANDARDS / "qtiv2p1" / "imsqti_v2p1.xsd")),
        "manifest": xmlschema.XMLSchema(
            str(STANDARDS / "imscp_v1p1.xsd"),
            locations=[
                ("http://www.imsglobal.org/xsd/imsmd_v1p2", str(STANDARDS / "imsmd_v1p2p4.xsd"))
            ],
        ),
    }


def _qti_export(app: Flask) -> tuple[bytes, int]:
    return export_file(app, "qti")


def _invalid(data: bytes, schemas: dict[str, xmlschema.XMLSchema]) -> list[str]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert names[0] == "imsmanifest.xml" and len(names) > 1
    problems = []
    for name in names:
        schema = schemas["manifest" if name == "imsmanifest.xml" else "item"]
        if not name.endswith(".xml"):  # a medium: checked by its content on import
            continue
        problems += [f"{name}: {error.reason}" for error in schema.iter_errors(archive.read(name))]
    return problems


def test_the_exported_package_is_valid_against_the_official_schemas(
    app: Flask, sample_bank, schemas, tmp_path: Path
) -> None:
    _import(
        app, transfer.parse_upload("tao.zip", zip_folder(PACKAGE_DIR)), default_competency=DEFAULT
    )
    path = tmp_path / "bank.zip"
    result = app.test_cli_runner().invoke(args=["items", "export", str(path)])
    assert result.exit_code == 0, result.output
    assert f"Exported {len(sample_bank) + 5} items" in result.output
    data = path.read_bytes()
    assert _invalid(data, schemas) == []
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert len(archive.namelist()) == len(sample_bank) + 6


def test_qti_to_bank_to_qti_to_bank_changes_nothing(app: Flask, first_level, schemas) -> None:
    _import(
        app, transfer.parse_upload("tao.zip", zip_folder(PACKAGE_DIR)), default_competency=DEFAULT
    )
    first = _exported(app)
    package, count = _qti_export(app)
    assert count == 5 and _invalid(package, schemas) == []
    # Back into the bank it came from: every item is unchanged (every content field equal).
    again = _import(app, transfer.parse_upload("bank.zip", package))
    assert (again.created, again.new_versions, again.unchanged, again.errors) == (0, 0, 5, [])
    # And read on its own, the package holds exactly what the bank holds.
    records = {r["ref"]: r for r in transfer.parse_upload("bank.zip", package).records}
    for ref, original in first.items():
        for name in CONTENT_FIELDS:
            if name == "competencies":
                assert records[ref]["_taxa"] == original[name], ref
            else:
                assert records[ref][name] == original[name], (ref, name)
    assert first["i-fixed"]["fixed"] == ["D"] and first["i-scale"]["shuffle"] is False
    assert first["i-anynumber"]["choose"] == 0


def test_the_sample_bank_survives_a_qti_round_trip(app: Flask, sample_bank) -> None:
    package, _count = _qti_export(app)
    again = _import(app, transfer.parse_upload("bank.zip", package), status="approved")
    assert (again.created, again.new_versions, again.unchanged) == (0, 0, len(sample_bank))


def test_export_names_pick_the_format_and_others_are_refused(
    app: Flask, sample_bank, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    path = tmp_path / "bank.json"
    assert runner.invoke(args=["items", "export", str(path)]).exit_code == 0
    assert len(json.loads(path.read_text())) == len(sample_bank)
    for name, words in (
        ("bank.xml", "name it .zip"),
        ("bank.txt", "export to .json, .csv or .zip"),
    ):
        result = runner.invoke(args=["items", "export", str(tmp_path / name)])
        assert result.exit_code == 1 and words in result.output
        assert not (tmp_path / name).exists()


def test_the_api_exports_a_qti_package(app: Flask, staff, schemas) -> None:
    client = app.test_client()
    headers = staff["writer"]["headers"]
    client.post("/api/v1/items", json=_item(), headers=headers)
    response = client.get("/api/v1/items/export?format=qti", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert _invalid(response.get_data(), schemas) == []
    as_json = client.get("/api/v1/items/export", headers=headers)
    assert as_json.mimetype == "application/json" and len(as_json.get_json()) == 1
    bad = client.get("/api/v1/items/export?format=docx", headers=headers)
    assert bad.status_code == 422
    assert client.get("/api/v1/items/export?format=qti").status_code == 401


def _item() -> dict:
    from tests.item_bank.fixtures import record

    body = record(options=["Value gap", "Consumption gap", "Churn", "None of the above"])
    return {**body, "fixed": ["D"], "label": "Gap 1"}
